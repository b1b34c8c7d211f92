"""Fixtures for the API tests: the small served demo world of the turn tests, one assistant
loaded on it, and apps built by ``create_app`` around them (FastAPI's TestClient, or a real
uvicorn on a free loopback port)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from assistant.app import Shop
from assistant.conversation import Assistant
from tests.assistant.conversation.conftest import NOW, served_shop, served_var
from ui.api import mint_token
from ui.server import create_app

from ._browser import launch_browser, open_page

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

__all__ = ["NOW", "served_var"]


@dataclass
class Clock:
    """The app's clock: pinned to the demo world's NOW, movable by a test."""

    now: datetime = field(default=NOW)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(scope="session")
def shop(served_var: Path) -> Iterator[Shop]:
    """A rules-mode shop on the served demo world."""
    served = served_shop(served_var)
    yield served
    served.engine.dispose()


@pytest.fixture(scope="session")
def assistant(shop: Shop) -> Assistant:
    """One assistant for every app of the session (loading it takes seconds)."""
    return Assistant.from_shop(shop, seed=3)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(scope="session")
def secret(shop: Shop) -> str:
    return shop.settings.jwt_secret.get_secret_value()


@pytest.fixture(scope="session")
def token(secret: str) -> Callable[..., str]:
    """Mint a token for a user (extra claims as keywords)."""

    def make(user_id: str, **claims: Any) -> str:
        return mint_token(secret, user_id, **claims)

    return make


def build_app(shop: Shop, assistant: Assistant, clock: Clock, **options: Any) -> FastAPI:
    return create_app(shop=shop, assistant_factory=lambda _: assistant, clock=clock, **options)


def wait_ready(client: TestClient, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while client.get("/readyz").status_code != 200:
        assert time.monotonic() < deadline, "the app did not become ready"
        time.sleep(0.02)


@pytest.fixture
def client(shop: Shop, assistant: Assistant, clock: Clock) -> Iterator[TestClient]:
    """A dev-mode app (a missing token is accepted), ready."""
    with TestClient(build_app(shop, assistant, clock, dev=True)) as c:
        wait_ready(c)
        yield c


@pytest.fixture
def secure_client(shop: Shop, assistant: Assistant, clock: Clock) -> Iterator[TestClient]:
    """An app that requires signed tokens (as outside dev), ready."""
    with TestClient(build_app(shop, assistant, clock, dev=False)) as c:
        wait_ready(c)
        yield c


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def live_url(shop: Shop, assistant: Assistant, clock: Clock) -> Iterator[str]:
    """A real uvicorn serving a dev-mode app on a free loopback port."""
    port = free_port()
    config = uvicorn.Config(
        build_app(shop, assistant, clock, dev=True),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="on",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    url = f"http://127.0.0.1:{port}"
    while httpx.get(f"{url}/readyz").status_code != 200:
        assert time.monotonic() < deadline, "the live app did not become ready"
        time.sleep(0.02)
    yield url
    server.should_exit = True
    thread.join(timeout=15)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's headless Chromium, launched per module (skips without it, fails in CI).

    Not per session: playwright's sync API keeps an event loop running in the main thread while
    it is open, and every later test that calls ``asyncio.run`` would fail."""
    yield from launch_browser()


@pytest.fixture
def page(browser: Browser, live_url: str) -> Iterator[Page]:
    """A page on the live server; requests anywhere else (product images) are refused."""
    yield from open_page(browser, live_url)
