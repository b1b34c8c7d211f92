"""The widget on the sample host page, in a real browser: headless Debian Chromium opens the
sample shop (``examples/widget_host/app.py``, its own process on one port), whose one script tag
loads ``/widget.js`` from the assistant (a real uvicorn on another port, signed tokens required,
CORS limited to the shop's origin). Open the bubble, chat, get three cards, add one to the cart;
a page on an origin the assistant does not allow is refused by CORS; an agent's messages reach
the shopper. Screenshot: docs/screenshots/widget.png.

These pages are not routed through playwright (``open_page`` routes every request): with request
interception on, playwright answers every CORS preflight itself with "allowed", which would hide
the very check under test. Instead this module's Chromium resolves no host name at all, so
nothing but the two loopback servers can be reached (the demo's product images fail to load).
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import jwt
import pytest
import uvicorn
from sqlalchemy import func, select

from assistant.app import Shop
from assistant.conversation import Assistant
from assistant.store import MessageRecord, SessionRecord, session_cart

from ._browser import BROWSER_MARKS, CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS, TIMEOUT_MS
from ._widget_host import host_shop
from .conftest import Clock, build_app, free_port
from .test_api import RUNNING

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Request

pytestmark = BROWSER_MARKS

TURN_TIMEOUT_MS = 90_000  # a turn on a busy 2-core machine


@contextmanager
def _assistant_server(
    shop: Shop, assistant: Assistant, clock: Clock, origins: list[str]
) -> Iterator[str]:
    """A real uvicorn serving the app outside dev mode, CORS limited to ``origins``."""
    port = free_port()
    app = build_app(shop, assistant, clock, dev=False, cors_origins=origins)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.02)
        while httpx.get(f"{url}/readyz").status_code != 200:
            assert time.monotonic() < deadline, "the assistant did not become ready"
            time.sleep(0.02)
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=15)


@pytest.fixture(scope="module")
def loopback_browser(browser: Browser) -> Iterator[Browser]:
    """A second headless Chromium that resolves no host name (only IP literals are reached)."""
    launched = browser.browser_type.launch(
        executable_path=str(CHROMIUM),
        args=[*CHROMIUM_ARGS, "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"],
        headless=True,
    )
    yield launched
    launched.close()


@contextmanager
def _page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1100, "height": 800}, locale="en-US")
    context.set_default_timeout(TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def shop_port() -> int:
    """The sample shop's port (known before the assistant starts: CORS names its origin)."""
    return free_port()


@pytest.fixture
def assistant_url(shop: Shop, assistant: Assistant, clock: Clock, shop_port: int) -> Iterator[str]:
    with _assistant_server(shop, assistant, clock, [f"http://127.0.0.1:{shop_port}"]) as url:
        yield url


def _start_host(port: int, assistant_url: str, secret: str, user: str, tmp_path: Path) -> Any:
    env = {"SHOPASSIST_ENV": "dev", "SHOPASSIST_JWT_SECRET": secret}
    args = ("--assistant", assistant_url, "--user", user)
    return host_shop(port, *args, env=env, log=tmp_path / f"host-{port}.log")


def _open_widget(page: Page, origin: str) -> None:
    page.goto(f"{origin}/")
    page.locator(".bubble").click()  # playwright's CSS pierces the widget's open shadow root
    page.locator(".panel.open input").wait_for()


def _send(page: Page, text: str) -> None:
    page.locator(".panel input").fill(text)
    page.locator(".panel input").press("Enter")


def _result(body: str) -> dict[str, Any]:
    """The ``result`` event of a ``/v1/chat/stream`` response body."""
    match = re.search(r"event: result\ndata: (.*)\n", body)
    assert match, f"no result event in {body[:500]!r}"
    data: dict[str, Any] = json.loads(match.group(1))
    return data


def _sessions(shop: Shop, user: str) -> int:
    with shop.sessions() as session:
        count = session.scalar(
            select(func.count()).select_from(SessionRecord).where(SessionRecord.user_id == user)
        )
    return int(count or 0)


