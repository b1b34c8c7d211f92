"""Claims: the engine decides, the store reserves the budget atomically, keys are idempotent.

Runs on SQLite and on the local PostgreSQL (``db_url``), including concurrent claimers.
"""

from __future__ import annotations

import json
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from assistant.app import Shop
from assistant.claims import Claim
from assistant.config import Settings
from assistant.errors import ClaimRefused, InputError, UnknownEntityError
from assistant.store import ActivityRecord, ClaimRecord, budget_left, make_engine

NOW = datetime(2030, 1, 15, 12, tzinfo=UTC)
JAN = ["2030-01-01T00:00:00Z", "2030-02-01T00:00:00Z"]
ACTIVITIES: list[dict[str, Any]] = [
    {
        "id": "C10",
        "type": "coupon",
        "scope": {"all": True},
        "amount": "10.00",
        "min_spend": "50.00",
        "budget": "30.00",
        "window": JAN,
    },
    {
        "id": "C1X",
        "type": "coupon",
        "scope": {"brands": ["Stride"]},
        "amount": "5.00",
        "per_user_limit": 1,
        "budget": "1000.00",
        "window": JAN,
    },
    {
        "id": "OLD",
        "type": "coupon",
        "scope": {"all": True},
        "amount": "5.00",
        "window": ["2029-01-01T00:00:00Z", "2029-02-01T00:00:00Z"],
    },
    {
        "id": "NEW",
        "type": "new_user",
        "scope": {"all": True},
        "amount": "8.00",
        "audience": "new_users",
        "window": JAN,
    },
    {"id": "PCT", "type": "percent_off", "scope": {"all": True}, "percent": 10, "window": JAN},
]
PRODUCTS = [
    {
        "id": "P1",
        "title": "Stride Run 2",
        "category": "shoes/running",
        "brand": "Stride",
        "price": "60.00",
    }
]


def _write(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


@pytest.fixture
def shop(db_url: str, settings: Settings, tmp_path: Path) -> Shop:
    shop = Shop(settings, make_engine(db_url))
    shop.import_catalog(_write(tmp_path / "products.jsonl", PRODUCTS))
    shop.import_catalog(_write(tmp_path / "activities.jsonl", ACTIVITIES))
    return shop


def _reserved(shop: Shop, activity_id: str) -> int:
    with shop.sessions() as session:
        record = session.get(ActivityRecord, activity_id)
        assert record is not None
        return record.budget_reserved


def test_a_claim_gives_a_code_and_reserves_the_full_value(shop: Shop) -> None:
    claim = shop.claim("u1", "C10", "key-1", now=NOW)
    assert claim.code.startswith("SA-") and len(claim.code) == 13
    assert claim.amount == 1000 and claim.revision == 1
    assert claim.valid_until == datetime(2030, 2, 1, tzinfo=UTC)
    assert _reserved(shop, "C10") == 1000
    with shop.sessions() as session:
        assert budget_left(session, ["C10"]) == {"C10": 2000}
    assert claim.to_json(shop.currency) == {
        "claim_id": claim.claim_id,
        "code": claim.code,
        "activity_id": "C10",
        "revision": 1,
        "valid_until": "2030-02-01T00:00:00Z",
        "amount": "10.00",
    }


def test_the_same_key_returns_the_same_claim_and_reserves_once(shop: Shop) -> None:
    first = shop.claim("u1", "C10", "key-1", now=NOW)
    again = shop.claim("u1", "C10", "key-1", now=NOW)
    assert (again.claim_id, again.code, again.replayed) == (first.claim_id, first.code, True)
    assert _reserved(shop, "C10") == 1000


def test_a_key_reused_for_another_claim_is_refused(shop: Shop) -> None:
    shop.claim("u1", "C10", "key-1", now=NOW)
    with pytest.raises(InputError, match="already used for another claim"):
        shop.claim("u2", "C10", "key-1", now=NOW)


def test_per_user_limit(shop: Shop) -> None:
    shop.claim("u1", "C1X", "a", now=NOW)
    with pytest.raises(ClaimRefused, match="claimed it as often as allowed") as refused:
        shop.claim("u1", "C1X", "b", now=NOW)
    assert refused.value.reason == "per_user_limit"
    assert shop.claim("u2", "C1X", "c", now=NOW).amount == 500  # another shopper may


def test_budget_runs_out_at_its_full_value(shop: Shop) -> None:
    for n in range(3):
        shop.claim(f"u{n}", "C10", f"k{n}", now=NOW)
    with pytest.raises(ClaimRefused, match="budget is used up") as refused:
        shop.claim("u9", "C10", "k9", now=NOW)
    assert refused.value.reason == "budget_exhausted"
    assert _reserved(shop, "C10") == 3000


@pytest.mark.parametrize(
    ("activity", "reason", "message"),
    [
        ("OLD", "expired", "it has ended"),
        ("PCT", "not_eligible", "applies by itself"),
    ],
)
def test_refusals(shop: Shop, activity: str, reason: str, message: str) -> None:
    with pytest.raises(ClaimRefused, match=message) as refused:
        shop.claim("u1", activity, "k", now=NOW)
    assert refused.value.reason == reason
    with shop.sessions() as session:
        assert session.scalar(select(func.count()).select_from(ClaimRecord)) == 0


def test_audience_is_not_eligible(shop: Shop) -> None:
    shop.claim("fresh", "NEW", "k1", now=NOW)  # unknown users are new users
    with shop.sessions.begin() as session:
        from assistant.store import UserRecord

        veteran = session.get(UserRecord, "fresh")
        assert veteran is not None
        veteran.new_user = False
    with pytest.raises(ClaimRefused, match="another group of shoppers") as refused:
        shop.claim("fresh", "NEW", "k2", now=NOW)
    assert refused.value.reason == "not_eligible"


def test_unknown_activity(shop: Shop) -> None:
    with pytest.raises(UnknownEntityError, match="unknown activity 'NOPE'"):
        shop.claim("u1", "NOPE", "k", now=NOW)


def test_a_held_coupon_needs_no_second_claim_in_a_quote(shop: Shop) -> None:
    before = shop.quote("u1", [("P1", 1)], now=NOW)
    assert before.coupon is not None and before.coupon.activity_id == "C10"
    assert before.coupon.needs_claim
    shop.claim("u1", "C10", "k", now=NOW)
    after = shop.quote("u1", [("P1", 1)], now=NOW)
    assert after.coupon is not None and not after.coupon.needs_claim


def _claim_or_reason(shop: Shop, user: str, key: str) -> Claim | str:
    try:
        return shop.claim(user, "C10", key, now=NOW)
    except ClaimRefused as refused:
        return refused.reason


@pytest.mark.integration
def test_concurrent_claimers_never_overspend(shop: Shop) -> None:
    # 16 shoppers race for a budget that covers 3 claims.
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda n: _claim_or_reason(shop, f"racer{n}", f"r{n}"), range(16)))
    outcomes = Counter("claimed" if isinstance(r, Claim) else r for r in results)
    assert outcomes == {"claimed": 3, "budget_exhausted": 13}
    assert _reserved(shop, "C10") == 3000


@pytest.mark.integration
def test_concurrent_retries_with_one_key_make_one_claim(shop: Shop) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: _claim_or_reason(shop, "u1", "same"), range(8)))
    assert all(isinstance(r, Claim) for r in results)
    assert len({r.claim_id for r in results if isinstance(r, Claim)}) == 1
    assert _reserved(shop, "C10") == 1000
