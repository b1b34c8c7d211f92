"""The ranking snapshot export: the SQL logs of a small demo world, on SQLite and PostgreSQL.

The catalog and activities are those of the log tests (300 products in six leaves, a dozen
hand-written activities); 200 users and 3,000 impressions are logged, exported once per engine
and checked against plain SQL reads, the CatalogPricer and the deal engine.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import select

from assistant import store
from assistant.app import Shop
from assistant.catalog_pricer import CatalogPricer
from assistant.config import Settings
from assistant.deals import DealContext
from assistant.errors import InputError, ValidationError
from assistant.pricing import price_items
from assistant.ranker_data import PRICE_HOUR, PUBLIC_SHOPPER, export_snapshot, query_id
from assistant.store import (
    DecisionRecord,
    FeedbackRecord,
    ImpressionRecord,
    MessageRecord,
    UserRecord,
    make_engine,
    upgrade,
)
from assistant.world.logs import generate_logs
from ranking.snapshot import MAX_SNAPSHOT_BYTES, Snapshot, read_snapshot
from tests.assistant.world.test_logs import NOW, _import_catalog

ENGINES = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]


@dataclass(frozen=True)
class Exported:
    """One engine's export and what the store says it should hold."""

    snap: Snapshot
    impressions: Sequence[Any]  # (id, decision_id, kind, item_id, created_at, user_id, turn_id)
    feedback: Sequence[Any]  # (impression_id, type)
    messages: dict[str, str]  # turn id -> shopper text
    users: dict[str, Any]
    products: list[Any]
    activities: list[Any]
    budget: dict[str, int]
    fee: int


