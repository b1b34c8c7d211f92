"""``/v1/chat`` and ``/v1/chat/stream`` through create_app: the contract's shape, streaming, and
every kind of bad input answered with the JSON error shape (never a 500)."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient

RUNNING = "running shoes under $80"


def error_of(response: Any, status: int, code: str | None = None) -> str:
    """Assert the status and the contract's error shape; returns the message."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    if code is not None:
        assert body["error"]["code"] == code, body
    message: str = body["error"]["message"]
    assert message
    return message


def sse_events(text: str) -> list[tuple[str, dict[str, Any]]]:
    events = []
    for block in text.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((lines["event"], json.loads(lines["data"])))
    return events


def test_chat_returns_the_contract_shape_with_recommendations(client: TestClient) -> None:
    r = client.post(
        "/v1/chat",
        json={"user_id": "api-shape", "session_id": None, "message": RUNNING, "locale": None},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    for key in ("session_id", "turn_id", "reply", "handoff", "agent_active", "intent"):
        assert key in body
    assert body["intent"]["max_price"] == "80.00" and body["intent"]["language"] == "en"
    assert body["reply"] and not body["handoff"] and not body["agent_active"]
    recs = body["recommendations"]
    assert len(recs) == 3
    for rec in recs:
        for key in ("impression_id", "kind", "id", "title", "reason", "url", "needs_claim"):
            assert key in rec
        assert rec["kind"] == "product" and rec["currency"] == "USD"
        assert Decimal(rec["final_price"]) <= Decimal(rec["price"])
        assert Decimal(rec["final_price"]) <= 80


def test_a_session_continues_with_its_slots(client: TestClient) -> None:
    first = client.post("/v1/chat", json={"user_id": "api-cont", "message": RUNNING}).json()
    second = client.post(
        "/v1/chat",
        json={"user_id": "api-cont", "session_id": first["session_id"], "message": "under 60"},
    ).json()
    assert second["session_id"] == first["session_id"]
    assert second["intent"]["categories"] == ["shoes/running"]
    assert second["intent"]["max_price"] == "60.00"


def test_the_host_sites_cart_is_priced(client: TestClient) -> None:
    found = client.post("/v1/chat", json={"user_id": "api-cart", "message": RUNNING}).json()
    product = found["recommendations"][0]["id"]
    r = client.post(
        "/v1/chat",
        json={
            "user_id": "api-cart",
            "message": "kitchen knives",
            "cart": [{"product_id": product, "quantity": 2}],
        },
    )
    assert r.status_code == 200, r.text
    bad = {
        "user_id": "api-cart",
        "message": "knives",
        "cart": [{"product_id": "nope", "quantity": 1}],
    }
    error_of(client.post("/v1/chat", json=bad), 422, "bad_cart")


def test_stream_sends_tokens_then_the_full_result(client: TestClient) -> None:
    with client.stream(
        "POST", "/v1/chat/stream", json={"user_id": "api-sse", "message": RUNNING}
    ) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        events = sse_events(r.read().decode())
    kinds = [kind for kind, _ in events]
    assert kinds[-1] == "result" and kinds.count("result") == 1
    assert kinds[:-1] and set(kinds[:-1]) == {"token"}
    result = events[-1][1]
    assert len(result["recommendations"]) == 3
    assert "".join(data["text"] for kind, data in events[:-1]) == result["reply"]


def test_stream_refuses_bad_requests_before_it_starts(client: TestClient) -> None:
    r = client.post(
        "/v1/chat/stream", json={"user_id": "api-sse", "session_id": "nope", "message": "hi"}
    )
    error_of(r, 404, "not_found")
    error_of(client.post("/v1/chat/stream", json={"user_id": "u", "message": "x" * 2001}), 422)


def test_stream_reports_a_failing_turn_as_an_error_event(client: TestClient) -> None:
    bad = {
        "user_id": "api-sse",
        "message": "shoes",
        "cart": [{"product_id": "nope", "quantity": 1}],
    }
    with client.stream("POST", "/v1/chat/stream", json=bad) as r:
        events = sse_events(r.read().decode())
    assert events == [
        ("error", {"error": {"code": "bad_cart", "message": events[0][1]["error"]["message"]}})
    ]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"user_id": "u-bad", "message": "y" * 2001}, 422, "message_too_long"),
        ({"user_id": "u-bad", "message": "x" * 200_000}, 413, "body_too_large"),
        ({"user_id": "u-bad", "message": ""}, 422, "invalid_request"),
        ({"user_id": "u-bad", "message": "   "}, 422, "invalid"),
        ({"user_id": "u-bad"}, 422, "invalid_request"),
        ({"user_id": "bad id!", "message": "hi"}, 422, "invalid_request"),
        ({"user_id": "u-bad", "message": 5}, 422, "invalid_request"),
        ({"user_id": "u-bad", "message": "hi", "cart": [{"product_id": "p"}]}, 422, None),
        ({"message": "hi"}, 422, "invalid_request"),
        ({"user_id": "u-bad", "session_id": "no-such-session", "message": "hi"}, 404, "not_found"),
        ([1, 2], 422, "invalid_request"),
    ],
    ids=[
        "too-long",
        "oversize",
        "empty",
        "blank",
        "no-message",
        "bad-user-id",
        "not-a-string",
        "bad-cart",
        "no-user-in-dev",
        "unknown-session",
        "not-an-object",
    ],
)
def test_bad_chat_input_gets_the_error_shape(
    client: TestClient, body: Any, status: int, code: str | None
) -> None:
    error_of(client.post("/v1/chat", json=body), status, code)


