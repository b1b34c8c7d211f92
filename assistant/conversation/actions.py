"""The DialogueAction seam: what the assistant does with a turn, chosen by an action policy.

:class:`RulesActionPolicy` is the default: a fixed table from the effective intent (this message
merged with the session's slots) to an action. A learned session policy (``policy/``) plugs in
through :class:`ActionPolicy`; the pipeline executes whatever action it returns.

The rules, in order:

1. ``handoff`` -> hand off (reason ``requested``); ``out_of_scope`` -> redirect;
   ``small_talk`` -> greet and offer help; ``my_coupons`` -> show the shopper's coupons;
   ``why_ineligible`` -> explain from the deal engine's reasons.
2. ``claim_coupon`` -> claim the coupon among the items shown last (the one pointed at, else
   the first that needs a claim); with nothing to claim, offer coupons.
3. ``ask_item`` / ``compare`` with items shown last -> show those items again, re-priced now.
4. Too vague to filter (no category, brand, budget, deal type or search words) -> ask one
   question, about the category.
5. Only coupon types wanted -> offer coupons; otherwise recommend products.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from assistant.conversation.facts import ActionKind
from assistant.conversation.state import DialogueState
from assistant.understanding.intent import IntentType, ShopperIntent

__all__ = ["COUPON_TYPES", "ActionPolicy", "DialogueAction", "RulesActionPolicy"]

COUPON_TYPES = frozenset({"coupon", "new_user"})
"""Activity types a shopper claims (the coupon stacking group)."""


@dataclass(frozen=True, slots=True)
class DialogueAction:
    """One action to execute.

    Attributes:
        kind: What to do.
        question: For ``clarify``: the slot to ask about (``category``, ``budget``...).
        handoff_reason: For ``handoff``: ``requested``, ``complaint``, ``dispute`` or
            ``repeated_failure``.
        claim: For ``offer_coupon``: claim the coupon shown last instead of listing coupons.
        show_again: For ``recommend``: show the items shown last (``item_refs`` of the intent).
    """

    kind: ActionKind
    question: str | None = None
    handoff_reason: str | None = None
    claim: bool = False
    show_again: bool = False


class ActionPolicy(Protocol):
    """Chooses the action for a turn; ``version`` is logged with every decision."""

    @property
    def version(self) -> str: ...

    def choose(self, intent: ShopperIntent, state: DialogueState) -> DialogueAction:
        """The action for ``intent`` given the session's state before this turn."""
        ...


def too_vague(intent: ShopperIntent) -> bool:
    """Nothing to filter or search by."""
    return not (
        intent.categories
        or intent.brands_in
        or intent.activity_types
        or intent.wants_deals
        or intent.max_price is not None
        or intent.min_price is not None
        or intent.recipient
        or intent.occasion
        or len(intent.query.strip()) >= 2
    )


class RulesActionPolicy:
    """The default action policy (module docs)."""

    version = "rules-1"

    def choose(self, intent: ShopperIntent, state: DialogueState) -> DialogueAction:
        """The action for ``intent`` given the session's state before this turn."""
        kind = intent.type
        fixed = {
            IntentType.HANDOFF: DialogueAction(ActionKind.HANDOFF, handoff_reason="requested"),
            IntentType.OUT_OF_SCOPE: DialogueAction(ActionKind.OUT_OF_SCOPE),
            IntentType.SMALL_TALK: DialogueAction(ActionKind.SMALL_TALK),
            IntentType.MY_COUPONS: DialogueAction(ActionKind.SHOW_COUPONS),
            IntentType.WHY_INELIGIBLE: DialogueAction(ActionKind.EXPLAIN_INELIGIBLE),
            IntentType.CLAIM_COUPON: DialogueAction(ActionKind.OFFER_COUPON, claim=True),
        }
        if kind in fixed:
            return fixed[kind]
        if kind in (IntentType.ASK_ITEM, IntentType.COMPARE) and state.shown:
            return DialogueAction(ActionKind.RECOMMEND, show_again=True)
        if too_vague(intent):
            return DialogueAction(ActionKind.CLARIFY, question="category")
        if intent.activity_types and set(intent.activity_types) <= COUPON_TYPES:
            return DialogueAction(ActionKind.OFFER_COUPON)
        return DialogueAction(ActionKind.RECOMMEND)
