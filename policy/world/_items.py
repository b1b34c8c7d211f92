"""Candidate items as plain arrays: what the user-choice model needs to know about a card."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._arrays import (
    ArrayLike,
    BoolArray,
    FloatArray,
    IntArray,
    as_bool,
    as_float,
    as_int,
    check_range,
)
from ._params import N_DEAL_TYPES, DealType

__all__ = ["ItemBatch", "sample_items"]

_OWNER = "ItemBatch"


@dataclass(frozen=True, eq=False)
class ItemBatch:
    """Candidate items (products or activities), one row each; every array has shape (n,).

    Prices are floats in shop currency units: the model only takes ratios and logs of them,
    so minor-unit exactness does not matter here (the assistant converts at the seam).
    Arrays are validated and copied read-only on construction.

    Attributes:
        category: int, shape (n,), in [0, n_categories).
        brand: int, shape (n,), in [0, n_brands).
        list_price: float, shape (n,), > 0.
        final_price: float, shape (n,), in (0, list_price]: after the best deal for the shopper.
        discount: float, shape (n,), in [0, 1]: the deal's depth as the shopper reads it.
        deal_type: int, shape (n,), a `DealType` value; -1 for no deal.
        needs_claim: bool, shape (n,): the deal needs a coupon claim.
        is_flash_sale: bool, shape (n,).
        hours_left: float, shape (n,), >= 0, `inf` when the deal does not end.
        popularity: float, shape (n,), in [0, 1]: a popularity quantile (e.g. of sales rank).
        n_categories: number of categories (leaf categories of the catalog, indexed).
        n_brands: number of brands.

    Example:
        >>> import numpy as np
        >>> from policy.world import DealType, ItemBatch
        >>> items = ItemBatch(
        ...     category=[0, 1], brand=[0, 2], list_price=[50.0, 80.0], final_price=[40.0, 80.0],
        ...     discount=[0.2, 0.0], deal_type=[DealType.PERCENT_OFF, DealType.NONE],
        ...     needs_claim=[False, False], is_flash_sale=[False, False],
        ...     hours_left=[np.inf, np.inf], popularity=[0.9, 0.4], n_categories=3, n_brands=4)
        >>> len(items)
        2
    """

    category: IntArray
    brand: IntArray
    list_price: FloatArray
    final_price: FloatArray
    discount: FloatArray
    deal_type: IntArray
    needs_claim: BoolArray
    is_flash_sale: BoolArray
    hours_left: FloatArray
    popularity: FloatArray
    n_categories: int
    n_brands: int

    def __post_init__(self) -> None:
        if int(self.n_categories) < 1 or int(self.n_brands) < 1:
            raise ValueError(
                f"{_OWNER}: n_categories and n_brands must be >= 1; "
                f"got {self.n_categories} and {self.n_brands}"
            )
        category = np.asarray(self.category)
        if category.ndim != 1:
            raise ValueError(f"{_OWNER}: `category` must have shape (n,); got {category.shape}")
        n = category.shape[0]
        s = (n,)
        set_ = object.__setattr__
        set_(self, "n_categories", int(self.n_categories))
        set_(self, "n_brands", int(self.n_brands))
        for name in ("category", "brand", "deal_type"):
            set_(self, name, as_int(_OWNER, name, getattr(self, name), s))
        for name in ("needs_claim", "is_flash_sale"):
            set_(self, name, as_bool(_OWNER, name, getattr(self, name), s))
        for name in ("list_price", "final_price", "discount", "popularity"):
            set_(self, name, as_float(_OWNER, name, getattr(self, name), s))
        set_(self, "hours_left", as_float(_OWNER, "hours_left", self.hours_left, s, allow_inf=True))
        check_range(_OWNER, "category", self.category, 0, self.n_categories - 1)
        check_range(_OWNER, "brand", self.brand, 0, self.n_brands - 1)
        check_range(_OWNER, "deal_type", self.deal_type, -1, N_DEAL_TYPES - 1)
        check_range(_OWNER, "list_price", self.list_price, 0.0, low_open=True)
        check_range(_OWNER, "final_price", self.final_price, 0.0, low_open=True)
        check_range(_OWNER, "discount", self.discount, 0.0, 1.0)
        check_range(_OWNER, "hours_left", self.hours_left, 0.0)
        check_range(_OWNER, "popularity", self.popularity, 0.0, 1.0)
        over = self.final_price > self.list_price * (1.0 + 1e-9)
        if over.any():
            i = int(np.argmax(over))
            raise ValueError(
                f"{_OWNER}: `final_price` must not exceed `list_price`; at index {i} "
                f"{self.final_price[i].item()!r} > {self.list_price[i].item()!r}"
            )

    def __len__(self) -> int:
        return int(self.category.shape[0])

    def take(self, index: ArrayLike) -> ItemBatch:
        """The items at `index` (shape (k,)), in that order, as a new batch."""
        idx = as_int(_OWNER, "index", index, (None,))
        check_range(_OWNER, "index", idx, 0, len(self) - 1)
        return ItemBatch(
            category=self.category[idx],
            brand=self.brand[idx],
            list_price=self.list_price[idx],
            final_price=self.final_price[idx],
            discount=self.discount[idx],
            deal_type=self.deal_type[idx],
            needs_claim=self.needs_claim[idx],
            is_flash_sale=self.is_flash_sale[idx],
            hours_left=self.hours_left[idx],
            popularity=self.popularity[idx],
            n_categories=self.n_categories,
            n_brands=self.n_brands,
        )


def sample_items(
    n: int,
    n_categories: int,
    n_brands: int,
    rng: np.random.Generator,
    *,
    category_price_levels: FloatArray | None = None,
) -> ItemBatch:
    """A toy random catalog for tests, examples and benchmarks (not the demo catalog).

    List prices are log-normal around each category's price level (sd 0.5); 60% of items carry
    a deal of a uniformly drawn type with depth U(0.05, 0.5) (flash sales end within 48 h,
    coupons and new-user deals need a claim); popularity is uniform.

    Args:
        n: number of items.
        n_categories: number of categories.
        n_brands: number of brands.
        rng: the generator everything is drawn from.
        category_price_levels: shape (n_categories,), the typical price per category;
            default 50.0 each.

    Example:
        >>> import numpy as np
        >>> from policy.world import sample_items
        >>> len(sample_items(100, 8, 20, np.random.default_rng(0)))
        100
    """
    levels = (
        np.full(n_categories, 50.0)
        if category_price_levels is None
        else as_float("sample_items", "category_price_levels", category_price_levels, (None,))
    )
    category = rng.integers(0, n_categories, n)
    brand = rng.integers(0, n_brands, n)
    list_price = np.round(levels[category] * np.exp(rng.normal(0.0, 0.5, n)), 2) + 0.01
    has_deal = rng.random(n) < 0.6
    deal_type = np.where(has_deal, rng.integers(0, N_DEAL_TYPES, n), int(DealType.NONE))
    depth = np.where(has_deal, rng.uniform(0.05, 0.5, n), 0.0)
    flash = deal_type == DealType.FLASH_SALE
    return ItemBatch(
        category=category,
        brand=brand,
        list_price=list_price,
        final_price=list_price * (1.0 - depth),
        discount=depth,
        deal_type=deal_type,
        needs_claim=np.isin(deal_type, (DealType.COUPON, DealType.NEW_USER)),
        is_flash_sale=flash,
        hours_left=np.where(flash, rng.uniform(0.5, 48.0, n), np.inf),
        popularity=rng.random(n),
        n_categories=n_categories,
        n_brands=n_brands,
    )
