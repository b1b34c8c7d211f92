"""Durable events: feedback survives ``kill -9`` of the server, each event counted once.

``shopassist serve`` runs as a real child process on a copy of the served demo world. A few
chat turns make impressions; then thousands of ``POST /v1/feedback`` events (a tenth of them
resends of an earlier ``event_id``) go out from an asyncio client, a bounded number at a time.
Half-way the server is killed with SIGKILL, restarted on the same store, and every event that
was not acknowledged is sent again, together with some that were. SQL must then hold every
event exactly once, and the session carts built from ``add_to_cart`` events must count each
event once.
"""

from __future__ import annotations

import asyncio
import logging
import random
import shutil
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from assistant.app import Shop
from assistant.config import Settings
from assistant.indexing import sync_catalog_index
from assistant.store import (
    CartItemRecord,
    CartRecord,
    DecisionRecord,
    FeedbackRecord,
    ImpressionRecord,
    make_engine,
    upgrade,
)
from assistant.world import STEPS, build_demo
from tests.assistant.conversation.conftest import LEAVES, NOW

from ._live_server import ServerProcess

pytestmark = pytest.mark.integration

logger = logging.getLogger(__name__)

RAISED = {
    "SHOPASSIST_RATE_LIMIT_USER": "1000000/minute",
    "SHOPASSIST_RATE_LIMIT_IP": "1000000/minute",
}
QUERIES = [
    "running shoes under $80",
    "casual shoes",
    "a chef knife for my kitchen",
    "noise cancelling headphones",
]


@dataclass
class Ledger:
    """What the client sent and what the server answered, per event id."""

    acked: set[str] = field(default_factory=set)
    recorded: Counter[str] = field(default_factory=Counter)
    failed: set[str] = field(default_factory=set)
    sent: int = 0
    """Requests that reached the wire (events skipped after the kill are not counted)."""


@pytest.fixture
def var(served_var: Path, tmp_path: Path) -> Path:
    """A private copy of the served demo world (store and index) for one server's lifetimes."""
    copy = tmp_path / "var"
    shutil.copytree(served_var, copy)
    return copy


@pytest.fixture
def server(var: Path) -> Iterator[ServerProcess]:
    process = ServerProcess(var, env=RAISED)
    try:
        yield process.start()
    finally:
        process.stop()


def _impressions(url: str) -> list[dict[str, Any]]:
    """Product impressions of a few chat turns, one session per query."""
    shown: list[dict[str, Any]] = []
    with httpx.Client(base_url=url, timeout=60) as client:
        for n, query in enumerate(QUERIES):
            r = client.post("/v1/chat", json={"user_id": f"fb-user{n}", "message": query})
            assert r.status_code == 200, r.text
            shown += [x for x in r.json()["recommendations"] if x["kind"] == "product"]
    assert len(shown) >= 12, "the chat turns showed too few products"
    return shown


def _events(impressions: list[dict[str, Any]], count: int, seed: int) -> list[dict[str, Any]]:
    """``count`` sends: nine in ten new events, one in ten a resend of an earlier one."""
    rng = random.Random(seed)
    unique: list[dict[str, Any]] = []
    sends: list[dict[str, Any]] = []
    for n in range(count):
        if unique and n % 10 == 9:
            sends.append(rng.choice(unique))
            continue
        impression = rng.choice(impressions)["impression_id"]
        kind = rng.choice(["click", "click", "add_to_cart", "add_to_cart", "purchase", "dismiss"])
        event: dict[str, Any] = {"event_id": f"ev-{seed}-{n}", "impression_id": impression}
        event["type"] = kind
        if kind == "add_to_cart":
            event["quantity"] = rng.randint(1, 3)
        elif kind == "purchase":
            event["value"] = f"{rng.randint(1, 200)}.{rng.randint(0, 99):02d}"
            event["order_id"] = f"order-{n}"
        unique.append(event)
        sends.append(event)
    return sends


async def _send(
    url: str,
    events: list[dict[str, Any]],
    ledger: Ledger,
    *,
    at_once: int,
    kill_after: int | None = None,
    server: ServerProcess | None = None,
) -> None:
    """Send ``events``, ``at_once`` in flight; ``kill -9`` the server after ``kill_after`` acks.

    Every answer lands in ``ledger``: a 200 is an acknowledgement; a refused connection or a
    dropped one (the server died) is a failure to resend.
    """
    gate = asyncio.Semaphore(at_once)
    limits = httpx.Limits(max_connections=at_once, max_keepalive_connections=at_once)
    killed = False
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60) as client:

        async def one(event: dict[str, Any]) -> None:
            nonlocal killed
            async with gate:
                if killed:
                    ledger.failed.add(event["event_id"])
                    return
                ledger.sent += 1
                try:
                    r = await client.post("/v1/feedback", json=event)
                except httpx.TransportError:
                    ledger.failed.add(event["event_id"])
                    return
            assert r.status_code == 200, r.text  # no 4xx or 5xx while the server lives
            body = r.json()
            assert body["event_id"] == event["event_id"]
            ledger.acked.add(event["event_id"])
            ledger.recorded[event["event_id"]] += body["recorded"]
            if kill_after is not None and not killed and len(ledger.acked) >= kill_after:
                killed = True
                assert server is not None
                server.kill()

        await asyncio.gather(*(one(e) for e in events))


@dataclass
class Stored:
    """What SQL holds afterwards."""

    events: dict[str, Any]
    """The feedback rows by event id."""
    carts: dict[tuple[str | None, str], int]
    """Units per (session id, product id) in the session carts."""
    sessions: dict[str, str | None]
    """The session id each impression was shown in."""