@pytest.mark.parametrize(
    "raw", [b"{not json", b"", b"\xff\xfe", b'{"user_id": "u", "message": "hi"'], ids=repr
)
def test_malformed_json_is_422(client: TestClient, raw: bytes) -> None:
    r = client.post("/v1/chat", content=raw, headers={"Content-Type": "application/json"})
    error_of(r, 422)


def test_oversize_chunked_body_is_413(client: TestClient) -> None:
    def chunks() -> Any:
        for _ in range(100):
            yield b"x" * 1024

    r = client.post("/v1/chat", content=chunks(), headers={"Content-Type": "application/json"})
    error_of(r, 413, "body_too_large")


def test_another_users_session_is_403(client: TestClient) -> None:
    mine = client.post("/v1/chat", json={"user_id": "api-owner", "message": RUNNING}).json()
    r = client.post(
        "/v1/chat",
        json={"user_id": "api-intruder", "session_id": mine["session_id"], "message": "hi"},
    )
    error_of(r, 403, "forbidden")


def test_unknown_routes_and_methods_get_the_error_shape(client: TestClient) -> None:
    error_of(client.get("/v1/nothing"), 404, "not_found")
    error_of(client.get("/v1/chat"), 405, "method_not_allowed")


# --- identity ------------------------------------------------------------------------------------


def test_signed_tokens_are_required_outside_dev(
    secure_client: TestClient, token: Callable[..., str]
) -> None:
    body = {"user_id": "api-jwt", "message": RUNNING}
    assert "Bearer" in error_of(secure_client.post("/v1/chat", json=body), 401, "missing_token")
    r = secure_client.post(
        "/v1/chat", json=body, headers={"Authorization": f"Bearer {token('api-jwt')}"}
    )
    assert r.status_code == 200, r.text
    no_user = secure_client.post(
        "/v1/chat",
        json={"message": RUNNING},
        headers={"Authorization": f"Bearer {token('api-jwt')}"},
    )
    assert no_user.status_code == 200  # the user is the token's subject


@pytest.mark.parametrize(
    ("header", "code"),
    [
        ("Bearer not-a-jwt", "invalid_token"),
        ("Basic dXNlcjpwdw==", "invalid_token"),
        ("Bearer ", "invalid_token"),
    ],
)
def test_bad_tokens_are_401(secure_client: TestClient, header: str, code: str) -> None:
    r = secure_client.post(
        "/v1/chat", json={"user_id": "u", "message": "hi"}, headers={"Authorization": header}
    )
    error_of(r, 401, code)
    assert r.headers["www-authenticate"] == "Bearer"


def test_expired_and_foreign_tokens_are_401(
    secure_client: TestClient, token: Callable[..., str]
) -> None:
    from ui.api import mint_token

    expired = token("u", ttl_s=-3600)
    forged = mint_token("another-secret-of-some-other-shop!!", "u")
    for bad, code in ((expired, "token_expired"), (forged, "invalid_token")):
        r = secure_client.post(
            "/v1/chat",
            json={"user_id": "u", "message": "hi"},
            headers={"Authorization": f"Bearer {bad}"},
        )
        error_of(r, 401, code)


def test_a_body_user_other_than_the_subject_is_403(
    secure_client: TestClient, client: TestClient, token: Callable[..., str]
) -> None:
    headers = {"Authorization": f"Bearer {token('api-me')}"}
    for c in (secure_client, client):  # a token is honoured in dev too
        r = c.post("/v1/chat", json={"user_id": "api-you", "message": "hi"}, headers=headers)
        error_of(r, 403, "forbidden")


def test_dev_mode_still_rejects_a_bad_jwt(client: TestClient) -> None:
    from ui.api import mint_token

    forged = mint_token("another-secret-of-some-other-shop!!", "u")
    r = client.post(
        "/v1/chat",
        json={"user_id": "u", "message": "hi"},
        headers={"Authorization": f"Bearer {forged}"},
    )
    error_of(r, 401, "invalid_token")


def test_dev_mode_takes_a_placeholder_api_key_as_no_token(client: TestClient) -> None:
    r = client.post(
        "/v1/chat",
        json={"user_id": "u-placeholder", "message": "hi"},
        headers={"Authorization": "Bearer EMPTY"},
    )
    assert r.status_code == 200, r.text
