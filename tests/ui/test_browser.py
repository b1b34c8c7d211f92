"""The Gradio Shopper tab in a real browser: headless Debian Chromium driven by playwright against
a real uvicorn serving ``create_app`` on a free loopback port. Chat, see cards, claim a coupon and
see its code, then find the claim and the feedback in SQL. Screenshots go to docs/screenshots/.

Chromium is Debian's ``/usr/bin/chromium`` (the Makefile installs it); playwright never downloads
a browser here. Without it the tests skip, except in CI (``CI`` set), where they fail.
"""

from __future__ import annotations

import os
import re
from collections.abc import Collection, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import pytest
from sqlalchemy import select

from assistant.app import Shop
from assistant.store import ClaimRecord, FeedbackRecord, ImpressionRecord

from .test_api import RUNNING
from .test_api_records import COUPONS

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = [
    pytest.mark.integration,
    # Gradio's queue estimates wait times with pandas options that pandas 3 deprecates; the
    # server's own code is not involved (gradio 6.31, pandas 3).
    pytest.mark.filterwarnings(
        "ignore:'future.no_silent_downcasting' is deprecated:DeprecationWarning"
    ),
    pytest.mark.filterwarnings("ignore:The copy keyword is deprecated:DeprecationWarning"),
]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
TIMEOUT_MS = 30_000
USER = "browser-shopper"


def _unavailable(reason: str) -> NoReturn:
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set: the browser tests must run)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless, launched once for the module."""
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} is missing: `apt-get install chromium` (make install does)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is missing: pip install -e '.[dev]'")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser, live_url: str) -> Iterator[Page]:
    """A page on the live server; requests anywhere else (product images) are refused."""
    context = browser.new_context(viewport={"width": 1360, "height": 1000}, locale="en-US")
    context.set_default_timeout(TIMEOUT_MS)
    context.route(
        "**/*",
        lambda route: (
            route.continue_() if route.request.url.startswith(live_url) else route.abort()
        ),
    )
    opened = context.new_page()
    yield opened
    context.close()


def _send(page: Page, text: str) -> None:
    page.locator("#sa-message textarea").fill(text)
    page.locator("#sa-send").click()


def _cards(page: Page, *, not_before: Collection[str] = ()) -> list[str]:
    """The impression ids of the visible cards, once a new set is shown."""
    cards = page.locator(".sa-card:visible")
    page.wait_for_function(
        """(old) => {
            const ids = [...document.querySelectorAll('.sa-card')]
                .filter(c => c.offsetParent !== null).map(c => c.dataset.impression);
            return ids.length > 0 && ids.every(i => !old.includes(i));
        }""",
        arg=sorted(not_before),
        timeout=TIMEOUT_MS,
    )
    return [cards.nth(i).get_attribute("data-impression") or "" for i in range(cards.count())]


def test_chat_see_cards_claim_a_coupon_and_find_it_in_sql(
    page: Page, live_url: str, shop: Shop
) -> None:
    page.goto(f"{live_url}/")  # redirects to /ui/
    assert re.search(r"/ui/?$", page.url)
    page.locator("#sa-user input, #sa-user textarea").first.fill(USER)

    _send(page, RUNNING)
    first = _cards(page)
    assert len(first) == 3
    bubble = page.locator("#sa-chat .message").last
    assert bubble.inner_text(timeout=TIMEOUT_MS).strip()
    card_text = page.locator(".sa-card:visible").first.inner_text()
    assert "$" in card_text and page.locator(".sa-final:visible").count() == 3
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "shopper-chat.png"), full_page=True)

    _send(page, COUPONS)
    shown = _cards(page, not_before=set(first))
    claim = page.locator("button[id^='sa-claim-']:visible").first
    slot = int((claim.get_attribute("id") or "").rsplit("-", 1)[1])
    claim.click()
    code_box = page.locator(f"#sa-card-{slot} .sa-code code")
    code = code_box.inner_text(timeout=TIMEOUT_MS).strip()
    assert code.startswith("SA-")
    page.locator("#sa-coupons").get_by_text(code).wait_for()
    page.locator("button[id^='sa-dismiss-']:visible").last.click()
    page.wait_for_function(
        "n => document.querySelectorAll('.sa-card').length && "
        "[...document.querySelectorAll('.sa-card')].filter(c => c.offsetParent).length === n",
        arg=len(shown) - 1,
    )
    page.screenshot(path=str(SCREENSHOTS / "shopper-claim.png"), full_page=True)

    with shop.sessions() as session:
        claims = session.execute(
            select(ClaimRecord.id, ClaimRecord.code).where(ClaimRecord.user_id == USER)
        ).all()
        assert [c.code for c in claims] == [code]
        events = session.execute(
            select(FeedbackRecord.type, FeedbackRecord.claim_id, ImpressionRecord.id)
            .join(ImpressionRecord, ImpressionRecord.id == FeedbackRecord.impression_id)
            .where(ImpressionRecord.id.in_(shown))
        ).all()
    kinds = sorted(e.type for e in events)
    assert kinds == ["claim", "dismiss"], events
    assert next(e.claim_id for e in events if e.type == "claim") == claims[0].id
