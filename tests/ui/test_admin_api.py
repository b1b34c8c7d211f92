"""Forgetting a user over HTTP (``DELETE /v1/admin/users/{user_id}``, staff only) and with
``shopassist users forget``, after real turns, a claim and feedback on the served demo world."""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import JSON, String, Text, cast, func, or_, select

from assistant.app import Shop
from assistant.config import get_settings
from assistant.store import Base, ClaimRecord, UserRecord
from ui.api import mint_token
from ui.cli import main

from .test_api import RUNNING, error_of

COUPONS = "casual shoes under $70 with a coupon"


def _shop_for(user: str, client: TestClient, headers: dict[str, str] | None = None) -> str:
    """Two turns, a click and a coupon claim for ``user``; returns the first session id."""
    body = {} if headers else {"user_id": user}
    first = client.post("/v1/chat", json={**body, "message": RUNNING}, headers=headers).json()
    client.post(
        "/v1/chat",
        json={**body, "session_id": first["session_id"], "message": COUPONS},
        headers=headers,
    )
    click = {
        "event_id": f"{user}-click",
        "impression_id": first["recommendations"][0]["impression_id"],
        "type": "click",
    }
    assert client.post("/v1/feedback", json=click, headers=headers).status_code == 200
    coupons = client.post("/v1/chat", json={**body, "message": COUPONS}, headers=headers).json()
    coupon = next(r for r in coupons["recommendations"] if r["needs_claim"])
    claim = {**body, "activity_id": coupon["id"], "idempotency_key": f"{user}-claim"}
    assert client.post("/v1/claims", json=claim, headers=headers).status_code == 201
    session_id: str = first["session_id"]
    return session_id


def _traces(shop: Shop, user: str) -> dict[str, int]:
    """Per table, how many rows hold ``user`` in any text or JSON column, case-insensitively.

    Every table and column of the models, searched in SQL (the served world is too big to dump
    for each check).
    """
    found: dict[str, int] = {}
    with shop.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            columns = [c for c in table.columns if isinstance(c.type, String | JSON)]
            matches = [func.lower(cast(c, Text)).contains(user.lower()) for c in columns]
            query = select(func.count()).select_from(table).where(or_(*matches))
            if n := connection.scalar(query):
                found[table.name] = n
    return found


def test_staff_forget_a_user_and_everyone_else_is_refused(
    secure_client: TestClient, client: TestClient, token: Callable[..., str], shop: Shop
) -> None:
    user = f"forget-me-{uuid.uuid4().hex[:8]}"
    me = {"Authorization": f"Bearer {token(user)}"}
    session_id = _shop_for(user, secure_client, me)
    assert _traces(shop, user).keys() >= {"users", "sessions", "decisions", "claims"}
    path = f"/v1/admin/users/{user}"

    error_of(secure_client.delete(path), 401, "missing_token")
    error_of(client.delete(path), 401, "missing_token")  # dev mode: never unsigned
    error_of(client.delete(path, headers={"Authorization": "Bearer dev"}), 401, "invalid_token")
    error_of(secure_client.delete(path, headers=me), 403, "forbidden")
    agent = {"Authorization": f"Bearer {token('agent-7', role='agent')}"}
    error_of(secure_client.delete(path, headers=agent), 403, "forbidden")
    forged = mint_token("x" * 32, "staff-ann", role="admin")
    error_of(
        secure_client.delete(path, headers={"Authorization": f"Bearer {forged}"}),
        401,
        "invalid_token",
    )
    expired = token("staff-ann", role="admin", ttl_s=-600)
    error_of(
        secure_client.delete(path, headers={"Authorization": f"Bearer {expired}"}),
        401,
        "token_expired",
    )
    assert _traces(shop, user)  # nothing was done by the refused calls

    admin = {"Authorization": f"Bearer {token('staff-ann', roles=['agent', 'admin'])}"}
    r = secure_client.delete(path, headers=admin)
    assert r.status_code == 200, r.text
    counts = r.json()
    assert counts["deleted"] == {"messages": 6, "cart_items": 0, "carts": 0, "users": 1}
    assert counts["anonymized"]["sessions"] == 2
    assert counts["anonymized"]["decisions"] == 3
    assert counts["anonymized"]["impressions"] >= 3
    assert (counts["anonymized"]["feedback_events"], counts["anonymized"]["claims"]) == (1, 1)
    assert _traces(shop, user) == {}
    with shop.sessions() as session:
        claim = session.scalar(select(ClaimRecord).where(ClaimRecord.user_id.like("forgotten-%")))
        assert claim is not None and claim.code.startswith("SA-") and claim.amount > 0

    # The shopper's old session is no longer theirs; the id is unknown now.
    error_of(secure_client.get(f"/v1/sessions/{session_id}", headers=me), 403, "forbidden")
    message = error_of(secure_client.delete(path, headers=admin), 404, "not_found")
    assert "already forgotten" in message
    # Coming back is a fresh start, and no one can pose as a pseudonym.
    again = secure_client.post("/v1/chat", json={"message": RUNNING}, headers=me)
    assert again.status_code == 200
    with shop.sessions() as session:
        user_row = session.get(UserRecord, user)
        assert user_row is not None and user_row.new_user
    error_of(client.post("/v1/chat", json={"user_id": "forgotten-1", "message": RUNNING}), 422)


@pytest.fixture
def cli_env(shop: Shop, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """``shopassist`` configured for the served demo world's store."""
    monkeypatch.setenv("SHOPASSIST_DATABASE_URL", shop.engine.url.render_as_string(False))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


class _Terminal(io.StringIO):
    """A stdin that says it is a terminal, with the answer already typed."""

    def isatty(self) -> bool:
        return True


def test_the_cli_asks_forgets_and_reports(
    client: TestClient,
    shop: Shop,
    cli_env: None,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    user = f"cli-forget-{uuid.uuid4().hex[:8]}"
    _shop_for(user, client)
    capsys.readouterr()

    monkeypatch.setattr("sys.stdin", _Terminal("n\n"))
    assert main(["users", "forget", user]) == 1
    out, err = capsys.readouterr()
    assert "Forget user" in out and err == "shopassist: nothing forgotten\n"
    assert _traces(shop, user)

    monkeypatch.setattr("sys.stdin", _Terminal("yes\n"))
    assert main(["users", "forget", user, "--json"]) == 0
    out = capsys.readouterr().out
    report = json.loads(out[out.index("{") :])
    assert report["deleted"]["messages"] == 6 and report["anonymized"]["claims"] == 1
    assert _traces(shop, user) == {}

    # stdin is no terminal under pytest: no question asked.
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert main(["users", "forget", user, "--yes"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1 and err.startswith(f"shopassist: error: unknown user '{user}'")
