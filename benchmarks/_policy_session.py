"""Policy benchmark, session-policy section: which dialogue action to take, per session.

Each session is one simulated shopper in `policy.world.ShoppingEnv` (docs/world.md eq. 9-12,
world-v1): a turn budget of 8, the assistant's candidates are the whole toy catalog, the reward
is clicks. Every policy picks a `SessionAction` per turn (RECOMMEND, CLARIFY, OFFER_COUPON,
HANDOFF; `policy.session`); the concrete cards come from the same `SessionRunner` for all of
them, so only the dialogue decision differs. Evaluation sessions use common seeds: every policy
meets the same shoppers, intents and candidate matches, so the paired difference against the
rules policy is much tighter than either mean. Intervals are 95% Student-t intervals over
sessions.

Rows: uniform random over the possible actions; the rules mirror of the assistant's
`RulesActionPolicy` (recommend every turn); tabular Q-learning and a double DQN, both trained
online in the env; and fitted-Q iteration trained offline only from logged sessions of the rules
policy exploring with epsilon = 0.3 (propensities logged), as a new policy would be trained from
the assistant's decision log.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import stats

from policy.session import (
    N_ACTIONS,
    DQNConfig,
    RandomSessionPolicy,
    RulesSessionPolicy,
    SessionAction,
    SessionPolicy,
    SessionRunner,
    fitted_q_iteration,
    log_sessions,
    train_dqn,
    train_tabular_q,
)
from policy.world import ShoppingEnv, sample_items, sample_shoppers

N_CATEGORIES = 8
N_BRANDS = 20
N_ITEMS = 200
N_SHOPPERS = 1_000
MAX_TURNS = 8
LOG_EPSILON = 0.3


@dataclass(frozen=True)
class _Sizes:
    train: int
    logged: int
    evaluate: int


FULL = _Sizes(train=3_000, logged=3_000, evaluate=2_000)
QUICK = _Sizes(train=150, logged=150, evaluate=100)


@dataclass(frozen=True)
class _Row:
    name: str
    training: str
    train_sessions: int
    train_steps: int
    train_wall: float
    returns: np.ndarray
    actions: np.ndarray  # share of each SessionAction in evaluation
    eval_wall: float


def build_env(seed: int) -> ShoppingEnv:
    """The benchmark's env: a toy catalog and population drawn from `seed`."""
    rng = np.random.default_rng([seed, 20])
    items = sample_items(N_ITEMS, N_CATEGORIES, N_BRANDS, rng)
    shoppers = sample_shoppers(N_SHOPPERS, N_CATEGORIES, N_BRANDS, rng)
    return ShoppingEnv(items, shoppers, max_turns=MAX_TURNS)


def _evaluate(
    env: ShoppingEnv, policy: SessionPolicy, sessions: int, seed: int, explore: bool
) -> tuple[np.ndarray, np.ndarray, float]:
    runner = SessionRunner(env)
    rng = np.random.default_rng([seed, 21]) if explore else None
    start = time.perf_counter()
    totals = np.zeros(sessions)
    counts = np.zeros(N_ACTIONS)
    for i in range(sessions):
        run = runner.run(policy, seed=seed + i, rng=rng)
        totals[i] = run.total
        counts += np.bincount(run.actions, minlength=N_ACTIONS)
    return totals, counts / counts.sum(), time.perf_counter() - start


def _interval(x: np.ndarray) -> tuple[float, float, float]:
    """Mean and 95% Student-t interval."""
    mean = float(x.mean())
    if x.size < 2:
        return mean, math.nan, math.nan
    half = float(stats.t.ppf(0.975, x.size - 1) * x.std(ddof=1) / math.sqrt(x.size))
    return mean, mean - half, mean + half


