"""The Gradio Shopper tab's callbacks on the served demo world, without a browser: the chat
streams and renders cards; claim, add to cart and dismiss land in SQL through the API's own
code paths; labels switch language; outside dev the tab refuses to act."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Coroutine
from datetime import timedelta
from typing import Any, TypeVar

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from assistant.app import Shop
from assistant.conversation import Assistant
from assistant.store import ActivityRecord, ActivityRevisionRecord, ClaimRecord, FeedbackRecord
from ui.api import Authenticator
from ui.api._runtime import Runtime
from ui.gradio_app import SLOTS, ShopperTab, UiRefused, card_html, coupons_html
from ui.gradio_app._shopper import State

from .conftest import NOW, Clock, build_app, wait_ready
from .test_api import RUNNING
from .test_api_records import COUPONS

T = TypeVar("T")
EN, ZH = "English", "中文"


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


async def collect(stream: AsyncIterator[list[Any]]) -> list[list[Any]]:
    return [step async for step in stream]


@pytest.fixture
def tab(shop: Shop, assistant: Assistant, clock: Clock) -> ShopperTab:
    runtime = Runtime(
        shop,
        lambda _: assistant,
        auth=Authenticator(shop.settings.jwt_secret.get_secret_value(), dev=True),
        clock=clock,
        ready_timeout_s=30,
        max_turns=2,
    )
    runtime.start_loading()
    return ShopperTab(lambda: runtime, dev=True)


def chat(tab: ShopperTab, user: str, message: str, state: State | None = None) -> list[list[Any]]:
    """Every step the chat callback yields; the last holds the cards."""
    return run(collect(tab.respond(message, user, EN, state)))


def slots(step: list[Any], offset: int) -> list[dict[str, Any]]:
    """The visible cards of a callback's output: {html, claim, cart, dismiss} per slot."""
    updates = step[offset:]
    assert len(updates) == 5 * SLOTS
    out = []
    for i in range(SLOTS):
        column, card, claim, cart, dismiss = updates[5 * i : 5 * i + 5]
        if column["visible"]:
            out.append({"html": card["value"], "claim": claim, "cart": cart, "dismiss": dismiss})
    return out


def feedback_rows(shop: Shop, impression_id: str) -> list[tuple[str, str | None]]:
    with shop.sessions() as session:
        rows = session.execute(
            select(FeedbackRecord.type, FeedbackRecord.claim_id).where(
                FeedbackRecord.impression_id == impression_id
            )
        ).all()
    return [(kind, claim) for kind, claim in rows]


def test_the_reply_streams_and_the_cards_show_titles_and_final_prices(tab: ShopperTab) -> None:
    steps = chat(tab, "gr-runner", RUNNING)
    assert len(steps) >= 3  # the question, streamed text, then the cards
    last = steps[-1]
    transcript, state = last[0], last[2]
    assert transcript[0] == {"role": "user", "content": RUNNING}
    reply = transcript[-1]["content"]
    assert reply and not reply.startswith("⚠️")
    streamed = [s[0][-1]["content"] for s in steps[:-1]]
    assert streamed[0] == "" and streamed[1]  # an empty bubble first, then text as it comes
    assert all(b.startswith(a) for a, b in zip(streamed, streamed[1:], strict=False))
    assert reply.startswith(streamed[-1][:20])
    cards = slots(last, 3)
    assert len(cards) == len(state["recs"]) == 3 and state["session_id"]
    for card, rec in zip(cards, state["recs"], strict=True):
        assert rec["kind"] == "product"
        html = card["html"]
        assert rec["title"].split()[0] in html
        assert re.search(rf"\$\s*{re.escape(rec['final_price'])}</b>", html), html
        assert rec["impression_id"] in html and rec["reason"][:15] in html
        assert card["cart"]["visible"] and card["dismiss"]["visible"]
    # The same conversation continues with its slots.
    again = chat(tab, "gr-runner", "under 60", state)[-1][2]
    assert again["session_id"] == state["session_id"]
    assert all(float(r["final_price"]) <= 60 for r in again["recs"])


def _claimable(tab: ShopperTab, user: str) -> tuple[State, int, dict[str, Any]]:
    last = chat(tab, user, COUPONS)[-1]
    state = last[2]
    for i, card in enumerate(slots(last, 3)):
        if card["claim"]["visible"]:
            return state, i, state["recs"][i]
    raise AssertionError(f"no claimable card for {COUPONS!r}: {state['recs']}")


