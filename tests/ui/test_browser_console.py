"""The Agent console in a real browser: headless Debian Chromium driven by playwright against a
real uvicorn serving ``create_app`` on a free loopback port. A shopper asks for a person in the
Shopper tab; in a second page an agent signs in, finds the session in the queue, takes it over,
gets a suggested reply, edits and sends it; the shopper's page shows the agent's message; the
agent hands back. The screenshot goes to docs/screenshots/agent-console.png.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from assistant.app import Shop
from assistant.store import MessageRecord, SessionRecord

from ._browser import BROWSER_MARKS, SCREENSHOTS, TIMEOUT_MS, open_page
from .test_api import RUNNING

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = BROWSER_MARKS

USER = "browser-handoff"
HUMAN = "I want to talk to a human"
GREETING = "Hi, this is Dana from customer service. "


@pytest.fixture
def agent_page(browser: Browser, live_url: str) -> Iterator[Page]:
    """A second page on the same live server, for the agent."""
    yield from open_page(browser, live_url)


def _send(page: Page, text: str) -> None:
    page.locator("#sa-message textarea").fill(text)
    page.locator("#sa-send").click()


def _handed_off_session(shop: Shop) -> str:
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while time.monotonic() < deadline:
        with shop.sessions() as session:
            found = session.scalar(
                select(SessionRecord.id).where(
                    SessionRecord.user_id == USER, SessionRecord.handoff.is_(True)
                )
            )
        if found is not None:
            return found
        time.sleep(0.2)
    raise AssertionError(f"no handed-off session of {USER} appeared in SQL")


def _status(page: Page, text: str) -> None:
    page.locator("#sa-console-status").get_by_text(text).wait_for(timeout=TIMEOUT_MS)


def test_an_agent_takes_over_and_the_shopper_sees_the_message(
    page: Page, agent_page: Page, live_url: str, shop: Shop
) -> None:
    # The shopper gets a slate, then asks for a person.
    page.goto(f"{live_url}/ui/")
    page.locator("#sa-user input, #sa-user textarea").first.fill(USER)
    _send(page, RUNNING)
    page.locator(".sa-card:visible").first.wait_for(timeout=TIMEOUT_MS)
    _send(page, HUMAN)
    session_id = _handed_off_session(shop)

    # The agent signs in and finds the session in the queue.
    agent = agent_page
    agent.goto(f"{live_url}/ui/")
    agent.get_by_role("tab", name="Agent console").click()
    agent.locator("#sa-console-name input, #sa-console-name textarea").first.fill("Dana")
    agent.locator("#sa-console-password input, #sa-console-password textarea").first.fill(
        shop.settings.admin_password.get_secret_value()
    )
    agent.locator("#sa-console-signin").click()
    _status(agent, "Signed in as")
    agent.locator(f'#sa-console-queue tr[data-session="{session_id}"]').wait_for()
    agent.locator("#sa-console-pick label", has_text=USER).first.click()
    rows = agent.locator("#sa-console-history tr.sa-console-item")
    rows.first.wait_for(timeout=TIMEOUT_MS)
    assert rows.count() == 3
    assert "Propensity" in agent.locator("#sa-console-history").inner_text()

    agent.locator("#sa-console-take").click()
    _status(agent, "You own this session now")
    agent.locator("#sa-console-suggest").click()
    _status(agent, "Draft written by the template path")
    draft_box = agent.locator("#sa-console-draft textarea")
    draft = draft_box.input_value()
    first_title = rows.first.locator("td").nth(1).inner_text().splitlines()[0].strip()
    assert first_title and first_title in draft
    draft_box.fill(GREETING + draft)
    agent.locator("#sa-console-send").click()
    _status(agent, "Sent to the shopper.")
    agent.locator("#sa-console-history .sa-console-agent").get_by_text(GREETING.strip()).wait_for()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    agent.screenshot(path=str(SCREENSHOTS / "agent-console.png"), full_page=True)

    # The shopper's page shows it (the Shopper tab polls while the session is handed off).
    page.locator("#sa-chat").get_by_text("Customer service:").wait_for(timeout=TIMEOUT_MS)
    assert GREETING.strip() in page.locator("#sa-chat").inner_text()
    with shop.sessions() as session:
        sent = session.scalars(
            select(MessageRecord.text).where(
                MessageRecord.session_id == session_id, MessageRecord.role == "agent"
            )
        ).all()
    assert sent == [GREETING + draft]

    # The agent hands back: the session leaves the queue and the shopper is told.
    agent.locator("#sa-console-handback").click()
    _status(agent, "Handed back to the assistant.")
    assert agent.locator(f'#sa-console-queue tr[data-session="{session_id}"]').count() == 0
    page.locator("#sa-chat").get_by_text("the shopping assistant answers again").wait_for(
        timeout=TIMEOUT_MS
    )
    with shop.sessions() as session:
        record = session.get(SessionRecord, session_id)
        assert record is not None and not record.handoff and not record.agent_active
