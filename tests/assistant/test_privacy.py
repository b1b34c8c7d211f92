"""Forgetting a user (assistant.privacy) on SQLite and on the local PostgreSQL (``db_url``).

A user with sessions, messages, decisions, impressions, feedback, claims and a cart is
forgotten; then no row anywhere (every table and column, scanned from the models' metadata)
holds their id or their words, their events are all still there under one fresh pseudonym,
the budgets are as they were, and another user is untouched.
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, update

from assistant.app import Shop
from assistant.config import Settings
from assistant.errors import UnknownEntityError, ValidationError
from assistant.privacy import PSEUDONYM_PREFIX, forget_user
from assistant.store import (
    ActivityRecord,
    Base,
    DecisionRecord,
    FeedbackEvent,
    ImpressionRecord,
    MessageRecord,
    SessionRecord,
    UserData,
    UserRecord,
    budget_left,
    get_or_create_user,
    make_engine,
    record_feedback,
    upsert_users,
)
from tests.conftest import Dump, dump_store
from ui.cli import build_parser

NOW = datetime(2030, 1, 15, 12, tzinfo=UTC)
JAN = ["2030-01-01T00:00:00Z", "2030-02-01T00:00:00Z"]
ACTIVITIES: list[dict[str, Any]] = [
    {
        "id": "C10",
        "type": "coupon",
        "scope": {"all": True},
        "amount": "10.00",
        "budget": "100.00",
        "window": JAN,
    },
    {
        "id": "C5",
        "type": "coupon",
        "scope": {"all": True},
        "amount": "5.00",
        "per_user_limit": 1,
        "budget": "50.00",
        "window": JAN,
    },
]
PRODUCTS = [
    {"id": p, "title": f"Stride Run {p}", "category": "shoes/running", "brand": "Stride",
     "price": "60.00"}
    for p in ("P1", "P2")
]  # fmt: skip

ALICE = "Alice.Liddell@example.com"
BOB = "bob-42"
# Words only Alice wrote (and what the session made of them): none may survive the forget.
ALICE_WORDS = {
    "secret": "Dinah",
    "address": "12 Rabbit Hole Lane",
    "segment": "segment:vip-wonderland",
    "dislike": "rabbit hutches",
    "order": "order-of-alice",
}
BOB_WORDS = {
    "secret": "Bill the Lizard",
    "address": "3 Chimney Row",
    "segment": "segment:chimney-sweeps",
    "dislike": "ladders",
    "order": "order-of-bob",
}


def _write(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


@pytest.fixture
def shop(db_url: str, settings: Settings, tmp_path: Path) -> Shop:
    shop = Shop(settings, make_engine(db_url))
    shop.import_catalog(_write(tmp_path / "products.jsonl", PRODUCTS))
    shop.import_catalog(_write(tmp_path / "activities.jsonl", ACTIVITIES))
    return shop


def _seed(shop: Shop, user: str, words: dict[str, str]) -> list[str]:
    """Two sessions of two turns' worth of rows each, two claims and four feedback events.

    Client-chosen strings (idempotency keys, event ids, the order id) embed the user id, as
    real clients' often do. Returns the session ids.
    """
    secret = words["secret"]
    with shop.sessions.begin() as session:
        upsert_users(
            session,
            [UserData(user, segments=(words["segment"],), member=True, locale="en-GB")],
            now=NOW - timedelta(days=30),
        )
    with shop.sessions.begin() as session:
        session.execute(
            update(UserRecord)
            .where(UserRecord.id == user)
            .values(preferences={"personalization": False, "not_interested": [words["dislike"]]})
        )
    claims = [
        shop.claim(user, "C10", f"{user}:C10", now=NOW),
        shop.claim(user, "C5", f"{user}:C5", now=NOW),
    ]
    sessions, impressions = [], []
    with shop.sessions.begin() as session:
        for n in range(2):
            sid, turn, decision = (uuid.uuid4().hex for _ in range(3))
            sessions.append(sid)
            when = NOW + timedelta(minutes=n)
            session.add(
                SessionRecord(
                    id=sid,
                    user_id=user,
                    created_at=when,
                    updated_at=when,
                    state={"query": f"gift for {secret}", "recipient": secret, "turns": 1},
                    handoff=True,
                    agent_active=n == 1,
                    summary=f"looking for a gift for {secret}",
                )
            )
            session.flush()
            for role, text in (
                ("shopper", f"ship to {words['address']}, a gift for {secret}"),
                ("assistant", f"Here are gifts for {secret}"),
            ):
                session.add(
                    MessageRecord(
                        id=uuid.uuid4().hex,
                        session_id=sid,
                        turn_id=turn,
                        role=role,
                        text=text,
                        created_at=when,
                    )
                )
            session.add(
                DecisionRecord(
                    id=decision,
                    turn_id=turn,
                    session_id=sid,
                    user_id=user,
                    created_at=when,
                    candidate_ids=["P1", "P2"],
                    scores=[0.9, 0.8],
                    propensities=[1.0, 1.0],
                    chosen_ids=["P1", "P2"],
                    positions=[0, 1],
                    ranker_version="r1",
                    policy_version="p1",
                    params_version="-",
                    context={"action": "recommend"},
                )
            )
            session.flush()
            for position, item in enumerate(("P1", "P2")):
                impressions.append(uuid.uuid4().hex)
                session.add(
                    ImpressionRecord(
                        id=impressions[-1],
                        decision_id=decision,
                        position=position,
                        kind="product",
                        item_id=item,
                        activity_ids=[],
                        propensity=1.0,
                        created_at=when,
                    )
                )
        session.flush()
        events = [
            FeedbackEvent(f"{user}-click", impressions[0], "click"),
            FeedbackEvent(f"{user}-cart", impressions[0], "add_to_cart", quantity=2),
            FeedbackEvent(f"{user}-claim", impressions[1], "claim", claim_id=claims[0].claim_id),
            FeedbackEvent(f"{user}-buy", impressions[2], "purchase", order_id=words["order"],
                          value=5000),
        ]  # fmt: skip
        for event in events:
            assert record_feedback(session, replace(event, created_at=NOW))
    return sessions


def _rows_holding(dump: Dump, needles: list[str]) -> dict[str, list[str]]:
    """Per table, every row (as JSON) that holds one of ``needles``, case-insensitively."""
    lowered = [n.lower() for n in needles]
    found: dict[str, list[str]] = {}
    for table, rows in dump.items():
        for row in rows:
            text = json.dumps(row, default=str, ensure_ascii=False)
            if any(n in text.lower() for n in lowered):
                found.setdefault(table, []).append(text)
    return found


def _count(engine: Engine, model: Any) -> int:
    with engine.connect() as connection:
        return int(connection.scalar(select(func.count()).select_from(model)) or 0)


def _budgets(shop: Shop) -> dict[str, Any]:
    with shop.sessions() as session:
        reserved = {a.id: a.budget_reserved for a in session.scalars(select(ActivityRecord))}
        return {"reserved": reserved, "left": budget_left(session, ["C10", "C5"])}


def test_forgetting_leaves_no_trace_of_the_person_and_keeps_every_event(
    shop: Shop, caplog: pytest.LogCaptureFixture
) -> None:
    alice_sessions = _seed(shop, ALICE, ALICE_WORDS)
    bob_sessions = _seed(shop, BOB, BOB_WORDS)
    tables = list(Base.metadata.sorted_tables)
    counts = {t.name: _count(shop.engine, t) for t in tables}
    budgets = _budgets(shop)
    before = dump_store(shop.engine)
    assert _rows_holding(before, [ALICE]).keys() >= {"users", "sessions", "decisions", "claims"}
    bob_rows = _rows_holding(before, [BOB, *bob_sessions])

    with caplog.at_level(logging.DEBUG):
        report = forget_user(shop, ALICE)

    assert report.deleted == {"messages": 4, "cart_items": 1, "carts": 1, "users": 1}
    assert report.anonymized == {
        "sessions": 2,
        "decisions": 2,
        "impressions": 4,
        "feedback_events": 4,
        "claims": 2,
        "users": 1,
    }
    after = dump_store(shop.engine)
    # No row of any table holds the id (in any case) or a word of Alice's.
    assert _rows_holding(after, [ALICE, *ALICE_WORDS.values()]) == {}
    assert not any(ALICE.lower() in r.getMessage().lower() for r in caplog.records)
    # Every event is still there; only her messages, cart and user row went.
    gone = {"messages": 4, "cart_items": 1, "carts": 1}
    assert {t.name: _count(shop.engine, t) for t in tables} == {
        name: n - gone.get(name, 0) for name, n in counts.items()
    }
    # ... under one pseudonym, which kept the coarse flags and dropped the personal fields.
    pseudonyms = [u for u in after["users"] if u["id"].startswith(PSEUDONYM_PREFIX)]
    assert len(pseudonyms) == 1
    pseudonym = pseudonyms[0]
    assert len(pseudonym["id"]) == len(PSEUDONYM_PREFIX) + 32
    assert (pseudonym["member"], pseudonym["new_user"]) == (True, False)
    assert (pseudonym["segments"], pseudonym["locale"], pseudonym["preferences"]) == ([], None, {})
    with shop.sessions() as session:
        owned = {
            model.__tablename__: set(
                session.scalars(select(model.user_id).where(model.user_id != BOB))
            )
            for model in (SessionRecord, DecisionRecord)
        }
        assert owned == {"sessions": {pseudonym["id"]}, "decisions": {pseudonym["id"]}}
        for sid in alice_sessions:
            record = session.get(SessionRecord, sid)
            assert record is not None
            assert (record.state, record.summary, record.handoff, record.agent_active) == (
                {},
                "",
                False,
                False,
            )
    claims = [c for c in after["claims"] if c["user_id"] == pseudonym["id"]]
    assert sorted(c["code"] for c in claims) == sorted(
        c["code"] for c in before["claims"] if c["user_id"] == ALICE
    )
    purchases = [f for f in after["feedback_events"] if f["type"] == "purchase"]
    assert sorted((f["value"], f["order_id"] or "") for f in purchases) == [
        (5000, ""),
        (5000, "order-of-bob"),
    ]
    # Budgets are as they were, and so is every row of Bob's.
    assert _budgets(shop) == budgets
    assert _rows_holding(after, [BOB, *bob_sessions]) == bob_rows

    with pytest.raises(UnknownEntityError, match=r"unknown user .*already forgotten"):
        forget_user(shop, ALICE)
    with pytest.raises(ValidationError, match="pseudonym of a user forgotten earlier"):
        forget_user(shop.engine, pseudonym["id"])
    shop.engine.dispose()


def _fail() -> Any:
    raise RuntimeError("the disk caught fire")


def test_each_forget_draws_a_new_pseudonym_and_pseudonyms_stay_reserved(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    firsts = []
    for n in range(2):
        # The same person comes back after being forgotten, and is forgotten again.
        _seed(shop, ALICE, ALICE_WORDS)
        if n == 0:  # a failure half-way (after the deletes) changes nothing
            before = dump_store(shop.engine)
            monkeypatch.setattr("assistant.privacy._user_columns", _fail)
            with pytest.raises(RuntimeError, match="fire"):
                forget_user(shop, ALICE)
            assert dump_store(shop.engine) == before
            monkeypatch.undo()
        forget_user(shop, ALICE)
        with shop.sessions() as session:
            firsts.append(
                set(session.scalars(select(UserRecord.id).where(UserRecord.id.like("forgotten-%"))))
            )
    assert len(firsts[0]) == 1 and len(firsts[1]) == 2 and firsts[0] < firsts[1]
    reserved = next(iter(firsts[0]))
    with shop.sessions.begin() as session, pytest.raises(ValidationError, match="reserved"):
        get_or_create_user(session, reserved)
    with pytest.raises(UnknownEntityError, match=r"unknown user 'nobody'"):
        forget_user(shop, "nobody")
    shop.engine.dispose()


@pytest.mark.parametrize("words", [["users"], ["users", "forget"]])
def test_the_users_commands_have_help(words: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        build_parser().parse_args([*words, "--help"])
    assert done.value.code == 0
    assert "usage: shopassist users" in capsys.readouterr().out
