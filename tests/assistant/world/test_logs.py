"""Logged interactions: what generate_logs writes is consistent, exact and reproducible.

A small catalog (300 generated products in six leaves, a dozen hand-written activities whose
windows and audiences are known) is imported on both engines; a small log (200 users, 3,000
impressions) is generated and read back with plain SQL.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import Engine, select

from assistant import store
from assistant.app import Shop
from assistant.catalog import import_file
from assistant.config import Settings
from assistant.domain import Shopper
from assistant.errors import InputError, ValidationError
from assistant.store import (
    ActivityRevisionRecord,
    ClaimRecord,
    DecisionRecord,
    FeedbackRecord,
    ImpressionRecord,
    MessageRecord,
    SessionRecord,
    UserRecord,
    make_engine,
)
from assistant.world.catalog import CATEGORY_NAMES, generate_catalog
from assistant.world.demo import STEPS, build_demo
from assistant.world.logs import LOGGING_POLICY, LogsReport, generate_logs
from policy.world import plackett_luce_propensities

NOW = datetime(2030, 6, 15, 12, tzinfo=UTC)
LEAVES = (
    "shoes/running",
    "shoes/trail-running",
    "apparel/socks",
    "electronics/phones",
    "grocery/snacks",
    "home/cookware",
)
YEAR = ["2030-01-01T00:00:00Z", "2031-01-01T00:00:00Z"]
ACTIVITIES: list[dict[str, Any]] = [
    {"id": "A-pct", "type": "percent_off", "percent": 20, "scope": {"categories": ["shoes"]},
     "window": YEAR},
    {"id": "A-flash", "type": "flash_sale", "percent": 30,
     "scope": {"products": ["dp-000001", "dp-000002", "dp-000003"]},
     "schedule": {"starts_at": "2030-01-01T20:00:00Z", "rrule": "FREQ=DAILY",
                  "duration_minutes": 180}},
    {"id": "A-thr", "type": "threshold", "scope": {"all": True},
     "tiers": [["50.00", "5.00"], ["100.00", "15.00"]], "window": YEAR},
    {"id": "A-coupon", "type": "coupon", "amount": "10.00", "min_spend": "50.00",
     "scope": {"categories": ["electronics"]}, "per_user_limit": 1, "budget": "1000.00",
     "window": YEAR},
    {"id": "A-new", "type": "new_user", "amount": "5.00", "audience": "new_users",
     "scope": {"all": True}, "window": YEAR},
    {"id": "A-member", "type": "member_day", "percent": 15, "audience": "members",
     "scope": {"categories": ["apparel"]},
     "schedule": {"starts_at": "2030-01-05T00:00:00Z", "rrule": "FREQ=WEEKLY;BYDAY=SA",
                  "duration_minutes": 1440}},
    {"id": "A-runners", "type": "coupon", "percent": 10, "max_discount": "20.00",
     "audience": "segment:runners", "scope": {"categories": ["shoes"]}, "window": YEAR},
    {"id": "A-bundle", "type": "bundle", "min_quantity": 2, "amount": "5.00",
     "scope": {"categories": ["grocery"]}, "window": YEAR},
    {"id": "A-ship", "type": "free_shipping", "min_spend": "30.00", "scope": {"all": True},
     "window": YEAR},
    {"id": "A-late", "type": "percent_off", "percent": 10, "scope": {"categories": ["home"]},
     "window": ["2030-06-01T00:00:00Z", "2030-06-05T00:00:00Z"]},
    {"id": "A-old", "type": "percent_off", "percent": 10, "scope": {"all": True},
     "window": ["2029-01-01T00:00:00Z", "2029-02-01T00:00:00Z"]},
    {"id": "A-future", "type": "percent_off", "percent": 10, "scope": {"all": True},
     "window": ["2030-07-01T00:00:00Z", "2030-08-01T00:00:00Z"]},
    {"id": "A-paused", "type": "percent_off", "percent": 10, "scope": {"all": True},
     "status": "paused", "window": YEAR},
]  # fmt: skip
NEVER_SHOWN = {"A-old", "A-future", "A-paused"}
LOG_TABLES = ("users", "sessions", "messages", "decisions", "impressions", "feedback_events")


def _import_catalog(engine: Engine, settings: Settings, directory: Path) -> None:
    products = directory / "products.jsonl"
    rows = generate_catalog(products=300, seed=3, categories=LEAVES)
    products.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    activities = directory / "activities.jsonl"
    activities.write_text("".join(json.dumps(a) + "\n" for a in ACTIVITIES))
    import_file(engine, products, settings, now=NOW - timedelta(days=60))
    import_file(engine, activities, settings, now=NOW - timedelta(days=60))


@pytest.fixture
def shop(db_url: str, settings: Settings, tmp_path: Path) -> Iterator[Shop]:
    engine = make_engine(db_url)
    _import_catalog(engine, settings, tmp_path)
    yield Shop(settings, engine)
    engine.dispose()


def _generate(shop: Shop, **kwargs: Any) -> LogsReport:
    options: dict[str, Any] = {"users": 200, "min_impressions": 3000, "seed": 11, "now": NOW}
    return generate_logs(shop, progress=False, **(options | kwargs))


def _rows(engine: Engine, model: Any) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(select(model.__table__)))


def test_counts_match_the_report_and_the_store(shop: Shop) -> None:
    report = _generate(shop)
    feedback = Counter(r.type for r in _rows(shop.engine, FeedbackRecord))
    purchases = [r for r in _rows(shop.engine, FeedbackRecord) if r.type == "purchase"]
    assert report.users == 200 == len(_rows(shop.engine, UserRecord))
    assert report.sessions == len(_rows(shop.engine, SessionRecord)) > 0
    assert report.decisions == len(_rows(shop.engine, DecisionRecord)) == report.messages
    assert report.messages == len(_rows(shop.engine, MessageRecord))
    assert 3000 <= report.impressions == len(_rows(shop.engine, ImpressionRecord)) < 3300
    assert (report.clicks, report.claims) == (feedback["click"], feedback["claim"])
    assert (report.add_to_carts, report.purchases) == (feedback["add_to_cart"], len(purchases))
    assert report.purchase_value == sum(r.value for r in purchases) > 0
    assert report.clicks > report.add_to_carts > report.purchases > 0 and report.claims > 0
    assert not _rows(shop.engine, ClaimRecord)  # history never reserves live budgets
    summary = report.summary()
    assert (
        summary.startswith("logs: 200 users, ") and f"{report.impressions:,} impressions" in summary
    )


def test_decisions_log_exact_propensities_of_their_candidates(shop: Shop) -> None:
    _generate(shop)
    impressions: dict[str, list[Any]] = {}
    for imp in _rows(shop.engine, ImpressionRecord):
        impressions.setdefault(imp.decision_id, []).append(imp)
    revisions = {r.activity_id: r.revision for r in _rows(shop.engine, ActivityRevisionRecord)}
    decisions = _rows(shop.engine, DecisionRecord)
    for d in decisions:
        n = len(d.candidate_ids)
        assert 20 <= n <= 30 and len(set(d.candidate_ids)) == n
        assert len(d.scores) == len(d.propensities) == n
        assert set(d.chosen_ids) <= set(d.candidate_ids) and len(set(d.chosen_ids)) == 3
        assert d.positions == [0, 1, 2]
        assert (d.policy_version, d.ranker_version) == ("logging-pl-v1", "popularity-v1")
        assert d.params_version == LOGGING_POLICY.params
        cols = [d.candidate_ids.index(i) for i in d.chosen_ids]
        first, prop = plackett_luce_propensities(
            [d.scores], [[True] * n], [cols], temperature=1.0, epsilon=0.05
        )
        np.testing.assert_allclose(d.propensities, first[0], atol=1e-9)
        np.testing.assert_allclose(d.context["chosen_propensities"], prop[0], atol=1e-9)
        shown = sorted(impressions[d.id], key=lambda i: i.position)
        assert [i.item_id for i in shown] == d.chosen_ids
        np.testing.assert_allclose([i.propensity for i in shown], prop[0], atol=1e-9)
        for imp in shown:
            assert imp.kind == ("activity" if imp.item_id.startswith("A-") else "product")
            assert all(d.activity_revisions[a] == revisions[a] for a in imp.activity_ids)
        assert d.context["intent_category"] in LEAVES and d.context["world_version"] == "world-v1"
    assert sum(abs(sum(d.propensities) - 1) for d in decisions) < 1e-6 * len(decisions)


def test_feedback_follows_the_funnel_on_shown_cards(shop: Shop) -> None:
    _generate(shop)
    impressions = {i.id: i for i in _rows(shop.engine, ImpressionRecord)}
    decisions = {d.id: d for d in _rows(shop.engine, DecisionRecord)}
    events = _rows(shop.engine, FeedbackRecord)
    assert len({e.event_id for e in events}) == len(events)
    by_impression: dict[str, set[str]] = {}
    for e in events:
        assert e.event_id == f"{e.impression_id}-{e.type}"
        by_impression.setdefault(e.impression_id, set()).add(e.type)
        imp = impressions[e.impression_id]
        assert e.created_at > imp.created_at
        if e.type == "purchase":
            price = decisions[imp.decision_id].context["final_prices"][imp.position]
            assert e.quantity >= 1 and e.value == e.quantity * price > 0
            assert e.order_id == f"demo-o{imp.decision_id[len('demo-d') :]}-{imp.position}"
        else:
            assert e.value is None and e.order_id is None
    for types in by_impression.values():
        assert "click" in types
        assert "purchase" not in types or "add_to_cart" in types


def test_everything_happened_in_the_thirty_days_before_now(shop: Shop) -> None:
    _generate(shop)
    start = NOW - timedelta(days=30)
    for model in (SessionRecord, MessageRecord, DecisionRecord, ImpressionRecord, FeedbackRecord):
        times = [r.created_at for r in _rows(shop.engine, model)]
        assert start <= min(times) and max(times) < NOW, model.__tablename__
    assert max(u.created_at for u in _rows(shop.engine, UserRecord)) < NOW


def test_cards_are_live_and_admit_the_shopper(shop: Shop) -> None:
    _generate(shop)
    users = {u.id: u for u in _rows(shop.engine, UserRecord)}
    sessions = {s.id: s for s in _rows(shop.engine, SessionRecord)}
    decisions = {d.id: d for d in _rows(shop.engine, DecisionRecord)}
    with shop.sessions() as session:
        activities = {a.id: a for a in store.load_activities(session)}
    shown: Counter[str] = Counter()
    for d in decisions.values():
        user, started = users[d.user_id], sessions[d.session_id].created_at
        for item in (i for i in d.candidate_ids if i.startswith("A-")):
            shown[item] += 1
            activity = activities[item]
            assert activity.schedule.window_at(started) is not None, (item, started)
            shopper = Shopper(user.id, user.member, user.new_user, frozenset(user.segments))
            assert activity.audience.admits(shopper), (item, user.id)
    assert NEVER_SHOWN.isdisjoint(shown)
    assert {"A-pct", "A-thr", "A-ship", "A-late", "A-flash"} <= set(shown)
    assert shown["A-late"] < shown["A-pct"]  # live four days of the thirty
    runners = [u for u in users.values() if "runners" in u.segments]
    assert 0 < len(runners) < len(users)


def test_users_sessions_and_messages_look_like_a_shop(shop: Shop) -> None:
    _generate(shop)
    users = _rows(shop.engine, UserRecord)
    assert [u.id for u in users] == [f"demo-u{n:05d}" for n in range(1, 201)]
    assert not any(u.member and u.new_user for u in users) and any(u.member for u in users)
    assert {u.locale for u in users} == {"en", "zh"}
    sessions = {s.id: s for s in _rows(shop.engine, SessionRecord)}
    locale = {u.id: u.locale for u in users}
    for m in _rows(shop.engine, MessageRecord):
        s = sessions[m.session_id]
        en, zh = CATEGORY_NAMES[s.state["intent_category"]]
        lang = locale[s.user_id]
        assert m.role == "shopper" and s.state["language"] == lang
        assert (zh in m.text) if lang == "zh" else (en.lower() in m.text.lower()), m.text


def _log_dump(engine: Engine, dump: Callable[[Engine], dict[str, Any]]) -> dict[str, Any]:
    full = dump(engine)
    return {t: full[t] for t in LOG_TABLES}


def test_a_seed_fixes_every_row_and_replace_regenerates_them(
    shop: Shop, dump: Callable[[Engine], dict[str, Any]]
) -> None:
    _generate(shop)
    first = _log_dump(shop.engine, dump)
    with pytest.raises(InputError, match=r"demo logs already exist: 200 user\(s\) demo-u"):
        _generate(shop)
    assert _log_dump(shop.engine, dump) == first
    _generate(shop, replace=True)
    assert _log_dump(shop.engine, dump) == first
    _generate(shop, replace=True, seed=12, users=50)
    other = _log_dump(shop.engine, dump)
    assert len(other["users"]) == 50 and other["decisions"] != first["decisions"]


def test_replace_touches_no_other_user(shop: Shop) -> None:
    with shop.sessions.begin() as session:
        store.get_or_create_user(session, "alice", now=NOW)
        session.add(SessionRecord(id="s-alice", user_id="alice", created_at=NOW, updated_at=NOW))
    _generate(shop)
    _generate(shop, replace=True, users=20, min_impressions=100)
    assert [u.id for u in _rows(shop.engine, UserRecord)][-1] == "demo-u00020"
    assert "alice" in {u.id for u in _rows(shop.engine, UserRecord)}
    assert "s-alice" in {s.id for s in _rows(shop.engine, SessionRecord)}
    shop.claim("demo-u00001", "A-coupon", now=NOW)
    with pytest.raises(InputError, match=r"1 coupon claim\(s\) belong to demo users"):
        _generate(shop, replace=True)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"users": 0}, "users must be between 1 and 1,000,000, got 0"),
        ({"users": True}, "users must be a whole number, got True"),
        ({"min_impressions": 0}, "min_impressions must be between 1 and"),
        ({"min_impressions": 2.5}, "min_impressions must be a whole number, got 2.5"),
    ],
)
def test_bad_options_are_refused(
    db_url: str, settings: Settings, options: dict[str, Any], message: str
) -> None:
    engine = make_engine(db_url)
    try:
        with pytest.raises(ValidationError, match=message):
            _generate(Shop(settings, engine), **options)
    finally:
        engine.dispose()


def test_an_empty_catalog_is_refused(db_url: str, settings: Settings) -> None:
    engine = make_engine(db_url)
    try:
        with pytest.raises(InputError, match="the catalog has no priced, in-stock product"):
            _generate(Shop(settings, engine))
        assert not _rows(engine, UserRecord)
    finally:
        engine.dispose()


@pytest.mark.slow
def test_the_default_log_of_the_demo_world(db_url: str, tmp_path: Path) -> None:
    """The full default size; the counts and seconds go to docs/world.md (INFO log line)."""
    settings = Settings(currency="USD", shop_tz="UTC", var_dir=tmp_path, _env_file=None)
    engine = make_engine(db_url)
    try:
        shop = Shop(settings, engine)
        steps = [step for step in STEPS if step.name != "logs"]
        build = build_demo(shop, now=NOW, progress=False, steps=steps)
        report = generate_logs(shop, now=NOW, progress=False)
    finally:
        engine.dispose()
    logging.getLogger(__name__).info("%s; %s", build.summary(), report.summary())
    assert report.users == 2000 and 200_000 <= report.impressions < 200_030
    assert report.sessions > 10_000 and report.decisions > 60_000 and report.purchases > 1000
    assert report.seconds < 180
