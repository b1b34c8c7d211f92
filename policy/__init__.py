"""shopassist's `policy` package: standalone, it imports no project package (DESIGN.md).

`policy.world` is the demo world: the user-choice model and the shopping-session environment
(docs/world.md). Its main names are re-exported here; the session functions, parameter classes
and priors live in `policy.world`.

`Policy` is the serving-policy seam (`policy.base`): scores in, a `Slate` with exact
propensities out; `ContextualPolicy` adds per-candidate features, batched `fold` and snapshots.
`EpsilonGreedy` is the default serving policy; `Greedy` and `UniformRandom` are baselines
(`policy.epsilon_greedy`); `policy.linear` holds LinUCB and linear Thompson sampling;
`policy.session` the session (dialogue-action) policies (import it explicitly: it loads torch).
`policy.ope` estimates a candidate's value from logs (IPS, SNIPS, DM, DR, slate IPS with
bootstrap intervals); `policy.gate` decides promotions. The business rules: `policy.constraints`
(pacing, caps, control arm, explorable set, rewards), `policy.ab` (sticky bucketing, readouts)
and `policy.fairness` (exposure and price spread).
"""

from __future__ import annotations

from . import world
from .ab import ABReadout, ArmCounts, Bucketer, ab_readout
from .base import ContextualPolicy, Policy, Slate
from .constraints import (
    BudgetPacer,
    ControlArm,
    DemandRate,
    FrequencyCap,
    LoggedOutcome,
    PacingCurve,
    PromotionArm,
    RewardOption,
    filter_explorable,
    reward,
)
from .epsilon_greedy import EpsilonGreedy, Greedy, UniformRandom
from .fairness import FairnessReport, fairness_report
from .gate import GateResult, paired_gate
from .item_ctr import ItemCTR
from .linear import LinearThompson, LinUCB, LogisticThompson, policy_from_snapshot
from .ope import BanditLogs, Estimate, evaluate
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
    "policy_from_snapshot",
    "LogisticThompson",
    "LinearThompson",
    "LinUCB",
    "ABReadout",
    "Action",
    "ArmCounts",
    "BanditLogs",
    "Bucketer",
    "BudgetPacer",
    "Clarify",
    "ContextualPolicy",
    "ControlArm",
    "DealType",
    "DemandRate",
    "EpsilonGreedy",
    "Estimate",
    "FairnessReport",
    "FrequencyCap",
    "GateResult",
    "Greedy",
    "Handoff",
    "ItemBatch",
    "ItemCTR",
    "LoggedOutcome",
    "OfferCoupon",
    "PacingCurve",
    "Policy",
    "PromotionArm",
    "Recommend",
    "Reward",
    "RewardOption",
    "SessionLog",
    "ShopperLatents",
    "ShoppingEnv",
    "Slate",
    "SlateOutcomes",
    "SlateProbabilities",
    "StepInfo",
    "UniformRandom",
    "UserChoiceModel",
    "WORLD_VERSION",
    "ab_readout",
    "evaluate",
    "fairness_report",
    "filter_explorable",
    "paired_gate",
    "reward",
    "sample_items",
    "sample_shoppers",
    "simulate_sessions",
    "world",
    "world_fingerprint",
]
