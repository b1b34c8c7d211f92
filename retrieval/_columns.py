"""Per-item filter columns as numpy arrays, the masks of a :class:`Filters`, and scope coverage.

Built once from index metadata (the schema of :mod:`retrieval._index_meta`); every mask is a
handful of vectorized comparisons over ``n`` rows.

Products must be stored sorted by (category path, brand, ...): then every category subtree and
every (leaf category, brand) pair is one contiguous row range, and every activity scope
compiles at build to a few row intervals. Coverage follows the deal engine's rule (``all``
covers everything; otherwise each non-empty selector must match: category subtree *and* brand
*and* product list), and both directions are interval arithmetic:

* activities covering at least one allowed product: a prefix sum of the product mask gives
  the allowed count of every interval in O(1);
* products covered by a set of activities: a difference array over their intervals;
* which returned products each returned activity covers: binary search of the (sorted) rows in
  the intervals.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from retrieval._filters import Filters, normalize_category

__all__ = ["ActivityColumns", "CategoryTree", "ProductColumns", "ancestors", "sort_key"]

Bools = NDArray[np.bool_]
Ints = NDArray[np.int64]
_EMPTY = np.empty(0, np.int64)


def ancestors(path: str) -> list[str]:
    """``"a/b/c"`` -> ``["a", "a/b", "a/b/c"]``."""
    parts = normalize_category(path).split("/")
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


def sort_key(meta: Mapping[str, Any]) -> tuple[tuple[str, ...], str]:
    """The product order the columns need: category path (as a tuple: subtrees contiguous),
    then brand."""
    path = tuple(str(meta.get("category", "uncategorized")).strip("/").split("/"))
    return path, str(meta.get("brand", "")).strip().casefold()


def _ids(values: Iterable[str], vocab: dict[str, int]) -> Ints:
    return np.fromiter((vocab.setdefault(v, len(vocab)) for v in values), dtype=np.int64)


def _flags(vocab: Mapping[str, int], wanted: Iterable[str]) -> Bools:
    """``flags[id]`` for each id of ``vocab``, True for the ``wanted`` values it knows."""
    out = np.zeros(len(vocab), dtype=np.bool_)
    out[[vocab[w] for w in wanted if w in vocab]] = True
    return out


def _runs(column: Ints) -> tuple[Ints, Ints]:
    """Start and stop of each run of equal consecutive values."""
    if not column.shape[0]:
        return _EMPTY, _EMPTY
    starts = np.flatnonzero(np.diff(column, prepend=column[0] - 1) != 0)
    return starts, np.append(starts[1:], column.shape[0])


class CategoryTree:
    """Every category path that occurs (with its ancestors); node ids by insertion order."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}
        self._paths: dict[str, list[int]] = {}

    def add(self, path: str) -> list[int]:
        """Register ``path`` and its ancestors; their ids, root first."""
        known = self._paths.get(path)
        if known is None:
            known = [self.ids.setdefault(a, len(self.ids)) for a in ancestors(path)]
            self._paths[path] = known
        return known

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(frozen=True, eq=False)
class ProductColumns:
    """Filter columns of products, one row each, rows in :func:`sort_key` order.

    Attributes:
        final_price: Minor units, shape ``(n,)`` (0 where unpriced).
        priced: Shape ``(n,)``.
        ancestors: Category node id at each depth, shape ``(n, max_depth)``; ``-1`` past the
            product's own depth.
        brand: Brand id, shape ``(n,)``; ``brands`` maps casefolded brand -> id.
        in_stock: Shape ``(n,)``.
        tree: The category nodes.
        spans: Category node -> its subtree's row range ``(start, stop)``.
        leaf_brand: (own category node, brand id) -> row range.
    """

    final_price: Ints
    priced: Bools
    ancestors: Ints
    brand: Ints
    in_stock: Bools
    brands: dict[str, int]
    tree: CategoryTree
    spans: dict[int, tuple[int, int]]
    leaf_brand: dict[tuple[int, int], tuple[int, int]]

    @classmethod
    def build(cls, metadatas: Sequence[Mapping[str, Any]], tree: CategoryTree) -> ProductColumns:
        """Columns from product metadata (``ProductMeta.to_metadata()`` dicts), sorted."""
        paths = [tree.add(str(m.get("category", "uncategorized"))) for m in metadatas]
        depth = max((len(p) for p in paths), default=1)
        anc = np.full((len(paths), depth), -1, dtype=np.int64)
        for row, path in enumerate(paths):
            anc[row, : len(path)] = path
        priced = np.array([bool(m.get("priced", "final_price" in m)) for m in metadatas], bool)
        price = np.array([int(m.get("final_price", m.get("price", 0))) for m in metadatas])
        brands: dict[str, int] = {}
        brand = _ids((str(m.get("brand", "")).strip().casefold() for m in metadatas), brands)
        stock = np.array([bool(m.get("in_stock", True)) for m in metadatas], dtype=np.bool_)
        spans: dict[int, tuple[int, int]] = {}
        for level in range(depth):
            for a, b in zip(*_runs(anc[:, level]), strict=True):
                if anc[a, level] >= 0:
                    spans[int(anc[a, level])] = (int(a), int(b))
        own = np.array([p[-1] for p in paths], dtype=np.int64)
        pair = own * (len(brands) + 1) + brand
        leaf_brand = {
            (int(own[a]), int(brand[a])): (int(a), int(b))
            for a, b in zip(*_runs(pair), strict=True)
        }
        return cls(
            price.astype(np.int64), priced, anc, brand, stock, brands, tree, spans, leaf_brand
        )

    @property
    def n(self) -> int:
        """Rows."""
        return int(self.brand.shape[0])

    def mask(self, filters: Filters) -> Bools | None:
        """Rows passing the product-side filters, or ``None`` when none is set."""
        if not filters.on_products:
            return None
        out = np.ones(self.n, dtype=np.bool_)
        if filters.min_price is not None or filters.max_price is not None:
            out &= self.priced
            if filters.min_price is not None:
                out &= self.final_price >= filters.min_price
            if filters.max_price is not None:
                out &= self.final_price <= filters.max_price
        if filters.categories:
            inside = np.zeros(self.n + 1, dtype=np.int64)
            for category in filters.categories:
                a, b = self.spans.get(self.tree.ids[category], (0, 0))
                inside[a] += 1
                inside[b] -= 1
            out &= np.cumsum(inside[:-1]) > 0
        if filters.brands_in:
            out &= _flags(self.brands, filters.brands_in)[self.brand]
        if filters.brands_out:
            out &= ~_flags(self.brands, filters.brands_out)[self.brand]
        if filters.in_stock:
            out &= self.in_stock
        return out


