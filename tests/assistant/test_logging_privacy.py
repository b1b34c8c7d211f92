"""No personal data at INFO: turns (rules, the HTTP API, one on the embedded LLM) and their error
paths log ids, actions and timings, never the shopper's words, user id, email or phone."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from assistant.conversation import Assistant
from assistant.errors import UnknownEntityError, ValidationError
from assistant.llm import QWEN_0_5B, OpenAIChatModel
from tests.assistant.conversation.conftest import NOW, served_shop, served_var
from ui.server import create_app

USER = "privacy-user-9k2q"
EMAIL = "alice.zq@example.org"
PHONE = "+1-415-555-0142"
MESSAGE = f"running shoes under $80 for zebra-quokka marathons, mail {EMAIL} or call {PHONE}"
__all__ = ["served_var"]  # the shared served world, a session fixture

SECRETS = (USER, EMAIL, PHONE, "415-555-0142", "zebra-quokka", MESSAGE)


@pytest.fixture(scope="module")
def assistant(served_var: Path) -> Iterator[Assistant]:
    assistant = Assistant.from_shop(served_shop(served_var), seed=1)
    yield assistant
    assistant.shop.engine.dispose()


def _harness(record: logging.LogRecord) -> bool:
    """The test client's own request lines (it is the caller here, not the server)."""
    return record.name.startswith("httpx") and "http://testserver" in record.getMessage()


def _leaks(caplog: pytest.LogCaptureFixture) -> list[str]:
    leaks = []
    for record in caplog.records:
        if record.levelno < logging.INFO or _harness(record):
            continue
        text = record.getMessage() + (record.exc_text or "") + str(record.args)
        leaks += [f"{record.name}: {s!r}" for s in SECRETS if s.casefold() in text.casefold()]
    return leaks


def test_rules_turns_and_their_errors_log_no_personal_data(
    assistant: Assistant, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    first = assistant.turn(USER, MESSAGE, now=NOW)
    assistant.turn(USER, f"cheaper ones please, {EMAIL}", session_id=first.session_id, now=NOW)
    assistant.turn(USER, "any coupons?", session_id=first.session_id, now=NOW)
    assistant.turn(USER, "claim the first one", session_id=first.session_id, now=NOW)
    with pytest.raises(UnknownEntityError, match="unknown session"):
        assistant.turn(USER, MESSAGE, session_id="no-such-session", now=NOW)
    with pytest.raises(ValidationError, match="message too long"):
        assistant.turn(USER, MESSAGE * 30, now=NOW)
    assert any(r.name == "assistant.conversation.pipeline" for r in caplog.records)
    assert _leaks(caplog) == []


def test_api_turns_log_no_personal_data(
    assistant: Assistant, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    app = create_app(shop=assistant.shop, assistant_factory=lambda _: assistant, dev=True)
    with TestClient(app) as client:
        while client.get("/readyz").status_code != 200:
            pass
        ok = client.post("/v1/chat", json={"user_id": USER, "message": MESSAGE})
        assert ok.status_code == 200, ok.text
        stream = client.post("/v1/chat/stream", json={"user_id": USER, "message": MESSAGE})
        assert stream.status_code == 200
        bad = client.post(
            "/v1/chat", json={"user_id": USER, "session_id": "nope", "message": MESSAGE}
        )
        assert bad.status_code == 404
        long = client.post("/v1/chat", json={"user_id": USER, "message": MESSAGE * 30})
        assert long.status_code == 422
        history = client.get(f"/v1/sessions/{ok.json()['session_id']}?user_id={USER}")
        assert history.status_code in (200, 422)
    assert any(r.name == "ui.server.requests" for r in caplog.records)
    assert _leaks(caplog) == []


@pytest.mark.integration
@pytest.mark.slow  # a phrased turn costs up to a minute on a busy 2-core box
def test_an_embedded_llm_turn_logs_no_personal_data(
    assistant: Assistant, llm_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    assistant.chat = OpenAIChatModel(llm_url, QWEN_0_5B.alias)
    assistant.llm_status = "ok"
    assistant.llm_timeout_s = 60.0
    try:
        result = assistant.turn(
            USER, f"something comfy to sleep on when camping, mail {EMAIL}", now=NOW
        )
    finally:
        assistant.chat = None
        assistant.llm_status = "off"
    assert result.llm["understand"] == "used" or result.llm["reply"] != "template", result.llm
    assert _leaks(caplog) == []
