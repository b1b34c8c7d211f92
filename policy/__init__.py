"""shopassist's `policy` package: standalone, it imports no project package (DESIGN.md).

`policy.world` is the demo world: the user-choice model and the shopping-session environment
(docs/world.md). Its main names are re-exported here; the session functions, parameter classes
and priors live in `policy.world`.
"""

from __future__ import annotations

from . import world
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
    "Handoff",
    "ItemBatch",
    "OfferCoupon",
    "Recommend",
    "Reward",
    "SessionLog",
    "ShopperLatents",
    "ShoppingEnv",
    "SlateOutcomes",
    "SlateProbabilities",
    "StepInfo",
    "UserChoiceModel",
    "sample_items",
    "sample_shoppers",
    "simulate_sessions",
    "world",
    "world_fingerprint",
]