def test_on_the_sample_host_page_the_widget_chats_and_shows_cards(
    loopback_browser: Browser,
    shop: Shop,
    assistant_url: str,
    shop_port: int,
    secret: str,
    tmp_path: Path,
) -> None:
    user = "widget-shopper"
    with (
        _start_host(shop_port, assistant_url, secret, user, tmp_path) as origin,
        _page(loopback_browser) as page,
    ):
        sent: list[Request] = []
        page.on("request", lambda r: sent.append(r) if r.url.startswith(assistant_url) else None)

        _open_widget(page, origin)
        with page.expect_response(
            f"{assistant_url}/v1/chat/stream", timeout=TURN_TIMEOUT_MS
        ) as got:
            _send(page, RUNNING)
        response = got.value
        cards = page.locator(".card")
        cards.nth(2).wait_for(timeout=TURN_TIMEOUT_MS)
        result = _result(response.text())

        # The request went cross-origin, with the shop's token for its signed-in shopper.
        chat = next(r for r in sent if r.url.endswith("/v1/chat/stream") and r.method == "POST")
        headers = chat.all_headers()
        assert headers["origin"] == origin
        assert headers["authorization"].startswith("Bearer ")
        claims = jwt.decode(headers["authorization"][7:], secret, algorithms=["HS256"])
        assert claims["sub"] == user
        assert "user_id" not in json.loads(chat.post_data or "{}")
        assert response.headers["access-control-allow-origin"] == origin

        # Three cards, each what the API recommended: title, prices, deal badges, why-line.
        recs = result["recommendations"]
        assert cards.count() == len(recs) == 3
        for i, rec in enumerate(recs):
            card = cards.nth(i)
            assert card.get_attribute("data-impression") == rec["impression_id"]
            assert card.locator(".t").inner_text() == rec["title"]
            assert card.locator(".final").inner_text() == f"${rec['final_price'] or rec['price']}"
            if rec["price"] and rec["final_price"] and rec["price"] != rec["final_price"]:
                assert card.locator(".was").inner_text() == f"${rec['price']}"
            assert card.locator(".why").inner_text() == rec["reason"] != ""
            badges = min(len(rec["deals"]), 2) + (1 if rec["needs_claim"] else 0)
            assert card.locator(".badge").count() == badges
        assert any(card["deals"] for card in recs), "no card had a deal: nothing to badge"
        reply = page.locator(".msg.bot").last.inner_text()
        assert reply == result["reply"] != ""
        session_id = page.evaluate("window.ShopAssist.sessionId()")
        assert session_id == result["session_id"]

        # The screenshot shows the cards (the reply is above them in the panel's log).
        cards.first.evaluate("e => e.scrollIntoView({block: 'start'})")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "widget.png"))

        # Add to cart: recorded as feedback, and the session's cart now holds the product.
        product = next(i for i, rec in enumerate(recs) if rec["kind"] == "product")
        button = cards.nth(product).locator("button.add")
        button.click()
        page.wait_for_function(
            "() => [...document.querySelector('[data-shopassist]').shadowRoot"
            ".querySelectorAll('button.add')].some(b => b.textContent.startsWith('In cart'))",
            timeout=TIMEOUT_MS,
        )
        with shop.sessions() as session:
            assert session_cart(session, session_id) == [(recs[product]["id"], 1)]

        # The session id is kept: the next message continues the same session.
        with page.expect_response(
            f"{assistant_url}/v1/chat/stream", timeout=TURN_TIMEOUT_MS
        ) as got:
            _send(page, "cheaper ones")
        assert _result(got.value.text())["session_id"] == session_id

        # An error shows the API's own message (a message over 2,000 characters: 422).
        refused = httpx.post(
            f"{assistant_url}/v1/chat",
            json={"message": "x" * 2001},
            headers={"Authorization": headers["authorization"]},
        )
        assert refused.status_code == 422
        page.evaluate("window.ShopAssist.send('x'.repeat(2001))")
        error = page.locator(".msg.err")
        error.wait_for()
        assert error.inner_text() == refused.json()["error"]["message"] != ""


def test_a_page_from_an_origin_not_allowed_is_refused_by_cors(
    loopback_browser: Browser,
    shop: Shop,
    assistant_url: str,
    shop_port: int,
    secret: str,
    tmp_path: Path,
) -> None:
    user = "cors-shopper"
    other_port = free_port()
    with _start_host(other_port, assistant_url, secret, user, tmp_path) as other:
        assert other != f"http://127.0.0.1:{shop_port}"
        with _page(loopback_browser) as page:
            failed: list[str] = []
            page.on("requestfailed", lambda r: failed.append(r.url))
            _open_widget(page, other)  # widget.js itself is a plain script: it loads
            _send(page, RUNNING)
            error = page.locator(".msg.err")
            error.wait_for(timeout=TIMEOUT_MS)
            assert error.inner_text() == "The assistant cannot be reached right now."
            assert page.locator(".card").count() == 0
            assert f"{assistant_url}/v1/chat/stream" in failed
    assert _sessions(shop, user) == 0  # the browser never sent the turn

    # What the browser saw: the preflight from that origin is refused, the shop's passes.
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type",
    }
    refused = httpx.options(
        f"{assistant_url}/v1/chat/stream", headers={**preflight, "Origin": other}
    )
    allowed_origin = f"http://127.0.0.1:{shop_port}"
    allowed = httpx.options(
        f"{assistant_url}/v1/chat/stream", headers={**preflight, "Origin": allowed_origin}
    )
    assert refused.status_code == 400 and "access-control-allow-origin" not in refused.headers
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == allowed_origin


def test_an_agents_messages_reach_the_shopper_in_the_widget(
    loopback_browser: Browser,
    shop: Shop,
    assistant_url: str,
    shop_port: int,
    secret: str,
    clock: Clock,
    tmp_path: Path,
) -> None:
    user = "widget-handoff"
    with (
        _start_host(shop_port, assistant_url, secret, user, tmp_path) as origin,
        _page(loopback_browser) as page,
    ):
        _open_widget(page, origin)
        with page.expect_response(
            f"{assistant_url}/v1/chat/stream", timeout=TURN_TIMEOUT_MS
        ) as got:
            _send(page, RUNNING)
        session_id = _result(got.value.text())["session_id"]
        page.locator(".card").first.wait_for(timeout=TURN_TIMEOUT_MS)

        # An agent takes the session over and writes (as the agent console does, in SQL).
        text = "Hi, this is Dana from support: the Trail 2 runs half a size small."
        with shop.sessions.begin() as session:
            record = session.get(SessionRecord, session_id)
            assert record is not None
            record.handoff = record.agent_active = True
            session.add(
                MessageRecord(
                    id=f"agent-{session_id}",
                    session_id=session_id,
                    turn_id=f"agent-turn-{session_id}",
                    role="agent",
                    text=text,
                    created_at=clock.now,
                )
            )
        with page.expect_response(
            f"{assistant_url}/v1/chat/stream", timeout=TURN_TIMEOUT_MS
        ) as got:
            _send(page, "do they run small?")
        assert _result(got.value.text())["agent_active"] is True
        agent = page.locator(".msg.agent", has_text="Dana from support")
        agent.wait_for(timeout=TIMEOUT_MS)  # polled every 3 s while the agent is active
        assert agent.inner_text().endswith(text)
        assert page.locator(".card").count() == 3  # the agent's turn showed no new cards