def run_rows(
    quick: bool, seed: int, progress: Callable[[str], None] | None = None
) -> tuple[list[_Row], _Sizes]:
    """Train every policy and evaluate it on the same sessions."""
    sizes = QUICK if quick else FULL
    env = build_env(seed)
    eval_seed = 10_000_000 + seed
    say = progress or (lambda _line: None)
    rows: list[_Row] = []

    def add(
        name: str,
        training: str,
        policy: SessionPolicy,
        sessions: int,
        steps: int,
        wall: float,
        explore: bool = False,
    ) -> None:
        totals, actions, eval_wall = _evaluate(env, policy, sizes.evaluate, eval_seed, explore)
        rows.append(_Row(name, training, sessions, steps, wall, totals, actions, eval_wall))
        say(f"session policy: {name} evaluated ({totals.mean():.3f} per session)")

    add("uniform random", "none", RandomSessionPolicy(), 0, 0, 0.0, explore=True)
    add("rules (assistant's RulesActionPolicy)", "none", RulesSessionPolicy(), 0, 0, 0.0)
    tab, rep = train_tabular_q(env, sizes.train, seed=seed + 1_000_000)
    add("tabular Q-learning", "online, env", tab, rep.sessions, rep.steps, rep.wall_s)
    dqn, rep = train_dqn(env, sizes.train, seed=seed + 2_000_000, config=DQNConfig())
    add("double DQN (ours)", "online, env", dqn, rep.sessions, rep.steps, rep.wall_s)
    start = time.perf_counter()
    data, _props = log_sessions(
        env, RulesSessionPolicy(epsilon=LOG_EPSILON), sizes.logged, seed=seed + 3_000_000
    )
    log_wall = time.perf_counter() - start
    fq, rep = fitted_q_iteration(data, iterations=15, epochs=3, seed=seed + 4_000_000)
    add(
        f"fitted-Q from logs (rules, epsilon {LOG_EPSILON})",
        "offline, logs",
        fq,
        rep.sessions,
        rep.steps,
        log_wall + rep.wall_s,
    )
    return rows, sizes


def session_section(*, quick: bool, seed: int) -> str:
    """Markdown: mean return per session with 95% intervals for every session policy.

    Args:
        quick: 150 training / logged sessions and 100 evaluation sessions instead of 3,000 and
            2,000.
        seed: Seeds the catalog, the shoppers, the training and the evaluation sessions.
    """
    started, cpu = time.perf_counter(), time.process_time()
    rows, sizes = run_rows(quick, seed)
    rules = next(r for r in rows if r.name.startswith("rules"))
    base = rules.returns
    lines = [
        "## Session policy: dialogue actions in the user-choice model",
        "",
        f"`ShoppingEnv` (world-v1, seed {seed}): {N_ITEMS} items over {N_CATEGORIES} categories, "
        f"{N_SHOPPERS:,} shoppers, at most {MAX_TURNS} turns, slates of 3, reward = clicks. "
        f"Each policy is evaluated greedily on the same {sizes.evaluate:,} sessions (common "
        "seeds; random explores by definition); intervals are 95% Student-t over sessions, and "
        "the last column is the paired difference against the rules policy on the same sessions. "
        "Actions: share of RECOMMEND / CLARIFY / OFFER_COUPON / HANDOFF over the evaluation "
        "turns. Fitted-Q learns offline from the rules policy's exploring log only (epsilon "
        f"{LOG_EPSILON}, propensities logged); training wall time includes generating that log.",
        "",
        "| policy | training | train sessions | train steps | train wall s | mean return / "
        "session [95% CI] | vs rules [95% CI] | actions R / C / O / H % | eval wall s |",
        "| --- | --- | ---: | ---: | ---: | --- | --- | --- | ---: |",
    ]
    for r in rows:
        mean, lo, hi = _interval(r.returns)
        diff = r.returns - base
        dm, dlo, dhi = _interval(diff)
        paired = "-" if r is rules else f"{dm:+.3f} [{dlo:+.3f}, {dhi:+.3f}]"
        mix = " / ".join(f"{100 * s:.0f}" for s in r.actions)
        lines.append(
            f"| {r.name} | {r.training} | {r.train_sessions:,} | {r.train_steps:,} | "
            f"{r.train_wall:.1f} | {mean:.3f} [{lo:.3f}, {hi:.3f}] | {paired} | {mix} | "
            f"{r.eval_wall:.1f} |"
        )
    lines += [
        "",
        f"Section wall time {time.perf_counter() - started:.1f} s (CPU "
        f"{time.process_time() - cpu:.1f} s; wall times grow with other load on the machine). "
        "The rules mirror recommends "
        "every turn (the env's shopper always opens with a specific request, so the rules' "
        "one clarifying question for a vague message never fires; `RulesSessionPolicy`). "
        f"Action order: {', '.join(a.kind for a in SessionAction)}.",
    ]
    return "\n".join(lines) + "\n"
