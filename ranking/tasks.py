"""Ranking tasks from a training snapshot: time-split train / valid / test rows with labels.

CONTRACT (fixed): the dataclasses and the signature of :func:`build_task` below are what the
baselines, the trainer and the benchmark program against; extend them, don't break them.

Protocol (:func:`build_task`):

* A *request* is one ``request_id``; its time ``t`` is its earliest event. Positives are events
  with a click or a conversion. Requests go to train / valid / test by ``t`` against the
  manifest's ``valid_start`` and ``test_start``.
* History of a request of user ``u`` at ``t``: ``u``'s positive events with ``ts < t`` (so never
  the request itself or anything later), the ``history_len`` most recent as the sequence and all
  of them for the user-item fields (:class:`~ranking.features.HistoryArrays`).
* ``next-item``: a training request with a positive yields its positive items, its shown but not
  positive items (hard negatives) and ``negatives`` random items of each positive's
  ``department`` that are not positive in the request (labels 0, 0), a share of them drawn by
  popularity (``popular_negatives``), and optionally the user's own recent history items of those
  departments that the request did not log (``history_negatives``). Or (``department_share``)
  the training rows are grouped as evaluation groups them: the positives, every item of the
  department the user had before, and a uniform share of the department's other items. Valid
  and test: one group per (request, department of a positive), holding *every* catalog item of
  that department, labelled 1 for the request's positives.
* ``impressions``: rows are the shown events, labels their flags, one group per request.
* Candidate features come from the tables, never from the event row: list price from
  ``items``; the deal from ``prices`` on the request's UTC day (else list price, no deal);
  popularity = positive events per item before ``valid_start``; freshness = days from
  ``listed_at`` (unknown: 365); similarity = cosine of the query's and the item's embeddings,
  else of the mean embedding of the history sequence and the item's, else 0.
* Vocabularies are fitted on the training period's items, categories, brands and segments:
  items first seen later are out of vocabulary (cold start). The per-item repeat rates they
  carry (``item_repeat_rate``) count the positive events before ``valid_start`` only, as
  popularity does.

Every step is vectorised over sorted numpy arrays (no Python loop per event or row), so a
Complete-Journey-sized snapshot (1.4M events) builds in well under two minutes on two cores.

Example:
    >>> from datetime import UTC, datetime
    >>> day = lambda d: datetime(2030, 1, d, tzinfo=UTC)
    >>> snap = Snapshot.from_pydict(
    ...     items={"item_id": ["a", "b", "c"], "category": ["x"] * 3, "department": ["d"] * 3,
    ...            "brand": ["k"] * 3, "price": [100, 200, 300]},
    ...     users={"user_id": ["u"], "is_member": [True], "is_new": [False], "segment": [""]},
    ...     events={"request_id": ["r1", "r2", "r3"], "user_id": ["u"] * 3,
    ...             "item_id": ["a", "b", "c"], "ts": [day(1), day(2), day(3)],
    ...             "query_id": [None] * 3, "shown": [False] * 3, "click": [True] * 3,
    ...             "conversion": [True] * 3},
    ...     valid_start=day(2), test_start=day(3), source="doctest")
    >>> data = build_task(snap, negatives=1, progress=False)
    >>> len(data.train), len(data.test), data.test.labels[:, 1].tolist()
    (2, 3, [0.0, 0.0, 1.0])
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray
from tqdm.auto import tqdm

from ranking.features import (
    FEATURE_SPEC,
    PAD_ID,
    Batch,
    CandidateTable,
    HistoryArrays,
    UserContext,
    Vocabularies,
    build_batch,
)
from ranking.snapshot import Snapshot, SnapshotError

__all__ = ["Interactions", "RankingData", "Split", "build_task"]


@dataclass(frozen=True)
class Split:
    """The rows of one split, ready to score.

    Attributes:
        batch: the features of every row (``n`` rows).
        labels: float32 ``(n, 2)``: click, conversion.
        groups: int64 ``(n,)``: the evaluation group of each row (one request's department in
            ``next-item``; one request in ``impressions``); rows of a group are contiguous.
        user_ids: object ``(n,)``, the row's user id.
        item_ids: object ``(n,)``, the row's item id.
        request_ids: object ``(n,)``, the row's request id.
        sample_log_q: float32 ``(n,)``, ``next-item`` training rows only (else None): the log
            of the row's expected count among its request's sampled negatives; 0 for rows kept
            with certainty (positives, shown items, history negatives). Losses use it to weigh
            sampled negatives for the whole department they stand for (logQ correction).
    """

    batch: Batch
    labels: NDArray[np.float32]
    groups: NDArray[np.int64]
    user_ids: NDArray[np.object_]
    item_ids: NDArray[np.object_]
    request_ids: NDArray[np.object_]
    sample_log_q: NDArray[np.float32] | None = None

    def __len__(self) -> int:
        return int(self.labels.shape[0])


@dataclass(frozen=True)
class Interactions:
    """Positive (click or conversion) events before ``valid_start``: what collaborative
    baselines (popularity, ALS) may learn from. One entry per event, in time order.

    Attributes:
        user_ids: object ``(m,)``.
        item_ids: object ``(m,)``.
        ts_us: int64 ``(m,)`` UTC microseconds.
        conversion: bool ``(m,)``.
    """

    user_ids: NDArray[np.object_]
    item_ids: NDArray[np.object_]
    ts_us: NDArray[np.int64]
    conversion: NDArray[np.bool_]


@dataclass(frozen=True)
class RankingData:
    """A snapshot turned into one task.

    Attributes:
        task: ``next-item`` or ``impressions``.
        vocab: vocabularies fitted on the training period only (later ids are OOV).
        train: training rows (``next-item``: positives, the request's shown-but-not-clicked
            items and sampled negatives of the positive's department).
        valid: validation rows (``next-item``: every item of the department per group).
        test: test rows (same protocol as ``valid``).
        interactions: the training period's positive events.
        source: the snapshot's ``source`` manifest field.
        simulated: the snapshot's ``simulated`` manifest field.
    """

    task: str
    vocab: Vocabularies
    train: Split
    valid: Split
    test: Split
    interactions: Interactions
    source: str
    simulated: bool


_DAY_US = 86_400_000_000
_HOUR_US = 3_600_000_000
_UNKNOWN_AGE_DAYS = 365.0
_SIM_CHUNK = 4096  # requests per similarity chunk: bounds the (requests, L, dim) gather


def _np(column: pa.ChunkedArray | pa.Array) -> NDArray[Any]:
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    out: NDArray[Any] = column.to_numpy(zero_copy_only=False)
    return out


def _codes(column: pa.ChunkedArray) -> tuple[NDArray[np.int64], NDArray[np.object_]]:
    """Dictionary-encode a string column: int64 codes (-1 for null) and the distinct values."""
    encoded = pc.dictionary_encode(column).combine_chunks()
    codes = _np(pc.fill_null(encoded.indices, -1)).astype(np.int64)
    return codes, _np(encoded.dictionary).astype(object)


def _flags(table: pa.Table, name: str, column: str) -> NDArray[np.bool_]:
    values = table.column(column)
    if values.null_count:
        raise SnapshotError(f"{name}.{column}: {values.null_count} null value(s); use True/False")
    return _np(values).astype(bool)


def _embeddings(table: pa.Table, name: str) -> tuple[NDArray[np.float32], NDArray[np.bool_]]:
    """Unit-normalised embeddings, shape ``(n, dim)``, and which rows have one."""
    n = table.num_rows
    if "embedding" not in table.column_names:
        return np.zeros((n, 0), dtype=np.float32), np.zeros(n, dtype=bool)
    arr = table.column("embedding").combine_chunks()
    dim = arr.type.list_size
    flat = _np(arr.values).astype(np.float32)
    start = arr.offset * dim
    emb = flat[start : start + n * dim].reshape(n, dim)
    present = ~_np(arr.is_null()).astype(bool)
    bad = present & ~np.isfinite(emb).all(axis=1)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise SnapshotError(
            f"{name}.embedding: NaN or inf in row {row} ({int(bad.sum())} row(s) in all); "
            "re-export the embeddings or leave those rows null"
        )
    emb = np.where(present[:, None], emb, 0.0).astype(np.float32)
    norm = np.linalg.norm(emb, axis=1)
    present &= norm > 0
    emb[present] /= norm[present, None]
    return emb, present


def _positions(
    sorted_keys: NDArray[np.int64], lo: NDArray[np.int64], hi: NDArray[np.int64]
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """``[start, end)`` of the keys in ``[lo, hi)`` in ``sorted_keys``."""
    return (
        np.searchsorted(sorted_keys, lo, side="left").astype(np.int64),
        np.searchsorted(sorted_keys, hi, side="left").astype(np.int64),
    )


@dataclass
class _Rows:
    """Candidate rows of one split before features: request, item, labels, group."""

    request: NDArray[np.int64]
    item: NDArray[np.int64]
    labels: NDArray[np.float32]
    groups: NDArray[np.int64]
    log_q: NDArray[np.float32] | None = None


class _Builder:
    """The snapshot as sorted numpy arrays, and the per-split row and feature builders."""

    def __init__(
        self, snapshot: Snapshot, progress: bool, popularity_days: float | None = None
    ) -> None:
        self.progress = progress
        self.popularity_days = popularity_days
        items, events = snapshot.items, snapshot.events
        self.item_ids = _np(items.column("item_id")).astype(object)
        n_items = len(self.item_ids)
        self.item_index = dict(zip(self.item_ids.tolist(), range(n_items), strict=True))
        self.category, self.categories = _codes(items.column("category"))
        self.department, _ = _codes(items.column("department"))
        self.brand, self.brands = _codes(items.column("brand"))
        self.price = _np(items.column("price")).astype(np.int64)
        listed = items.column("listed_at").cast(pa.int64())
        self.listed_known = ~_np(listed.is_null()).astype(bool)
        self.listed_at = _np(pc.fill_null(listed, 0)).astype(np.int64)
        self.item_emb, self.item_has_emb = _embeddings(items, "items")
        # Items of each department, sorted by item index.
        order = np.argsort(self.department, kind="stable")
        self.dept_items = order
        self.dept_start = np.searchsorted(
            self.department[order], np.arange(self.department.max(initial=-1) + 2)
        )

        req, self.request_ids = _codes(events.column("request_id"))
        user, self.user_ids = _codes(events.column("user_id"))
        item_code, item_names = _codes(events.column("item_id"))
        lookup = np.fromiter(
            (self.item_index.get(name, -1) for name in item_names), np.int64, len(item_names)
        )
        unknown = lookup < 0
        if unknown.any():
            raise SnapshotError(
                f"events.item_id: {int(unknown.sum())} id(s) not in items, e.g. "
                f"{item_names[np.flatnonzero(unknown)[0]]!r}; export the items they refer to"
            )
        item = lookup[item_code]
        ts = _np(events.column("ts").cast(pa.int64())).astype(np.int64)
        query, query_names = _codes(events.column("query_id"))
        shown = _flags(events, "events", "shown")
        click = _flags(events, "events", "click")
        conversion = _flags(events, "events", "conversion")

        # Requests: time = earliest event, user and query of their first event (events are
        # sorted by time, so the first occurrence is the earliest).
        n_req = len(self.request_ids)
        _, first = np.unique(req, return_index=True)
        self.req_ts = ts[first]
        self.req_user = user[first]
        self.req_query = np.full(n_req, -1, dtype=np.int64)
        self.t_rank_values = np.unique(ts)
        self.n_t = len(self.t_rank_values) + 1
        # Positives at a rank below this are strictly earlier than the request.
        self.req_rank = np.searchsorted(self.t_rank_values, self.req_ts).astype(np.int64)
        has_q = query >= 0
        q_req, q_first = np.unique(req[has_q], return_index=True)
        self.req_query[q_req] = query[has_q][q_first]
        self.query_emb, self.query_has_emb = self._query_embeddings(snapshot, query_names)

        # One entry per (request, item): flags OR-ed over duplicate events.
        key = req * n_items + item
        pair, inverse = np.unique(key, return_inverse=True)
        self.n_items = n_items

        def any_of(flag: NDArray[np.bool_]) -> NDArray[np.bool_]:
            out = np.zeros(len(pair), dtype=bool)
            np.logical_or.at(out, inverse, flag)
            return out

        self.pair_key = pair
        self.pair_req = pair // n_items
        self.pair_item = pair % n_items
        self.pair_shown = any_of(shown)
        self.pair_click = any_of(click)
        self.pair_conv = any_of(conversion)
        self.pair_pos = self.pair_click | self.pair_conv

        # Positive events in (user, time) order: the histories.
        pos = click | conversion
        p_user, p_item, p_ts = user[pos], item[pos], ts[pos]
        p_rank = np.searchsorted(self.t_rank_values, p_ts).astype(np.int64)
        self.pos_event_conv = conversion[pos]
        self.pos_event_user, self.pos_event_item, self.pos_event_ts = p_user, p_item, p_ts
        self.hist = {}
        for name, code, width in (
            ("user", np.zeros_like(p_item), 1),
            ("item", p_item, n_items),
            ("category", self.category[p_item], len(self.categories)),
            ("brand", self.brand[p_item], len(self.brands)),
        ):
            composite = (p_user * width + code) * self.n_t + p_rank
            order = np.argsort(composite, kind="stable")
            self.hist[name] = (composite[order], width, order)
        # Each user's first positive event of each item (in time order): distinct items of a
        # history are the first events in it.
        keys, _, order = self.hist["item"]
        user_item = keys // self.n_t
        first = np.zeros(len(p_item), dtype=bool)
        first[order] = np.r_[True, user_item[1:] != user_item[:-1]] if len(order) else first
        self.first_cum = np.concatenate([[0], np.cumsum(first[self.hist["user"][2]])])

        self.valid_start = int(snapshot.valid_start.timestamp() * 1_000_000)
        self.test_start = int(snapshot.test_start.timestamp() * 1_000_000)
        in_train = p_ts < self.valid_start
        self.popularity = np.bincount(p_item[in_train], minlength=n_items).astype(np.float64)
        if popularity_days is not None:
            # Positive events keyed (item, second) in order, for the trailing-window popularity.
            self.pop_t0 = int(p_ts.min()) // 1_000_000 if len(p_ts) else 0
            self.pop_span = (int(p_ts.max()) // 1_000_000 - self.pop_t0 + 2) if len(p_ts) else 1
            self.pop_keys = np.sort(p_item * self.pop_span + (p_ts // 1_000_000 - self.pop_t0))
        # Per item of the training period: users with at least one / two positive events of it.
        pairs, per_pair = np.unique(
            p_user[in_train] * n_items + p_item[in_train], return_counts=True
        )
        self.buyers = np.bincount(pairs % n_items, minlength=n_items)
        self.repeat_buyers = np.bincount(pairs % n_items, per_pair >= 2, minlength=n_items)
        self._prices(snapshot.prices)
        self._users(snapshot.users)

    def _query_embeddings(
        self, snapshot: Snapshot, names: NDArray[np.object_]
    ) -> tuple[NDArray[np.float32], NDArray[np.bool_]]:
        """Embeddings of the events' query codes (``names``), rows aligned with the codes."""
        dim = self.item_emb.shape[1]
        out = np.zeros((len(names), dim), dtype=np.float32)
        has = np.zeros(len(names), dtype=bool)
        if snapshot.queries is None or not len(names):
            return out, has
        emb, present = _embeddings(snapshot.queries, "queries")
        if emb.shape[1] != dim and present.any():
            raise SnapshotError(
                f"queries.embedding has dimension {emb.shape[1]}, items.embedding {dim}; "
                "embed both with the same model"
            )
        index = {q: i for i, q in enumerate(_np(snapshot.queries.column("query_id")).tolist())}
        rows = np.fromiter((index.get(n, -1) for n in names), np.int64, len(names))
        found = rows >= 0
        out[found] = emb[rows[found]]
        has[found] = present[rows[found]]
        return out, has

    def _prices(self, prices: pa.Table | None) -> None:
        self.price_key = np.zeros(0, dtype=np.int64)
        if prices is None or prices.num_rows == 0:
            return
        hours = _np(prices.column("hours_left")).astype(np.float64)
        for column, values in (("hours_left", hours),):
            bad = ~np.isfinite(values)
            if bad.any():
                raise SnapshotError(
                    f"prices.{column}: NaN or inf at row {int(np.flatnonzero(bad)[0])}; "
                    "use 0 hours when there is no deal"
                )
        for column in ("final_price", "day"):
            if prices.column(column).null_count:
                raise SnapshotError(f"prices.{column}: null values; every row needs one")
        code, names = _codes(prices.column("item_id"))
        item = np.fromiter((self.item_index.get(n, -1) for n in names), np.int64, len(names))
        item = item[code]
        known = item >= 0  # prices of items not in the snapshot are irrelevant
        day = _np(prices.column("day").cast(pa.int32())).astype(np.int64)
        key = item * 1_000_000 + day
        order = np.argsort(key[known], kind="stable")
        self.price_key = key[known][order]
        self.price_final = _np(prices.column("final_price")).astype(np.int64)[known][order]
        self.price_deal = _flags(prices, "prices", "has_deal")[known][order]
        self.price_claim = _flags(prices, "prices", "needs_claim")[known][order]
        self.price_hours = hours[known][order]

    def _users(self, users: pa.Table) -> None:
        names = _np(users.column("user_id")).tolist()
        index = {name: i for i, name in enumerate(names)}
        rows = np.fromiter((index.get(n, -1) for n in self.user_ids), np.int64, len(self.user_ids))
        known = rows >= 0
        member = _flags(users, "users", "is_member")
        new = _flags(users, "users", "is_new")
        segment = _np(pc.fill_null(users.column("segment"), "")).astype(object)
        self.user_member = np.where(known, member[rows], False)
        self.user_new = np.where(known, new[rows], False)
        self.user_segment = np.where(known, segment[rows], "")

    # -- splits -------------------------------------------------------------------------------

    def split_requests(self) -> tuple[NDArray[np.int64], ...]:
        """Request codes of train, valid and test, in time order."""
        order = np.argsort(self.req_ts, kind="stable")
        t = self.req_ts[order]
        train = order[t < self.valid_start]
        valid = order[(t >= self.valid_start) & (t < self.test_start)]
        test = order[t >= self.test_start]
        return train, valid, test

    def pairs_of(self, requests: NDArray[np.int64]) -> NDArray[np.int64]:
        """Positions in the (request, item) pairs of the given requests, request by request."""
        lo, hi = _positions(self.pair_key, requests * self.n_items, (requests + 1) * self.n_items)
        return _ranges(lo, hi)

    def next_item_train(
        self,
        requests: NDArray[np.int64],
        negatives: int,
        rng: np.random.Generator,
        history_negatives: int = 0,
        popular_negatives: float = 0.0,
    ) -> _Rows:
        pairs = self.pairs_of(requests)
        pos = pairs[self.pair_pos[pairs]]
        hard = pairs[self.pair_shown[pairs] & ~self.pair_pos[pairs]]
        req_parts = [self.pair_req[pos], self.pair_req[hard]]
        item_parts = [self.pair_item[pos], self.pair_item[hard]]
        label_parts = [
            np.stack([self.pair_click[pos], self.pair_conv[pos]], axis=1),
            np.zeros((len(hard), 2), dtype=bool),
        ]
        q_parts = [np.zeros(len(pos)), np.zeros(len(hard))]  # kept with certainty: log 1
        if history_negatives > 0 and len(pos):
            req, item = self._history_negatives(pos, history_negatives)
            req_parts.append(req)
            item_parts.append(item)
            label_parts.append(np.zeros((len(req), 2), dtype=bool))
            q_parts.append(np.zeros(len(req)))
        if negatives > 0 and len(pos):
            req, item, q = self._sample_negatives(pos, negatives, rng, popular_negatives)
            req_parts.append(req)
            item_parts.append(item)
            label_parts.append(np.zeros((len(req), 2), dtype=bool))
            q_parts.append(np.log(q))
        request = np.concatenate(req_parts)
        item = np.concatenate(item_parts)
        labels = np.concatenate(label_parts).astype(np.float32)
        log_q = np.concatenate(q_parts).astype(np.float32)
        # Rows of a request together, requests in the given (time) order.
        rank = np.empty(int(requests.max(initial=-1)) + 1, dtype=np.int64)
        rank[requests] = np.arange(len(requests))
        order = np.argsort(rank[request], kind="stable")
        request, item, labels, log_q = request[order], item[order], labels[order], log_q[order]
        return _Rows(request, item, labels, _group_ids(rank[request]), log_q)

    def _history_negatives(
        self, pos: NDArray[np.int64], scan: int
    ) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """The user's own past items (among the ``scan`` most recent positive events strictly
        before the request) in the department of one of the request's positives and not logged
        in the request: the items evaluation finds hardest to rank below the true one."""
        reqs = np.unique(self.pair_req[pos])
        user, rank = self.req_user[reqs], self.req_rank[reqs]
        start, end = self._count_before("user", user, np.zeros_like(user), rank)
        _, _, order = self.hist["user"]
        seq = end[:, None] - 1 - np.arange(scan)[None, :]
        present = seq >= start[:, None]
        if not len(order) or not present.any():
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty
        item = self.pos_event_item[order[np.where(present, seq, 0)]][present]
        req = np.broadcast_to(reqs[:, None], seq.shape)[present]
        n_dept = len(self.dept_start) - 1
        wanted = np.unique(self.pair_req[pos] * n_dept + self.department[self.pair_item[pos]])
        key = req * n_dept + self.department[item]
        at = np.minimum(np.searchsorted(wanted, key), len(wanted) - 1)
        pair = req * self.n_items + item
        seen = np.minimum(np.searchsorted(self.pair_key, pair), len(self.pair_key) - 1)
        keep = (wanted[at] == key) & (self.pair_key[seen] != pair)
        chosen = np.unique(pair[keep])
        return chosen // self.n_items, chosen % self.n_items

    def _sample_negatives(
        self, pos: NDArray[np.int64], k: int, rng: np.random.Generator, popular: float = 0.0
    ) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
        """``k`` items per positive pair from its department, not positive in its request: a
        share ``popular`` drawn in proportion to ``popularity + 1``, the rest uniformly. Also
        returns each draw's expected count among the ``k`` (``q``, for sampling corrections)."""
        dept = self.department[self.pair_item[pos]]
        start, size = self.dept_start[dept], self.dept_start[dept + 1] - self.dept_start[dept]
        req = np.repeat(self.pair_req[pos], k)
        start, size = np.repeat(start, k), np.repeat(size, k)
        # No extra draw when popular == 0: the same seed gives the same rows as before.
        by_pop = rng.random(len(req)) < popular if popular > 0 else np.zeros(len(req), bool)
        cum = np.concatenate([[0.0], np.cumsum(self.popularity[self.dept_items] + 1.0)])
        item = np.full(len(req), -1, dtype=np.int64)
        todo = np.arange(len(req))
        positives = self.pair_key[self.pair_pos]
        for _ in range(8):  # redraw the few that hit a positive; departments are large
            s, z, u = start[todo], size[todo], rng.random(len(todo))
            lo, hi = cum[s], cum[s + z]
            weighted = np.searchsorted(cum, lo + u * (hi - lo), side="right") - 1
            at = np.where(by_pop[todo], np.clip(weighted, s, s + z - 1), s + (u * z).astype(int))
            draw = self.dept_items[at]
            key = req[todo] * self.n_items + draw
            at = np.minimum(np.searchsorted(positives, key), len(positives) - 1)
            hit = positives[at] == key
            item[todo[~hit]] = draw[~hit]
            todo = todo[hit]
            if not len(todo):
                break
        keep = item >= 0  # a department made only of this request's positives: no negative
        weight = self.popularity[np.maximum(item, 0)] + 1.0
        q = k * ((1.0 - popular) / size + popular * weight / (cum[start + size] - cum[start]))
        return req[keep], item[keep], q[keep]

    def _positive_groups(
        self, requests: NDArray[np.int64]
    ) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """The requests' positive pairs and each one's group key, ``rank of the request in
        requests * departments + its item's department``: one group per (request, department
        of a positive), sorting in request (time) order."""
        pairs = self.pairs_of(requests)
        pos = pairs[self.pair_pos[pairs]]
        rank = np.empty(int(requests.max(initial=-1)) + 1, dtype=np.int64)
        rank[requests] = np.arange(len(requests))
        n_dept = len(self.dept_start) - 1
        return pos, rank[self.pair_req[pos]] * n_dept + self.department[self.pair_item[pos]]

    def next_item_department(
        self, requests: NDArray[np.int64], share: float, rng: np.random.Generator
    ) -> _Rows:
        """Training rows grouped as evaluation groups them: one group per (request, department
        of one of its positives), holding the request's positives there, every item of the
        department the user had before the request, and each other item of the department with
        probability ``share`` (``log_q = log(share)``; 0 for the rows kept with certainty).
        ``share = 1`` gives the evaluation's whole-department groups."""
        pos, pos_group_key = self._positive_groups(requests)
        group_key = np.unique(pos_group_key)
        n_dept, n_items = len(self.dept_start) - 1, self.n_items
        g_req, g_dept = requests[group_key // n_dept], group_key % n_dept
        g_of_pos = np.searchsorted(group_key, pos_group_key)
        certain = [g_of_pos * n_items + self.pair_item[pos]]
        # The user's own earlier items of each group's department.
        start, end = self._count_before(
            "user", self.req_user[g_req], np.zeros_like(g_req), self.req_rank[g_req]
        )
        _, _, order = self.hist["user"]
        if len(order):
            events = _ranges(start, end)
            ev_group = np.repeat(np.arange(len(group_key), dtype=np.int64), end - start)
            ev_item = self.pos_event_item[order[events]]
            same = self.department[ev_item] == g_dept[ev_group]
            certain.append(ev_group[same] * n_items + ev_item[same])
        kept = np.unique(np.concatenate(certain))
        # A uniform share of the rest of each department.
        lo, hi = self.dept_start[g_dept], self.dept_start[g_dept + 1]
        every = _ranges(lo, hi)
        drawn = rng.random(len(every)) < share
        d_group = np.repeat(np.arange(len(group_key), dtype=np.int64), hi - lo)[drawn]
        sampled = np.setdiff1d(d_group * n_items + self.dept_items[every[drawn]], kept)
        keys = np.concatenate([kept, sampled])
        log_q = np.concatenate(
            [np.zeros(len(kept)), np.full(len(sampled), math.log(share))]
        ).astype(np.float32)
        by_key = np.argsort(keys, kind="stable")
        keys, log_q = keys[by_key], log_q[by_key]
        groups, item = keys // n_items, keys % n_items
        request = g_req[groups]
        return _Rows(request, item, self._pair_labels(request, item), groups, log_q)

    def next_item_eval(
        self, requests: NDArray[np.int64], max_groups: int | None, rng: np.random.Generator
    ) -> _Rows:
        group_key = np.unique(self._positive_groups(requests)[1])
        n_dept = len(self.dept_start) - 1
        if max_groups is not None and len(group_key) > max_groups:
            group_key = np.sort(rng.choice(group_key, size=max_groups, replace=False))
        g_req = requests[group_key // n_dept]
        g_dept = group_key % n_dept
        lo, hi = self.dept_start[g_dept], self.dept_start[g_dept + 1]
        sizes = hi - lo
        item = self.dept_items[_ranges(lo, hi)]
        request = np.repeat(g_req, sizes)
        groups = np.repeat(np.arange(len(group_key), dtype=np.int64), sizes)
        labels = self._pair_labels(request, item)
        return _Rows(request, item, labels, groups)

    def _pair_labels(
        self, request: NDArray[np.int64], item: NDArray[np.int64]
    ) -> NDArray[np.float32]:
        positives = np.flatnonzero(self.pair_pos)
        keys = self.pair_key[positives]
        key = request * self.n_items + item
        at = np.minimum(np.searchsorted(keys, key), max(len(keys) - 1, 0))
        found = (keys[at] == key) if len(keys) else np.zeros(len(key), dtype=bool)
        pair = positives[at] if len(keys) else at
        labels = np.zeros((len(key), 2), dtype=np.float32)
        labels[found, 0] = self.pair_click[pair[found]]
        labels[found, 1] = self.pair_conv[pair[found]]
        return labels

    def impressions(
        self, requests: NDArray[np.int64], max_groups: int | None, rng: np.random.Generator
    ) -> _Rows:
        if max_groups is not None and len(requests) > max_groups:
            keep = np.sort(rng.choice(len(requests), size=max_groups, replace=False))
            requests = requests[keep]
        pairs = self.pairs_of(requests)
        pairs = pairs[self.pair_shown[pairs]]
        request, item = self.pair_req[pairs], self.pair_item[pairs]
        labels = np.stack([self.pair_click[pairs], self.pair_conv[pairs]], axis=1)
        rank = np.empty(int(requests.max(initial=-1)) + 1, dtype=np.int64)
        rank[requests] = np.arange(len(requests))
        return _Rows(request, item, labels.astype(np.float32), _group_ids(rank[request]))

    # -- features -----------------------------------------------------------------------------

    def _count_before(
        self,
        name: str,
        user: NDArray[np.int64],
        code: NDArray[np.int64],
        rank: NDArray[np.int64],
    ) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """``[start, end)`` in the sorted ``name`` history of each ``(user, code)``'s positive
        events strictly before time rank ``rank`` (a request's :attr:`req_rank`)."""
        keys, width, _ = self.hist[name]
        base = (user * width + code) * self.n_t
        return _positions(keys, base, base + rank)

    def batch(self, rows: _Rows, vocab: Vocabularies) -> Batch:
        """Features of ``rows`` through :func:`ranking.features.build_batch`."""
        # Rows of a request are contiguous: number the runs.
        change = np.flatnonzero(np.diff(rows.request)) + 1
        requests = rows.request[np.concatenate([[0], change])] if len(rows.request) else change
        local = _group_ids(rows.request)
        t = self.req_ts[requests]
        t_rank = self.req_rank[requests]
        user = self.req_user[requests]
        length = FEATURE_SPEC.history_len

        # The sequence: the L most recent positives before t, most recent first.
        start, end = self._count_before("user", user, np.zeros_like(user), t_rank)
        _, _, order = self.hist["user"]
        seq = end[:, None] - 1 - np.arange(length)[None, :]
        present = seq >= start[:, None]
        event = order[np.where(present, seq, 0)] if len(order) else np.zeros_like(seq)
        seq_item = self.pos_event_item[event] if len(order) else np.zeros_like(seq)
        item_vocab = vocab.item.lookup(self.item_ids)
        category_vocab = vocab.category.lookup(self.categories)[self.category]
        brand_vocab = vocab.brand.lookup(self.brands)[self.brand]
        days = np.where(
            present, (t[:, None] - self.pos_event_ts[event]) / _DAY_US if len(order) else 0, 0
        )

        # User-item counts of each row.
        r_user, r_t, r_rank, item = user[local], t[local], t_rank[local], rows.item
        lo, hi = self._count_before("item", r_user, item, r_rank)
        item_count = hi - lo
        _, _, item_order = self.hist["item"]
        last = self.pos_event_ts[item_order[np.maximum(hi - 1, 0)]] if len(item_order) else r_t
        item_days = np.where(item_count > 0, (r_t - last) / _DAY_US, np.inf)
        first = (
            self.pos_event_ts[item_order[np.minimum(lo, len(item_order) - 1)]]
            if len(item_order)
            else r_t
        )
        item_first_days = np.where(item_count > 0, (r_t - first) / _DAY_US, np.inf)
        lo, hi = self._count_before("category", r_user, self.category[item], r_rank)
        category_count = hi - lo
        _, _, cat_order = self.hist["category"]
        last = self.pos_event_ts[cat_order[np.maximum(hi - 1, 0)]] if len(cat_order) else r_t
        category_days = np.where(category_count > 0, (r_t - last) / _DAY_US, np.inf)
        lo, hi = self._count_before("brand", r_user, self.brand[item], r_rank)
        brand_count = hi - lo
        history = HistoryArrays(
            item=np.where(present, item_vocab[seq_item], PAD_ID),
            category=np.where(present, category_vocab[seq_item], PAD_ID),
            brand=np.where(present, brand_vocab[seq_item], PAD_ID),
            days_ago=days,
            length=end - start,
            item_count=item_count.astype(np.float64),
            item_days=item_days,
            item_first_days=item_first_days,
            category_count=category_count.astype(np.float64),
            brand_count=brand_count.astype(np.float64),
            category_days=category_days,
            distinct_items=self.first_cum[end] - self.first_cum[start],
        )

        hour = (t // _HOUR_US) % 24
        weekday = (t // _DAY_US + 3) % 7  # 1970-01-01 was a Thursday
        contexts = [
            UserContext(
                hour=int(h),
                weekday=int(w),
                is_member=bool(self.user_member[u]),
                is_new=bool(self.user_new[u]),
                segment=str(self.user_segment[u]),
            )
            for h, w, u in zip(hour.tolist(), weekday.tolist(), user.tolist(), strict=True)
        ]
        candidates = self._candidates(rows, local, requests, event, present)
        ids = (item_vocab[item], category_vocab[item], brand_vocab[item])
        return build_batch(
            candidates, contexts, vocab, request_index=local, history=history, candidate_ids=ids
        )

    def _candidates(
        self,
        rows: _Rows,
        local: NDArray[np.int64],
        requests: NDArray[np.int64],
        event: NDArray[np.int64],
        present: NDArray[np.bool_],
    ) -> CandidateTable:
        item, t = rows.item, self.req_ts[rows.request]
        price = self.price[item]
        final = price.copy()
        deal = np.zeros(len(item), dtype=bool)
        claim = np.zeros(len(item), dtype=bool)
        hours = np.zeros(len(item))
        if len(self.price_key):
            key = item * 1_000_000 + t // _DAY_US
            at = np.minimum(np.searchsorted(self.price_key, key), len(self.price_key) - 1)
            found = self.price_key[at] == key
            idx = at[found]
            # A "deal" above list price is an export error; never charge more than list.
            final[found] = np.clip(self.price_final[idx], 0, price[found])
            deal[found] = self.price_deal[idx]
            claim[found] = self.price_claim[idx]
            hours[found] = np.where(self.price_deal[idx], self.price_hours[idx], 0.0)
        age = np.where(
            self.listed_known[item], (t - self.listed_at[item]) / _DAY_US, _UNKNOWN_AGE_DAYS
        )
        return CandidateTable(
            item_ids=self.item_ids[item],
            categories=self.categories[self.category[item]],
            brands=self.brands[self.brand[item]],
            similarity=self._similarity(rows, local, requests, event, present),
            price=price,
            final_price=final,
            has_deal=deal,
            needs_claim=claim,
            hours_left=np.clip(hours, 0.0, None),
            popularity=self._popularity_at(item, t),
            freshness_days=np.clip(age, 0.0, None),
        )

    def _popularity_at(self, item: NDArray[np.int64], t: NDArray[np.int64]) -> NDArray[np.float64]:
        """Each row's item popularity: positive events of the training period, or (with
        ``popularity_days``) of the days before the row's request, its own time excluded."""
        if self.popularity_days is None:
            return self.popularity[item]
        rel = np.clip(t // 1_000_000 - self.pop_t0, 0, self.pop_span - 1)
        window = int(self.popularity_days * 86_400)
        base = item * self.pop_span
        high = np.searchsorted(self.pop_keys, base + rel, side="left")
        low = np.searchsorted(self.pop_keys, base + np.maximum(rel - window, 0), side="left")
        return (high - low).astype(np.float64)

    def _similarity(
        self,
        rows: _Rows,
        local: NDArray[np.int64],
        requests: NDArray[np.int64],
        event: NDArray[np.int64],
        present: NDArray[np.bool_],
    ) -> NDArray[np.float64]:
        sim = np.zeros(len(local), dtype=np.float64)
        if not self.item_has_emb.any():
            return sim
        # Rows are grouped by request, requests in ascending local order.
        bounds = np.searchsorted(local, np.arange(len(requests) + 1))
        for a in range(0, len(requests), _SIM_CHUNK):
            b = min(a + _SIM_CHUNK, len(requests))
            query = self.req_query[requests[a:b]]
            if len(self.query_has_emb):
                has_query = (query >= 0) & self.query_has_emb[np.maximum(query, 0)]
                vec = np.where(has_query[:, None], self.query_emb[np.maximum(query, 0)], 0.0)
            else:  # no event has a query (e.g. organic baskets)
                has_query = np.zeros(len(query), dtype=bool)
                vec = np.zeros((len(query), self.item_emb.shape[1]), dtype=np.float32)
            hist_item = self.pos_event_item[event[a:b]] if len(self.pos_event_item) else None
            if hist_item is not None:
                use = present[a:b] & self.item_has_emb[hist_item]
                mean = (self.item_emb[hist_item] * use[..., None]).sum(axis=1)
                norm = np.linalg.norm(mean, axis=1, keepdims=True)
                mean = np.divide(mean, norm, out=np.zeros_like(mean), where=norm > 0)
                vec = np.where(has_query[:, None], vec, mean)
            r0, r1 = bounds[a], bounds[b]
            it = rows.item[r0:r1]
            dots = np.einsum("nd,nd->n", self.item_emb[it], vec[local[r0:r1] - a])
            sim[r0:r1] = np.where(self.item_has_emb[it], dots, 0.0)
        return sim


def _ranges(lo: NDArray[np.int64], hi: NDArray[np.int64]) -> NDArray[np.int64]:
    """The concatenation of ``arange(lo[i], hi[i])`` over ``i``, vectorised."""
    sizes = np.maximum(hi - lo, 0)
    total = int(sizes.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    starts = np.repeat(lo - np.cumsum(sizes) + sizes, sizes)
    return (starts + np.arange(total)).astype(np.int64)


def _group_ids(key: NDArray[np.int64]) -> NDArray[np.int64]:
    """0, 1, 2, ... over runs of equal ``key`` (rows of a group are contiguous)."""
    if not len(key):
        return np.zeros(0, dtype=np.int64)
    return np.concatenate([[0], np.cumsum(key[1:] != key[:-1])]).astype(np.int64)


def _cap_requests(
    builder: _Builder, requests: NDArray[np.int64], cap: int | None, rng: np.random.Generator
) -> NDArray[np.int64]:
    """A seeded sample of requests holding at most ``cap`` positive pairs, in time order."""
    if cap is None:
        return requests
    pairs_lo, pairs_hi = _positions(
        builder.pair_key, requests * builder.n_items, (requests + 1) * builder.n_items
    )
    cum = np.concatenate([[0], np.cumsum(builder.pair_pos)])
    n_pos = cum[pairs_hi] - cum[pairs_lo]
    shuffled = rng.permutation(len(requests))
    fits = np.cumsum(n_pos[shuffled]) <= cap
    return requests[np.sort(shuffled[fits])]


def _split(builder: _Builder, rows: _Rows, vocab: Vocabularies) -> Split:
    return Split(
        batch=builder.batch(rows, vocab),
        labels=rows.labels,
        groups=rows.groups,
        user_ids=builder.user_ids[builder.req_user[rows.request]],
        item_ids=builder.item_ids[rows.item],
        request_ids=builder.request_ids[rows.request],
        sample_log_q=rows.log_q,
    )


def build_task(
    snapshot: Snapshot,
    *,
    negatives: int = 20,
    history_negatives: int = 0,
    popular_negatives: float = 0.0,
    department_share: float = 0.0,
    recent_train_share: float = 1.0,
    popularity_days: float | None = None,
    max_train_positives: int | None = None,
    max_eval_groups: int | None = 2000,
    seed: int = 0,
    progress: bool = True,
    vocab: Vocabularies | None = None,
) -> RankingData:
    """Build the snapshot's task (see the module docs for the protocol).

    Args:
        snapshot: a validated snapshot; its manifest's ``task`` picks the protocol.
        negatives: ``next-item`` only: sampled negatives per training positive.
        history_negatives: ``next-item`` only: scan the user's this many most recent history
            events and add those of a positive's department, not logged in the request, as
            negatives (0: none).
        popular_negatives: ``next-item`` only: the share of the sampled negatives drawn in
            proportion to ``popularity + 1`` instead of uniformly, in ``[0, 1]``.
        department_share: ``next-item`` only, in ``[0, 1]``: when above 0, the training rows
            are grouped as evaluation groups them instead, one group per (request, department
            of a positive): the positives, *every* item of the department the user had before
            the request, and this share of the department's other items, drawn uniformly (their
            ``sample_log_q`` is ``log(department_share)``). ``negatives``,
            ``history_negatives`` and ``popular_negatives`` then do not apply.
        recent_train_share: in ``(0, 1]``: train only on the requests of the last this share
            of the training period, by time (from the first request to ``valid_start``), before
            ``max_train_positives`` samples them (1: the whole period).
        popularity_days: above 0: each row's ``popularity`` counts the item's positive events
            in this many days before its request (the request's own time excluded), as serving
            counts the last days' reactions; None: the training period's, the same for every
            row. The popularity-drawn negatives always use the training period's.
        max_train_positives: keep a seeded sample of training requests holding at most this
            many positives (None: all).
        max_eval_groups: keep a seeded sample of at most this many groups in valid and in test
            (None: all).
        seed: seeds every sample; the same seed gives the same rows.
        progress: show a tqdm bar over the stages.
        vocab: build the features under these vocabularies (a trained artifact's, to evaluate
            it on a newer snapshot) instead of fitting them on the training period.

    Raises:
        SnapshotError: NaN in a numeric column, null flags, events of unknown items, or an
            empty training split (when no ``vocab`` is given).
        ValueError: a negative ``negatives``, ``history_negatives``, ``max_train_positives`` or
            ``max_eval_groups``, ``popular_negatives`` or ``department_share`` outside
            ``[0, 1]``, or ``recent_train_share`` outside ``(0, 1]``.
    """
    if negatives < 0 or history_negatives < 0:
        raise ValueError(
            f"negatives and history_negatives must be >= 0, got {negatives}, {history_negatives}"
        )
    if not 0.0 <= popular_negatives <= 1.0:
        raise ValueError(f"popular_negatives must lie in [0, 1], got {popular_negatives}")
    if not 0.0 <= department_share <= 1.0:
        raise ValueError(f"department_share must lie in [0, 1], got {department_share}")
    if not 0.0 < recent_train_share <= 1.0:
        raise ValueError(f"recent_train_share must lie in (0, 1], got {recent_train_share}")
    if popularity_days is not None and not popularity_days > 0:
        raise ValueError(f"popularity_days must be > 0 or None, got {popularity_days}")
    for name, value in (
        ("max_train_positives", max_train_positives),
        ("max_eval_groups", max_eval_groups),
    ):
        if value is not None and value < 1:
            raise ValueError(f"{name} must be >= 1 or None, got {value}")
    task = snapshot.task
    rngs = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(4)]
    with tqdm(total=6, desc=f"build_task {task}", disable=not progress, leave=False) as bar:
        bar.set_postfix_str("index")
        builder = _Builder(snapshot, progress, popularity_days)
        bar.update()
        train_req, valid_req, test_req = builder.split_requests()
        if recent_train_share < 1.0 and len(train_req):
            t = builder.req_ts[train_req]
            period = builder.valid_start - int(t.min())
            train_req = train_req[t >= builder.valid_start - recent_train_share * period]
        train_req = _cap_requests(builder, train_req, max_train_positives, rngs[0])
        if task == "impressions":
            rows = [
                builder.impressions(train_req, None, rngs[1]),
                builder.impressions(valid_req, max_eval_groups, rngs[2]),
                builder.impressions(test_req, max_eval_groups, rngs[3]),
            ]
        else:
            rows = [
                builder.next_item_department(train_req, department_share, rngs[1])
                if department_share > 0
                else builder.next_item_train(
                    train_req, negatives, rngs[1], history_negatives, popular_negatives
                ),
                builder.next_item_eval(valid_req, max_eval_groups, rngs[2]),
                builder.next_item_eval(test_req, max_eval_groups, rngs[3]),
            ]
        bar.update()
        if vocab is None and not len(rows[0].request):
            raise SnapshotError(
                f"no training rows before valid_start {snapshot.valid_start.isoformat()}; "
                "move the split later or export more history"
            )
        # Items of the training requests' own events: sampled negatives do not make an item
        # known, so items first logged later stay out of vocabulary (cold start).
        train_items = np.unique(builder.pair_item[builder.pairs_of(train_req)])
        train_users = builder.req_user[train_req]
        vocab = vocab or Vocabularies.fit(
            items=builder.item_ids[train_items].tolist(),
            categories=builder.categories[np.unique(builder.category[train_items])].tolist(),
            brands=builder.brands[np.unique(builder.brand[train_items])].tolist(),
            segments=[s for s in builder.user_segment[np.unique(train_users)].tolist() if s],
            item_buyers={
                str(builder.item_ids[i]): (int(builder.buyers[i]), int(builder.repeat_buyers[i]))
                for i in np.flatnonzero(builder.buyers).tolist()
            },
        )
        splits = []
        for part, name in zip(rows, ("train", "valid", "test"), strict=True):
            bar.set_postfix_str(f"{name}: {len(part.request):,} rows")
            splits.append(_split(builder, part, vocab))
            bar.update()
        in_train = builder.pos_event_ts < builder.valid_start
        interactions = Interactions(
            user_ids=builder.user_ids[builder.pos_event_user[in_train]],
            item_ids=builder.item_ids[builder.pos_event_item[in_train]],
            ts_us=builder.pos_event_ts[in_train],
            conversion=builder.pos_event_conv[in_train],
        )
        bar.update()
    return RankingData(
        task=task,
        vocab=vocab,
        train=splits[0],
        valid=splits[1],
        test=splits[2],
        interactions=interactions,
        source=str(snapshot.manifest.get("source", "")),
        simulated=bool(snapshot.manifest.get("simulated", True)),
    )
