"""A conversation stored on SQLite and on PostgreSQL: sessions, messages, decisions, handoff."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from assistant.app import Shop
from assistant.config import Settings
from assistant.conversation import ActionKind, Assistant
from assistant.errors import UnknownEntityError
from assistant.indexing import sync_catalog_index
from assistant.store import make_engine
from assistant.store.models import DecisionRecord, ImpressionRecord, MessageRecord, SessionRecord
from assistant.world import STEPS, build_demo

NOW = datetime(2030, 6, 15, 12, tzinfo=UTC)


@pytest.fixture
def assistant(db_url: str, tmp_path: Path) -> Iterator[Assistant]:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        var_dir=tmp_path / "var",
        database_url=db_url,
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


def test_a_conversation_is_stored_whole_on_both_engines(assistant: Assistant) -> None:
    first = assistant.turn("shopper-1", "running shoes under $90", now=NOW)
    second = assistant.turn(
        "shopper-1", "cheaper ones, under 70", session_id=first.session_id, now=NOW
    )
    third = assistant.turn("shopper-1", "转人工", session_id=first.session_id, now=NOW)
    assert first.recommendations and second.recommendations
    assert all(
        r.item.final_price is not None and r.item.final_price <= 7000
        for r in second.recommendations
    )
    assert third.action is ActionKind.HANDOFF and third.handoff
    with assistant.shop.sessions() as session:
        record = session.get(SessionRecord, first.session_id)
        assert record is not None and record.handoff and record.user_id == "shopper-1"
        assert record.state["max_price"] == 7000
        assert record.state["categories"] == ["shoes/running"]
        roles = session.scalars(
            select(MessageRecord.role)
            .where(MessageRecord.session_id == first.session_id)
            .order_by(MessageRecord.created_at, MessageRecord.role.desc())
        ).all()
        assert roles.count("shopper") == 3 and roles.count("assistant") == 3
        decisions = session.scalar(
            select(func.count())
            .select_from(DecisionRecord)
            .where(DecisionRecord.session_id == first.session_id)
        )
        impressions = session.scalar(select(func.count()).select_from(ImpressionRecord))
    assert decisions == 2 and impressions == len(first.recommendations) + len(
        second.recommendations
    )


def test_an_unknown_session_writes_nothing_on_both_engines(assistant: Assistant) -> None:
    with pytest.raises(UnknownEntityError, match="unknown session"):
        assistant.turn("shopper-2", "running shoes", session_id="missing", now=NOW)
    with assistant.shop.sessions() as session:
        assert session.scalar(select(func.count()).select_from(MessageRecord)) == 0
        assert session.scalar(select(func.count()).select_from(SessionRecord)) == 0
