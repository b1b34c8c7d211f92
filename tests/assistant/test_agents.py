"""Customer-service agents on SQLite and on PostgreSQL: the queue of handed-off sessions, take
over, agent messages (refused before a take-over), hand back, the history with the decisions
behind each slate, and agent-assist drafts that name only the session's items and pass the
claims guard."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from assistant.agents import (
    MAX_AGENT_MESSAGE_CHARS,
    agent_queue,
    agent_updates,
    hand_back,
    send_agent_message,
    session_history,
    suggest_reply,
    take_over,
)
from assistant.app import Shop
from assistant.config import Settings
from assistant.conversation import ActionKind, Assistant, TurnResult
from assistant.conversation.guard import check
from assistant.errors import InputError, UnknownEntityError, ValidationError
from assistant.indexing import sync_catalog_index
from assistant.store import DecisionRecord, MessageRecord, ProductRecord, make_engine, upgrade
from assistant.world import STEPS, build_demo
from tests.conftest import ENGINES

from .conversation.conftest import NOW

RUNNING = "running shoes under $90"
HUMAN = "I want to talk to a human"


@pytest.fixture(scope="module", params=ENGINES)
def assistant(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Assistant]:
    """A rules-mode assistant on a small demo world, once per engine for the module."""
    var = tmp_path_factory.mktemp(f"agents-{request.param}")
    if request.param == "sqlite":
        url = f"sqlite:///{var / 'store.db'}"
    else:
        make: Callable[[], str] = request.getfixturevalue("new_pg_schema")
        url = make()
    upgrade(url)
    settings = Settings(
        _env_file=None,
        var_dir=var / "var",
        database_url=url,
        embedder="use",
        llm_backend="rules",
    )
    shop = Shop(settings, make_engine(settings.sqlalchemy_url))
    steps = [s for s in STEPS if s.name != "logs"]
    build_demo(
        shop,
        now=NOW,
        products=120,
        per_type=4,
        categories=["shoes/running", "home/kitchen-knives"],
        steps=steps,
        progress=False,
    )
    sync_catalog_index(shop, progress=False, now=NOW)
    yield Assistant.from_shop(shop, seed=5)
    shop.engine.dispose()


def handed_off(assistant: Assistant, user: str) -> tuple[TurnResult, TurnResult]:
    """A session with one slate, then a request for a person."""
    first = assistant.turn(user, RUNNING, now=NOW)
    second = assistant.turn(user, HUMAN, session_id=first.session_id, now=NOW)
    assert first.recommendations and second.handoff and second.action is ActionKind.HANDOFF
    return first, second


def test_queue_take_over_send_and_hand_back(assistant: Assistant) -> None:
    shop = assistant.shop
    first, _ = handed_off(assistant, "agent-q-1")
    sid = first.session_id
    quiet = assistant.turn("agent-q-2", RUNNING, now=NOW)  # never handed off

    queued = {e.session_id: e for e in agent_queue(shop)}
    assert sid in queued and quiet.session_id not in queued
    entry = queued[sid]
    assert entry.user_id == "agent-q-1" and not entry.agent_active
    assert entry.last_shopper_message == HUMAN and entry.messages == 4
    assert entry.last_message_at == NOW

    with pytest.raises(InputError, match="not taken over by an agent; take it over before"):
        send_agent_message(shop, sid, "Hello, I am here to help.", now=NOW)
    with pytest.raises(InputError, match="was not handed off"):
        take_over(shop, quiet.session_id, now=NOW)

    assert take_over(shop, sid, now=NOW) is True
    assert take_over(shop, sid, now=NOW) is False  # idempotent
    assert next(e for e in agent_queue(shop) if e.session_id == sid).agent_active

    # While the agent owns it, the assistant stays quiet.
    muted = assistant.turn("agent-q-1", "are you there?", session_id=sid, now=NOW)
    assert muted.reply == "" and muted.agent_active

    sent = send_agent_message(shop, sid, "  Hi, Dana here: the first pair is a great fit.  ")
    assert sent.role == "agent" and sent.text == "Hi, Dana here: the first pair is a great fit."
    updates = agent_updates(shop, sid, "agent-q-1")
    assert updates.agent_active and [m.text for m in updates.messages] == [sent.text]
    with pytest.raises(UnknownEntityError, match="unknown session"):
        agent_updates(shop, sid, "someone-else")
    history = session_history(shop, sid)
    last = history.turns[-1].messages
    assert [(m.role, m.text) for m in last] == [("agent", sent.text)]
    # The agent's message is timed after everything before it, so it reads in order.
    assert all(m.created_at < sent.created_at for t in history.turns[:-1] for m in t.messages)

    hand_back(shop, sid, now=NOW)
    assert sid not in {e.session_id for e in agent_queue(shop)}
    with pytest.raises(InputError, match="nothing to hand back"):
        hand_back(shop, sid, now=NOW)
    with pytest.raises(InputError, match="was not handed off"):
        take_over(shop, sid, now=NOW)
    again = assistant.turn("agent-q-1", "running shoes under $70", session_id=sid, now=NOW)
    assert again.reply and not again.agent_active and again.recommendations


def test_the_queue_lists_the_latest_sessions_first(assistant: Assistant) -> None:
    from datetime import timedelta

    older = assistant.turn("agent-old", HUMAN, now=NOW - timedelta(hours=2))
    newer = assistant.turn("agent-new", HUMAN, now=NOW + timedelta(hours=1))
    order = [e.session_id for e in agent_queue(assistant.shop)]
    assert order.index(newer.session_id) < order.index(older.session_id)
    assert [e.session_id for e in agent_queue(assistant.shop, limit=1)] == [newer.session_id]


def test_history_shows_candidates_scores_propensities_revisions_and_why(
    assistant: Assistant,
) -> None:
    first, _ = handed_off(assistant, "agent-h-1")
    history = session_history(assistant.shop, first.session_id)
    assert history.user_id == "agent-h-1" and history.handoff and not history.agent_active
    assert [[m.role for m in t.messages] for t in history.turns] == [
        ["shopper", "assistant"],
        ["shopper", "assistant"],
    ]
    decision = history.turns[0].decision
    assert decision is not None and history.turns[1].decision is None
    assert decision.decision_id == first.decision_id
    assert decision.policy_version == first.versions["policy"]
    assert decision.ranker_version == first.versions["ranker"]
    scores = [c.score for c in decision.candidates]
    assert scores == sorted(scores, reverse=True) and 0 < len(scores) <= 10
    assert decision.n_candidates >= len(decision.items)
    with assistant.shop.sessions() as session:
        record = session.get(DecisionRecord, first.decision_id)
        assert record is not None
        logged = record.activity_revisions
    for item, rec in zip(decision.items, first.recommendations, strict=True):
        assert item.impression_id == rec.impression_id and item.item_id == rec.item.id
        assert item.propensity == pytest.approx(rec.propensity)
        assert item.score == pytest.approx(rec.score, abs=1e-6)
        assert item.rank is not None and item.rank >= 1
        assert item.why == rec.reason  # the why-line the shopper read
        assert item.title == rec.item.title
        expected = {d.activity_id: d.revision for d in rec.item.deals}
        assert item.activity_revisions == expected
        assert all(logged[a] == r for a, r in item.activity_revisions.items())
    assert any(item.activity_revisions for item in decision.items)


def _product_titles(assistant: Assistant) -> dict[str, str]:
    with assistant.shop.sessions() as session:
        return dict(session.execute(select(ProductRecord.id, ProductRecord.title)).all())


def test_a_suggestion_names_only_the_sessions_items_and_passes_the_guard(
    assistant: Assistant,
) -> None:
    first, _ = handed_off(assistant, "agent-s-1")
    shown = [r.item.id for r in first.recommendations]
    draft = suggest_reply(assistant, first.session_id, now=NOW)
    assert draft.source == "template" and draft.violations == ()
    assert list(draft.item_ids) == shown
    assert check(draft.text, draft.facts, currency=assistant.shop.currency) == []
    for item, rec in zip(draft.facts.items, first.recommendations, strict=True):
        assert item.title in draft.text
        assert item.final_price == rec.item.final_price  # re-priced now: the same moment
        assert assistant.shop.currency.format(item.final_price or 0) in draft.text
    others = {
        title
        for pid, title in _product_titles(assistant).items()
        if pid not in shown
        and not any(title in item.title for item in draft.facts.items)  # a prefix of a shown one
    }
    named = [t for t in others if re.search(rf"(?<!\w){re.escape(t)}(?!\w)", draft.text)]
    assert named == []


def test_a_session_without_a_slate_gets_a_question_not_an_invented_item(
    assistant: Assistant,
) -> None:
    result = assistant.turn("agent-s-2", HUMAN, now=NOW)
    draft = suggest_reply(assistant, result.session_id, now=NOW)
    assert draft.facts.items == () and draft.facts.action is ActionKind.CLARIFY
    assert draft.text and draft.violations == ()
    assert not re.search(r"\d", draft.text)


def test_bad_input_is_refused_with_a_reason(assistant: Assistant) -> None:
    shop = assistant.shop
    first, _ = handed_off(assistant, "agent-bad")
    sid = first.session_id
    take_over(shop, sid, now=NOW)
    with pytest.raises(ValidationError, match="the agent message is empty; type what"):
        send_agent_message(shop, sid, "   \n\t ", now=NOW)
    too_long = "x" * (MAX_AGENT_MESSAGE_CHARS + 1)
    with pytest.raises(ValidationError, match="has 2001 characters, at most 2,000; shorten"):
        send_agent_message(shop, sid, too_long, now=NOW)
    send_agent_message(shop, sid, "y" * MAX_AGENT_MESSAGE_CHARS, now=NOW)  # the limit itself
    with pytest.raises(ValidationError, match="must be text, got int"):
        send_agent_message(shop, sid, 5, now=NOW)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="the session id is empty"):
        take_over(shop, " ", now=NOW)
    with pytest.raises(ValidationError, match="at most 128"):
        session_history(shop, "s" * 129)
    for call in (
        lambda: take_over(shop, "no-such-session", now=NOW),
        lambda: send_agent_message(shop, "no-such-session", "hi", now=NOW),
        lambda: hand_back(shop, "no-such-session", now=NOW),
        lambda: session_history(shop, "no-such-session"),
        lambda: suggest_reply(assistant, "no-such-session", now=NOW),
    ):
        with pytest.raises(UnknownEntityError, match="unknown session 'no-such-session'; pick"):
            call()
    with pytest.raises(ValidationError, match="limit must be between 1 and 500, got 0"):
        agent_queue(shop, limit=0)
    from datetime import datetime

    with pytest.raises(ValidationError, match="has no time zone"):
        take_over(shop, sid, now=datetime(2030, 1, 1))  # noqa: DTZ001
    # Refused messages wrote nothing: only the one at the limit is there.
    with shop.sessions() as session:
        texts = session.scalars(
            select(MessageRecord.text).where(
                MessageRecord.session_id == sid, MessageRecord.role == "agent"
            )
        ).all()
    assert [len(t) for t in texts] == [MAX_AGENT_MESSAGE_CHARS]


@pytest.mark.slow
@pytest.mark.integration
def test_a_suggestion_phrased_by_the_real_llm_is_guarded(
    assistant: Assistant, llm_url: str, tmp_path: Path
) -> None:
    from assistant.llm import QWEN_0_5B, OpenAIChatModel

    first, _ = handed_off(assistant, "agent-llm")
    chat = OpenAIChatModel(llm_url, QWEN_0_5B.alias)
    writer = Assistant(
        assistant.shop,
        catalog=assistant.catalog,
        index=assistant.index,
        embedder=assistant.embedder,
        vocabulary=assistant.vocabulary,
        chat=chat,
        seed=5,
    )
    draft = suggest_reply(writer, first.session_id, now=NOW)
    assert draft.source in ("llm", "llm_regenerated", "template")
    assert draft.violations == ()
    assert list(draft.item_ids) == [r.item.id for r in first.recommendations]
    assert draft.facts.items[0].title in draft.text  # the template's list is always there
