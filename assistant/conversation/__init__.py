"""One conversation turn: facts, replies, dialogue state and the pipeline.

Example:
    >>> shop = Shop.from_settings()  # doctest: +SKIP
    >>> assistant = Assistant.from_shop(shop)  # doctest: +SKIP
    >>> result = assistant.turn("demo-shopper", "running shoes under $80")  # doctest: +SKIP
    >>> turn_json(result, shop.currency)["recommendations"][0]["final_price"]  # doctest: +SKIP
    '74.00'
"""

from __future__ import annotations

from assistant.conversation.actions import (
    COUPON_TYPES,
    ActionPolicy,
    DialogueAction,
    RulesActionPolicy,
)
from assistant.conversation.facts import (
    ActionKind,
    CartGapFact,
    CouponFact,
    DealFact,
    IneligibleFact,
    ItemFact,
    ReplyFacts,
)
from assistant.conversation.pipeline import Assistant, Recommendation, TurnResult
from assistant.conversation.ranking import Candidate, HeuristicRanker, Ranker, RankingContext
from assistant.conversation.replies import render_reply, why_line
from assistant.conversation.response import intent_json, recommendation_json, turn_json
from assistant.conversation.snapshot import CatalogSnapshot, LiveCatalog, ProductInfo
from assistant.conversation.state import DialogueState, ShownItem, merge

__all__ = [
    "COUPON_TYPES",
    "ActionKind",
    "ActionPolicy",
    "DialogueAction",
    "RulesActionPolicy",
    "Assistant",
    "Candidate",
    "CartGapFact",
    "CatalogSnapshot",
    "CouponFact",
    "DealFact",
    "DialogueState",
    "HeuristicRanker",
    "IneligibleFact",
    "ItemFact",
    "LiveCatalog",
    "ProductInfo",
    "Ranker",
    "RankingContext",
    "Recommendation",
    "ReplyFacts",
    "ShownItem",
    "TurnResult",
    "intent_json",
    "merge",
    "recommendation_json",
    "render_reply",
    "turn_json",
    "why_line",
]
