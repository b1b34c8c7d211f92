"""Fast filtered search over products and activities, with expansion between them.

:class:`SearchIndex` holds both catalogs in memory (distinct vectors in a
:class:`~retrieval._matrix.VectorMatrix`, filter columns as numpy arrays, BM25 over the item
texts) and answers one :meth:`SearchIndex.search` per shopper turn: the top products and
activities under the hard :class:`~retrieval.Filters`, each linked to the returned items of the
other kind.

How a search runs:

1. The filters become boolean masks (well under a millisecond at 100k rows). Products are
   stored sorted by category path and brand, so a category filter is a few contiguous row
   ranges that the vector scan alone touches, and every activity scope is a few row intervals.
2. Each kind is ranked by ``mode``: ``"dense"`` (cosine similarity, exact or two-stage, see
   :mod:`retrieval._matrix`), ``"lexical"`` (BM25) or ``"hybrid"`` (reciprocal rank fusion of
   both). The default, :data:`DEFAULT_MODE`, is the mode that measured best
   (``docs/retrieval.md``).
3. Expansion: an activity covering returned products scores ``expansion_weight`` times the
   best such product's score, damped by ``sqrt(min(1, k_products / scope size))`` so that a
   storewide offer does not crowd out one aimed at what was asked; it competes with the
   directly matched activities on that score. Each of the top ``expand_from`` directly
   matched activities that has a narrow scope (a product list or brands) and scores at least
   as high as the weakest product returned brings its best ``per_activity`` products (by the
   products' own similarity) into the product list, scored ``product_weight`` times the
   activity's score; they are kept even when that score is low, taking the places of the
   weakest direct matches, so the head of the list is undisturbed (``docs/retrieval.md``).
4. A last vectorized check drops anything that breaks a filter, so nothing returned ever does.

Example:
    >>> index = SearchIndex.from_items(products, p_vecs, activities, a_vecs)  # doctest: +SKIP
    >>> cheap = Filters(max_price=8000)
    >>> result = index.search("便宜的跑步鞋", embedder=use, filters=cheap)  # doctest: +SKIP
    >>> result.products[0].id, result.products[0].related  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import numpy as np
from numpy.typing import NDArray

from retrieval import _expand
from retrieval._columns import ActivityColumns, CategoryTree, ProductColumns, sort_key
from retrieval._filters import Filters
from retrieval._index_meta import IndexItem
from retrieval._kind import Kind, check_matrix, row_order
from retrieval._matrix import Plan
from retrieval.index import IndexExport

__all__ = ["DEFAULT_MODE", "Hit", "Mode", "QueryEmbedder", "SearchIndex", "SearchResult"]

Mode = Literal["dense", "lexical", "hybrid"]
"""How items are ranked: embeddings, BM25, or both fused by reciprocal rank."""

DEFAULT_MODE: Mode = "dense"
"""The mode that measured best on the labeled query sets (``docs/retrieval.md``)."""

Catalog = tuple[Sequence[str], Sequence[str] | None, Sequence[Mapping[str, Any]]]
"""Ids, texts (``None``: no lexical search) and metadata of one kind, row-aligned."""


class QueryEmbedder(Protocol):
    """What search needs of an ``Embedder``: one query vector."""

    def embed_query(self, text: str) -> NDArray[np.float32]: ...


@dataclass(frozen=True, slots=True)
class Hit:
    """One returned item.

    Attributes:
        id: The product or activity id.
        score: What it was ranked by (cosine similarity in ``dense`` mode, BM25 in
            ``lexical``, fused reciprocal rank in ``hybrid``), expansion included.
        source: ``"query"`` when its own score ranked it, ``"expansion"`` when a linked item's
            did.
        related: For a product, the returned activities that cover it; for an activity, the
            returned products it covers; best first, at most ``max_related``.
    """

    id: str
    score: float
    source: Literal["query", "expansion"]
    related: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SearchResult:
    """Products and activities of one search, best first.

    Attributes:
        products: At most ``k_products`` hits.
        activities: At most ``k_activities`` hits.
        revision: The :attr:`SearchIndex.revision` that answered.
        mode: The ranking mode used.
    """

    products: tuple[Hit, ...]
    activities: tuple[Hit, ...]
    revision: int
    mode: Mode


class SearchIndex:
    """Products and activities in memory, searched under hard filters. Immutable once built.

    Build with :meth:`from_items` (index items and their vectors) or :meth:`from_exports`
    (whole Chroma collections). Rebuild, or use :class:`retrieval.ReloadingIndex`, when
    :attr:`revision` no longer matches the source.

    Args:
        products: Product ids, texts, metadata (:class:`~retrieval.ProductMeta` schema).
        product_vectors: float32 unit rows, shape ``(n_products, dim)``.
        activities: Activity ids, texts, metadata (:class:`~retrieval.ActivityMeta` schema).
        activity_vectors: float32 unit rows, shape ``(n_activities, dim)``.
        revision: The source's revision (e.g. the Chroma collections' counters).
        dtype: Storage of the vectors, ``"float32"`` or ``"float16"``.
        stage1_dim: PCA width of the two-stage plan (0: always exact).
        rerank: Distinct vectors the two-stage plan rescores exactly per result asked for.
        min_rerank: The fewest it rescores (``max(min_rerank, rerank * k)`` in all).
        exact_groups: Searches touching at most this many distinct vectors are exact.
        expansion_weight: Factor on a returned product's score for the activities covering it
            (0: activities are not expanded).
        product_weight: Factor on a top activity's score for the products of its narrow scope
            (0: products are not expanded).
        expand_from: Top activities whose narrow scopes add products.
        per_activity: Products each such activity adds at most.
        max_related: Linked ids kept in each hit's ``related``.

    Raises:
        ValueError: Shapes disagree, ids repeat, or vectors are not finite.
    """

    def __init__(
        self,
        products: Catalog,
        product_vectors: NDArray[np.floating[Any]],
        activities: Catalog,
        activity_vectors: NDArray[np.floating[Any]],
        *,
        revision: int = 0,
        dtype: Literal["float32", "float16"] = "float32",
        stage1_dim: int = 64,
        rerank: int = 10,
        min_rerank: int = 2000,
        exact_groups: int = 4000,
        expansion_weight: float = 0.9,
        product_weight: float = 0.6,
        expand_from: int = 10,
        per_activity: int = 10,
        max_related: int = 20,
    ) -> None:
        ids, texts, metas = products
        a_ids, a_texts, a_metas = activities
        p_vectors = check_matrix("product_vectors", product_vectors, len(ids))
        a_vectors = check_matrix("activity_vectors", activity_vectors, len(a_ids))
        if p_vectors.shape[1] != a_vectors.shape[1]:
            raise ValueError(
                f"products are {p_vectors.shape[1]}-d but activities {a_vectors.shape[1]}-d: "
                "embed both with the same embedder"
            )
        self.dim = int(p_vectors.shape[1])
        self.revision = revision
        self.expansion_weight = expansion_weight
        self.product_weight = product_weight
        self.expand_from = expand_from
        self.per_activity = per_activity
        self.max_related = max_related
        options = {"dtype": dtype, "stage1_dim": stage1_dim, "rerank": rerank}
        options["min_rerank"] = min_rerank
        options["exact_groups"] = exact_groups
        keys = [sort_key(m) for m in metas]
        order, _ = row_order(ids, p_vectors, keys.__getitem__)
        paths = [keys[i][0] for i in order]
        breaks = [r for r in range(len(order)) if r == 0 or paths[r] != paths[r - 1]]
        self._products = Kind(
            [ids[i] for i in order],
            p_vectors[order],
            None if texts is None else [texts[i] for i in order],
            breaks,
            options,
        )
        self._pcols = ProductColumns.build([metas[i] for i in order], CategoryTree())
        a_order, _ = row_order(a_ids, a_vectors)
        self._activities = Kind(
            [a_ids[i] for i in a_order],
            a_vectors[a_order],
            None if a_texts is None else [a_texts[i] for i in a_order],
            [],
            options,
        )
        self._acols = ActivityColumns.build(
            [a_metas[i] for i in a_order], self._pcols, self._products.row
        )
        self._scope_sizes = self._acols.sizes()
        self._categories = frozenset(self._pcols.tree.ids)
        self._intervals = np.searchsorted(self._acols.owner, np.arange(self._acols.n + 1))

    @classmethod
    def from_items(
        cls,
        products: Sequence[IndexItem],
        product_vectors: NDArray[np.floating[Any]],
        activities: Sequence[IndexItem] = (),
        activity_vectors: NDArray[np.floating[Any]] | None = None,
        **options: Any,
    ) -> SearchIndex:
        """An index of :class:`~retrieval.IndexItem` values and their vectors (row-aligned)."""
        if activity_vectors is None:
            dim = np.asarray(product_vectors).shape[-1]
            activity_vectors = np.zeros((0, dim), dtype=np.float32)

        def catalog(items: Sequence[IndexItem]) -> Catalog:
            return [i.id for i in items], [i.text for i in items], [i.metadata for i in items]

        return cls(
            catalog(products), product_vectors, catalog(activities), activity_vectors, **options
        )

    @classmethod
    def from_exports(
        cls,
        products: IndexExport,
        activities: IndexExport,
        *,
        texts: Mapping[str, str] | None = None,
        **options: Any,
    ) -> SearchIndex:
        """An index of two :class:`~retrieval.IndexExport` values (``ChromaIndex.export()``).

        Chroma stores no texts: pass ``texts`` (id -> the text that was embedded) for lexical
        and hybrid search; ids missing from it get an empty text.
        """

        def catalog(export: IndexExport) -> Catalog:
            ids = list(export.ids)
            words = None if texts is None else [texts.get(i, "") for i in ids]
            return ids, words, list(export.metadatas)

        return cls(
            catalog(products), products.vectors, catalog(activities), activities.vectors, **options
        )

    @property
    def categories(self) -> frozenset[str]:
        """Every known category path (products' paths, their ancestors, activity scopes)."""
        return self._categories

    @property
    def sizes(self) -> tuple[int, int]:
        """(products, activities)."""
        return self._pcols.n, self._acols.n

    @property
    def product_ids(self) -> tuple[str, ...]:
        """Product ids in storage order (the order of :meth:`masks`)."""
        return self._products.ids

    @property
    def activity_ids(self) -> tuple[str, ...]:
        """Activity ids in storage order (the order of :meth:`masks`)."""
        return self._activities.ids

    @property
    def lexical(self) -> bool:
        """Whether the index was built with texts (lexical and hybrid modes)."""
        return self._products.lexical is not None

    def masks(self, filters: Filters) -> tuple[NDArray[np.bool_] | None, NDArray[np.bool_] | None]:
        """Products and activities passing every filter (storage order), shapes
        ``(n_products,)`` and ``(n_activities,)``; ``None`` where nothing filters that kind.

        Raises:
            ValueError: A category the index does not know.
        """
        filters.check_categories(self.categories)
        product_side = self._pcols.mask(filters)
        activity_side = self._acols.mask(filters)
        products = product_side
        if filters.activity_types and activity_side is not None:
            covered = self._acols.covered(activity_side, self._pcols.n)
            products = covered if products is None else products & covered
        activities = activity_side
        if product_side is not None:
            covering = self._acols.covering(product_side)
            activities = covering if activities is None else activities & covering
        return products, activities

    def _ranges(self, filters: Filters) -> list[tuple[int, int]] | None:
        """Row ranges of the category filter's subtrees, merged; ``None`` without one."""
        if not filters.categories:
            return None
        spans = self._pcols.spans
        nodes = [self._pcols.tree.ids[c] for c in filters.categories]
        merged: list[tuple[int, int]] = []
        for a, b in sorted(spans[node] for node in nodes if node in spans):
            if merged and a <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], b))
            else:
                merged.append((a, b))
        return merged

    def search(
        self,
        query: str | None = None,
        *,
        vector: NDArray[np.floating[Any]] | None = None,
        embedder: QueryEmbedder | None = None,
        filters: Filters | None = None,
        k_products: int = 300,
        k_activities: int = 50,
        mode: Mode | None = None,
        expand: bool = True,
        plan: Plan = "auto",
    ) -> SearchResult:
        """The best products and activities for a query under hard filters.

        Args:
            query: The shopper's text, English or Chinese (needed by ``lexical`` and
                ``hybrid``; with ``embedder`` it also gives the query vector).
            vector: The query embedding, shape ``(dim,)``; normalized here.
            embedder: Embeds ``query`` when ``vector`` is not given.
            filters: Hard filters (default: none).
            k_products: Products to return at most (0: none).
            k_activities: Activities to return at most (0: none).
            mode: ``"dense"``, ``"lexical"`` or ``"hybrid"`` (default :data:`DEFAULT_MODE`,
                ``"dense"`` when no query text is given).
            expand: Link products and activities and let each add the other (module docs).
            plan: The vector plan: ``"auto"``, or force ``"exact"`` / ``"two-stage"``.

        Returns:
            The hits, best first. Filters that nothing passes give empty lists, not an error.

        Raises:
            ValueError: ``"empty query"`` for a blank ``query`` (or neither query nor vector);
                a vector of the wrong shape, not finite or zero; a negative ``k``; an unknown
                category; a mode the index cannot serve (lexical without texts, dense without
                a vector).
        """
        filters = filters or Filters()
        if query is not None and (not isinstance(query, str) or not query.strip()):
            raise ValueError("empty query: give the shopper's words, not a blank string")
        if query is None and vector is None:
            raise ValueError("empty query: give a query text or a query vector")
        for name, k in (("k_products", k_products), ("k_activities", k_activities)):
            if isinstance(k, bool) or not isinstance(k, int) or k < 0:
                raise ValueError(f"{name} must be a non-negative int, got {k!r}")
        chosen: Mode = mode or (DEFAULT_MODE if query is not None else "dense")
        if chosen not in ("dense", "lexical", "hybrid"):
            raise ValueError(f"mode must be 'dense', 'lexical' or 'hybrid', got {chosen!r}")
        if chosen != "dense" and (query is None or not self.lexical):
            raise ValueError(
                f"mode {chosen!r} needs a query text and an index built with texts; "
                "use mode='dense'"
            )
        q = None if chosen == "lexical" else self._query_vector(query, vector, embedder)
        p_mask, a_mask = self.masks(filters)
        ranges = self._ranges(filters)
        if ranges == []:  # known categories without products
            p_mask, ranges = np.zeros(self._pcols.n, dtype=np.bool_), None
        p_rows, p_scores = self._products.rank(chosen, q, query, k_products, (p_mask, ranges), plan)
        a_rows, a_scores = self._activities.rank(
            chosen, q, query, k_activities, (a_mask, None), plan
        )
        products = (p_rows, p_scores, p_mask)
        activities = (a_rows, a_scores, a_mask)
        if expand:
            return _expand.assemble(self, q, chosen, products, activities, k_products, k_activities)
        return _expand.plain(self, chosen, products, activities)

    def _query_vector(
        self,
        query: str | None,
        vector: NDArray[np.floating[Any]] | None,
        embedder: QueryEmbedder | None,
    ) -> NDArray[np.float32]:
        if vector is None:
            if embedder is None or query is None:
                raise ValueError("dense search needs a query vector, or a query and an embedder")
            vector = embedder.embed_query(query)
        raw = np.asarray(vector)
        if raw.shape != (self.dim,):
            raise ValueError(f"query vector must have shape ({self.dim},), got {raw.shape}")
        q = raw.astype(np.float32)
        norm = float(np.linalg.norm(q))
        if not np.isfinite(norm) or norm == 0.0:
            raise ValueError("query vector must be finite and non-zero")
        return q / norm
