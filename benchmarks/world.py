"""Throughput of the user-choice model (policy.world): simulated slates per second.

Usage::

    .venv/bin/python benchmarks/world.py             # 200,000 slates, as the demo build needs
    .venv/bin/python benchmarks/world.py --quick     # smoke run, about a second
    .venv/bin/python benchmarks/world.py --output /tmp/world-table.md

The world is deterministic from ``--seed``: 5,000 toy items over 20 categories and 50 brands,
2,000 shoppers, slates of 3. Rows:

* ``slate_probabilities``: the true probabilities of every card, m slates at once;
* ``simulate``: the same plus sampled click / claim / add-to-cart / purchase events;
* sessions in waves: ``policy.world.simulate_sessions``, the log-generation recipe of
  docs/world.md (intents, 100 candidates per session, match estimates, a Plackett-Luce logging
  policy with its propensities, clarifying questions, fatigue and leaving), all sessions
  advancing one turn per wave, in batches until the decisions reach m;
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

# Run as a script, this folder comes first on sys.path, where policy.py (the policy
# benchmark) would shadow the `policy` package: the repository root goes first.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from policy.world import (
    Clarify,
    ItemBatch,
    Recommend,
    ShopperLatents,
    ShoppingEnv,
    UserChoiceModel,
    draw_intents,
    sample_items,
    sample_shoppers,
    simulate_sessions,
)

N_ITEMS, N_CATEGORIES, N_BRANDS, N_USERS, K = 5000, 20, 50, 2000, 3
N_CANDIDATES, MAX_TURNS, CLARIFY_RATE, TEMPERATURE = 100, 8, 0.15, 0.2


def _timed(fn: Callable[[], int]) -> tuple[int, float]:
    start = time.perf_counter()
    count = fn()
    return count, time.perf_counter() - start


def _candidates(items: ItemBatch, intents: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Shape (s, N_CANDIDATES): 70% from the intended category, the rest from anywhere.

    Repeats within a row become -1 (padding): a candidate set lists each item once.
    """
    order = np.argsort(items.category, kind="stable")
    starts = np.searchsorted(items.category[order], np.arange(N_CATEGORIES))
    sizes = np.bincount(items.category, minlength=N_CATEGORIES)
    n_in = int(0.7 * N_CANDIDATES)
    pick = (rng.random((intents.size, n_in)) * sizes[intents][:, None]).astype(np.int64)
    inside = order[starts[intents][:, None] + pick]
    anywhere = rng.integers(0, len(items), (intents.size, N_CANDIDATES - n_in))
    cand = np.concatenate([inside, anywhere], axis=1)
    order = np.argsort(cand, axis=1, kind="stable")
    ranked = np.take_along_axis(cand, order, axis=1)
    repeat = np.zeros(cand.shape, dtype=np.bool_)
    np.put_along_axis(repeat, order[:, 1:], ranked[:, 1:] == ranked[:, :-1], axis=1)
    return np.where(repeat, -1, cand)


def sessions_in_waves(
    model: UserChoiceModel,
    shoppers: ShopperLatents,
    items: ItemBatch,
    n_decisions: int,
    rng: np.random.Generator,
) -> int:
    """`simulate_sessions` on batches of sessions until n_decisions slates were shown.

    The logging policy is Plackett-Luce over the assistant's match estimate alone (base scores
    0, `match_weight` 1, temperature 0.2), with clarifying questions at a rate of 15%.
    """
    decisions = 0
    while decisions < n_decisions:
        s = max(1000, (n_decisions - decisions) // 3)
        users = rng.integers(0, len(shoppers), s)
        intents = draw_intents(shoppers, users, rng)
        cand = _candidates(items, intents, rng)
        log = simulate_sessions(
            model,
            shoppers,
            items,
            users,
            intents,
            cand,
            np.zeros(cand.shape),
            rng,
            slate_size=K,
            temperature=TEMPERATURE,
            match_weight=1.0,
            clarify_rate=CLARIFY_RATE,
            max_turns=MAX_TURNS,
        )
        decisions += len(log)
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