def test_claim_shows_the_code_and_is_recorded_in_sql(tab: ShopperTab, shop: Shop) -> None:
    state, slot, rec = _claimable(tab, "gr-claimer")
    out = run(tab.act(slot, "claim", "gr-claimer", EN, state))
    state, coupons = out[0], out[1]
    note = state["notes"][rec["impression_id"]]
    code = note["claim"]["code"]
    assert code.startswith("SA-")
    card = slots(out, 2)[slot]
    assert code in card["html"] and "Your code" in card["html"]
    assert not card["claim"]["visible"]
    assert code in coupons and "ready to use" in coupons
    with shop.sessions() as session:
        claims = session.execute(
            select(ClaimRecord.id, ClaimRecord.code).where(ClaimRecord.user_id == "gr-claimer")
        ).all()
    assert [c.code for c in claims] == [code]
    assert feedback_rows(shop, rec["impression_id"]) == [("claim", claims[0].id)]
    # A second click replays the same claim: no second row, no second event.
    again = run(tab.claim("gr-claimer", rec))
    assert again.claim is not None and again.claim["code"] == code and not again.recorded
    assert len(feedback_rows(shop, rec["impression_id"])) == 1
    assert code in run(tab.coupons_view("gr-claimer", EN))


def test_a_refused_claim_shows_the_plain_reason(tab: ShopperTab, shop: Shop) -> None:
    state, slot, rec = _claimable(tab, "gr-refused")
    activity = next(d["activity_id"] for d in rec["deals"] if d["needs_claim"])
    with shop.sessions.begin() as session:
        budget = session.scalar(
            select(ActivityRevisionRecord.budget)
            .join(ActivityRecord, ActivityRecord.id == ActivityRevisionRecord.activity_id)
            .where(
                ActivityRecord.id == activity,
                ActivityRevisionRecord.revision == ActivityRecord.current_revision,
            )
        )
        assert budget is not None
        session.execute(
            update(ActivityRecord)
            .where(ActivityRecord.id == activity)
            .values(budget_reserved=budget)
        )
    try:
        out = run(tab.act(slot, "claim", "gr-refused", ZH, state))
    finally:
        with shop.sessions.begin() as session:
            session.execute(
                update(ActivityRecord)
                .where(ActivityRecord.id == activity)
                .values(budget_reserved=0)
            )
    note = out[0]["notes"][rec["impression_id"]]
    assert note["refused"] == "budget_exhausted" and "claim" not in note
    card = slots(out, 2)[slot]
    assert "这张优惠券已被领完" in card["html"] and 'data-reason="budget_exhausted"' in card["html"]
    assert card["claim"]["visible"]  # it may be tried again
    assert feedback_rows(shop, rec["impression_id"]) == []
    with shop.sessions() as session:
        assert (
            session.scalar(select(ClaimRecord.id).where(ClaimRecord.user_id == "gr-refused"))
            is None
        )


def test_add_to_cart_and_dismiss_are_feedback_events(tab: ShopperTab, shop: Shop) -> None:
    state = chat(tab, "gr-carter", RUNNING)[-1][2]
    first, second = state["recs"][0], state["recs"][1]
    out = run(tab.act(0, "add_to_cart", "gr-carter", EN, state))
    card = slots(out, 2)[0]
    assert "Added to your cart." in card["html"]
    assert card["cart"]["value"] == "✓ In cart" and card["cart"]["interactive"] is False
    out = run(tab.act(1, "dismiss", "gr-carter", EN, out[0]))
    shown = slots(out, 2)
    assert len(shown) == 2 and second["impression_id"] not in "".join(c["html"] for c in shown)
    run(tab.feedback("gr-carter", first, "add_to_cart"))  # repeated: no second effect
    assert feedback_rows(shop, first["impression_id"]) == [("add_to_cart", None)]
    assert feedback_rows(shop, second["impression_id"]) == [("dismiss", None)]
    with pytest.raises(UiRefused, match="shown to another user"):
        run(tab.feedback("gr-intruder", first, "dismiss"))


def test_the_language_toggle_relabels_the_tab(tab: ShopperTab) -> None:
    out = tab.relabel(ZH, None)
    user, _, hint, _, message, send, box, refresh = out[:8]
    assert user["label"] == "用户 ID" and send["value"] == "发送" and box["label"] == "我的优惠券"
    assert message["placeholder"] == "想买点什么？" and refresh["value"] == "刷新"
    assert "中文" in hint["value"]
    assert tab.relabel(EN, None)[5]["value"] == "Send"


