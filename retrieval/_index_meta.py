"""What an index stores beside each vector: :class:`IndexItem`, its hashes and metadata schema.

The assistant maps SQL rows to :class:`IndexItem` values (``text`` is what gets embedded,
``metadata`` what Chroma's ``where`` filters on). Products and activities build their metadata
with :class:`ProductMeta` and :class:`ActivityMeta`, so the keys below are the whole schema:

Products (``ProductMeta.to_metadata()``):

==================  ======  =============================================================
key                 type    meaning
==================  ======  =============================================================
``kind``            str     ``"product"``
``category``        str     full category path, ``"shoes/running/trail"``
``cat0`` .. ``catN`` str    the path's prefix of depth N+1: ``cat0="shoes"``,
                            ``cat1="shoes/running"``, ...; a subtree filter is one ``$eq``
                            on ``cat{depth-1}`` (:func:`category_subtree_where`)
``depth``           int     number of path segments
``brand``           str     casefolded brand (``""`` when unknown)
``priced``          bool    false for an unpriced product (then no ``price`` keys)
``price``           int     list price, minor units of the shop currency
``final_price``     int     public price after the best item-level deal for everyone now
                            (a coarse pre-filter; the deal engine prices each shopper exactly)
``in_stock``        bool    stock is unknown or positive
==================  ======  =============================================================

Activities (``ActivityMeta.to_metadata()``):

======================  =========  ======================================================
key                     type       meaning
======================  =========  ======================================================
``kind``                str        ``"activity"``
``type``, ``group``     str        activity type (``flash_sale``...), stacking group
``audience``            str        ``all``, ``new_users``, ``members`` or ``segment:NAME``
``starts``, ``ends``    int        validity envelope, epoch seconds UTC (``ends`` is
                                   :data:`MAX_EPOCH` when open-ended)
``needs_claim``         bool       a coupon the shopper must claim
``scope_all``           bool       covers every product
``scope_categories``    list[str]  the scope's category paths (absent when none)
``scope_tree``          list[str]  those paths and all their ancestors (absent when none)
``scope_brands``        list[str]  casefolded brands (absent when none)
``scope_products``      list[str]  product ids (absent when none)
======================  =========  ======================================================

Every stored record also carries ``content_hash`` and ``text_hash`` (:data:`RESERVED_KEYS`).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

__all__ = [
    "MAX_EPOCH",
    "RESERVED_KEYS",
    "ActivityMeta",
    "IndexItem",
    "MetaValue",
    "ProductMeta",
    "activities_for_category_where",
    "category_subtree_where",
    "live_where",
    "where_all",
]

MetaValue = str | int | float | bool | tuple[str, ...]
"""A metadata value Chroma can filter on; a non-empty tuple of strings is stored as a list."""

RESERVED_KEYS = frozenset({"content_hash", "text_hash"})
"""Metadata keys the index writes itself; an item may not use them."""

MAX_EPOCH = 253_402_300_799
"""9999-12-31T23:59:59Z: the ``ends`` of an activity without an end."""

_I64 = 2**63


def _check_value(key: str, value: object) -> MetaValue:
    if not isinstance(key, str) or not key or key.startswith(("#", "chroma:")):
        raise ValueError(f"metadata key {key!r} must be a non-empty str not starting '#'/'chroma:'")
    if key in RESERVED_KEYS:
        raise ValueError(f"metadata key {key!r} is reserved for the index's own hashes")
    if isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        if not -_I64 <= value < _I64:
            raise ValueError(f"metadata {key!r}: {value} does not fit in 64 bits")
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"metadata {key!r}: {value} is not finite")
        return value
    if isinstance(value, list | tuple):
        if not value or not all(isinstance(v, str) for v in value):
            raise ValueError(f"metadata {key!r}: a list must be non-empty and hold only str")
        return tuple(value)
    raise ValueError(f"metadata {key!r}: {type(value).__name__} is not str/int/float/bool/list")


def _digest(payload: Any) -> str:
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class IndexItem:
    """One record to index: an id, the text to embed and the metadata to filter on.

    Args:
        id: Stable catalog id (a product or activity id).
        text: What gets embedded.
        metadata: Filterable values (see the module docs for the product and activity schema).

    ``content_hash`` (text and metadata) and ``text_hash`` (text only) are computed here and
    are stable across processes and Python versions: sync compares them with the stored ones
    to decide what to write, and re-embeds only when ``text_hash`` changed.

    Raises:
        ValueError: An empty id, or a metadata key or value Chroma cannot store.
    """

    id: str
    text: str
    metadata: Mapping[str, MetaValue] = field(default_factory=dict)
    content_hash: str = field(init=False, repr=False, compare=False)
    text_hash: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not self.id:
            raise ValueError(f"item id must be a non-empty str, got {self.id!r}")
        if not isinstance(self.text, str):
            raise ValueError(f"item {self.id!r}: text must be a str, got {type(self.text)}")
        clean = {k: _check_value(k, v) for k, v in self.metadata.items()}
        object.__setattr__(self, "metadata", MappingProxyType(clean))
        as_json = {k: list(v) if isinstance(v, tuple) else v for k, v in clean.items()}
        object.__setattr__(self, "text_hash", _digest({"t": self.text}))
        object.__setattr__(self, "content_hash", _digest({"t": self.text, "m": as_json}))


def _category_parts(path: str) -> list[str]:
    parts = [p.strip() for p in path.strip().strip("/").split("/")]
    if not parts or not all(parts):
        raise ValueError(f"category {path!r} must be a '/'-separated path of non-empty names")
    return parts


def _ancestors(path: str) -> list[str]:
    """``"a/b/c"`` -> ``["a", "a/b", "a/b/c"]`` (the path itself included)."""
    parts = _category_parts(path)
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


@dataclass(frozen=True, slots=True)
class ProductMeta:
    """A product's filterable metadata; money in integer minor units.

    Example:
        >>> ProductMeta("shoes/running", "Stride", 6000, 5400).to_metadata()["cat1"]
        'shoes/running'
    """

    category: str
    brand: str = ""
    price: int | None = None
    final_price: int | None = None
    in_stock: bool = True

    def to_metadata(self) -> dict[str, MetaValue]:
        """The metadata dict (schema in the module docs)."""
        tree = _ancestors(self.category)
        out: dict[str, MetaValue] = {"kind": "product", "category": tree[-1], "depth": len(tree)}
        out.update({f"cat{i}": prefix for i, prefix in enumerate(tree)})
        out["brand"] = self.brand.strip().casefold()
        out["priced"] = self.price is not None
        if self.price is not None:
            final = self.price if self.final_price is None else self.final_price
            if not 0 <= final <= self.price:
                raise ValueError(f"final_price {final} must be in 0..price ({self.price})")
            out["price"], out["final_price"] = self.price, final
        out["in_stock"] = self.in_stock
        return out


@dataclass(frozen=True, slots=True)
class ActivityMeta:
    """An activity's filterable metadata: type, audience, validity envelope and scope.

    ``starts``/``ends`` bound every occurrence in the indexed horizon (epoch seconds UTC); the
    deal engine decides exact liveness.
    """

    type: str
    group: str
    starts: int
    ends: int | None = None
    audience: str = "all"
    needs_claim: bool = False
    scope_all: bool = False
    categories: Sequence[str] = ()
    brands: Sequence[str] = ()
    products: Sequence[str] = ()

    def to_metadata(self) -> dict[str, MetaValue]:
        """The metadata dict (schema in the module docs); lists are sorted and deduplicated."""
        ends = MAX_EPOCH if self.ends is None else self.ends
        if ends < self.starts:
            raise ValueError(f"activity ends ({ends}) before it starts ({self.starts})")
        out: dict[str, MetaValue] = {
            "kind": "activity",
            "type": self.type,
            "group": self.group,
            "audience": self.audience,
            "starts": self.starts,
            "ends": ends,
            "needs_claim": self.needs_claim,
            "scope_all": self.scope_all,
        }
        paths = ["/".join(_category_parts(c)) for c in self.categories]
        lists = {
            "scope_categories": paths,
            "scope_tree": [a for c in paths for a in _ancestors(c)],
            "scope_brands": [b.strip().casefold() for b in self.brands],
            "scope_products": list(self.products),
        }
        out.update({k: tuple(sorted(set(v))) for k, v in lists.items() if v})
        return out


def where_all(*clauses: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """Chroma ``where`` that needs every clause (``None`` clauses skipped; ``$and`` only if 2+)."""
    kept = [dict(c) for c in clauses if c]
    if not kept:
        return None
    return kept[0] if len(kept) == 1 else {"$and": kept}


def category_subtree_where(category: str) -> dict[str, Any]:
    """Products in ``category``'s subtree: ``"shoes"`` matches ``shoes/running`` too."""
    tree = _ancestors(category)
    return {f"cat{len(tree) - 1}": {"$eq": tree[-1]}}


def activities_for_category_where(category: str) -> dict[str, Any]:
    """Activities relevant to ``category``: scoped to everything, to it or one of its ancestors
    (they cover it), or to something inside its subtree (they cover part of it).

    Activities scoped only by brand or product list are not matched: expand those from SQL.
    """
    tree = _ancestors(category)
    return {
        "$or": [
            {"scope_all": {"$eq": True}},
            {"scope_tree": {"$contains": tree[-1]}},
            *({"scope_categories": {"$contains": a}} for a in tree[:-1]),
        ]
    }


def live_where(now: int) -> dict[str, Any]:
    """Activities whose validity envelope holds ``now`` (epoch seconds UTC)."""
    return {"$and": [{"starts": {"$lte": now}}, {"ends": {"$gt": now}}]}
