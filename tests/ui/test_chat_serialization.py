"""``/v1/chat`` serializes its body once, without FastAPI's jsonable_encoder walk."""

from __future__ import annotations

from typing import Any

import fastapi.routing
import pytest
from fastapi.testclient import TestClient


def test_chat_body_skips_jsonable_encoder(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(obj: Any, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError("jsonable_encoder walked the /v1/chat body")

    monkeypatch.setattr(fastapi.routing, "jsonable_encoder", refuse)
    response = client.post(
        "/v1/chat", json={"user_id": "ser-1", "message": "running shoes under $90"}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["session_id"] and body["recommendations"]
    assert all(isinstance(r["final_price"], str) for r in body["recommendations"])