def _stored(url: str) -> Stored:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(select(FeedbackRecord.__table__)).all()
            duplicates = connection.execute(
                select(FeedbackRecord.event_id)
                .group_by(FeedbackRecord.event_id)
                .having(func.count() > 1)
            ).all()
            carts = connection.execute(
                select(
                    CartRecord.session_id, CartItemRecord.product_id, CartItemRecord.quantity
                ).join(CartItemRecord, CartItemRecord.cart_id == CartRecord.id)
            ).all()
            shown_in = connection.execute(
                select(ImpressionRecord.id, DecisionRecord.session_id).join(
                    DecisionRecord, DecisionRecord.id == ImpressionRecord.decision_id
                )
            ).all()
    finally:
        engine.dispose()
    assert duplicates == [], "an event id is stored twice"
    events = {row.event_id: row for row in rows}
    assert len(events) == len(rows)
    return Stored(
        events=events,
        carts={(session, product): qty for session, product, qty in carts},
        sessions=dict(shown_in),
    )


def run_kill_and_resend(
    server: ServerProcess, count: int, *, resend_acked: int, at_once: int = 16
) -> dict[str, Any]:
    """The whole scenario: ``count`` sends, the kill, the restart, then every unacknowledged
    event and ``resend_acked`` acknowledged ones again. Returns the figures for the report."""
    impressions = _impressions(server.url)
    by_impression = {x["impression_id"]: x for x in impressions}
    sends = _events(impressions, count, seed=count)
    unique = {e["event_id"]: e for e in sends}
    ledger = Ledger()
    # The copied world may hold other tests' feedback and carts; only this run's are checked.
    earlier = set(_stored(server.store_url).events)
    ours = {x["impression_id"] for x in impressions}

    start = time.perf_counter()
    asyncio.run(
        _send(
            server.url, sends, ledger, at_once=at_once, kill_after=len(unique) // 2, server=server
        )
    )
    first_s = time.perf_counter() - start
    acked_before_kill = set(ledger.acked)
    assert acked_before_kill and ledger.failed, "the kill did not land in the middle"

    server.start(ready_path="/healthz")  # feedback needs SQL only, not the loaded assistant
    unacked = [unique[i] for i in sorted(set(unique) - acked_before_kill)]
    again = random.Random(7).sample(
        sorted(acked_before_kill), k=min(resend_acked, len(acked_before_kill))
    )
    ledger.failed.clear()
    start = time.perf_counter()
    asyncio.run(_send(server.url, unacked + [unique[i] for i in again], ledger, at_once=at_once))
    resend_s = time.perf_counter() - start
    assert not ledger.failed

    stored = _stored(server.store_url)
    # Every event is stored now, exactly once, as it was sent; nothing else is.
    assert set(stored.events) - earlier == set(unique) == ledger.acked
    for event_id, event in unique.items():
        row = stored.events[event_id]
        assert (row.impression_id, row.type) == (event["impression_id"], event["type"])
    # An acknowledgement said "recorded" at most once per event (never for a resend of an
    # acknowledged one), and exactly once for those acknowledged before the kill.
    assert max(ledger.recorded.values()) == 1
    assert all(ledger.recorded[i] == 1 for i in acked_before_kill)
    # The carts hold each add_to_cart event once: per session and product, the sum of the
    # stored events' quantities.
    expected: dict[tuple[str | None, str], int] = defaultdict(int)
    for event in unique.values():
        if event["type"] == "add_to_cart":
            product = by_impression[event["impression_id"]]["id"]
            expected[(stored.sessions[event["impression_id"]], product)] += event["quantity"]
    our_sessions = {stored.sessions[i] for i in ours}
    carts = {line: n for line, n in stored.carts.items() if line[0] in our_sessions}
    assert carts == dict(expected)

    figures = {
        "requests_sent": ledger.sent,
        "unique_events": len(unique),
        "acknowledged_before_kill": len(acked_before_kill),
        "unacknowledged_resent": len(unacked),
        "acknowledged_resent": len(again),
        "events_per_s_before_kill": round(len(acked_before_kill) / first_s, 1),
        "events_per_s_resend": round((len(unacked) + len(again)) / resend_s, 1),
    }
    logger.info("durable events: %s", figures)
    return figures


def test_feedback_survives_kill_9_with_each_event_once(server: ServerProcess) -> None:
    figures = run_kill_and_resend(server, count=1000, resend_acked=100)
    assert figures["unique_events"] == 900


@pytest.mark.slow
def test_10000_feedback_events_survive_kill_9(server: ServerProcess) -> None:
    figures = run_kill_and_resend(server, count=10_000, resend_acked=1000)
    assert figures["unique_events"] == 9000


@pytest.fixture
def pg_server(new_pg_schema: Callable[[], str], tmp_path: Path) -> Iterator[ServerProcess]:
    """The same served demo world, built into a fresh PostgreSQL schema, and its server."""
    url = new_pg_schema()
    upgrade(url)
    var = tmp_path / "var-pg"
    settings = Settings(
        _env_file=None, var_dir=var, database_url=url, embedder="use", llm_backend="rules"
    )
    shop = Shop(settings, make_engine(url))
    steps = [s for s in STEPS if s.name != "logs"]
    build_demo(shop, now=NOW, products=480, categories=LEAVES, steps=steps, progress=False)
    sync_catalog_index(shop, progress=False, now=NOW)
    shop.engine.dispose()
    process = ServerProcess(var, env={**RAISED, "SHOPASSIST_DATABASE_URL": url})
    try:
        yield process.start()
    finally:
        process.stop()


@pytest.mark.slow
@pytest.mark.postgres
def test_10000_feedback_events_survive_kill_9_on_postgres(pg_server: ServerProcess) -> None:
    figures = run_kill_and_resend(pg_server, count=10_000, resend_acked=1000)
    assert figures["unique_events"] == 9000
