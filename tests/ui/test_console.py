"""The Agent console tab's handlers on the served demo world, without a browser: nothing works
before signing in; a signed-in agent sees the queue, a session's history with the decision behind
each slate, takes over, gets a guarded draft, sends it and hands back; the Shopper tab's poll
shows the agent's message; ``GET /v1/sessions/{id}`` returns it to the shopper and to agents."""

from __future__ import annotations

import asyncio
import html
from collections.abc import AsyncIterator, Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import gradio as gr
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from assistant.agents import send_agent_message, take_over
from assistant.app import Shop
from assistant.conversation import Assistant
from assistant.store import MessageRecord, SessionRecord
from ui.api import Authenticator
from ui.api._runtime import Runtime
from ui.gradio_app._console import ConsoleTab
from ui.gradio_app._shopper import ShopperTab, State
from ui.gradio_app._staff import StaffState

from .conftest import NOW, Clock
from .test_api import RUNNING

T = TypeVar("T")
HUMAN = "I want to talk to a human"


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a handler to completion on a fresh event loop in a worker thread (after a browser
    test, playwright's sync API keeps a loop running in the main thread)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


async def collect(stream: AsyncIterator[list[Any]]) -> list[list[Any]]:
    return [step async for step in stream]


@pytest.fixture
def runtime(shop: Shop, assistant: Assistant, clock: Clock) -> Runtime:
    made = Runtime(
        shop,
        lambda _: assistant,
        auth=Authenticator(shop.settings.jwt_secret.get_secret_value(), dev=True),
        clock=clock,
        ready_timeout_s=30,
        max_turns=2,
    )
    made.start_loading()
    return made


@pytest.fixture
def console(runtime: Runtime) -> ConsoleTab:
    return ConsoleTab(lambda: runtime)


@pytest.fixture
def shopper(runtime: Runtime) -> ShopperTab:
    return ShopperTab(lambda: runtime, dev=True)


@pytest.fixture
def password(shop: Shop) -> str:
    return shop.settings.admin_password.get_secret_value()


def say(shopper: ShopperTab, user: str, message: str, state: State | None = None) -> State:
    """Send a message in the Shopper tab; the state after the last step."""
    steps = run(collect(shopper.respond(message, user, "English", state)))
    state_out: State = steps[-1][2]
    return state_out


def handed_off(shopper: ShopperTab, user: str) -> State:
    state = say(shopper, user, RUNNING)
    state = say(shopper, user, HUMAN, state)
    assert state["handoff"] and not state["agent_active"] and len(state["recs"]) == 0
    return state


def signed_in(console: ConsoleTab, password: str) -> StaffState:
    out = run(console.sign_in("Dana", password))
    staff: StaffState = out[0]
    assert staff.signed_in
    return staff


def agent_rows(shop: Shop, session_id: str) -> list[str]:
    with shop.sessions() as session:
        return list(
            session.scalars(
                select(MessageRecord.text).where(
                    MessageRecord.session_id == session_id, MessageRecord.role == "agent"
                )
            )
        )


def test_nothing_works_before_signing_in(
    console: ConsoleTab, shopper: ShopperTab, shop: Shop
) -> None:
    state = handed_off(shopper, "console-nosign")
    sid = state["session_id"]
    for staff in (None, StaffState()):
        assert run(console.refresh(staff, sid)) == [gr.skip()] * 3
        assert run(console.open(staff, sid))[1] == "⚠️ Sign in first."
        assert run(console.take_over(staff, sid))[0] == "⚠️ Sign in first."
        assert run(console.suggest(staff, sid))[2] == "⚠️ Sign in first."
        assert run(console.send(staff, sid, "hello"))[0] == "⚠️ Sign in first."
        assert run(console.hand_back(staff, sid))[0] == "⚠️ Sign in first."
    with shop.sessions() as session:
        record = session.get(SessionRecord, sid)
        assert record is not None and record.handoff and not record.agent_active
    assert agent_rows(shop, sid) == []


def test_sign_in_needs_a_name_and_the_admin_password(console: ConsoleTab, password: str) -> None:
    wrong = run(console.sign_in("Dana", "not-the-password"))
    assert wrong[1] == "⚠️ Wrong password." and not wrong[0].signed_in
    nameless = run(console.sign_in("  ", password))
    assert nameless[1] == "⚠️ Type your name to sign in." and not nameless[0].signed_in
    long_name = run(console.sign_in("x" * 65, password))
    assert "at most 64 characters" in long_name[1]
    ok = run(console.sign_in("Dana", password))
    staff, status, login, main, queue, pick, timer = ok
    assert staff.name == "Dana" and status == "Signed in as **Dana**."
    assert login["visible"] is False and main["visible"] is True
    assert "<table" in queue or "No session is waiting" in queue
    assert pick["value"] is None and timer.active is True  # the queue polls from now on


def test_take_over_suggest_send_and_hand_back_reach_the_shopper(
    console: ConsoleTab, shopper: ShopperTab, shop: Shop, password: str
) -> None:
    user = "console-flow"
    first = say(shopper, user, RUNNING)
    shown = list(first["recs"])
    state = say(shopper, user, HUMAN, first)
    sid = state["session_id"]
    staff = signed_in(console, password)

    queue, pick, history = run(console.refresh(staff, None))
    assert f'data-session="{sid}"' in queue and user in queue and HUMAN in queue
    assert sid in [value for _, value in pick["choices"]]
    page, status = run(console.open(staff, sid))
    assert status == ""
    for rec in shown:  # every shown item with its decision's numbers and why-line
        assert f'data-impression="{rec["impression_id"]}"' in page
        assert html.escape(rec["reason"], quote=True) in page
    assert "Propensity" in page and "Activity revision" in page and "candidates" in page

    # Refused before the take-over, with the reason shown.
    refused = run(console.send(staff, sid, "Hello!"))
    assert refused[0].startswith("⚠️ session") and "take it over before" in refused[0]
    assert run(shopper.agent_poll(user, "English", state)) == [gr.skip()] * 2  # nothing yet

    status, page, queue, pick = run(console.take_over(staff, sid))
    assert status.startswith("You own this session now")
    assert "agent active" in queue and pick["value"] == sid
    again = run(console.take_over(staff, sid))
    assert again[0] == "An agent already owns this session."

    # The shopper's message now gets no assistant reply.
    steps = run(collect(shopper.respond("hello?", user, "English", state)))
    transcript, state = steps[-1][0], steps[-1][2]
    assert transcript[-1] == {"role": "user", "content": "hello?"} and state["agent_active"]

    draft, facts, status = run(console.suggest(staff, sid))
    text = draft["value"]
    assert shown[0]["title"] in text and "Claims guard: passed" in facts
    assert status.startswith("Draft written by the template path")
    edited = "Hi, Dana here. " + text
    status, cleared, page = run(console.send(staff, sid, edited))
    assert status == "Sent to the shopper." and cleared["value"] == ""
    assert "Dana here" in page
    assert agent_rows(shop, sid) == [edited]

    chat, state = run(shopper.agent_poll(user, "English", state))
    assert chat[-1] == {"role": "assistant", "content": f"**Customer service:** {edited}"}
    assert run(shopper.agent_poll(user, "English", state)) == [gr.skip()] * 2  # nothing new
    assert [m["content"] for m in state["transcript"]].count(chat[-1]["content"]) == 1

    status, page, queue, pick = run(console.hand_back(staff, sid))
    assert status == "Handed back to the assistant." and f'data-session="{sid}"' not in queue
    chat, state = run(shopper.agent_poll(user, "English", state))
    assert "the shopping assistant answers again" in chat[-1]["content"]
    assert not state["handoff"] and not state["agent_active"]
    back = say(shopper, user, RUNNING, state)
    assert back["transcript"][-1]["content"] and back["recs"]
    refused = run(console.hand_back(staff, sid))
    assert "nothing to hand back" in refused[0]


def test_bad_input_is_refused_in_the_status_line(
    console: ConsoleTab, shopper: ShopperTab, password: str, shop: Shop
) -> None:
    state = handed_off(shopper, "console-bad")
    sid = state["session_id"]
    staff = signed_in(console, password)
    assert run(console.take_over(staff, None))[0] == "⚠️ Pick a session from the queue first."
    assert "unknown session 'missing'" in run(console.open(staff, "missing"))[1]
    run(console.take_over(staff, sid))
    assert "the agent message is empty" in run(console.send(staff, sid, "   "))[0]
    assert "at most 2,000" in run(console.send(staff, sid, "x" * 2001))[0]
    assert agent_rows(shop, sid) == []


def test_the_api_returns_agent_messages_to_the_shopper_and_to_agents(
    client: TestClient,
    secure_client: TestClient,
    shop: Shop,
    token: Callable[..., str],
) -> None:
    body = client.post("/v1/chat", json={"user_id": "console-api", "message": HUMAN}).json()
    assert body["handoff"] is True
    sid = body["session_id"]
    take_over(shop, sid, now=NOW)
    sent = send_agent_message(shop, sid, "Hello from a person.", now=NOW)
    muted = client.post(
        "/v1/chat", json={"user_id": "console-api", "session_id": sid, "message": "hi"}
    ).json()
    assert muted["reply"] == "" and muted["agent_active"] is True

    mine = client.get(f"/v1/sessions/{sid}", params={"user_id": "console-api"})
    assert mine.status_code == 200 and mine.json()["agent_active"] is True
    said = [(m["role"], m["text"]) for t in mine.json()["turns"] for m in t["messages"]]
    assert ("agent", sent.text) in said and said[0] == ("shopper", HUMAN)
    other = client.get(f"/v1/sessions/{sid}", params={"user_id": "someone-else"})
    assert other.status_code == 403
    agent = {"Authorization": f"Bearer {token('agent-9', role='agent')}"}
    seen = secure_client.get(f"/v1/sessions/{sid}", headers=agent)
    assert seen.status_code == 200
    assert any(m["role"] == "agent" for t in seen.json()["turns"] for m in t["messages"])
