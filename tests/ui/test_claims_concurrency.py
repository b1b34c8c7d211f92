"""Money under concurrency: 64 shoppers at once through ``POST /v1/claims`` on a real server.

Coupons with budgets that cover 5, 1 and 0 claims, a per-user limit of 1 or 2 with shoppers
sending two or three claims each, and retries of one idempotency key sent at the same moment,
on SQLite and on PostgreSQL. Every outcome is checked against SQL afterwards: no overspend, no
claim beyond a per-user limit, one claim per key, 409s with the contract's codes, no 5xx.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import sqlite3
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import event, select

from assistant.app import Shop
from assistant.config import Settings
from assistant.errors import ShopAssistError
from assistant.store import ActivityRecord, ClaimRecord, make_engine
from ui.server import create_app

from ._live_server import serve_in_thread

pytestmark = pytest.mark.integration

NOW = datetime(2030, 1, 15, 12, tzinfo=UTC)
JAN = ["2030-01-01T00:00:00Z", "2030-02-01T00:00:00Z"]
RAISED_LIMIT = "100000/minute"
CLAIMERS = [f"racer{n:02d}" for n in range(64)]


def _coupon(activity_id: str, budget: str, per_user_limit: int) -> dict[str, Any]:
    return {
        "id": activity_id,
        "type": "coupon",
        "scope": {"all": True},
        "amount": "10.00",
        "budget": budget,
        "per_user_limit": per_user_limit,
        "window": JAN,
    }


# A $10 coupon reserves $10 of its budget per claim.
COUPONS = [
    _coupon("FIVE", "50.00", 1),  # exactly 5 claims
    _coupon("ONE", "19.99", 1),  # 1 claim: the rest cannot cover a full $10
    _coupon("NONE", "9.99", 1),  # not a single claim
    _coupon("TWO_EACH", "300.00", 2),  # room for 30; at most 2 per shopper (16 want 3)
]
BUDGET = {"FIVE": 5000, "ONE": 1999, "NONE": 999, "TWO_EACH": 30000}
LIMIT = {"FIVE": 1, "ONE": 1, "NONE": 1, "TWO_EACH": 2}


@dataclass(frozen=True)
class Sent:
    user: str
    activity: str
    key: str


@dataclass(frozen=True)
class Answer:
    sent: Sent
    status: int
    body: dict[str, Any]


def _never_loads(stop: threading.Event) -> Any:
    """An assistant factory for a claims-only server: claims need SQL, never the assistant."""

    def factory(_: Shop) -> Any:
        stop.wait()
        raise ShopAssistError("claims-only test server: no assistant")

    return factory


@pytest.fixture
def claims_url(db_url: str, tmp_path: Path) -> Iterator[tuple[str, Shop]]:
    """A real dev-mode server on a store holding only :data:`COUPONS`, its clock at NOW, with
    rate limits raised past this test's load (one address sends every claim)."""
    settings = Settings(
        _env_file=None,
        currency="USD",
        shop_tz="UTC",
        rate_limit_user=RAISED_LIMIT,
        rate_limit_ip=RAISED_LIMIT,
    )
    shop = Shop(settings, make_engine(db_url))
    path = tmp_path / "activities.jsonl"
    path.write_text("".join(json.dumps(c) + "\n" for c in COUPONS))
    shop.import_catalog(path)
    stop = threading.Event()
    app = create_app(shop=shop, assistant_factory=_never_loads(stop), dev=True, clock=lambda: NOW)
    try:
        with serve_in_thread(app) as url:
            yield url, shop
    finally:
        stop.set()
        shop.engine.dispose()


def _plan() -> list[Sent]:
    """Who sends what: 64 claimers on FIVE, ONE and NONE, some with extra claims or key
    retries; 16 of them want 3 of TWO_EACH (limit 2), more than its budget covers."""
    sent: list[Sent] = []
    for n, user in enumerate(CLAIMERS):
        for activity in ("FIVE", "ONE", "NONE"):
            sent.append(Sent(user, activity, f"{user}-{activity}"))
        if n % 4 == 0:  # 16 shoppers try FIVE twice more with new keys
            sent += [Sent(user, "FIVE", f"{user}-FIVE-again-{i}") for i in range(2)]
        if n % 4 == 1:  # 16 shoppers retry their ONE key twice, at the same moment
            sent += [Sent(user, "ONE", f"{user}-ONE")] * 2
        if n % 4 == 2:  # 16 shoppers send 3 keys to TWO_EACH and retry the first one
            sent += [Sent(user, "TWO_EACH", f"{user}-TWO-{i}") for i in range(3)]
            sent.append(Sent(user, "TWO_EACH", f"{user}-TWO-0"))
    return sent


