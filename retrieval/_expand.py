"""Expansion between activities and products, and assembling a :class:`SearchResult`.

Private to :mod:`retrieval.search`, which documents the rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from retrieval.search import Mode, SearchIndex, SearchResult

__all__ = ["Ranked", "assemble", "plain"]

_Rows = NDArray[np.int64]
_Scores = NDArray[np.float64]
_Mask = NDArray[np.bool_] | None
_EMPTY = np.empty(0, np.int64)
Ranked = tuple[_Rows, _Scores, _Mask]
"""Rows best first, their scores, and the rows allowed by the filters."""


def _merge(
    direct: tuple[_Rows, _Scores], extra: tuple[_Rows, _Scores], k: int, *, keep_extra: bool
) -> tuple[_Rows, _Scores, NDArray[np.bool_]]:
    """The best ``k`` rows by max(direct, extra) score, best first, and whether each won by its
    own (direct) score. With ``keep_extra`` every extra row stays (at most ``k``), displacing the
    weakest direct rows instead of competing with them."""
    rows = np.concatenate([direct[0], extra[0]])
    scores = np.concatenate([direct[1], extra[1]])
    own = np.concatenate([np.ones(direct[0].shape[0], bool), np.zeros(extra[0].shape[0], bool)])
    # best score first, then own before expansion, then row: the first of each row wins
    order = np.lexsort((rows, ~own, -scores))
    rows, scores, own = rows[order], scores[order], own[order]
    _, first = np.unique(rows, return_index=True)
    first = np.sort(first)
    if keep_extra and extra[0].shape[0]:
        wanted = np.isin(rows[first], extra[0])
        room = max(k - int(wanted.sum()), 0)
        first = np.sort(np.concatenate([first[wanted][:k], first[~wanted][:room]]))
    first = first[:k]
    return rows[first], scores[first], own[first]


def _spans_rows(lo: _Rows, hi: _Rows) -> _Rows:
    """Every row of the intervals ``[lo, hi)``, in order."""
    counts = hi - lo
    total = int(counts.sum())
    return np.repeat(lo - (np.cumsum(counts) - counts), counts) + np.arange(total)


def _final_check(
    rows: _Rows, scores: _Scores, own: NDArray[np.bool_], mask: _Mask
) -> tuple[_Rows, _Scores, NDArray[np.bool_]]:
    """Drop rows a filter refuses (a safety net: ranking already honoured the mask)."""
    if mask is None:
        return rows, scores, own
    keep = mask[rows]
    return rows[keep], scores[keep], own[keep]


def assemble(
    index: SearchIndex,
    query: NDArray[np.float32] | None,
    mode: Mode,
    products: Ranked,
    activities: Ranked,
    k_products: int,
    k_activities: int,
) -> SearchResult:
    """Expand both ways, merge, link and build the result."""
    p_rows, p_scores, p_mask = products
    a_rows, a_scores, a_mask = activities
    weight = index.expansion_weight
    pcols, acols = index._pcols, index._acols

    # products -> the activities that cover them
    extra_a: tuple[_Rows, _Scores] = (_EMPTY, np.empty(0, np.float64))
    if k_activities and p_rows.shape[0] and acols.n and weight > 0:
        allowed = np.zeros(pcols.n, dtype=np.bool_)
        allowed[p_rows] = True
        cover = acols.covering(allowed)
        if a_mask is not None:
            cover &= a_mask
        candidates = np.flatnonzero(cover)
        p_pos, a_pos = acols.links(p_rows, candidates)
        best = np.full(candidates.shape[0], p_rows.shape[0], dtype=np.int64)
        np.minimum.at(best, a_pos, p_pos)  # products are best first: lowest position wins
        found = best < p_rows.shape[0]
        # a scope much wider than the result list says little about the query: damp it
        width = index._scope_sizes[candidates[found]]
        specificity = np.sqrt(np.minimum(1.0, max(k_products, 1) / np.maximum(width, 1)))
        extra_a = (candidates[found], weight * specificity * p_scores[best[found]])

    # narrow activities (product lists, brands) -> their products
    extra_p: tuple[_Rows, _Scores] = (_EMPTY, np.empty(0, np.float64))
    if k_products and a_rows.shape[0] and index.product_weight > 0:
        rows_list, score_list = [], []
        # only activities at least as similar to the query as the weakest product returned
        full = p_rows.shape[0] >= k_products
        gate = float(p_scores[k_products - 1]) if full else -np.inf
        for a_row, a_score in zip(a_rows[: index.expand_from], a_scores, strict=False):
            if not acols.narrow[a_row] or a_score < gate:
                continue
            first, last = index._intervals[a_row], index._intervals[a_row + 1]
            rows = _spans_rows(acols.lo[first:last], acols.hi[first:last])
            if p_mask is not None:
                rows = rows[p_mask[rows]]
            if rows.shape[0] > index.per_activity and query is not None:
                own = index._products.matrix.scores(query, rows)
                rows = rows[np.argsort(-own, kind="stable")[: index.per_activity]]
            rows = rows[: index.per_activity]
            rows_list.append(rows)
            score_list.append(np.full(rows.shape[0], index.product_weight * a_score))
        if rows_list:
            extra_p = (np.concatenate(rows_list), np.concatenate(score_list))

    p_rows, p_scores, p_own = _merge((p_rows, p_scores), extra_p, k_products, keep_extra=True)
    a_rows, a_scores, a_own = _merge((a_rows, a_scores), extra_a, k_activities, keep_extra=False)
    p_rows, p_scores, p_own = _final_check(p_rows, p_scores, p_own, p_mask)
    a_rows, a_scores, a_own = _final_check(a_rows, a_scores, a_own, a_mask)
    p_pos, a_pos = acols.links(p_rows, a_rows)
    return _result(
        index, mode, (p_rows, p_scores, p_own), (a_rows, a_scores, a_own), (p_pos, a_pos)
    )


def plain(index: SearchIndex, mode: Mode, products: Ranked, activities: Ranked) -> SearchResult:
    """The result without expansion or links."""
    p_own = np.ones(products[0].shape[0], dtype=np.bool_)
    a_own = np.ones(activities[0].shape[0], dtype=np.bool_)
    p = _final_check(products[0], products[1], p_own, products[2])
    a = _final_check(activities[0], activities[1], a_own, activities[2])
    return _result(index, mode, p, a, (_EMPTY, _EMPTY))


def _related(
    owner: _Rows, other: _Rows, ids: Sequence[str], rows: _Rows, n: int, cap: int
) -> list[tuple[str, ...]]:
    """For each of ``n`` owners, the ids of at most ``cap`` linked items, best first.

    ``other`` holds positions in a best-first list, so the lowest positions are the best.
    """
    out: list[tuple[str, ...]] = [()] * n
    if not owner.shape[0] or not cap:
        return out
    width = int(other.max()) + 1
    codes = np.sort(owner * width + other)  # links never repeat a pair
    owners, others = codes // width, codes % width
    starts = np.searchsorted(owners, np.arange(n))
    keep = np.arange(codes.shape[0]) - starts[owners] < cap
    owners, others = owners[keep], others[keep]
    linked = [ids[r] for r in rows[others].tolist()]
    bounds = np.searchsorted(owners, np.arange(n + 1)).tolist()
    for o in range(n):
        if bounds[o + 1] > bounds[o]:
            out[o] = tuple(linked[bounds[o] : bounds[o + 1]])
    return out


def _result(
    index: SearchIndex,
    mode: Mode,
    products: tuple[_Rows, _Scores, NDArray[np.bool_]],
    activities: tuple[_Rows, _Scores, NDArray[np.bool_]],
    links: tuple[_Rows, _Rows],
) -> SearchResult:
    from retrieval.search import Hit, SearchResult

    p_rows, p_scores, p_own = products
    a_rows, a_scores, a_own = activities
    p_ids, a_ids = index._products.ids, index._activities.ids
    cap = index.max_related
    p_rel = _related(links[0], links[1], a_ids, a_rows, p_rows.shape[0], cap)
    a_rel = _related(links[1], links[0], p_ids, p_rows, a_rows.shape[0], cap)

    def hits(
        ids: Sequence[str],
        rows: _Rows,
        scores: _Scores,
        own: NDArray[np.bool_],
        related: list[tuple[str, ...]],
    ) -> tuple[Hit, ...]:
        source: list[Literal["query", "expansion"]] = ["query", "expansion"]
        return tuple(
            Hit(ids[r], s, source[0 if o else 1], rel)
            for r, s, o, rel in zip(
                rows.tolist(), scores.tolist(), own.tolist(), related, strict=True
            )
        )

    return SearchResult(
        hits(p_ids, p_rows, p_scores, p_own, p_rel),
        hits(a_ids, a_rows, a_scores, a_own, a_rel),
        index.revision,
        mode,
    )
