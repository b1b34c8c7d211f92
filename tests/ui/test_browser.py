"""The Gradio Shopper tab in a real browser: headless Debian Chromium driven by playwright against
a real uvicorn serving ``create_app`` on a free loopback port. Chat, see cards, claim a coupon and
see its code, then find the claim and the feedback in SQL. Screenshots go to docs/screenshots/.

The browser and page fixtures are in ``tests/ui/conftest.py`` (see ``tests/ui/_browser.py``).
"""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import TYPE_CHECKING

from sqlalchemy import select

from assistant.app import Shop
from assistant.store import ClaimRecord, FeedbackRecord, ImpressionRecord

from ._browser import BROWSER_MARKS, SCREENSHOTS, TIMEOUT_MS
from .test_api import RUNNING
from .test_api_records import COUPONS

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = BROWSER_MARKS

USER = "browser-shopper"


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
