"""The LLM token budget of a session: tokens the server reports are summed in ``sessions.state``;
past the budget a session's turns skip the LLM and still answer (rules and templates)."""

from __future__ import annotations

import logging
import socket
from pathlib import Path

import pytest
from sqlalchemy import update

from assistant.conversation import Assistant
from assistant.conversation._budget import MeteredChat, over_budget
from assistant.conversation.state import DialogueState, merge
from assistant.llm import OpenAIChatModel
from assistant.store.models import SessionRecord
from assistant.understanding.intent import IntentType, ShopperIntent

from .conftest import NOW, served_shop

# The rules leave slots open here, so a turn with an LLM asks it (and phrases the reply).
OPEN = "something comfy to sleep on when camping"


@pytest.fixture(scope="module")
def assistant(served_var: Path) -> Assistant:
    """One assistant for the module (each test sets its LLM and budget)."""
    return Assistant.from_shop(served_shop(served_var), seed=5)


def _stored_tokens(assistant: Assistant, session_id: str) -> int:
    with assistant.shop.sessions() as session:
        record = session.get(SessionRecord, session_id)
        assert record is not None
        return DialogueState.from_json(record.state).llm_tokens


def test_the_budget_is_spent_at_the_budget_and_none_is_no_budget() -> None:
    assert not over_budget(19_999, 20_000)
    assert over_budget(20_000, 20_000)
    assert over_budget(0, 0)
    assert not over_budget(10**9, None)


def test_a_new_topic_keeps_the_tokens_spent() -> None:
    spent = DialogueState(categories=["shoes"], query="running shoes", llm_tokens=1234)
    new_topic = ShopperIntent(type=IntentType.FIND_PRODUCTS, categories=["kitchen"], new_topic=True)
    _, state = merge(spent, new_topic)
    assert state.categories == ["kitchen"] and state.query == ""
    assert state.llm_tokens == 1234
    assert DialogueState.from_json({"turns": 2}).llm_tokens == 0  # states stored before budgets


def test_a_session_past_its_budget_never_asks_the_llm(assistant: Assistant) -> None:
    assistant.chat = None
    first = assistant.turn("budget-rules", OPEN, now=NOW)
    assert first.llm == {"understand": "off", "reply": "off"}  # rules mode spends nothing
    assert _stored_tokens(assistant, first.session_id) == 0
    # An LLM on a port nothing listens on: any call would fail the turn's LLM stages.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    assistant.chat = OpenAIChatModel(f"http://127.0.0.1:{port}/v1", model="none")
    assistant.llm_status = "ok"
    assistant.session_token_budget = 500
    with assistant.shop.sessions.begin() as session:
        state = DialogueState(turns=1, llm_tokens=500).to_json()
        session.execute(
            update(SessionRecord).where(SessionRecord.id == first.session_id).values(state=state)
        )
    later = assistant.turn("budget-rules", OPEN, session_id=first.session_id, now=NOW)
    assert later.llm == {"understand": "budget", "reply": "budget"}
    assert "llm_understand" not in later.timings_ms
    assert later.reply and later.recommendations
    assert assistant.llm_status == "ok"  # nothing was tried, so nothing failed
    assert _stored_tokens(assistant, first.session_id) == 500
    # Another session of the same shopper has its own budget: it asks (and fails here).
    other = assistant.turn("budget-rules", OPEN, now=NOW)
    assert other.llm["understand"] == "failed"


# Two LLM calls (understand, phrase) on the bundled model: 126-303 s on this shared 2-core box.
@pytest.mark.slow
@pytest.mark.integration
def test_the_embedded_llm_is_not_asked_after_the_budget(
    assistant: Assistant, chat_model: OpenAIChatModel, caplog: pytest.LogCaptureFixture
) -> None:
    server = MeteredChat(chat_model)  # counts every call that reaches the server
    assistant.chat = server
    assistant.llm_status = "ok"
    assistant.llm_timeout_s = 300.0  # generous: a shared 2-core machine can be slow
    assistant.session_token_budget = 50
    caplog.set_level(logging.WARNING, logger="assistant.conversation.pipeline")

    first = assistant.turn("budget-llm", OPEN, now=NOW)
    assert first.llm["understand"] == "used"
    assert server.calls >= 1 and server.tokens > 50
    assert _stored_tokens(assistant, first.session_id) == server.tokens
    calls, tokens = server.calls, server.tokens

    for message in ("cheaper ones please", "anything for cooking outdoors?"):
        later = assistant.turn("budget-llm", message, session_id=first.session_id, now=NOW)
        assert later.llm == {"understand": "budget", "reply": "budget"}
        assert "llm_understand" not in later.timings_ms and later.reply
    assert (server.calls, server.tokens) == (calls, tokens)
    assert _stored_tokens(assistant, first.session_id) == tokens

    warnings = [r.getMessage() for r in caplog.records if "budget" in r.getMessage()]
    assert len(warnings) == 1
    assert first.session_id in warnings[0] and "camping" not in warnings[0]