def test_a_card_has_badge_countdown_gap_and_escapes_text() -> None:
    rec = {
        "impression_id": "imp-1",
        "kind": "product",
        "id": "p1",
        "title": "Trail <b>runner</b>",
        "price": "90.00",
        "final_price": "72.00",
        "currency": "USD",
        "valid_until": "2030-06-15T17:30:00Z",
        "reason": "20% off in a flash sale",
        "image_url": "https://shop.example/img/p1.jpg",
        "needs_claim": False,
        "cart_gap": {"add": "8.00", "unlocks": "10.00", "activity_id": "a2"},
        "deals": [
            {
                "activity_id": "a1",
                "type": "flash_sale",
                "title": "Summer flash",
                "saving": "18.00",
                "needs_claim": False,
                "ends_at": "2030-06-15T17:30:00Z",
            }
        ],
    }
    html = card_html(rec, lang="en", now=NOW)
    assert "Trail &lt;b&gt;runner&lt;/b&gt;" in html and "<b>runner" not in html
    assert "<s>$90.00</s>" in html and "$72.00</b>" in html
    assert "Flash sale −$18.00" in html and "Flash sale ends in 5 h 30 min" in html
    assert "Add $8.00 more to save $10.00 more" in html
    assert 'src="https://shop.example/img/p1.jpg"' in html
    zh = card_html(rec, lang="zh", now=NOW + timedelta(days=-1))
    assert "限时秒杀" in zh and "限时秒杀还剩 1天5小时" in zh and "再买 $8.00 可再省 $10.00" in zh
    assert "No coupons claimed yet." in coupons_html([], "en")


def test_outside_dev_the_tab_refuses_to_act(tab: ShopperTab, shop: Shop) -> None:
    locked = ShopperTab(lambda: tab.runtime, dev=False)
    with pytest.raises(UiRefused, match="dev mode only"):
        locked.user("demo-shopper")
    steps = chat(locked, "gr-locked", RUNNING)
    assert len(steps) == 1 and "dev mode only" in steps[0][0][-1]["content"]
    with pytest.raises(UiRefused, match="Type a user id"):
        tab.user("   ")
    with shop.sessions() as session:
        assert (
            session.scalar(select(ClaimRecord.id).where(ClaimRecord.user_id == "gr-locked")) is None
        )


def test_the_server_serves_the_ui_beside_the_api(
    shop: Shop, assistant: Assistant, clock: Clock
) -> None:
    with TestClient(build_app(shop, assistant, clock, dev=True)) as client:
        wait_ready(client)
        root = client.get("/", follow_redirects=False)
        assert root.status_code in (302, 307) and root.headers["location"] == "/ui/"
        page = client.get("/ui/")
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]
        config = client.get("/ui/config").json()
        assert config["title"] == "shopassist" and not config["analytics_enabled"]
        ids = {c["props"].get("elem_id") for c in config["components"]}
        assert {"sa-user", "sa-language", "sa-message", "sa-claim-0", "sa-coupons"} <= ids
        assert client.get("/healthz").json()["sql"] == "ok"
        assert "/ui" not in client.get("/openapi.json").json()["paths"]
        r = client.post("/v1/chat", json={"user_id": "gr-api", "message": RUNNING})
        assert r.status_code == 200 and len(r.json()["recommendations"]) == 3


def test_the_insights_tab_shows_an_evaluation_with_its_intervals_and_verdict() -> None:
    from datetime import UTC, datetime

    from assistant.store.models import PolicyEvaluationRecord
    from ui.gradio_app._insights import evaluation_markdown

    record = PolicyEvaluationRecord(
        id="e1",
        candidate_version="linucb:<b>1",
        serving_version="epsilon_greedy:1",
        created_at=datetime(2026, 11, 28, 12, tzinfo=UTC),
        n_decisions=20000,
        reward="click",
        report={
            "logged": 0.1772,
            "estimates": [{"name": "IPS", "value": 0.2427, "low": 0.2287, "high": 0.2571}],
            "gate": {"difference": 0.0655, "low": 0.0524, "high": 0.0799},
        },
        promoted=True,
    )
    text = evaluation_markdown(record)
    assert "linucb:&lt;b&gt;1" in text and "promoted" in text and "20000 logged decisions" in text
    assert "| IPS | 0.2427 | [0.2287, 0.2571] |" in text
    assert "[+0.0524, +0.0799]" in text
    assert evaluation_markdown(None) == "No off-policy evaluation yet."
