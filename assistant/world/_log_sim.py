"""Simulating the log: a population, sessions spread over the period, candidate sets, turns.

Random streams are separate (population, sessions and candidates, the policy and the shoppers'
responses, timestamps), each seeded from ``(seed, stream)``, so the same seed and catalog give
the same log.
"""

from __future__ import annotations

import math
import sys

import numpy as np
import numpy.typing as npt
from tqdm import tqdm

from assistant.world._log_items import LOG_PERIOD, CatalogSnapshot
from assistant.world._log_rows import LogArrays
from policy.world import (
    SessionLog,
    ShopperLatents,
    UserChoiceModel,
    draw_intents,
    sample_shoppers,
    simulate_sessions,
)

__all__ = ["EPSILON", "MATCH_WEIGHT", "MAX_TURNS", "TEMPERATURE", "simulate_log"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

N_LEAF, N_CARDS, N_OFF = 20, 6, 4
"""Candidates per session: products of the intended leaf, activity cards, other products."""
TEMPERATURE, EPSILON, MATCH_WEIGHT, MAX_TURNS = 1.0, 0.05, 2.0, 8
P_CHINESE = 0.4  # share of shoppers who write in Chinese
_DAY = 86400.0
_MARGIN = 7200.0  # sessions start at least 2 h before `now`, so every event is in the past


def _segments(snap: CatalogSnapshot, shoppers: ShopperLatents) -> dict[str, BoolArray]:
    """Segment name -> which shoppers are in it, for every segment an activity targets.

    A shopper is in a segment when their category interest is concentrated in the leaves that
    segment's activities cover: at least half of it, and at least 1.5 times the share a uniform
    taste would put there, so the runners of a shop are the shoppers who mostly shop shoes and
    sports. Interest says nothing about a segment whose deals cover (nearly) the whole shop:
    its members are the 10% of shoppers with the highest budgets (a VIP tier).
    """
    spend = np.log(shoppers.budget / snap.price_levels[None, :]).mean(axis=1)
    big = spend >= np.quantile(spend, 0.9)
    out: dict[str, BoolArray] = {}
    for name in sorted({s for s in snap.card_segment if s is not None}):
        leaves = [
            leaf
            for leaf, cards in enumerate(snap.leaf_cards)
            if any(snap.card_segment[c - snap.n_products] == name for c in cards.tolist())
        ]
        share = len(leaves) / shoppers.n_categories
        mass = shoppers.category_interest[:, leaves].sum(axis=1)
        out[name] = big if share > 0.6 else mass >= max(0.5, 1.5 * share)
    return out


def _admits(
    snap: CatalogSnapshot,
    cards: IntArray,
    shoppers: ShopperLatents,
    users: IntArray,
    segments: dict[str, BoolArray],
) -> BoolArray:
    """Shape (s, c): whether each card's audience admits each session's shopper."""
    code = snap.card_audience[cards - snap.n_products]
    out: BoolArray = (
        (code == 0)[None, :]
        | ((code == 1)[None, :] & shoppers.is_member[users][:, None])
        | ((code == 2)[None, :] & shoppers.is_new[users][:, None])
    )
    for j in np.flatnonzero(code == 3).tolist():
        name = snap.card_segment[int(cards[j]) - snap.n_products]
        out[:, j] = segments[name][users] if name is not None else False
    return out


def _top(keys: FloatArray, k: int) -> IntArray:
    """Column indices of the k largest keys per row (fewer when the row is shorter)."""
    if keys.shape[1] > k:
        part = np.argpartition(-keys, k - 1, axis=1)[:, :k]
        order = np.argsort(-np.take_along_axis(keys, part, axis=1), axis=1, kind="stable")
        out: IntArray = np.take_along_axis(part, order, axis=1)
        return out
    return np.argsort(-keys, axis=1, kind="stable")


def _candidates(
    snap: CatalogSnapshot,
    shoppers: ShopperLatents,
    users: IntArray,
    intents: IntArray,
    start: FloatArray,
    segments: dict[str, BoolArray],
    rng: np.random.Generator,
) -> IntArray:
    """Shape (s, 30): each session's candidate set as snapshot rows, -1 = padding."""
    out = np.full((users.size, N_LEAF + N_CARDS + N_OFF), -1, dtype=np.int64)
    pop = np.log(0.05 + snap.items.popularity)
    category = snap.items.category[: snap.n_products]
    for leaf in np.unique(intents).tolist():
        rows = np.flatnonzero(intents == leaf)
        prods = snap.leaf_products[leaf]
        top = _top(pop[prods][None, :] + rng.gumbel(size=(rows.size, prods.size)), N_LEAF)
        out[rows[:, None], np.arange(top.shape[1])] = prods[top]
        cards = snap.leaf_cards[leaf]
        if cards.size:
            ok = snap.live(cards, start[rows]) & _admits(
                snap, cards, shoppers, users[rows], segments
            )
            keys = np.where(ok, pop[cards][None, :] + rng.gumbel(size=ok.shape), -np.inf)
            top = _top(keys, N_CARDS)
            live = np.isfinite(np.take_along_axis(keys, top, axis=1))
            out[rows[:, None], N_LEAF + np.arange(top.shape[1])] = np.where(live, cards[top], -1)
        others = np.flatnonzero(category != leaf)
        if others.size:
            off = others[rng.integers(0, others.size, (rows.size, N_OFF))]
            off.sort(axis=1)
            off[:, 1:][off[:, 1:] == off[:, :-1]] = -1  # a product drawn twice is listed once
            out[rows, N_LEAF + N_CARDS :] = off
    return out


def _scores(snap: CatalogSnapshot, cand: IntArray, intents: IntArray) -> FloatArray:
    """The logging policy's base scores (rounded to 4 decimals, as stored), shape like cand.

    A card is relevant when it is a product of the intended leaf or an activity card (every
    card among the candidates covers that leaf).
    """
    items = snap.items
    i = np.where(cand >= 0, cand, 0)
    relevant = (items.category[i] == intents[:, None]) | snap.is_activity[i]
    score = (
        1.5 * items.popularity[i]
        + 2.0 * items.discount[i]
        + 0.3 * (items.deal_type[i] >= 0)
        + 1.0 * relevant
    )
    out: FloatArray = np.where(cand >= 0, np.round(score, 4), 0.0)
    return out


def simulate_log(
    snap: CatalogSnapshot, n_users: int, min_impressions: int, seed: int, *, progress: bool
) -> LogArrays:
    """Sessions until at least ``min_impressions`` cards were shown, as :class:`LogArrays`."""
    items = snap.items
    pop_rng, rng, sim_rng, time_rng = (np.random.default_rng([seed, k]) for k in range(2, 6))
    shoppers = sample_shoppers(
        n_users,
        items.n_categories,
        items.n_brands,
        pop_rng,
        category_price_levels=snap.price_levels,
    )
    activity = pop_rng.gamma(1.5, 1.0, n_users)  # some shoppers come back more often
    zh = pop_rng.random(n_users) < P_CHINESE
    segments = _segments(snap, shoppers)
    model = UserChoiceModel()
    parts: list[tuple[IntArray, IntArray, FloatArray, SessionLog]] = []
    shown = sessions = 0
    period = LOG_PERIOD.total_seconds()
    with tqdm(
        total=min_impressions,
        desc="simulating sessions",
        unit="impression",
        file=sys.stderr,
        disable=not progress,
        leave=False,
    ) as bar:
        while shown < min_impressions:
            # Sized from the impressions per session seen so far (a first guess of 12), so
            # the log ends just past min_impressions.
            per_session = shown / sessions if sessions else 12.0
            s = max(64, math.ceil((min_impressions - shown) / per_session))
            sessions += s
            users = rng.choice(n_users, size=s, p=activity / activity.sum())
            intents = draw_intents(shoppers, users, rng)
            start = rng.uniform(-period, -_MARGIN - 1800.0, s)
            cand = _candidates(snap, shoppers, users, intents, start, segments, rng)
            log = simulate_sessions(
                model,
                shoppers,
                items,
                users,
                intents,
                cand,
                _scores(snap, cand, intents),
                sim_rng,
                temperature=TEMPERATURE,
                epsilon=EPSILON,
                match_weight=MATCH_WEIGHT,
                score_decimals=4,
                max_turns=MAX_TURNS,
            )
            n = int((log.chosen >= 0).sum())
            bar.update(min(n, min_impressions - shown))
            shown += n
            parts.append((users, intents, start, log))
    # Only the audience segments the shop targets: the simulated latent segment is hidden
    # truth, and a model reading it from SQL would cheat.
    names = [[s for s, m in segments.items() if m[u]] for u in range(n_users)]
    return _arrays(parts, min_impressions, shoppers, zh, names, time_rng)


def _arrays(
    parts: list[tuple[IntArray, IntArray, FloatArray, SessionLog]],
    min_impressions: int,
    shoppers: ShopperLatents,
    zh: BoolArray,
    segments: list[list[str]],
    rng: np.random.Generator,
) -> LogArrays:
    logs = [p[3] for p in parts]
    offsets = np.cumsum([0] + [p[0].size for p in parts])
    gs = np.concatenate([lg.session + off for lg, off in zip(logs, offsets, strict=False)])
    # Whole sessions past the one that reached min_impressions are dropped, in batch order.
    shown = np.bincount(gs, weights=(np.concatenate([lg.chosen for lg in logs]) >= 0).sum(1))
    n_keep = min(int(np.searchsorted(np.cumsum(shown), min_impressions)) + 1, offsets[-1])
    kept = gs < n_keep
    s_user = np.concatenate([p[0] for p in parts])[:n_keep]
    s_intent = np.concatenate([p[1] for p in parts])[:n_keep]
    s_start = np.concatenate([p[2] for p in parts])[:n_keep]
    s_turns = np.concatenate([lg.session_turns for lg in logs])[:n_keep]
    order = np.argsort(s_start, kind="stable")  # session ids follow time
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    session = rank[gs[kept]]
    turn = np.concatenate([lg.turn for lg in logs])[kept]
    d_order = np.lexsort((turn, session))

    def cat(get: str) -> npt.NDArray[np.generic]:
        out: npt.NDArray[np.generic] = np.concatenate([np.asarray(_attr(lg, get)) for lg in logs])
        picked: npt.NDArray[np.generic] = out[kept][d_order]
        return picked

    # Timestamps: one turn every 20-90 s after the session starts; events follow their card.
    gaps = np.cumsum(rng.uniform(20.0, 90.0, (s_start.size, MAX_TURNS)), axis=1)
    start = s_start[order]
    turn_at = start[:, None] + gaps
    session, turn = session[d_order], turn[d_order]
    at = turn_at[session, turn - 1] + 2.0
    m, k = at.size, logs[0].chosen.shape[1]
    delay = np.stack(
        [
            rng.uniform(3.0, 60.0, (m, k)),
            rng.uniform(2.0, 20.0, (m, k)),
            rng.uniform(5.0, 90.0, (m, k)),
            rng.uniform(60.0, 1800.0, (m, k)),
        ],
        axis=2,
    )
    click_at = at[:, None] + delay[..., 0]
    cart_at = click_at + delay[..., 2]
    event_at = np.stack([click_at, click_at + delay[..., 1], cart_at, cart_at + delay[..., 3]], 2)
    s_user, s_intent = s_user[order], s_intent[order]
    first = np.full(zh.size, np.inf)
    np.minimum.at(first, s_user, start)
    first = np.where(np.isfinite(first), first, -LOG_PERIOD.total_seconds())
    created = np.where(
        shoppers.is_new,
        first - rng.uniform(60.0, 1800.0, zh.size),
        first - rng.uniform(1, 365, zh.size) * _DAY,
    )
    purchase = cat("outcomes.purchase").astype(np.bool_)
    events = np.stack(
        [cat("outcomes.click"), cat("outcomes.claim"), cat("outcomes.add_to_cart"), purchase], 2
    ).astype(np.bool_)
    last = s_turns[order]
    return LogArrays(
        member=shoppers.is_member,
        new=shoppers.is_new,
        segments=segments,
        zh=zh,
        user_created=created,
        session_user=s_user,
        session_intent=s_intent,
        session_start=start,
        session_end=turn_at[np.arange(start.size), last - 1] + 2.0,
        session=session,
        turn=turn,
        at=at,
        candidates=cat("candidates").astype(np.int64),
        scores=cat("scores").astype(np.float64),
        first=cat("first_position").astype(np.float64),
        chosen=cat("chosen").astype(np.int64),
        propensity=cat("propensity").astype(np.float64),
        true_click=cat("probabilities.click").astype(np.float64),
        true_purchase=cat("probabilities.purchase").astype(np.float64),
        events=events,
        event_at=event_at,
        quantity=np.where(purchase, cat("outcomes.quantity"), 1).astype(np.int64),
        pick=rng.random(m),
        budget=shoppers.budget[s_user[session], s_intent[session]],
    )


def _attr(obj: object, path: str) -> object:
    """``getattr`` along a dotted path."""
    for name in path.split("."):
        obj = getattr(obj, name)
    return obj
