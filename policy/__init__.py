"""shopassist's `policy` package: standalone, it imports no project package (DESIGN.md).

`policy.world` is the demo world: the user-choice model and the shopping-session environment
(docs/world.md). Its main names are re-exported here; the session functions, parameter classes
and priors live in `policy.world`.

`Policy` is the serving-policy seam (`policy.base`): scores in, a `Slate` with exact propensities
out. `EpsilonGreedy` is the default serving policy; `Greedy` and `UniformRandom` are baselines
(`policy.epsilon_greedy`).
"""

from __future__ import annotations

from . import world
from .base import Policy, Slate
from .epsilon_greedy import EpsilonGreedy, Greedy, UniformRandom
from .world import (
    WORLD_VERSION,
    Action,
    Clarify,
    DealType,
    Handoff,
    ItemBatch,
    OfferCoupon,
    Recommend,
    Reward,
    SessionLog,
    ShopperLatents,
    ShoppingEnv,
    SlateOutcomes,
    SlateProbabilities,
    StepInfo,
    UserChoiceModel,
    sample_items,
    sample_shoppers,
    simulate_sessions,
    world_fingerprint,
)

__all__: list[str] = [
    "WORLD_VERSION",
    "Action",
    "Clarify",
    "DealType",
    "EpsilonGreedy",
    "Greedy",
    "Handoff",
    "ItemBatch",
    "OfferCoupon",
    "Policy",
    "Recommend",
    "Reward",
    "SessionLog",
    "ShopperLatents",
    "ShoppingEnv",
    "Slate",
    "SlateOutcomes",
    "SlateProbabilities",
    "StepInfo",
    "UniformRandom",
    "UserChoiceModel",
    "sample_items",
    "sample_shoppers",
    "simulate_sessions",
    "world",
    "world_fingerprint",
]
