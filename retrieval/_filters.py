"""Hard filters of a search: :class:`Filters`, validated once when built.

Which filter applies to what:

* Products: ``min_price``/``max_price`` on the final price (an unpriced product fails any
  bound), ``categories`` (subtrees), ``brands_in``/``brands_out``, ``in_stock``.
* Activities: ``activity_types``, ``valid_at`` (``starts <= valid_at < ends``) and
  ``audience`` (``"all"`` or one of the shopper's audiences).
* Across: an activity must cover at least one product that passes the product filters (when
  any is given); when ``activity_types`` is given ("laptops on flash sale"), a product must be
  covered by an activity that passes every activity filter.

So no returned item ever breaks a filter the shopper stated.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field

__all__ = ["Filters", "normalize_category"]


def normalize_category(path: str) -> str:
    """``" shoes/running/ "`` -> ``"shoes/running"``.

    Raises:
        ValueError: Not a ``/``-separated path of non-empty names.
    """
    if not isinstance(path, str):
        raise ValueError(f"a category must be a str path like 'shoes/running', got {path!r}")
    parts = [p.strip() for p in path.strip().strip("/").split("/")]
    if not all(parts):
        raise ValueError(f"category {path!r} must be a '/'-separated path of non-empty names")
    return "/".join(parts)


def _strings(name: str, values: Iterable[str] | None) -> tuple[str, ...]:
    if values is None:
        return ()
    if isinstance(values, str | bytes):
        raise ValueError(f"{name} must be a list of str, not a bare str: wrap {values!r} in a list")
    out = tuple(values)
    if not all(isinstance(v, str) and v.strip() for v in out):
        raise ValueError(f"{name} must hold non-empty str values, got {list(out)!r}")
    return out


def _money(name: str, value: int | None) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be an int in minor units (cents), got {value!r}")
    if value < 0:
        raise ValueError(f"{name} must not be negative, got {value}")
    return value


@dataclass(frozen=True, slots=True)
class Filters:
    """The shopper's hard constraints; every field is optional (the default filters nothing).

    Lists are stored as tuples (deduplicated; brands casefolded), ``audience`` as a frozenset,
    so filters are hashable and can key a cache.

    Args:
        min_price: Lowest final price, minor units of the shop currency, inclusive.
        max_price: Highest final price, inclusive.
        categories: Category paths; an item matches a path's whole subtree (``"shoes"`` matches
            ``shoes/running``); several paths are alternatives.
        brands_in: Allowed brands (casefolded here); empty allows every brand.
        brands_out: Excluded brands.
        activity_types: Allowed activity types (``"coupon"``...); given, products must be on
            such a deal too (see the module docs).
        valid_at: Epoch seconds UTC: activities must be live then.
        audience: The shopper's audiences (``"members"``, ``"new_users"``,
            ``"segment:runners"``); activities for ``"all"`` always pass. ``None`` filters no
            audience.
        in_stock: Only products in stock.

    Raises:
        ValueError: A bound is not a non-negative int, ``min_price > max_price``, a list is a
            bare string or holds empty values, a malformed category path, or a negative
            ``valid_at``. A category the index does not know is refused by the search.

    Example:
        >>> Filters(max_price=8000, categories=["shoes/running"]).categories
        ('shoes/running',)
        >>> Filters(min_price=500, max_price=100)
        Traceback (most recent call last):
        ...
        ValueError: min_price (500) is greater than max_price (100): no price can satisfy both
    """

    min_price: int | None = None
    max_price: int | None = None
    categories: Sequence[str] = ()
    brands_in: Sequence[str] = ()
    brands_out: Sequence[str] = ()
    activity_types: Sequence[str] = ()
    valid_at: int | None = None
    audience: Collection[str] | None = field(default=None)
    in_stock: bool = False

    def __post_init__(self) -> None:
        low = _money("min_price", self.min_price)
        high = _money("max_price", self.max_price)
        if low is not None and high is not None and low > high:
            raise ValueError(
                f"min_price ({low}) is greater than max_price ({high}): no price can satisfy both"
            )
        cats = tuple(
            dict.fromkeys(normalize_category(c) for c in _strings("categories", self.categories))
        )
        setattr_ = object.__setattr__
        setattr_(self, "categories", cats)
        for name in ("brands_in", "brands_out"):
            values = _strings(name, getattr(self, name))
            setattr_(self, name, tuple(dict.fromkeys(v.strip().casefold() for v in values)))
        types = _strings("activity_types", self.activity_types)
        setattr_(self, "activity_types", tuple(dict.fromkeys(t.strip() for t in types)))
        if self.valid_at is not None and (
            isinstance(self.valid_at, bool) or not isinstance(self.valid_at, int)
        ):
            raise ValueError(f"valid_at must be epoch seconds as an int, got {self.valid_at!r}")
        if self.valid_at is not None and self.valid_at < 0:
            raise ValueError(f"valid_at must not be negative, got {self.valid_at}")
        if self.audience is not None:
            setattr_(self, "audience", frozenset(_strings("audience", self.audience)))
        if not isinstance(self.in_stock, bool):
            raise ValueError(f"in_stock must be a bool, got {self.in_stock!r}")

    @property
    def on_products(self) -> bool:
        """Whether any product-side filter is set (price, categories, brands, stock)."""
        return bool(
            self.min_price is not None
            or self.max_price is not None
            or self.categories
            or self.brands_in
            or self.brands_out
            or self.in_stock
        )

    @property
    def on_activities(self) -> bool:
        """Whether any activity-side filter is set (types, validity, audience)."""
        return bool(self.activity_types or self.valid_at is not None or self.audience is not None)

    def check_categories(self, known: Collection[str]) -> None:
        """Refuse category paths not in ``known``.

        Raises:
            ValueError: Names the first unknown category and how many are known.
        """
        for category in self.categories:
            if category not in known:
                raise ValueError(
                    f"unknown category {category!r}: the index has {len(known)} category paths "
                    "(departments and every level below); use one of them"
                )

    def products_allow(
        self, final_price: int | None, ancestors: Collection[str], brand: str, in_stock: bool
    ) -> bool:
        """The product-side filters for one product, in plain Python (a reference for tests).

        Args:
            final_price: Minor units, ``None`` when unpriced.
            ancestors: The product's category path and all its prefixes.
            brand: Casefolded brand.
            in_stock: Whether it is in stock.
        """
        if (self.min_price is not None or self.max_price is not None) and final_price is None:
            return False
        if self.min_price is not None and final_price is not None and final_price < self.min_price:
            return False
        if self.max_price is not None and final_price is not None and final_price > self.max_price:
            return False
        if self.categories and not any(c in ancestors for c in self.categories):
            return False
        if self.brands_in and brand not in self.brands_in:
            return False
        if brand in self.brands_out:
            return False
        return in_stock or not self.in_stock

    def activity_allows(self, type_: str, starts: int, ends: int, audience: str) -> bool:
        """The activity-side filters for one activity, in plain Python (a reference for tests)."""
        if self.activity_types and type_ not in self.activity_types:
            return False
        if self.valid_at is not None and not starts <= self.valid_at < ends:
            return False
        return self.audience is None or audience == "all" or audience in self.audience
