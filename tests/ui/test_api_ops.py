"""Readiness, health, metrics, the widget, CORS, the OpenAI-compatible endpoint (driven by the
``openai`` client against a real uvicorn) and ``shopassist serve`` itself."""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from openai import OpenAI

from assistant.app import Shop
from assistant.config import Settings
from assistant.conversation import Assistant
from assistant.errors import ValidationError
from ui.serve import add_serve_command
from ui.server import create_app

from .conftest import Clock, build_app, free_port, wait_ready
from .test_api import RUNNING, error_of

REPO = Path(__file__).resolve().parents[2]


def test_readyz_is_503_until_the_assistant_is_loaded(
    shop: Shop, assistant: Assistant, clock: Clock
) -> None:
    release = threading.Event()

    def slow_factory(_: Shop) -> Assistant:
        release.wait(timeout=30)
        return assistant

    app = create_app(
        shop=shop, assistant_factory=slow_factory, clock=clock, dev=True, ready_timeout_s=0.2
    )
    with TestClient(app) as c:
        error_of(c.get("/readyz"), 503, "not_ready")
        health = c.get("/healthz")
        assert health.status_code == 200
        assert health.json()["sql"] == "ok" and health.json()["index"] == "loading"
        error_of(c.post("/v1/chat", json={"user_id": "u", "message": "hi"}), 503, "not_ready")
        release.set()
        wait_ready(c)
        assert c.get("/readyz").json() == {"status": "ready"}
        assert c.get("/healthz").json()["index"] == "ok"


def test_a_failed_load_keeps_readyz_503_with_the_reason(shop: Shop, clock: Clock) -> None:
    from assistant.errors import RetrievalError

    def broken(_: Shop) -> Assistant:
        raise RetrievalError("the search index is empty: run `shopassist index`")

    with TestClient(create_app(shop=shop, assistant_factory=broken, clock=clock)) as c:
        deadline = time.monotonic() + 10
        while c.get("/healthz").json()["index"] == "loading":
            assert time.monotonic() < deadline
            time.sleep(0.02)
        assert "shopassist index" in error_of(c.get("/readyz"), 503, "index_unavailable")
        error_of(c.post("/v1/chat", json={"user_id": "u", "message": "hi"}), 503)
        assert c.get("/healthz").json()["index"] == "error"


def test_healthz_reports_each_part(client: TestClient) -> None:
    body = client.get("/healthz").json()
    assert body["sql"] == "ok" and body["index"] == "ok"
    assert body["llm"] == "ok" and body["llm_backend"] == "rules"  # rules by choice: not degraded


def test_metrics_count_turns_stages_and_errors(client: TestClient) -> None:
    client.post("/v1/chat", json={"user_id": "api-metrics", "message": RUNNING})
    client.post("/v1/chat", json={"user_id": "api-metrics", "message": "y" * 2001})
    r = client.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    text = r.text
    assert 'shopassist_turns_total{action="recommend",endpoint="chat"} 1.0' in text
    assert 'shopassist_turn_stage_seconds_count{stage="retrieve"} 1.0' in text
    assert 'shopassist_errors_total{code="message_too_long"} 1.0' in text
    assert 'shopassist_http_requests_total{method="POST",route="/v1/chat",status="200"}' in text
    assert "shopassist_ready 1.0" in text


def test_every_request_logs_one_line_without_personal_data(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="ui.server.requests")
    secret_text = "running shoes for my friend Zhang Wei"
    r = client.post("/v1/chat", json={"user_id": "api-private-user", "message": secret_text})
    lines = [rec.getMessage() for rec in caplog.records if rec.name == "ui.server.requests"]
    assert len(lines) == 1 and "POST /v1/chat -> 200" in lines[0]
    assert r.headers["x-request-id"] in lines[0]
    everything = "\n".join(rec.getMessage() for rec in caplog.records)
    assert "Zhang" not in everything and "api-private-user" not in everything


def test_the_widget_is_served_as_javascript(client: TestClient) -> None:
    r = client.get("/widget.js")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/javascript")
    assert "/v1/chat/stream" in r.text and "window.ShopAssist" in r.text


def test_cors_admits_configured_origins_only(
    shop: Shop, assistant: Assistant, clock: Clock
) -> None:
    app = build_app(shop, assistant, clock, dev=True, cors_origins=["https://shop.example"])
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type",
    }
    with TestClient(app) as c:
        ok = c.options("/v1/chat", headers={"Origin": "https://shop.example", **preflight})
        assert ok.status_code == 200
        assert ok.headers["access-control-allow-origin"] == "https://shop.example"
        other = c.options("/v1/chat", headers={"Origin": "https://evil.example", **preflight})
        assert "access-control-allow-origin" not in other.headers
    with pytest.raises(ValidationError, match="must look like"):
        create_app(shop=shop, cors_origins=["shop.example/path"])


def test_dev_mode_is_refused_outside_dev() -> None:
    prod = Settings(
        _env_file=None,
        env="prod",
        jwt_secret="x" * 40,
        admin_password="a-real-admin-password",
    )
    with pytest.raises(ValidationError, match="dev mode"):
        create_app(prod, dev=True)


