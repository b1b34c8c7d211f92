"""Dialogue state: the slots a session carries from turn to turn, stored in ``sessions.state``.

Each turn's :class:`~assistant.understanding.ShopperIntent` is merged into the session's slots:

* a new request (``new_topic``, or a find request naming other categories) starts over, keeping
  only the shopper's standing preferences (``not_interested``, the personalization switch);
* a refinement keeps every slot it does not restate: "cheaper ones, under 40" keeps the
  category and sets the budget; "only wireless" adds a word to the search text; "no Adidas"
  adds to the excluded brands;
* "cheaper" without a number puts the budget just below the cheapest product shown last;
* other turns (my coupons, hand off, small talk...) leave the slots alone.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from assistant.understanding.intent import IntentType, ShopperIntent

__all__ = ["SUMMARY_CHARS", "DialogueState", "ShownItem", "merge", "summarize"]

SUMMARY_CHARS = 400
"""The rolling summary's bound: the LLM's context stays this size however long the session."""

_FIND = {IntentType.FIND_DEALS, IntentType.FIND_PRODUCTS, IntentType.REFINE}
_MAX_QUERY_WORDS = 24


class ShownItem(BaseModel):
    """An item recommended in the last recommending turn (for "the second one", "cheaper")."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["product", "activity"]
    id: str
    final_price: int | None = None
    activity_ids: list[str] = Field(default_factory=list)
    needs_claim: bool = False
    impression_id: str = ""


class DialogueState(BaseModel):
    """A session's slots (JSON in ``sessions.state``); every field has a safe default."""

    model_config = ConfigDict(extra="ignore")

    categories: list[str] = Field(default_factory=list)
    brands_in: list[str] = Field(default_factory=list)
    brands_out: list[str] = Field(default_factory=list)
    min_price: int | None = None
    max_price: int | None = None
    recipient: str | None = None
    occasion: str | None = None
    activity_types: list[str] = Field(default_factory=list)
    wants_deals: bool = False
    sort: str = "relevance"
    query: str = ""
    language: Literal["en", "zh"] = "en"
    shown: list[ShownItem] = Field(default_factory=list)
    not_interested: list[str] = Field(default_factory=list)
    personalization: bool = True
    failures: int = 0
    turns: int = 0
    llm_tokens: int = 0
    """LLM tokens (prompt + completion) the session's turns have spent (the pipeline's to
    update; see :mod:`assistant.conversation._budget`)."""

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> DialogueState:
        """The stored state; a state this version cannot read starts over (logged by caller)."""
        try:
            return cls.model_validate(data or {})
        except ValidationError:
            return cls()

    def to_json(self) -> dict[str, Any]:
        """JSON for ``sessions.state``."""
        return self.model_dump(mode="json")


def _union(a: list[str], b: list[str]) -> list[str]:
    return list(dict.fromkeys([*a, *b]))


