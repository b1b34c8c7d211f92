"""Claims, feedback and session history over HTTP, checked against the SQL store."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from assistant.app import Shop
from assistant.store import (
    ActivityRecord,
    ActivityRevisionRecord,
    ClaimRecord,
    FeedbackRecord,
)

from .conftest import Clock
from .test_api import RUNNING, error_of

COUPONS = "casual shoes under $70 with a coupon"


def _coupons(client: TestClient, user: str) -> list[dict[str, Any]]:
    body = client.post("/v1/chat", json={"user_id": user, "message": COUPONS}).json()
    found = [r for r in body["recommendations"] if r["kind"] == "activity" and r["needs_claim"]]
    assert len(found) >= 2, body
    return found


def _claim(client: TestClient, user: str, activity: str, key: str | None = None) -> Any:
    return client.post(
        "/v1/claims",
        json={"user_id": user, "activity_id": activity, "idempotency_key": key or uuid.uuid4().hex},
    )


def test_a_claim_is_201_and_the_same_key_returns_the_same_claim(
    client: TestClient, shop: Shop
) -> None:
    coupon = _coupons(client, "api-claimer")[0]["id"]
    first = _claim(client, "api-claimer", coupon, "key-1")
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["code"].startswith("SA-") and body["amount"] and body["valid_until"].endswith("Z")
    again = _claim(client, "api-claimer", coupon, "key-1")
    assert again.status_code == 201 and again.json() == body
    assert again.headers["idempotent-replayed"] == "true"
    with shop.sessions() as session:
        count = session.scalar(
            select(func.count())
            .select_from(ClaimRecord)
            .where(ClaimRecord.user_id == "api-claimer")
        )
    assert count == 1


def test_claim_refusals_are_409_with_their_codes(
    client: TestClient, shop: Shop, clock: Clock
) -> None:
    first, second = (c["id"] for c in _coupons(client, "api-refused")[:2])
    with shop.sessions() as session:
        limit = session.scalar(
            select(ActivityRevisionRecord.per_user_limit)
            .join(ActivityRecord, ActivityRecord.id == ActivityRevisionRecord.activity_id)
            .where(
                ActivityRecord.id == first,
                ActivityRevisionRecord.revision == ActivityRecord.current_revision,
            )
        )
    for _ in range(limit or 1):
        assert _claim(client, "api-refused", first).status_code == 201
    error_of(_claim(client, "api-refused", first), 409, "per_user_limit")

    with shop.sessions.begin() as session:
        budget = session.scalar(
            select(ActivityRevisionRecord.budget)
            .join(ActivityRecord, ActivityRecord.id == ActivityRevisionRecord.activity_id)
            .where(
                ActivityRecord.id == second,
                ActivityRevisionRecord.revision == ActivityRecord.current_revision,
            )
        )
        assert budget is not None
        session.execute(
            update(ActivityRecord).where(ActivityRecord.id == second).values(budget_reserved=budget)
        )
    try:
        error_of(_claim(client, "api-other", second), 409, "budget_exhausted")
    finally:
        with shop.sessions.begin() as session:
            session.execute(
                update(ActivityRecord).where(ActivityRecord.id == second).values(budget_reserved=0)
            )

    with shop.sessions() as session:
        flash = session.scalar(
            select(ActivityRevisionRecord.activity_id).where(
                ActivityRevisionRecord.type == "flash_sale"
            )
        )
    assert flash is not None
    error_of(_claim(client, "api-other", flash), 409, "not_eligible")

    clock.now += timedelta(days=3650)
    error_of(_claim(client, "api-later", second), 409, "expired")


def test_bad_claims_get_the_error_shape(client: TestClient) -> None:
    error_of(_claim(client, "api-claimer", "no-such-activity"), 404, "not_found")
    error_of(client.post("/v1/claims", json={"user_id": "u", "activity_id": "a"}), 422)
    r = client.post("/v1/claims", json={"user_id": "u", "activity_id": "a", "idempotency_key": ""})
    error_of(r, 422)


def _feedback_rows(shop: Shop, event_id: str) -> int:
    with shop.sessions() as session:
        count = session.scalar(
            select(func.count())
            .select_from(FeedbackRecord)
            .where(FeedbackRecord.event_id == event_id)
        )
    return count or 0


def test_feedback_is_recorded_once_per_event_id(client: TestClient, shop: Shop) -> None:
    body = client.post("/v1/chat", json={"user_id": "api-fb", "message": RUNNING}).json()
    impression = body["recommendations"][0]["impression_id"]
    event = {
        "event_id": uuid.uuid4().hex,
        "impression_id": impression,
        "type": "purchase",
        "value": "59.90",
        "order_id": "o-1",
        "quantity": 1,
    }
    first = client.post("/v1/feedback", json=event)
    second = client.post("/v1/feedback", json=event)
    assert (first.status_code, second.status_code) == (200, 200)
    assert first.json()["recorded"] is True and second.json()["recorded"] is False
    assert _feedback_rows(shop, event["event_id"]) == 1
    with shop.sessions() as session:
        row = session.get(FeedbackRecord, event["event_id"])
        assert row is not None and row.value == 5990 and row.type == "purchase"


def test_concurrent_feedback_on_sqlite_is_all_recorded(live_url: str, shop: Shop) -> None:
    """Regression: concurrent POST /v1/feedback failed with "database is locked" on SQLite (a
    read transaction could not be upgraded to a write once another writer had committed)."""
    body = httpx.post(
        f"{live_url}/v1/chat", json={"user_id": "api-fb-many", "message": RUNNING}, timeout=60
    ).json()
    impressions = [r["impression_id"] for r in body["recommendations"]]
    events = [
        {
            "event_id": uuid.uuid4().hex,
            "impression_id": impressions[i % len(impressions)],
            "type": "click",
        }
        for i in range(8)
    ]
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(
            pool.map(
                lambda e: httpx.post(f"{live_url}/v1/feedback", json=e, timeout=60).status_code,
                events,
            )
        )
    assert statuses == [200] * 8
    assert sum(_feedback_rows(shop, e["event_id"]) for e in events) == 8


def test_bad_feedback_is_4xx_and_writes_nothing(
    client: TestClient, shop: Shop, secure_client: TestClient, token: Callable[..., str]
) -> None:
    body = client.post("/v1/chat", json={"user_id": "api-fb2", "message": RUNNING}).json()
    impression = body["recommendations"][0]["impression_id"]
    cases = [
        ({"event_id": "e1", "impression_id": "nope", "type": "teleport"}, 422),
        ({"event_id": "e2", "impression_id": "nope", "type": "click"}, 404),
        ({"event_id": "e3", "impression_id": impression, "type": "purchase", "value": 1.5}, 422),
        (
            {"event_id": "e4", "impression_id": impression, "type": "purchase", "value": "1.234"},
            422,
        ),
        ({"event_id": "e5", "impression_id": impression, "type": "claim", "claim_id": "x"}, 404),
        ({"event_id": "", "impression_id": impression, "type": "click"}, 422),
    ]
    for event, status in cases:
        error_of(client.post("/v1/feedback", json=event), status)
        assert _feedback_rows(shop, event["event_id"]) == 0
    other = {"Authorization": f"Bearer {token('api-not-the-shopper')}"}
    event = {"event_id": "e6", "impression_id": impression, "type": "click"}
    error_of(secure_client.post("/v1/feedback", json=event, headers=other), 403, "forbidden")
    error_of(secure_client.post("/v1/feedback", json=event), 401, "missing_token")
    owner = {"Authorization": f"Bearer {token('api-fb2')}"}
    assert secure_client.post("/v1/feedback", json=event, headers=owner).status_code == 200


def test_a_session_is_shown_to_its_user_and_agents_only(
    secure_client: TestClient, client: TestClient, token: Callable[..., str]
) -> None:
    me = {"Authorization": f"Bearer {token('api-history')}"}
    first = secure_client.post("/v1/chat", json={"message": RUNNING}, headers=me).json()
    secure_client.post(
        "/v1/chat", json={"session_id": first["session_id"], "message": "under 60"}, headers=me
    )
    path = f"/v1/sessions/{first['session_id']}"
    r = secure_client.get(path, headers=me)
    assert r.status_code == 200, r.text
    history = r.json()
    assert history["user_id"] == "api-history" and len(history["turns"]) == 2
    opening = history["turns"][0]
    assert [m["role"] for m in opening["messages"]] == ["shopper", "assistant"]
    assert opening["messages"][0]["text"] == RUNNING
    shown = [rec["impression_id"] for rec in opening["recommendations"]]
    assert shown == [rec["impression_id"] for rec in first["recommendations"]]
    assert all(rec["title"] for rec in opening["recommendations"])

    stranger = {"Authorization": f"Bearer {token('api-stranger')}"}
    error_of(secure_client.get(path, headers=stranger), 403, "forbidden")
    agent = {"Authorization": f"Bearer {token('agent-7', role='agent')}"}
    assert secure_client.get(path, headers=agent).status_code == 200
    error_of(secure_client.get(path), 401, "missing_token")
    error_of(secure_client.get("/v1/sessions/no-such-session", headers=me), 404, "not_found")
    # dev: no token, the owner named in the query
    assert client.get(path, params={"user_id": "api-history"}).status_code == 200
    error_of(client.get(path, params={"user_id": "api-stranger"}), 403, "forbidden")
    error_of(client.get(path), 401, "missing_token")