@pytest.fixture(scope="module")
def embeddings_var(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One var dir for both engines, so the embedding cache computes each text once."""
    return tmp_path_factory.mktemp("ranker-data-var")


@pytest.fixture(scope="module", params=ENGINES)
def exported(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, embeddings_var: Path
) -> Iterator[Exported]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('ranker-data-db') / 'store.db'}"
    else:
        make: Callable[[], str] = request.getfixturevalue("new_pg_schema")
        url = make()
    upgrade(url)
    engine = make_engine(url)
    settings = Settings(currency="USD", shop_tz="UTC", var_dir=embeddings_var, _env_file=None)
    try:
        _import_catalog(engine, settings, tmp_path_factory.mktemp("ranker-data-catalog"))
        shop = Shop(settings, engine)
        generate_logs(shop, users=200, min_impressions=3000, seed=11, now=NOW, progress=False)
        snap = export_snapshot(shop, progress=False)
        imp, dec = ImpressionRecord, DecisionRecord
        with shop.sessions() as session:
            impressions = session.execute(
                select(imp.id, imp.decision_id, imp.kind, imp.item_id, imp.created_at,
                       dec.user_id, dec.turn_id)
                .join(dec, dec.id == imp.decision_id)
            ).all()  # fmt: skip
            feedback = session.execute(
                select(FeedbackRecord.impression_id, FeedbackRecord.type)
            ).all()
            messages = dict(
                session.execute(
                    select(MessageRecord.turn_id, MessageRecord.text).where(
                        MessageRecord.role == "shopper"
                    )
                ).all()
            )
            users = {u.id: u for u in session.scalars(select(UserRecord))}
            products = [
                store.product_to_domain(r)
                for r in session.scalars(
                    select(store.ProductRecord).order_by(store.ProductRecord.id)
                )
                if r.price
            ]
            activities = store.load_activities(session)
            budget = store.budget_left(session, [a.id for a in activities])
        yield Exported(
            snap, impressions, feedback, messages, users, products, activities, budget,
            settings.shipping_fee_minor,
        )  # fmt: skip
    finally:
        engine.dispose()


def test_round_trips_through_write_and_read(exported: Exported, tmp_path: Path) -> None:
    snap = exported.snap
    path = snap.write(tmp_path / "snap")
    size = sum(p.stat().st_size for p in path.iterdir())
    assert size < MAX_SNAPSHOT_BYTES
    back = read_snapshot(path)
    for name in ("items", "users", "events", "prices", "queries"):
        assert getattr(back, name).equals(getattr(snap, name)), name
    assert back.manifest == snap.manifest
    assert snap.manifest["simulated"] is True
    assert snap.manifest["source"].startswith("shopassist SQL logs (")
    assert snap.task == "next-item"


def test_events_are_the_product_impressions_and_nothing_else(exported: Exported) -> None:
    events = exported.snap.events.to_pydict()
    products = [r for r in exported.impressions if r.kind == "product"]
    assert any(r.kind == "activity" for r in exported.impressions)
    assert len(events["request_id"]) == len(products)
    expected = sorted((r.decision_id, r.item_id, r.user_id, r.created_at) for r in products)
    got = sorted(
        zip(events["request_id"], events["item_id"], events["user_id"], events["ts"], strict=True)
    )
    assert got == expected
    assert all(events["shown"])
    item_ids = set(exported.snap.items.column("item_id").to_pylist())
    assert set(events["item_id"]) <= item_ids
    assert not any(i.startswith("A-") for i in events["item_id"])


def test_labels_agree_with_the_feedback_rows(exported: Exported) -> None:
    kinds: dict[str, set[str]] = {}
    for impression, kind in exported.feedback:
        kinds.setdefault(impression, set()).add(kind)
    by_key = {(r.decision_id, r.item_id): r.id for r in exported.impressions}
    events = exported.snap.events.to_pydict()
    clicks = conversions = 0
    for request, item, click, conversion in zip(
        events["request_id"], events["item_id"], events["click"], events["conversion"],
        strict=True,
    ):  # fmt: skip
        got = kinds.get(by_key[(request, item)], set())
        assert click == bool(got & {"click", "claim", "add_to_cart", "purchase"})
        assert conversion == bool(got & {"claim", "purchase"})
        clicks += click
        conversions += conversion
    assert 0 < conversions < clicks < len(events["click"])


def test_queries_are_the_turns_shopper_messages(exported: Exported) -> None:
    turn_of = {r.decision_id: r.turn_id for r in exported.impressions}
    events = exported.snap.events.to_pydict()
    for request, qid in zip(events["request_id"], events["query_id"], strict=True):
        text = exported.messages[turn_of[request]]
        assert qid == "q-" + hashlib.sha256(text.encode()).hexdigest()[:16] == query_id(text)
    queries = exported.snap.queries
    assert queries is not None
    assert set(queries.column("query_id").to_pylist()) == set(events["query_id"])
    emb = queries.column("embedding").combine_chunks()
    items_emb = exported.snap.items.column("embedding").combine_chunks()
    assert emb.type.list_size == items_emb.type.list_size == 512
    vectors = np.asarray(items_emb.flatten().to_numpy(zero_copy_only=False)).reshape(-1, 512)
    assert vectors.dtype == np.float16
    np.testing.assert_allclose(np.linalg.norm(vectors.astype(np.float32), axis=1), 1, atol=2e-3)


def test_items_and_users(exported: Exported) -> None:
    items = exported.snap.items.to_pydict()
    assert items["item_id"] == [p.id for p in exported.products]
    for category, department, price, product in zip(
        items["category"], items["department"], items["price"], exported.products, strict=True
    ):
        assert category == product.category and department == category.split("/")[0]
        assert price == product.price
    # The catalog was imported 60 days before NOW, before every logged impression.
    assert all(t is not None and t < NOW - timedelta(days=30) for t in items["listed_at"])
    users = exported.snap.users.to_pydict()
    assert set(users["user_id"]) == set(exported.snap.events.column("user_id").to_pylist())
    for uid, member, new, segment in zip(
        users["user_id"], users["is_member"], users["is_new"], users["segment"], strict=True
    ):
        record = exported.users[uid]
        assert (member, new) == (record.member, record.new_user)
        assert segment == (sorted(record.segments)[0] if record.segments else "")


def test_the_split_puts_the_last_days_in_test(exported: Exported) -> None:
    snap = exported.snap
    last = max(snap.events.column("ts").to_pylist())
    assert snap.test_start == last - timedelta(days=4)
    assert snap.valid_start == snap.test_start - timedelta(days=3)
    ts = snap.events.column("ts").to_pylist()
    assert ts == sorted(ts)
    assert min(ts) < snap.valid_start < snap.test_start < last


def test_prices_of_a_day_are_the_pricers_and_the_engines(exported: Exported) -> None:
    prices = exported.snap.prices
    assert prices is not None
    days = sorted(set(prices.column("day").to_pylist()))
    assert len(days) == 31 and days[-1] == NOW.date()
    assert prices.num_rows == 31 * len(exported.products)
    for day in (days[0], days[len(days) // 2], days[-1]):
        moment = datetime(day.year, day.month, day.day, PRICE_HOUR, tzinfo=UTC)
        ctx = DealContext(moment, PUBLIC_SHOPPER, exported.fee, budget_left=exported.budget)
        pricer = CatalogPricer(exported.products, exported.activities)
        expected = pricer.final_prices([p.id for p in exported.products], pricer.context(ctx))
        rows = prices.filter(prices.column("day").to_numpy() == np.datetime64(day)).to_pydict()
        assert rows["item_id"] == [p.id for p in exported.products]
        assert rows["final_price"] == expected.tolist()
        quotes = price_items(exported.products, exported.activities, ctx)
        for n, (product, quote) in enumerate(zip(exported.products, quotes, strict=True)):
            deal = quote.goods_total < product.price
            assert rows["has_deal"][n] == deal
            assert rows["needs_claim"][n] == (deal and bool(quote.to_claim))
            item = quote.lines[0].item_deal
            goods = [d for d in (quote.order, quote.coupon) if d is not None]
            main = item or max(goods, key=lambda d: d.discount, default=None)
            hours = 0.0
            if deal and main is not None and main.valid_until is not None:
                hours = (main.valid_until - moment) / timedelta(hours=1)
            assert rows["hours_left"][n] == pytest.approx(hours, abs=1e-3)
    assert any(prices.column("has_deal").to_pylist())
    assert any(prices.column("needs_claim").to_pylist())


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"days": 0}, "days must be a whole number of days >= 1, got 0"),
        ({"test_days": True}, "test_days must be a whole number of days >= 1, got True"),
        ({"days": 5, "valid_days": 2, "test_days": 3}, r"must be fewer than days \(5\)"),
    ],
)
def test_bad_options_are_refused(kwargs: dict[str, Any], message: str) -> None:
    shop = Shop(Settings(_env_file=None), make_engine("sqlite://"))
    with pytest.raises(ValidationError, match=message):
        export_snapshot(shop, progress=False, **kwargs)


def test_an_empty_window_is_refused(db_url: str, settings: Settings) -> None:
    engine = make_engine(db_url)
    try:
        with pytest.raises(InputError, match="no product impression was logged between"):
            export_snapshot(Shop(settings, engine), now=NOW, progress=False)
    finally:
        engine.dispose()


@pytest.mark.slow
def test_the_default_demo_world_exports_within_a_minute(db_url: str, tmp_path: Path) -> None:
    """The full demo world (5,000 products, ~200k impressions); the second export runs with
    the embedding cache warm, as after ``shopassist index``."""
    import logging
    import time

    from assistant.world.demo import build_demo

    settings = Settings(currency="USD", shop_tz="UTC", var_dir=tmp_path, _env_file=None)
    engine = make_engine(db_url)
    try:
        shop = Shop(settings, engine)
        build_demo(shop, now=NOW, progress=False)
        seconds = []
        for _ in range(2):
            started = time.perf_counter()
            snap = export_snapshot(shop, progress=False)
            seconds.append(time.perf_counter() - started)
    finally:
        engine.dispose()
    path = snap.write(tmp_path / "snap")
    size = sum(p.stat().st_size for p in path.iterdir())
    logging.getLogger(__name__).info(
        "demo export: %s; %.1f s cold, %.1f s warm; %.1f MiB",
        snap.manifest["counts"], seconds[0], seconds[1], size / 2**20,
    )  # fmt: skip
    assert snap.manifest["counts"]["items"] == 5000
    assert snap.manifest["counts"]["events"] > 150_000
    assert seconds[1] < 60 and size < MAX_SNAPSHOT_BYTES


# --- the benchmark's other sources ------------------------------------------------------------


def test_complete_journey_baskets_of_frequent_products() -> None:
    """A quick form: only the products bought 2,000+ times before validation (simulated data)."""
    from benchmarks._ranking_data import (
        complete_journey_coupon_lines,
        complete_journey_snapshot,
    )

    snap = complete_journey_snapshot(min_item_purchases=2000, embed=True, progress=False)
    assert snap.manifest["simulated"] is True and snap.task == "next-item"
    items = snap.items.to_pydict()
    assert 10 <= len(items["item_id"]) <= 100
    assert all(p > 0 for p in items["price"]) and all(b.startswith("m-") for b in items["brand"])
    assert snap.items.column("embedding").type.list_size == 512
    events = snap.events.to_pydict()
    assert set(events["item_id"]) == set(items["item_id"])
    assert not any(events["shown"]) and all(events["click"]) and all(events["conversion"])
    pairs = list(zip(events["request_id"], events["item_id"], strict=True))
    assert len(pairs) == len(set(pairs))
    assert snap.test_start - snap.valid_start == timedelta(weeks=4)
    assert max(events["ts"]) - snap.test_start <= timedelta(weeks=4)
    # Every item was bought often enough before validation.
    early = [
        i for i, t in zip(events["item_id"], events["ts"], strict=True) if t < snap.valid_start
    ]
    assert min(early.count(i) for i in items["item_id"]) >= 2000
    # The weekly promotions: below list price, and on any day every deal ends with the
    # chain's week (within 8 days: the Christmas week runs long).
    assert snap.prices is not None
    deals = snap.prices.to_pandas()
    price = dict(zip(items["item_id"], items["price"], strict=True))
    assert set(deals["item_id"]) <= set(price) and deals["has_deal"].all()
    assert not deals["needs_claim"].any()
    assert (deals["final_price"] < deals["item_id"].map(price)).all()
    assert deals["hours_left"].between(0, 8 * 24, inclusive="right").all()
    assert (deals.groupby("day")["hours_left"].nunique() == 1).all()
    assert deals["day"].nunique() > 300
    plain = complete_journey_snapshot(min_item_purchases=2000, embed=False, deals=False)
    assert plain.prices is None
    coupons = complete_journey_coupon_lines()
    matched = complete_journey_coupon_lines(matched_only=True)
    assert len(coupons) == 21_889 and len(matched) == 1_026 and matched <= coupons
    assert coupons & set(pairs)


@pytest.mark.parametrize("policy", ["bts", "random"])
@pytest.mark.parametrize("campaign", ["all", "men", "women"])
def test_open_bandit_dataset_impressions(campaign: str, policy: str) -> None:
    import pandas as pd

    from benchmarks._ranking_data import OBD_INSTALL, obd_data_dir, obd_snapshot

    try:
        folder = obd_data_dir() / policy / campaign
    except FileNotFoundError:
        pytest.skip(f"obp is not installed ({OBD_INSTALL})")
    raw = pd.read_csv(folder / f"{campaign}.csv", index_col=0)
    snap = obd_snapshot(campaign, policy)
    assert snap.task == "impressions" and snap.manifest["simulated"] is False
    events = snap.events.to_pydict()
    assert len(events["request_id"]) == len(raw) == 10_000
    assert (
        sum(events["click"]) == int(raw["click"].sum()) and events["click"] == events["conversion"]
    )
    assert all(events["shown"])
    items = snap.items.to_pydict()
    assert len(items["item_id"]) == {"all": 80, "men": 34, "women": 46}[campaign]
    assert set(events["item_id"]) <= set(items["item_id"])
    assert set(items["department"]) == {campaign} and set(items["price"]) == {100}
    ts = events["ts"]
    train = sum(t < snap.valid_start for t in ts)
    valid = sum(snap.valid_start <= t < snap.test_start for t in ts)
    assert (train, valid) == (7000, 1000)
    assert snap.users.num_rows == 10_000