@dataclass(frozen=True, eq=False)
class ActivityColumns:
    """Filter columns of activities, and each scope as product row intervals.

    Attributes:
        type: Type id, shape ``(m,)``; ``types`` maps type -> id.
        starts: Epoch seconds, shape ``(m,)``.
        ends: Epoch seconds, shape ``(m,)``.
        audience: Audience id, shape ``(m,)``; ``audiences`` maps audience -> id.
        owner: The activity row of each interval, shape ``(p,)``, ascending.
        lo: Interval starts (product rows), shape ``(p,)``.
        hi: Interval stops, shape ``(p,)``; an activity's intervals are disjoint.
        narrow: Whether the scope lists products or brands (not whole categories), ``(m,)``.
    """

    type: Ints
    types: dict[str, int]
    starts: Ints
    ends: Ints
    audience: Ints
    audiences: dict[str, int]
    owner: Ints
    lo: Ints
    hi: Ints
    narrow: Bools

    @classmethod
    def build(
        cls,
        metadatas: Sequence[Mapping[str, Any]],
        products: ProductColumns,
        product_rows: Mapping[str, int],
    ) -> ActivityColumns:
        """Columns from activity metadata (``ActivityMeta.to_metadata()`` dicts).

        ``products`` and ``product_rows`` (product id -> row) resolve scopes; scope categories
        without products are still registered in the category tree.
        """
        types: dict[str, int] = {}
        audiences: dict[str, int] = {}
        type_ = _ids((str(m.get("type", "")) for m in metadatas), types)
        audience = _ids((str(m.get("audience", "all")) for m in metadatas), audiences)
        starts = np.array([int(m.get("starts", 0)) for m in metadatas], dtype=np.int64)
        ends = np.array([int(m.get("ends", 2**62)) for m in metadatas], dtype=np.int64)
        by_brand: dict[int, list[tuple[int, tuple[int, int]]]] = {}
        for (leaf, brand), span in products.leaf_brand.items():
            by_brand.setdefault(brand, []).append((leaf, span))
        owner: list[int] = []
        bounds: list[tuple[int, int]] = []
        narrow = np.zeros(len(metadatas), dtype=np.bool_)
        for row, meta in enumerate(metadatas):
            spans = _scope_spans(meta, products, product_rows, by_brand)
            narrow[row] = bool(meta.get("scope_products") or meta.get("scope_brands"))
            merged = _merge(spans)
            owner.extend([row] * len(merged))
            bounds.extend(merged)
        lo = np.array([a for a, _ in bounds], dtype=np.int64)
        hi = np.array([b for _, b in bounds], dtype=np.int64)
        return cls(
            type_,
            types,
            starts,
            ends,
            audience,
            audiences,
            np.array(owner, dtype=np.int64),
            lo,
            hi,
            narrow,
        )

    @property
    def n(self) -> int:
        """Rows."""
        return int(self.type.shape[0])

    def sizes(self) -> Ints:
        """How many products each scope covers, shape ``(m,)``."""
        return np.bincount(self.owner, weights=self.hi - self.lo, minlength=self.n).astype(np.int64)

    def mask(self, filters: Filters) -> Bools | None:
        """Rows passing the activity-side filters, or ``None`` when none is set."""
        if not filters.on_activities:
            return None
        out = np.ones(self.n, dtype=np.bool_)
        if filters.activity_types:
            out &= _flags(self.types, filters.activity_types)[self.type]
        if filters.valid_at is not None:
            out &= (self.starts <= filters.valid_at) & (self.ends > filters.valid_at)
        if filters.audience is not None:
            out &= _flags(self.audiences, {"all", *filters.audience})[self.audience]
        return out

    def covering(self, allowed: Bools) -> Bools:
        """Activities covering at least one ``allowed`` product, shape ``(m,)``."""
        prefix = np.concatenate([[0], np.cumsum(allowed, dtype=np.int64)])
        hit = prefix[self.hi] > prefix[self.lo]
        out = np.zeros(self.n, dtype=np.bool_)
        out[self.owner[hit]] = True
        return out

    def covered(self, active: Bools, n_products: int) -> Bools:
        """Products covered by at least one ``active`` activity, shape ``(n_products,)``."""
        live = active[self.owner]
        depth = np.zeros(n_products + 1, dtype=np.int64)
        np.add.at(depth, self.lo[live], 1)
        np.add.at(depth, self.hi[live], -1)
        return np.cumsum(depth[:-1]) > 0

    def links(self, product_rows: Ints, activity_rows: Ints) -> tuple[Ints, Ints]:
        """Which of ``activity_rows`` cover which of ``product_rows``.

        Returns:
            Positions into ``product_rows`` and into ``activity_rows``, each shape ``(p,)``,
            one pair per coverage.
        """
        if not product_rows.shape[0] or not activity_rows.shape[0]:
            return _EMPTY, _EMPTY
        slot = np.full(self.n, -1, dtype=np.int64)
        slot[activity_rows] = np.arange(activity_rows.shape[0])
        keep = slot[self.owner] >= 0
        owners, lo, hi = slot[self.owner[keep]], self.lo[keep], self.hi[keep]
        order = np.argsort(product_rows, kind="stable")
        rows = product_rows[order]
        first, last = np.searchsorted(rows, lo), np.searchsorted(rows, hi)
        counts = last - first
        total = int(counts.sum())
        if not total:
            return _EMPTY, _EMPTY
        offsets = np.repeat(first - (np.cumsum(counts) - counts), counts)
        sorted_pos = offsets + np.arange(total, dtype=np.int64)
        return order[sorted_pos], np.repeat(owners, counts)