def merge(
    state: DialogueState, intent: ShopperIntent, sure: frozenset[str] | None = None
) -> tuple[ShopperIntent, DialogueState]:
    """The intent to act on and the session's next state.

    Args:
        state: The session's slots before this turn.
        intent: What this message said.
        sure: The slots the rules are sure of (``None``: all). A category that is only a
            guess (the embedder's or the LLM's) never replaces the session's categories, so
            a vague follow-up ("last ones please") cannot reset the budget with the topic.

    Returns:
        ``(effective, next_state)``: the intent with the carried-over slots filled in, and
        the state to store (``shown`` and ``failures`` are the pipeline's to update).
    """
    standing = {
        "not_interested": _union(state.not_interested, intent.not_interested),
        "personalization": state.personalization
        if intent.personalization is None
        else intent.personalization,
    }
    if sure is not None and "categories" not in sure and state.categories:
        intent = intent.model_copy(update={"categories": []})
    if intent.type not in _FIND:
        effective = intent.model_copy(
            update={"language": intent.language, "not_interested": standing["not_interested"]}
        )
        return effective, state.model_copy(update={**standing, "turns": state.turns + 1})
    restart = intent.new_topic or (
        intent.type is not IntentType.REFINE
        and bool(intent.categories)
        and set(intent.categories) != set(state.categories)
    )
    base = (
        DialogueState(**standing, language=state.language, llm_tokens=state.llm_tokens)
        if restart
        else state
    )
    max_price = intent.max_price if intent.max_price is not None else base.max_price
    min_price = intent.min_price if intent.min_price is not None else base.min_price
    if intent.cheaper and intent.max_price is None:
        shown = [s.final_price for s in base.shown if s.final_price is not None]
        if shown:
            max_price = max(min(shown) - 1, 0)
    if min_price is not None and max_price is not None and min_price > max_price:
        min_price = None  # a new, lower budget replaces an old floor above it
    if intent.type is IntentType.REFINE and intent.query and base.query:
        words = f"{base.query} {intent.query}".split()
        query = " ".join(words[-_MAX_QUERY_WORDS:])
    else:
        query = intent.query or base.query
    next_state = base.model_copy(
        update={
            **standing,
            "categories": intent.categories or base.categories,
            "brands_in": intent.brands_in or base.brands_in,
            "brands_out": _union(base.brands_out, intent.brands_out),
            "min_price": min_price,
            "max_price": max_price,
            "recipient": intent.recipient or base.recipient,
            "occasion": intent.occasion or base.occasion,
            "activity_types": intent.activity_types or base.activity_types,
            "wants_deals": intent.wants_deals or base.wants_deals,
            "sort": intent.sort if intent.sort != "relevance" else base.sort,
            "query": query,
            "language": intent.language,
            "turns": state.turns + 1,
        }
    )
    kind = intent.type
    if kind is IntentType.REFINE and not state.query and not state.categories:
        kind = IntentType.FIND_DEALS if next_state.wants_deals else IntentType.FIND_PRODUCTS
    brands_out = [b for b in next_state.brands_out if b not in next_state.brands_in]
    effective = intent.model_copy(
        update={
            "type": kind,
            "categories": next_state.categories,
            "brands_in": next_state.brands_in,
            "brands_out": brands_out,
            "min_price": next_state.min_price,
            "max_price": next_state.max_price,
            "recipient": next_state.recipient,
            "occasion": next_state.occasion,
            "activity_types": next_state.activity_types,
            "wants_deals": next_state.wants_deals,
            "sort": next_state.sort,
            "query": next_state.query,
            "not_interested": next_state.not_interested,
            "personalization": next_state.personalization,
        }
    )
    return effective, next_state


def summarize(state: DialogueState) -> str:
    """The session so far in one short line for the LLM's context (``sessions.summary``).

    It is rebuilt from the slots every turn, so it is bounded (:data:`SUMMARY_CHARS`) and
    never drifts from what the pipeline actually filters by. Money is in minor units here only
    as words the LLM never needs to repeat: the budget is stated as "a budget is set".
    """
    parts = []
    if state.query:
        parts.append(f"looking for: {state.query}")
    if state.categories:
        parts.append("categories: " + ", ".join(state.categories))
    if state.brands_in:
        parts.append("brands: " + ", ".join(state.brands_in))
    if state.brands_out:
        parts.append("not: " + ", ".join(state.brands_out))
    if state.max_price is not None or state.min_price is not None:
        parts.append("a budget is set")
    if state.wants_deals:
        parts.append("wants deals")
    if state.recipient:
        parts.append(f"for: {state.recipient}")
    if state.occasion:
        parts.append(f"occasion: {state.occasion}")
    if state.not_interested:
        parts.append("not interested in: " + ", ".join(state.not_interested))
    text = "; ".join(parts)
    return text if len(text) <= SUMMARY_CHARS else text[: SUMMARY_CHARS - 1] + "…"
