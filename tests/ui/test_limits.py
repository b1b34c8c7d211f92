"""Rate limits on the JSON API: per user, per address, the load-test tier, shared Redis counts.

The limit is checked before a route does any work, so most requests here are cheap ones (a
feedback event on an unknown impression is a 404 that still counts)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import jwt
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import ValidationError as SettingsError

from assistant.app import Shop
from assistant.config import Settings
from assistant.conversation import Assistant
from assistant.errors import ValidationError
from ui.server import RateLimits, create_app

from .conftest import Clock, build_app, wait_ready

REDIS = "redis://127.0.0.1:6379"
LIMITED = ("/v1/chat", "/v1/chat/stream", "/v1/chat/completions", "/v1/claims", "/v1/feedback")


def _limits(**overrides: Any) -> RateLimits:
    values: dict[str, Any] = {
        "user": "1000/minute",
        "ip": "1000/minute",
        "namespace": f"test-{uuid.uuid4().hex}",
    }
    return RateLimits(**{**values, **overrides})


@pytest.fixture
def make_client(
    shop: Shop, assistant: Assistant, clock: Clock
) -> Iterator[Callable[..., TestClient]]:
    """Open ready TestClients on apps with the given limits (closed at the end)."""
    opened: list[TestClient] = []

    def make(
        limits: RateLimits, *, dev: bool = True, app: FastAPI | None = None, **client: Any
    ) -> TestClient:
        app = app or build_app(shop, assistant, clock, dev=dev, rate_limits=limits)
        c = TestClient(app, **client).__enter__()
        opened.append(c)
        wait_ready(c)
        return c

    yield make
    for c in opened:
        c.__exit__(None, None, None)


def _feedback(client: TestClient, headers: dict[str, str] | None = None) -> Any:
    """A cheap limited request: feedback on an impression that does not exist (404)."""
    return client.post(
        "/v1/feedback",
        json={"event_id": uuid.uuid4().hex, "impression_id": "nowhere", "type": "click"},
        headers=headers,
    )


def _body(path: str, user: str | None) -> dict[str, Any]:
    if path == "/v1/chat/completions":
        return {"messages": [{"role": "user", "content": "running shoes"}], "user": user}
    if path == "/v1/claims":
        return {"user_id": user, "activity_id": "nothing", "idempotency_key": uuid.uuid4().hex}
    if path == "/v1/feedback":
        return {"event_id": uuid.uuid4().hex, "impression_id": "nowhere", "type": "click"}
    return {"user_id": user, "message": "running shoes"}


def _assert_limited(response: Any, who: str) -> int:
    assert response.status_code == 429, response.text
    error = response.json()["error"]
    assert error["code"] == "rate_limited"
    assert f"too many requests from {who}" in error["message"]
    retry = int(response.headers["retry-after"])
    assert 1 <= retry <= 60
    assert f"retry in {retry} s" in error["message"]
    return retry


@pytest.mark.parametrize("strategy", ["fixed-window", "moving-window", "sliding-window-counter"])
def test_the_request_over_the_user_limit_is_429_on_every_api_route(
    make_client: Callable[..., TestClient], token: Callable[..., str], strategy: str
) -> None:
    client = make_client(_limits(user="3/minute", strategy=strategy), dev=False)
    alice = {"Authorization": f"Bearer {token('limit-alice')}"}
    assert [_feedback(client, alice).status_code for _ in range(3)] == [404, 404, 404]
    for path in LIMITED:
        _assert_limited(client.post(path, json=_body(path, None), headers=alice), "this user")
    # Another user on the same address is unaffected; health and the widget are never limited.
    bob = {"Authorization": f"Bearer {token('limit-bob')}"}
    assert _feedback(client, bob).status_code == 404
    for path in ("/healthz", "/readyz", "/metrics", "/widget.js"):
        assert client.get(path).status_code == 200


def test_a_dev_user_is_counted_by_the_user_id_its_body_names(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client(_limits(user="2/minute"))
    for _ in range(2):
        assert client.post("/v1/chat", json=_body("/v1/chat", "dev-carol")).status_code == 200
    # The same user through the OpenAI-compatible route counts on the same key.
    refused = client.post("/v1/chat/completions", json=_body("/v1/chat/completions", "dev-carol"))
    _assert_limited(refused, "this user")
    assert client.post("/v1/chat", json=_body("/v1/chat", "dev-dave")).status_code == 200


def test_two_users_from_one_address_share_its_limit(
    make_client: Callable[..., TestClient], token: Callable[..., str]
) -> None:
    client = make_client(_limits(ip="4/minute"), dev=False)
    users = [{"Authorization": f"Bearer {token(name)}"} for name in ("ip-erin", "ip-frank")]
    assert [_feedback(client, users[i % 2]).status_code for i in range(4)] == [404] * 4
    _assert_limited(_feedback(client, users[0]), "this address")
    _assert_limited(_feedback(client, users[1]), "this address")


def test_forwarded_for_counts_only_behind_a_trusted_proxy(
    make_client: Callable[..., TestClient],
) -> None:
    limits = _limits(ip="2/minute", trusted_proxies=("10.0.0.0/8",))
    proxied = make_client(limits, client=("10.1.2.3", 40000))

    def via(client: TestClient, forwarded: str) -> int:
        return _feedback(client, {"X-Forwarded-For": forwarded}).status_code

    # Behind the trusted proxy each shopper's address has its own count; a hop the shopper
    # wrote to the left of their real address changes nothing.
    assert [via(proxied, "203.0.113.5") for _ in range(2)] == [404, 404]
    assert via(proxied, "198.51.100.1, 203.0.113.5") == 429
    assert via(proxied, "203.0.113.6, 10.9.9.9") == 404
    # From an untrusted peer the header is ignored: every value counts on the peer.
    direct = make_client(limits, client=("192.0.2.7", 40000))
    assert [via(direct, f"203.0.113.{i}") for i in range(3)] == [404, 404, 429]


def test_a_signed_load_token_gets_the_raised_limit(
    make_client: Callable[..., TestClient], token: Callable[..., str]
) -> None:
    client = make_client(_limits(user="2/minute", ip="3/minute", load="50/minute"), dev=False)
    load = {"Authorization": f"Bearer {token('load-1', shopassist_rate='load')}"}
    assert {_feedback(client, load).status_code for _ in range(12)} == {404}
    plain = {"Authorization": f"Bearer {token('plain-1')}"}
    assert [_feedback(client, plain).status_code for _ in range(2)] == [404, 404]
    _assert_limited(_feedback(client, plain), "this user")


def test_an_unsigned_claim_of_the_load_tier_gets_nothing(
    make_client: Callable[..., TestClient], secret: str
) -> None:
    client = make_client(_limits(user="2/minute", load="50/minute"))
    forged = jwt.encode(
        {"sub": "forger", "exp": 2_000_000_000, "shopassist_rate": "load"}, "x" * 32, "HS256"
    )
    unsigned = jwt.encode(
        {"sub": "forger", "exp": 2_000_000_000, "shopassist_rate": "load"}, None, "none"
    )
    for bad in (forged, unsigned):
        response = client.post(
            "/v1/chat", json=_body("/v1/chat", "forger"), headers={"Authorization": f"Bearer {bad}"}
        )
        assert response.status_code == 401, response.text
        assert response.json()["error"]["code"] == "invalid_token"
    # Dev without a token: a tier in the body, or a bearer value that is no JWT, is ignored.
    body = {**_body("/v1/chat", "forger"), "shopassist_rate": "load"}
    sent = [
        client.post("/v1/chat", json=body, headers={"Authorization": "Bearer load"}).status_code
        for _ in range(3)
    ]
    assert sent == [200, 200, 429]


def test_redis_counts_are_shared_by_every_app(
    make_client: Callable[..., TestClient], token: Callable[..., str]
) -> None:
    limits = _limits(user="4/minute", storage=REDIS, strategy="moving-window")
    workers = [make_client(limits, dev=False), make_client(limits, dev=False)]
    grace = {"Authorization": f"Bearer {token('redis-grace')}"}
    assert [_feedback(workers[i % 2], grace).status_code for i in range(4)] == [404] * 4
    _assert_limited(_feedback(workers[0], grace), "this user")
    _assert_limited(_feedback(workers[1], grace), "this user")


def test_without_redis_requests_pass_with_a_warning(
    make_client: Callable[..., TestClient], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="ui.api._limits")
    client = make_client(_limits(user="1/minute", storage="redis://127.0.0.1:1"))
    assert [_feedback(client).status_code for _ in range(3)] == [404] * 3
    warnings = [r.getMessage() for r in caplog.records if r.name == "ui.api._limits"]
    assert len(warnings) == 1 and "requests pass unlimited" in warnings[0]


@pytest.mark.parametrize(
    ("setting", "value", "message"),
    [
        ("rate_limit_user", "lots", "SHOPASSIST_RATE_LIMIT_USER='lots' is not a rate limit"),
        ("rate_limit_ip", "0/minute", "SHOPASSIST_RATE_LIMIT_IP='0/minute' is not a rate limit"),
        ("rate_limit_load", "9/fortnight", "SHOPASSIST_RATE_LIMIT_LOAD='9/fortnight' is not"),
        ("rate_limit_storage", "mongodb://db", "use 'memory://' or 'redis://HOST:PORT[/DB]'"),
        ("rate_limit_strategy", "leaky", "use one of fixed-window, moving-window"),
        ("trusted_proxies", '["proxy.local"]', "'proxy.local' is not an IP address or network"),
    ],
)
def test_a_bad_setting_is_refused_at_startup(
    monkeypatch: pytest.MonkeyPatch, setting: str, value: str, message: str
) -> None:
    monkeypatch.setenv(f"SHOPASSIST_{setting.upper()}", value)
    with pytest.raises(SettingsError, match=message.replace("[", r"\[").replace("(", r"\(")):
        Settings(_env_file=None)


def test_bad_limits_passed_in_code_are_refused(shop: Shop) -> None:
    with pytest.raises(ValidationError, match="rate_limit_user='30 a minute' is not a rate limit"):
        RateLimits(user="30 a minute")
    with pytest.raises(ValidationError, match="trusted proxy 'my-proxy' is not an IP address"):
        RateLimits(trusted_proxies=("my-proxy",))
    with pytest.raises(
        ValidationError, match="rate-limit storage 'memcached://x' is not supported"
    ):
        create_app(shop=shop, rate_limits=RateLimits(storage="memcached://x"))
