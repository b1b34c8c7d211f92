"""A synthetic shop whose clicks depend on a history-candidate interaction.

Users click candidates whose category appears in their own purchase history (plus smaller
effects of discount depth and query similarity). Linear models over the same features cannot
express "candidate category in this user's history"; attention over the history can.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ranking.features import (
    Batch,
    CandidateTable,
    HistoryEvent,
    UserContext,
    Vocabularies,
    build_batch,
)

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
