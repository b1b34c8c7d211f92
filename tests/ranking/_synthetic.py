"""A synthetic shop whose clicks depend on a history-candidate interaction, and synthetic
training snapshots (:func:`make_snapshot`) for the task builder and the training CLI.

Users click candidates whose category appears in their own purchase history (plus smaller
effects of discount depth and query similarity). Linear models over the same features cannot
express "candidate category in this user's history"; attention over the history can.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import pyarrow as pa
from numpy.typing import NDArray

from ranking.features import (
    Batch,
    CandidateTable,
    HistoryEvent,
    UserContext,
    Vocabularies,
    build_batch,
)
from ranking.snapshot import Snapshot

N_CATEGORIES = 20
N_BRANDS = 40
N_ITEMS = 400


@dataclass(frozen=True)
class Split:
    """One split: its batch and labels of shape ``(n, 2)`` (click, conversion)."""

    batch: Batch
    labels: NDArray[np.float32]


@dataclass(frozen=True)
class World:
    vocab: Vocabularies
    train: Split
    valid: Split
    test: Split


def _items(rng: np.random.Generator) -> tuple[list[str], list[str], list[str]]:
    ids = [f"item-{i}" for i in range(N_ITEMS)]
    cats = [f"cat-{i % N_CATEGORIES}" for i in range(N_ITEMS)]
    brands = [f"brand-{b}" for b in rng.integers(0, N_BRANDS, N_ITEMS)]
    return ids, cats, brands


def _split(
    rng: np.random.Generator,
    n_users: int,
    n_candidates: int,
    items: tuple[list[str], list[str], list[str]],
    vocab: Vocabularies,
) -> Split:
    ids, cats, brands = items
    by_cat: dict[str, list[int]] = {}
    for i, c in enumerate(cats):
        by_cat.setdefault(c, []).append(i)
    requests: list[UserContext] = []
    rows: list[int] = []
    req_index: list[int] = []
    hit: list[float] = []
    for u in range(n_users):
        liked = rng.choice(N_CATEGORIES, size=2, replace=False)
        n_hist = int(rng.integers(0, 13))
        events = []
        for _ in range(n_hist):
            if rng.random() < 0.85:
                pool = by_cat[f"cat-{rng.choice(liked)}"]
                i = int(rng.choice(pool))
            else:
                i = int(rng.integers(0, N_ITEMS))
            events.append(HistoryEvent(ids[i], cats[i], brands[i], float(rng.uniform(0, 60))))
        seen = {e.category for e in events}
        requests.append(
            UserContext(
                hour=int(rng.integers(0, 24)),
                weekday=int(rng.integers(0, 7)),
                is_member=bool(rng.random() < 0.4),
                is_new=n_hist == 0,
                segment=f"seg-{rng.integers(0, 4)}",
                history=tuple(events),
            )
        )
        cand = rng.choice(N_ITEMS, size=n_candidates, replace=False)
        rows.extend(int(i) for i in cand)
        req_index.extend([u] * n_candidates)
        hit.extend(float(cats[int(i)] in seen) for i in cand)
    n = len(rows)
    price = rng.integers(1_000, 20_000, n)
    has_deal = rng.random(n) < 0.4
    depth = np.where(has_deal, rng.uniform(0.1, 0.5, n), 0.0)
    final = np.round(price * (1.0 - depth)).astype(np.int64)
    similarity = rng.uniform(0.0, 1.0, n)
    table = CandidateTable(
        item_ids=[ids[i] for i in rows],
        categories=[cats[i] for i in rows],
        brands=[brands[i] for i in rows],
        similarity=similarity,
        price=price,
        final_price=final,
        has_deal=has_deal,
        needs_claim=has_deal & (rng.random(n) < 0.3),
        hours_left=np.where(has_deal, rng.uniform(0, 300, n), 0.0),
        popularity=rng.integers(0, 500, n),
        freshness_days=rng.uniform(0, 365, n),
    )
    logit = -3.0 + 3.0 * np.asarray(hit) + 2.0 * depth + 1.0 * similarity
    click = rng.random(n) < 1.0 / (1.0 + np.exp(-logit))
    conversion = click & (rng.random(n) < 0.3 + depth)
    labels = np.stack([click, conversion], axis=1).astype(np.float32)
    batch = build_batch(table, requests, vocab, request_index=np.asarray(req_index))
    return Split(batch=batch, labels=labels)


def make_world(seed: int = 7, n_train: int = 1000, n_valid: int = 120, n_test: int = 200) -> World:
    """Train, valid and test splits over disjoint users, 40 candidates each."""
    rng = np.random.default_rng(seed)
    items = _items(rng)
    vocab = Vocabularies.fit(
        items=items[0],
        categories=items[1],
        brands=items[2],
        segments=[f"seg-{s}" for s in range(4)],
    )
    return World(
        vocab=vocab,
        train=_split(rng, n_train, 40, items, vocab),
        valid=_split(rng, n_valid, 40, items, vocab),
        test=_split(rng, n_test, 40, items, vocab),
    )


def make_snapshot(
    *,
    n_users: int = 200,
    n_items: int = 600,
    n_requests: int = 3000,
    days: int = 60,
    n_categories: int = 30,
    n_departments: int = 6,
    embeddings: bool = False,
    prices: bool = True,
    seed: int = 0,
) -> Snapshot:
    """A ``next-item`` snapshot whose purchases are learnable: each user re-buys a few favourite
    items and otherwise buys mostly in one preferred category. The last 20% of the days test,
    the 15% before validate."""
    rng = np.random.default_rng(seed)
    start = datetime(2030, 1, 1, tzinfo=UTC)
    k = np.arange(n_items)
    category = k % n_categories
    items: dict[str, object] = {
        "item_id": [f"i{i}" for i in k],
        "category": [f"c{c}" for c in category],
        "department": [f"d{c % n_departments}" for c in category],
        "brand": [f"b{i % 37}" for i in k],
        "price": rng.integers(100, 10_000, n_items),
        "listed_at": [
            None if i % 7 == 0 else start - timedelta(days=int(d))
            for i, d in zip(k, rng.integers(0, 400, n_items), strict=True)
        ],
    }
    if embeddings:
        centers = rng.normal(size=(n_categories, 8))
        emb = centers[category] + 0.3 * rng.normal(size=(n_items, 8))
        items["embedding"] = pa.FixedSizeListArray.from_arrays(
            pa.array(emb.astype(np.float16).ravel()), 8
        )
    users = {
        "user_id": [f"u{j}" for j in range(n_users)],
        "is_member": (np.arange(n_users) % 3 == 0).tolist(),
        "is_new": (np.arange(n_users) % 11 == 0).tolist(),
        "segment": [f"s{j % 4}" for j in range(n_users)],
    }
    favourites = rng.integers(0, n_items, (n_users, 4))
    preferred = rng.integers(0, n_categories, n_users)
    ts = np.sort(rng.integers(0, days * 86_400, n_requests))
    req_user = rng.integers(0, n_users, n_requests)
    size = rng.integers(1, 5, n_requests)
    req = np.repeat(np.arange(n_requests), size)
    user = req_user[req]
    n = len(req)
    kind = rng.random(n)
    fav = favourites[user, rng.integers(0, 4, n)]
    in_cat = preferred[user] + n_categories * rng.integers(0, n_items // n_categories, n)
    item = np.where(kind < 0.45, fav, np.where(kind < 0.85, in_cat, rng.integers(0, n_items, n)))
    events = {
        "request_id": [f"r{r}" for r in req],
        "user_id": [f"u{u}" for u in user],
        "item_id": [f"i{i}" for i in item],
        "ts": pa.array((start.timestamp() + ts[req]) * 1_000_000, pa.int64()).cast(
            pa.timestamp("us", tz="UTC")
        ),
        "query_id": pa.nulls(n, pa.string()),
        "shown": np.zeros(n, dtype=bool),
        "click": np.ones(n, dtype=bool),
        "conversion": rng.random(n) < 0.8,
    }
    price_table = None
    if prices:
        deal_items = np.flatnonzero(k % 5 == 0)
        day_list = [(start + timedelta(days=d)).date() for d in range(days)]
        p_item = np.repeat(deal_items, days)
        p_day = np.tile(np.arange(days), len(deal_items))
        list_price = np.asarray(items["price"])[p_item]
        deal = (p_day + p_item) % 3 == 0
        price_table = {
            "item_id": [f"i{i}" for i in p_item],
            "day": [day_list[d] for d in p_day],
            "final_price": np.where(deal, list_price * 7 // 10, list_price),
            "has_deal": deal,
            "needs_claim": deal & (p_item % 2 == 0),
            "hours_left": np.where(deal, 12.0, 0.0).astype(np.float32),
        }
    return Snapshot.build(
        items=pa.table(items),
        users=pa.table(users),
        events=pa.table(events),
        prices=None if price_table is None else pa.table(price_table),
        valid_start=start + timedelta(days=int(days * 0.65)),
        test_start=start + timedelta(days=int(days * 0.8)),
        source="tests.ranking._synthetic.make_snapshot",
    )
