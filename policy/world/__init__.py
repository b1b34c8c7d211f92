"""The demo world's user-choice model, as plain functions and an environment.

A simulated shopper population (`sample_shoppers`) with latent category interests, budgets,
price sensitivity, deal-proneness, deal-type tastes, brand loyalty, member / new status and
patience; a choice model (`UserChoiceModel`) that gives the TRUE probabilities of click, claim,
add-to-cart and purchase for every card of a slate (position-based examination x binary-logit
attraction, then a conversion funnel) and samples them, one slate or a million at once; and a
session environment (`ShoppingEnv`) with a Gymnasium-like API where the assistant recommends,
asks, offers a coupon or hands off, and the shopper may leave; and `simulate_sessions`, which
runs thousands of sessions at once under a Plackett-Luce logging policy and returns logged
decisions with their exact propensities.

Inputs are numpy arrays and frozen dataclasses (`ItemBatch`, `ShopperLatents`); nothing here
imports another project package. Every equation is in docs/world.md. The parameters are frozen:
`world_fingerprint()` is pinned by a test, and a change means a new `WORLD_VERSION`.
"""

from __future__ import annotations

from ._choice import SlateOutcomes, SlateProbabilities, UserChoiceModel
from ._env import (
    OBSERVATION_NAMES,
    Action,
    Clarify,
    Handoff,
    OfferCoupon,
    Recommend,
    Reward,
    ShoppingEnv,
    StepInfo,
)
from ._items import ItemBatch, sample_items
from ._params import (
    DEFAULT_CHOICE_PARAMS,
    DEFAULT_PRIORS,
    DEFAULT_SESSION_PARAMS,
    N_DEAL_TYPES,
    WORLD_VERSION,
    ChoiceParams,
    DealType,
    SegmentPrior,
    SessionParams,
    ShopperPriors,
    world_fingerprint,
)
from ._plackett_luce import plackett_luce_propensities
from ._session import (
    known_fraction,
    leave_probability,
    match_estimate,
    match_sharpness,
    true_match,
)
from ._shoppers import ShopperLatents, draw_intents, sample_shoppers
from ._waves import SessionLog, simulate_sessions

__all__ = [
    "DEFAULT_CHOICE_PARAMS",
    "DEFAULT_PRIORS",
    "DEFAULT_SESSION_PARAMS",
    "N_DEAL_TYPES",
    "OBSERVATION_NAMES",
    "WORLD_VERSION",
    "Action",
    "ChoiceParams",
    "Clarify",
    "DealType",
    "Handoff",
    "ItemBatch",
    "OfferCoupon",
    "Recommend",
    "Reward",
    "SegmentPrior",
    "SessionLog",
    "SessionParams",
    "ShopperLatents",
    "ShopperPriors",
    "ShoppingEnv",
    "SlateOutcomes",
    "SlateProbabilities",
    "StepInfo",
    "UserChoiceModel",
    "draw_intents",
    "known_fraction",
    "leave_probability",
    "match_estimate",
    "match_sharpness",
    "plackett_luce_propensities",
    "sample_items",
    "sample_shoppers",
    "simulate_sessions",
    "true_match",
    "world_fingerprint",
]