async def _send_all(url: str, plan: list[Sent], at_once: int = 64) -> list[Answer]:
    """Send every claim, ``at_once`` in flight at any moment, all released together."""
    limits = httpx.Limits(max_connections=at_once, max_keepalive_connections=at_once)
    gate = asyncio.Semaphore(at_once)
    start = asyncio.Event()
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=120) as client:

        async def one(sent: Sent) -> Answer:
            await start.wait()
            async with gate:
                r = await client.post(
                    "/v1/claims",
                    json={
                        "user_id": sent.user,
                        "activity_id": sent.activity,
                        "idempotency_key": sent.key,
                    },
                )
            return Answer(sent, r.status_code, r.json())

        tasks = [asyncio.create_task(one(s)) for s in plan]
        await asyncio.sleep(0)  # every task is waiting at the gate
        start.set()
        return await asyncio.gather(*tasks)


def _claims_in_sql(shop: Shop) -> tuple[list[ClaimRecord], dict[str, int]]:
    with shop.sessions() as session:
        claims = list(session.scalars(select(ClaimRecord)))
        reserved = {a.id: a.budget_reserved for a in session.scalars(select(ActivityRecord))}
    return claims, reserved


def test_64_concurrent_claimers_never_overspend_or_double_claim(
    claims_url: tuple[str, Shop],
) -> None:
    url, shop = claims_url
    plan = _plan()
    answers = asyncio.run(_send_all(url, plan))

    statuses = Counter(a.status for a in answers)
    assert set(statuses) <= {201, 409}, statuses  # no 5xx, no other refusal
    claims, reserved = _claims_in_sql(shop)

    # 0 overspend: what is reserved is what the claims add up to, within the budget, and the
    # budget went as far as it could (more claimers wanted each coupon than it covers).
    granted = Counter(c.activity_id for c in claims)
    for activity, budget in BUDGET.items():
        amounts = sum(c.amount for c in claims if c.activity_id == activity)
        assert amounts == reserved[activity] <= budget, activity
    assert granted == {"FIVE": 5, "ONE": 1, "TWO_EACH": 30}

    # 0 claims beyond a per-user limit.
    per_user = Counter((c.user_id, c.activity_id) for c in claims)
    assert all(n <= LIMIT[activity] for (_, activity), n in per_user.items()), per_user

    # One row per key; every answer for a key names that row's claim and code.
    by_key = {c.idempotency_key: c for c in claims}
    assert len(by_key) == len(claims)
    answered: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for a in answers:
        if a.status == 201:
            answered[a.sent.key].add((a.body["claim_id"], a.body["code"]))
    assert {k: {(c.id, c.code)} for k, c in by_key.items()} == dict(answered)

    # Every refusal carries the right code: the limit when the shopper already holds as many
    # as allowed, else the budget.
    for a in answers:
        if a.status != 409:
            continue
        assert a.sent.key not in by_key, a
        held = per_user[(a.sent.user, a.sent.activity)]
        expected = "per_user_limit" if held >= LIMIT[a.sent.activity] else "budget_exhausted"
        assert a.body["error"]["code"] == expected, a


def test_a_claim_outwaits_a_writer_that_holds_sqlite_longer_than_its_busy_timeout(
    sqlite_template: Path, settings: Settings, tmp_path: Path
) -> None:
    """Regression: with 64 claims at once on SQLite, some waited longer than the 5 s busy
    timeout for the write lock and failed with "database is locked" (a 500). The busy timeout
    is cut to 50 ms here so that one writer holding the lock for half a second shows it."""
    path = tmp_path / "store.db"
    shutil.copyfile(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")

    @event.listens_for(engine, "connect")
    def _short_busy_timeout(dbapi_connection: Any, _: Any) -> None:
        dbapi_connection.execute("PRAGMA busy_timeout=50")

    shop = Shop(settings, engine)
    activities = tmp_path / "activities.jsonl"
    activities.write_text(json.dumps(COUPONS[0]) + "\n")
    shop.import_catalog(activities)
    other = sqlite3.connect(path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")  # another writer, e.g. a chat turn, holds the lock
        with ThreadPoolExecutor(max_workers=1) as pool:
            claiming = pool.submit(shop.claim, "patient", "FIVE", "k-1", now=NOW)
            time.sleep(0.5)
            assert not claiming.done()
            other.execute("COMMIT")
            claim = claiming.result(timeout=30)
    finally:
        other.close()
    claims, reserved = _claims_in_sql(shop)
    engine.dispose()
    assert [(c.id, c.user_id) for c in claims] == [(claim.claim_id, "patient")]
    assert reserved["FIVE"] == claim.amount == 1000
