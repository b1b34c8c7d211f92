"""The Insights and Admin tabs in a real browser: headless Debian Chromium driven by playwright
against a real uvicorn serving ``create_app``. In Insights, read a policy's click rate, post a
click through ``POST /v1/feedback``, refresh and see the rate move; in Admin, preview an activity
that is not saved and see who would get it. Screenshots go to docs/screenshots/.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from sqlalchemy import select

from assistant.admin import activity_from_fields
from assistant.app import Shop
from assistant.config import Settings
from assistant.errors import ValidationError
from assistant.store import (
    ActivityRecord,
    DecisionRecord,
    ImpressionRecord,
    UserData,
    content_hash,
    upsert_users,
)
from ui.api._runtime import Runtime
from ui.gradio_app._admin import FORM_FIELDS, AdminTab, form_fields, form_row
from ui.gradio_app._insights import InsightsTab
from ui.gradio_app._staff import StaffState

from ._browser import BROWSER_MARKS, SCREENSHOTS, TIMEOUT_MS
from .conftest import NOW
from .test_api import RUNNING

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = BROWSER_MARKS


def _sign_in(page: Page, live_url: str, shop: Shop, tab: str, prefix: str) -> None:
    page.goto(f"{live_url}/ui/")
    page.get_by_role("tab", name=tab).click()
    page.locator(f"#{prefix}-name input, #{prefix}-name textarea").first.fill("Staff Tester")
    password = shop.settings.admin_password.get_secret_value()
    page.locator(f"#{prefix}-password input").fill(password)
    page.locator(f"#{prefix}-signin").click()
    page.locator(f"#{prefix}-main").wait_for(state="visible")


def _rate(page: Page, policy: str) -> tuple[int, float]:
    row = page.locator(f"#sa-insights-summary tr[data-policy='{policy}']")
    shown = int(row.locator(".sa-impressions").inner_text(timeout=TIMEOUT_MS))
    rate = float(row.locator(".sa-click-rate").inner_text().rstrip("%")) / 100
    return shown, rate


def test_insights_show_a_click_rate_that_moves_when_feedback_is_posted(
    page: Page, live_url: str, shop: Shop
) -> None:
    chat = httpx.post(
        f"{live_url}/v1/chat",
        json={"user_id": "insights-shopper", "message": RUNNING},
        timeout=120,
    )
    assert chat.status_code == 200, chat.text
    impression = chat.json()["recommendations"][0]["impression_id"]
    with shop.sessions() as session:
        policy = session.scalar(
            select(DecisionRecord.policy_version)
            .join(ImpressionRecord, ImpressionRecord.decision_id == DecisionRecord.id)
            .where(ImpressionRecord.id == impression)
        )
    assert policy

    _sign_in(page, live_url, shop, "Insights", "sa-insights")
    impressions, before = _rate(page, policy)
    assert impressions >= 3
    clicked = round(before * impressions)
    assert page.locator("#sa-insights-ope").inner_text() == "No off-policy evaluation yet."

    posted = httpx.post(
        f"{live_url}/v1/feedback",
        json={"event_id": uuid.uuid4().hex, "impression_id": impression, "type": "click"},
    )
    assert posted.status_code == 200 and posted.json()["recorded"] is True
    expected = f"{(clicked + 1) / impressions * 100:.1f}%"
    cell = f"#sa-insights-summary tr[data-policy='{policy}'] .sa-click-rate"
    page.locator("#sa-insights-refresh").click()
    page.wait_for_function(
        "([sel, want]) => document.querySelector(sel)?.textContent === want",
        arg=[cell, expected],
        timeout=TIMEOUT_MS,
    )
    assert _rate(page, policy)[0] == impressions
    page.locator("#sa-insights-rates").scroll_into_view_if_needed()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "insights.png"), full_page=True)


def test_admin_previews_an_unsaved_activity_for_sampled_users(
    page: Page, live_url: str, shop: Shop
) -> None:
    with shop.sessions.begin() as session:
        upsert_users(
            session,
            [UserData("preview-member", member=True), UserData("preview-guest")],
            now=NOW,
        )
    _sign_in(page, live_url, shop, "Admin", "sa-admin")
    fields = {
        "id": "BROWSER-MEMBERS",
        "title": "Members: 60% off running shoes",
        "audience": "members",
        "categories": "shoes/running",
        "starts-at": (NOW - timedelta(days=1)).isoformat(),
        "ends-at": (NOW + timedelta(days=7)).isoformat(),
    }
    for name, value in fields.items():
        page.locator(f"#sa-admin-{name} input, #sa-admin-{name} textarea").first.fill(value)
    page.locator("#sa-admin-type input").fill("member_day")
    page.keyboard.press("Enter")
    page.locator("#sa-admin-percent input").fill("60")
    page.locator("#sa-admin-preview").click()

    page.wait_for_function(
        """() => document.querySelector('#sa-admin-summary')?.textContent.includes('would see')
            || document.querySelector('#sa-admin-status')?.textContent.includes('⚠️')""",
        timeout=TIMEOUT_MS,
    )
    status = page.locator("#sa-admin-status").inner_text()
    assert "⚠️" not in status, status
    summary = page.locator("#sa-admin-summary")
    assert re.search(r"\d+ of \d+ sampled users would see BROWSER-MEMBERS", summary.inner_text())
    member = page.locator("#sa-admin-results tr[data-user='preview-member']")
    guest = page.locator("#sa-admin-results tr[data-user='preview-guest']")
    assert "yes" in member.inner_text()
    guest_text = guest.inner_text()
    assert "no" in guest_text and "audience" in guest_text
    page.screenshot(path=str(SCREENSHOTS / "admin.png"), full_page=True)
    # "with (without)": 60% off beats every other item deal, so the member pays less; the
    # guest's prices are the same either way.
    member_prices = re.findall(r"(\d+\.\d\d) \((\d+\.\d\d)\)", member.inner_text())
    guest_prices = re.findall(r"(\d+\.\d\d) \((\d+\.\d\d)\)", guest_text)
    assert member_prices and all(float(a) < float(b) for a, b in member_prices), member_prices
    assert guest_prices and all(a == b for a, b in guest_prices), guest_prices

    with shop.sessions() as session:  # a preview saves nothing
        assert session.get(ActivityRecord, "BROWSER-MEMBERS") is None


def test_admin_form_round_trips_an_activity_and_names_bad_input(settings: Settings) -> None:
    values: dict[str, object] = dict.fromkeys(FORM_FIELDS, "")
    values.update(
        id="TIERS",
        type="threshold",
        status="active",
        audience="segment:vip",
        scope_all=False,
        categories="shoes, home ",
        starts_at="2030-06-01T00:00:00Z",
        ends_at="2030-07-01T00:00:00Z",
        tiers="50.00:5.00, 100.00:15.00",
        budget="1000.00",
        percent=0,  # an empty number box
        duration_minutes=0,
        per_user_limit=2.0,
    )
    activity = activity_from_fields(form_row(values), settings)
    assert activity.scope.categories == ("shoes", "home")
    assert [(t.threshold, t.discount) for t in activity.tiers] == [(5000, 500), (10000, 1500)]
    assert (activity.percent, activity.per_user_limit, activity.budget) == (None, 2, 100_000)
    again = dict(zip(FORM_FIELDS, form_fields(activity, settings.shop_currency), strict=True))
    assert content_hash(activity_from_fields(form_row(again), settings)) == content_hash(activity)

    with pytest.raises(ValidationError, match="tiers: '50.00' is not threshold:discount"):
        form_row({**values, "tiers": "50.00"})
    with pytest.raises(ValidationError, match="per user limit 1.5 must be a whole number"):
        form_row({**values, "per_user_limit": 1.5})
    with pytest.raises(ValidationError, match="window.0: Input should be a valid datetime"):
        activity_from_fields(form_row({**values, "starts_at": ""}), settings)


def test_staff_handlers_refuse_without_a_sign_in() -> None:
    def no_runtime() -> Runtime:
        raise AssertionError("a refused handler must not reach the shop")

    def run(handler: Coroutine[Any, Any, list[Any]]) -> list[Any]:
        # A thread of its own: playwright's sync API keeps an event loop in this one.
        with ThreadPoolExecutor(1) as pool:
            return pool.submit(asyncio.run, handler).result()

    admin, insights = AdminTab(no_runtime), InsightsTab(no_runtime)
    form = [""] * len(FORM_FIELDS)
    for outputs in (
        run(admin.on_preview(StaffState(), *form, 100, "")),
        run(admin.on_save(None, *form)),
        run(admin.on_end(StaffState(), "A1")),
        run(admin.on_load(StaffState(), "A1")),
        run(insights.refresh(StaffState())),
    ):
        assert outputs[0] == "⚠️ Sign in first."