def _scope_spans(
    meta: Mapping[str, Any],
    products: ProductColumns,
    product_rows: Mapping[str, int],
    by_brand: Mapping[int, list[tuple[int, tuple[int, int]]]],
) -> list[tuple[int, int]]:
    """The product row intervals one activity's scope covers (unmerged)."""
    if meta.get("scope_all"):
        return [(0, products.n)]
    nodes = {products.tree.add(c)[-1] for c in meta.get("scope_categories", ())}
    brands = {str(b).strip().casefold() for b in meta.get("scope_brands", ())}
    brand_ids = {products.brands[b] for b in brands if b in products.brands}
    ids = meta.get("scope_products", ())
    if ids:
        rows = sorted({product_rows[i] for i in ids if i in product_rows})
        if nodes:
            rows = [r for r in rows if nodes.intersection(products.ancestors[r].tolist())]
        if brands:
            rows = [r for r in rows if int(products.brand[r]) in brand_ids]
        return [(r, r + 1) for r in rows]
    if brands:
        out = []
        for brand in brand_ids:
            for _leaf, span in by_brand.get(brand, ()):
                first = span[0]
                if not nodes or nodes.intersection(products.ancestors[first].tolist()):
                    out.append(span)
        return out
    return [products.spans[node] for node in nodes if node in products.spans]


def _merge(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted, disjoint union of intervals."""
    merged: list[tuple[int, int]] = []
    for a, b in sorted(spans):
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged
