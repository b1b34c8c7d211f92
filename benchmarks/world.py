"""Throughput of the user-choice model (policy.world): simulated slates per second.

Usage::

    .venv/bin/python benchmarks/world.py             # 200,000 slates, as the demo build needs
    .venv/bin/python benchmarks/world.py --quick     # smoke run, about a second
    .venv/bin/python benchmarks/world.py --output /tmp/world-table.md

The world is deterministic from ``--seed``: 5,000 toy items over 20 categories and 50 brands,
2,000 shoppers, slates of 3. Rows:

* ``slate_probabilities``: the true probabilities of every card, m slates at once;
* ``simulate``: the same plus sampled click / claim / add-to-cart / purchase events;
* sessions in waves: the log-generation recipe of docs/world.md (intents, 100 candidates per
  session, match estimates, a Plackett-Luce logging policy with its propensities, clarifying
  questions, fatigue and leaving), all sessions advancing one turn per wave until the decisions
  reach m;
* ``ShoppingEnv.step``: one session at a time, as an online policy drives it.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from policy.world import (
    DEFAULT_SESSION_PARAMS,
    Clarify,
    ItemBatch,
    Recommend,
    ShopperLatents,
    ShoppingEnv,
    UserChoiceModel,
    draw_intents,
    known_fraction,
    leave_probability,
    match_estimate,
    match_sharpness,
    sample_items,
    sample_shoppers,
    true_match,
)

N_ITEMS, N_CATEGORIES, N_BRANDS, N_USERS, K = 5000, 20, 50, 2000, 3
N_CANDIDATES, MAX_TURNS, CLARIFY_RATE, TEMPERATURE = 100, 8, 0.15, 0.2


def _timed(fn: Callable[[], int]) -> tuple[int, float]:
    start = time.perf_counter()
    count = fn()
    return count, time.perf_counter() - start


def _candidates(items: ItemBatch, intents: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Shape (s, N_CANDIDATES): 70% from the intended category, the rest from anywhere."""
    order = np.argsort(items.category, kind="stable")
    starts = np.searchsorted(items.category[order], np.arange(N_CATEGORIES))
    sizes = np.bincount(items.category, minlength=N_CATEGORIES)
    n_in = int(0.7 * N_CANDIDATES)
    pick = (rng.random((intents.size, n_in)) * sizes[intents][:, None]).astype(np.int64)
    inside = order[starts[intents][:, None] + pick]
    anywhere = rng.integers(0, len(items), (intents.size, N_CANDIDATES - n_in))
    return np.concatenate([inside, anywhere], axis=1)


def sessions_in_waves(
    model: UserChoiceModel,
    shoppers: ShopperLatents,
    items: ItemBatch,
    n_decisions: int,
    rng: np.random.Generator,
) -> int:
    """Simulate sessions turn by turn, all at once, until n_decisions slates were shown."""
    decisions = 0
    while decisions < n_decisions:
        s = max(1000, (n_decisions - decisions) // 3)
        users = rng.integers(0, len(shoppers), s)
        intents = draw_intents(shoppers, users, rng)
        cand = _candidates(items, intents, rng)
        truth = true_match(intents, items.category[cand], rng)
        noise = rng.standard_normal(truth.shape)
        seen = np.zeros(truth.shape, dtype=np.bool_)
        clarified = np.zeros(s, dtype=np.int64)
        streak = np.zeros(s, dtype=np.int64)
        active = np.ones(s, dtype=np.bool_)
        for turn in range(1, MAX_TURNS + 1):
            f = known_fraction(clarified)
            ask = active & (rng.random(s) < CLARIFY_RATE) & (f < 1.0)
            show = np.flatnonzero(active & ~ask)
            # Logging policy: Plackett-Luce over the match estimate (Gumbel top-k), with the
            # propensity of the slate it drew; a real build logs `propensity` with the decision.
            score = match_estimate(truth[show], noise[show], f[show]) / TEMPERATURE
            slate_pos = np.argsort(-(score + rng.gumbel(size=score.shape)), axis=1)[:, :K]
            top = np.take_along_axis(score, slate_pos, axis=1)
            log_den = np.logaddexp.reduce(score, axis=1)
            log_propensity = np.zeros(show.size)
            for k in range(K):
                log_propensity += top[:, k] - log_den
                log_den += np.log1p(-np.exp(top[:, k] - log_den))  # drop the chosen item
            rows = show[:, None]
            _, out = model.simulate(
                shoppers,
                users[show],
                items,
                cand[rows, slate_pos],
                rng,
                match=truth[rows, slate_pos],
                sharpness=match_sharpness(f[show]),
                offset=-DEFAULT_SESSION_PARAMS.seen_penalty * seen[rows, slate_pos],
            )
            seen[rows, slate_pos] = True
            decisions += show.size
            clicked = np.zeros(s, dtype=np.bool_)
            bought = np.zeros(s, dtype=np.bool_)
            clicked[show] = out.click.any(axis=1)
            bought[show] = out.purchase.any(axis=1)
            streak[show] = np.where(clicked[show], 0, streak[show] + 1)
            p_leave = leave_probability(
                turn,
                streak,
                shoppers.patience[users],
                clicked=clicked,
                purchased=bought,
                clarified=ask,
                redundant_clarify=ask & (f >= 1.0),
            )
            clarified += ask
            active &= rng.random(s) >= p_leave
            if not active.any():
                break
    return decisions


def env_steps(items: ItemBatch, shoppers: ShopperLatents, n_steps: int, seed: int) -> int:
    env = ShoppingEnv(items, shoppers, max_turns=MAX_TURNS)
    steps, episode = 0, 0
    while steps < n_steps:
        env.reset(seed=seed + episode)
        episode += 1
        done = False
        while not done and steps < n_steps:
            if steps % 7 == 0:
                _, _, done, _ = env.step(Clarify())
            else:
                best = np.argsort(-env.match_estimate)[:K]
                _, _, done, _ = env.step(Recommend(tuple(int(i) for i in best)))
            steps += 1
    return steps


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="20,000 slates instead of 200,000")
    parser.add_argument("--slates", type=int, default=None, help="override the slate count")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--output", type=Path, default=None, help="also write the table here")
    args = parser.parse_args(argv)
    m = args.slates or (20_000 if args.quick else 200_000)
    n_env = 2_000 if args.quick else 20_000

    rng = np.random.default_rng(args.seed)
    items = sample_items(N_ITEMS, N_CATEGORIES, N_BRANDS, rng)
    shoppers = sample_shoppers(N_USERS, N_CATEGORIES, N_BRANDS, rng)
    model = UserChoiceModel()
    users = rng.integers(0, N_USERS, m)
    slates = rng.integers(0, N_ITEMS, (m, K))
    match = rng.random((m, K))

    def probs_only() -> int:
        model.slate_probabilities(shoppers, users, items, slates, match=match)
        return m

    def with_events() -> int:
        model.simulate(shoppers, users, items, slates, rng, match=match)
        return m

    rows = [
        (f"`slate_probabilities`: {m:,} slates x {K}", *_timed(probs_only)),
        (f"`simulate`: {m:,} slates x {K}, events sampled", *_timed(with_events)),
        (
            f"sessions in waves: {N_CANDIDATES} candidates, >= {m:,} decisions",
            *_timed(lambda: sessions_in_waves(model, shoppers, items, m, rng)),
        ),
        (
            f"`ShoppingEnv.step`: {n_env:,} steps, one session at a time",
            *_timed(lambda: env_steps(items, shoppers, n_env, args.seed)),
        ),
    ]
    lines = [
        f"{N_ITEMS:,} items, {N_USERS:,} shoppers; {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}, numpy {np.__version__}",
        "",
        "| operation | slates / steps | seconds | per second |",
        "| --- | ---: | ---: | ---: |",
    ]
    lines += [f"| {name} | {n:,} | {sec:.3f} | {n / sec:,.0f} |" for name, n, sec in rows]
    table = "\n".join(lines)
    print(table)
    if args.output:
        args.output.write_text(table + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
