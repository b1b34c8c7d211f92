"""Request and response bodies of the JSON API (pydantic at the trust boundary).

Request models ignore unknown fields (clients may be newer than the server: extend, don't
break); response models document the contract in the OpenAPI schema.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "MAX_MESSAGE_CHARS",
    "CartLineIn",
    "ChatRequest",
    "ChatResponse",
    "ClaimRequest",
    "ClaimResponse",
    "CompletionMessage",
    "CompletionRequest",
    "ContentPart",
    "ErrorResponse",
    "FeedbackRequest",
    "FeedbackResponse",
]

MAX_MESSAGE_CHARS = 2000
MAX_MONEY = 10**12
"""The largest amount a request may carry, in whole currency units (SQL stores minor units in
64-bit integers)."""
MONEY_PATTERN = r"^[0-9]{1,12}(\.[0-9]{1,2})?$"
"""A non-negative decimal amount with at most two decimals (what ``Currency.parse`` reads)."""
_ID = 128
ID_PATTERN = r"^[^\x00-\x1f\x7f]*$"
"""What any other id or key may hold: no control characters (PostgreSQL refuses NUL in text, and
an id is logged)."""
_SPACE = r"\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
KEY_PATTERN = rf"^[^\x00-\x1f\x7f]*[^{_SPACE}][^\x00-\x1f\x7f]*$"
"""An idempotency key: :data:`ID_PATTERN` and not blank (the claim engine strips it; the
whitespace is spelt out, as each regex engine reads ``\\s`` its own way)."""
USER_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$"
"""What a user id may be (``assistant.store.users``; ids starting ``forgotten-`` are reserved
too)."""


class _Request(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=False)


class CartLineIn(_Request):
    """One line of the host site's cart."""

    product_id: str = Field(min_length=1, max_length=_ID, pattern=ID_PATTERN)
    quantity: int = Field(ge=1, le=999)


class ChatRequest(_Request):
    """``POST /v1/chat`` and ``/v1/chat/stream``."""

    user_id: str | None = Field(
        default=None,
        max_length=_ID,
        pattern=USER_ID_PATTERN,
        description="the shopper; must equal the token's sub (required without a token, dev)",
    )
    session_id: str | None = Field(
        default=None,
        max_length=_ID,
        pattern=ID_PATTERN,
        description="continue this session; null starts one",
    )
    message: str = Field(min_length=1, max_length=MAX_MESSAGE_CHARS)
    locale: str | None = Field(
        default=None, max_length=35, description="accepted; the language is read from the message"
    )
    cart: list[CartLineIn] | None = Field(
        default=None, max_length=100, description="the host site's cart, authoritative when given"
    )

    def cart_lines(self) -> list[tuple[str, int]] | None:
        """The cart as (product id, quantity) pairs, ``None`` when not sent."""
        if self.cart is None:
            return None
        return [(line.product_id, line.quantity) for line in self.cart]


class ClaimRequest(_Request):
    """``POST /v1/claims``."""

    user_id: str | None = Field(default=None, max_length=_ID, pattern=USER_ID_PATTERN)
    activity_id: str = Field(min_length=1, max_length=_ID, pattern=ID_PATTERN)
    idempotency_key: str = Field(min_length=1, max_length=200, pattern=KEY_PATTERN)


class FeedbackRequest(_Request):
    """``POST /v1/feedback``; the same ``event_id`` twice has one effect."""

    event_id: str = Field(min_length=1, max_length=200, pattern=ID_PATTERN)
    impression_id: str = Field(min_length=1, max_length=_ID, pattern=ID_PATTERN)
    type: Literal["click", "claim", "add_to_cart", "purchase", "dismiss"]
    claim_id: str | None = Field(default=None, max_length=_ID, pattern=ID_PATTERN)
    order_id: str | None = Field(default=None, max_length=_ID, pattern=ID_PATTERN)
    value: (
        Annotated[str, Field(pattern=MONEY_PATTERN)]
        | Annotated[int, Field(ge=0, le=MAX_MONEY)]
        | None
    ) = Field(
        default=None, description="money in the shop currency as a decimal string, e.g. '59.90'"
    )
    quantity: int | None = Field(default=None, ge=1, le=999)


class ContentPart(_Request):
    """One part of an OpenAI message's content (only ``text`` parts are read)."""

    type: str
    text: str | None = None


class CompletionMessage(_Request):
    """An OpenAI chat message."""

    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[ContentPart] | None = None

    def text(self) -> str:
        """The message's text (text parts joined)."""
        if isinstance(self.content, str):
            return self.content
        return "".join(p.text or "" for p in self.content or [] if p.type == "text")


class CompletionRequest(_Request):
    """``POST /v1/chat/completions`` (OpenAI-compatible). The last user message is the turn;
    ``session_id`` and ``cart`` are shopassist extensions (``extra_body`` in the openai client)."""

    model: str | None = None
    messages: list[CompletionMessage] = Field(
        min_length=1,
        max_length=200,
        description="the conversation; the last user message is the turn",
        # At least one user message (a 422 otherwise), said in the schema too.
        json_schema_extra={
            "contains": {"type": "object", "properties": {"role": {"const": "user"}}}
        },
    )
    user: str | None = Field(
        default=None, max_length=_ID, pattern=USER_ID_PATTERN, description="the shopper's user id"
    )
    stream: bool = False
    session_id: str | None = Field(default=None, max_length=_ID, pattern=ID_PATTERN)
    cart: list[CartLineIn] | None = Field(default=None, max_length=100)


# --- responses (documentation) ------------------------------------------------------------------


class _Doc(BaseModel):
    model_config = ConfigDict(extra="allow")


class ErrorDetail(_Doc):
    code: str
    message: str


class ErrorResponse(_Doc):
    """Every error: ``{"error": {"code", "message"}}``."""

    error: ErrorDetail


class CartGap(_Doc):
    add: str
    unlocks: str
    activity_id: str


class RecommendationOut(_Doc):
    impression_id: str
    kind: Literal["activity", "product"]
    id: str
    title: str
    price: str | None
    final_price: str | None
    currency: str | None
    activity_ids: list[str]
    valid_until: str | None
    reason: str
    url: str
    image_url: str | None
    needs_claim: bool
    cart_gap: CartGap | None


class IntentOut(_Doc):
    type: str
    categories: list[str]
    min_price: str | None
    max_price: str | None
    wants_deals: bool
    language: Literal["en", "zh"]


class ChatResponse(_Doc):
    """The ``/v1/chat`` response (also the SSE ``result`` event and ``shopassist`` field)."""

    session_id: str
    turn_id: str
    reply: str
    handoff: bool
    agent_active: bool
    intent: IntentOut
    recommendations: list[RecommendationOut]


class ClaimResponse(_Doc):
    claim_id: str
    code: str
    valid_until: str
    amount: str


class FeedbackResponse(_Doc):
    event_id: str
    recorded: bool = Field(description="false when this event_id was already recorded")