def test_the_openai_client_gets_a_reply_with_recommendations(live_url: str) -> None:
    client = OpenAI(base_url=f"{live_url}/v1", api_key="dev-mode-needs-no-key", max_retries=0)
    answer = client.chat.completions.create(
        model="shopassist",
        user="api-openai",
        messages=[
            {"role": "system", "content": "ignored"},
            {"role": "user", "content": RUNNING},
        ],
    )
    reply = answer.choices[0].message.content
    assert reply and answer.choices[0].finish_reason == "stop"
    extra = answer.model_extra or {}
    recs = extra["shopassist"]["recommendations"]
    assert len(recs) == 3
    assert all(r["title"] in reply for r in recs)  # grounded: the reply names the cards
    follow = client.chat.completions.create(
        model="shopassist",
        user="api-openai",
        messages=[{"role": "user", "content": "under 60"}],
        extra_body={"session_id": extra["shopassist"]["session_id"]},
    )
    assert (follow.model_extra or {})["shopassist"]["intent"]["categories"] == ["shoes/running"]


def test_the_openai_client_streams(live_url: str) -> None:
    client = OpenAI(base_url=f"{live_url}/v1", api_key="dev", max_retries=0)
    stream = client.chat.completions.create(
        model="shopassist",
        messages=[{"role": "user", "content": [{"type": "text", "text": "玩具有什么优惠"}]}],
        stream=True,
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    last = chunks[-1]
    assert last.choices[0].finish_reason == "stop"
    result = (last.model_extra or {})["shopassist"]
    assert text == result["reply"] and result["intent"]["language"] == "zh"
    assert result["session_id"]


def test_chat_completions_rejects_bad_input_with_the_error_shape(client: TestClient) -> None:
    url = "/v1/chat/completions"
    error_of(client.post(url, json={"messages": []}), 422)
    error_of(client.post(url, json={"messages": [{"role": "system", "content": "x"}]}), 422)
    too_long = {"messages": [{"role": "user", "content": "y" * 2001}]}
    error_of(client.post(url, json=too_long), 422, "message_too_long")
    r = client.post(url, json={"messages": [{"role": "user", "content": "hi"}]})
    assert r.status_code == 200 and r.json()["shopassist"]["session_id"]


def test_serve_command_parses_its_options() -> None:
    parser = argparse.ArgumentParser()
    add_serve_command(parser.add_subparsers())
    args = parser.parse_args(
        ["serve", "--port", "8000", "--no-dev", "--cors-origin", "https://a.b"]
    )
    assert (args.host, args.port, args.dev, args.cors_origin) == (
        "127.0.0.1",
        8000,
        False,
        ["https://a.b"],
    )
    defaults = parser.parse_args(["serve"])
    assert (defaults.port, defaults.dev, defaults.start_llm) == (7860, None, True)


# `shopassist serve` as ui.cli will run it (logging configured first, as its main() does).
_SERVE = (
    "import argparse, logging, sys; from ui.serve import add_serve_command; "
    "logging.basicConfig(level=logging.WARNING); "
    "p = argparse.ArgumentParser(); add_serve_command(p.add_subparsers()); "
    "a = p.parse_args(sys.argv[1:]); sys.exit(a.handler(a))"
)


@pytest.mark.integration
@pytest.mark.slow
def test_serve_runs_the_api_on_a_port(served_var: Path, tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "SHOPASSIST_VAR_DIR": str(served_var),
        "SHOPASSIST_LLM_BACKEND": "rules",
        "SHOPASSIST_ENV": "dev",
    }
    log = (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-c", _SERVE, "serve", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, (tmp_path / "serve.log").read_text()
            assert time.monotonic() < deadline, "serve did not become ready"
            try:
                if httpx.get(f"{base}/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        r = httpx.post(
            f"{base}/v1/chat", json={"user_id": "u-serve", "message": RUNNING}, timeout=60
        )
        assert r.status_code == 200 and r.json()["recommendations"]
        assert httpx.get(f"{base}/docs").status_code == 200
        assert json.loads(httpx.get(f"{base}/openapi.json").text)["paths"]["/v1/chat"]
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        # uvicorn shuts down gracefully, then re-raises the signal it caught
        assert proc.wait(timeout=20) in (0, -signal.SIGTERM)
    text = (tmp_path / "serve.log").read_text()
    assert "POST /v1/chat -> 200" in text and "u-serve" not in text


def test_a_database_without_tables_is_503_with_the_upgrade_hint(
    tmp_path: Path, clock: Clock
) -> None:
    # Regression: against a database never migrated, the SQL-only routes (sessions, feedback,
    # claims) answered 500 "internal error" instead of saying what to run.
    settings = Settings(_env_file=None, var_dir=tmp_path / "var")  # type: ignore[call-arg]
    shop = Shop.from_settings(settings)

    def never(_: Shop) -> Assistant:
        raise ValidationError("not needed here")

    try:
        with TestClient(create_app(shop=shop, assistant_factory=never, clock=clock, dev=True)) as c:
            r = c.get("/v1/sessions/s-1", params={"user_id": "u"})
            assert "shopassist db upgrade" in error_of(r, 503, "store_unavailable")
            r = c.post(
                "/v1/feedback",
                json={"event_id": "e-1", "impression_id": "i-1", "type": "click"},
            )
            assert "shopassist db upgrade" in error_of(r, 503, "store_unavailable")
    finally:
        shop.engine.dispose()
