"""Inputs that used to slip past validation or crash a turn, answered as the contract says.

Regressions: a message of at most 2,000 characters that NFKC lengthens past the limit ("ﷺ" is
18 characters once normalized) was refused as too long; an amount beyond the decimal context
("under 99999999999999999999999999999999 dollars") raised out of the turn; a token whose
``sub`` ended in a newline passed the user-id check (``$`` matches before a final newline).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from assistant.app import Shop
from assistant.store import load_activities
from assistant.store.models import MessageRecord, UserRecord

from .test_api import error_of, sse_events

GROWS = "ﷺ" * 150 + " running shoes under ５０ dollars"  # 182 characters; NFKC: 2,732


def _stored(shop: Shop, session_id: str) -> list[str]:
    with shop.sessions() as session:
        return list(
            session.scalars(
                select(MessageRecord.text).where(MessageRecord.session_id == session_id)
            ).all()
        )


def _coupon(shop: Shop) -> str:
    with shop.sessions() as session:
        return next(a.id for a in load_activities(session) if a.type.claimable)


def test_a_message_that_grows_when_normalized_is_answered_within_the_limit(
    client: TestClient, shop: Shop
) -> None:
    r = client.post("/v1/chat", json={"user_id": "u-grows", "message": GROWS})
    assert r.status_code == 200, r.text
    body = r.json()
    # Nothing dropped: the full-width budget at the end was still read.
    assert body["intent"]["max_price"] == "50.00"
    stored = _stored(shop, body["session_id"])
    assert stored and all(len(text) <= 2000 for text in stored)
    assert any(text.startswith("ﷺ") and text.endswith("under 50 dollars") for text in stored)


def test_a_message_that_grows_when_normalized_streams_and_completes(client: TestClient) -> None:
    with client.stream(
        "POST", "/v1/chat/stream", json={"user_id": "u-grows", "message": GROWS}
    ) as r:
        assert r.status_code == 200
        events = sse_events(r.read().decode())
    assert events[-1][0] == "result", events[-1]
    assert events[-1][1]["intent"]["max_price"] == "50.00"
    done = client.post(
        "/v1/chat/completions",
        json={
            "model": "shopassist",
            "user": "u-grows",
            "messages": [{"role": "user", "content": GROWS}],
        },
    )
    assert done.status_code == 200, done.text
    assert done.json()["shopassist"]["intent"]["max_price"] == "50.00"


@pytest.mark.parametrize(
    "message",
    [
        "running shoes under 99999999999999999999999999999999 dollars",
        "running shoes between 5 and 99999999999999999999999999999999",
    ],
)
def test_a_budget_beyond_any_price_bounds_nothing(client: TestClient, message: str) -> None:
    r = client.post("/v1/chat", json={"user_id": "u-huge", "message": message})
    assert r.status_code == 200, r.text
    assert r.json()["intent"]["max_price"] is None


@pytest.mark.parametrize("subject", ["alice\n", "alice\r\n"])
def test_a_token_subject_ending_in_a_newline_is_not_a_user(
    secure_client: TestClient, token: Callable[..., str], shop: Shop, subject: str
) -> None:
    headers = {"Authorization": f"Bearer {token(subject)}"}
    r = secure_client.post("/v1/chat", json={"message": "running shoes"}, headers=headers)
    assert "must be 1-128 letters, digits or ._:@-" in error_of(r, 422, "invalid")
    r = secure_client.post(
        "/v1/claims",
        json={"activity_id": _coupon(shop), "idempotency_key": "k-newline"},
        headers=headers,
    )
    assert "must be 1-128 letters, digits or ._:@-" in error_of(r, 422, "invalid")
    with shop.sessions() as session:
        assert session.get(UserRecord, subject) is None
