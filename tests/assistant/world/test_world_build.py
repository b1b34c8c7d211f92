"""build_demo: the full default world in SQLite, live coverage, idempotence, force, determinism.

The full default build (5,000 products, 3,360 activities) goes into one SQLite store per test
session and is checked with the deal engine eight days after the build. Smaller builds (six
leaves, 300 products) run on SQLite and PostgreSQL for idempotence and rebuilds.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from assistant import store
from assistant.app import Shop
from assistant.config import Settings
from assistant.deals import DealContext, eligibility, quote_item
from assistant.domain import Activity, ActivityType, Product, Shopper
from assistant.errors import ValidationError
from assistant.store import Base, ProductRecord, product_to_domain
from assistant.world import STEPS, DemoReport, DemoStep, build_demo
from assistant.world.demo import GENERATOR_VERSION
from tests.assistant.world.required_leaves import REQUIRED

BUILD = datetime(2030, 3, 14, 9, 30, tzinfo=UTC)
SMALL = {
    "products": 300,
    "per_type": 30,
    "categories": [
        "shoes/running",
        "apparel/socks",
        "electronics/phones",
        "grocery/snacks",
        "baby/diapers",
        "home/coffee-makers",
    ],
}

Dump = dict[str, list[dict[str, Any]]]


def _shop(var_dir: Path, database_url: str | None = None) -> Shop:
    settings = Settings(
        currency="USD",
        shop_tz="UTC",
        var_dir=var_dir,
        database_url=database_url or f"sqlite:///{var_dir / 'shop.db'}",
        _env_file=None,  # type: ignore[call-arg]
    )
    return Shop.from_settings(settings)


@dataclass(frozen=True)
class Built:
    """The full default demo world in a fresh SQLite store."""

    shop: Shop
    report: DemoReport
    seconds: float


@pytest.fixture(scope="session")
def full_demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    shop = _shop(tmp_path_factory.mktemp("demo-full"))
    started = time.perf_counter()
    report = build_demo(shop, now=BUILD, progress=False)
    yield Built(shop, report, time.perf_counter() - started)
    shop.engine.dispose()


def test_full_default_build_into_fresh_sqlite(
    full_demo: Built,
    request: pytest.FixtureRequest,
    capsys: pytest.CaptureFixture[str],
    record_property: Callable[[str, Any], None],
) -> None:
    report = full_demo.report
    assert not report.skipped
    assert report.counts["products"] == 5000
    assert report.counts["activities"] >= 3200
    assert report.counts["occurrences"] > report.counts["activities"]
    assert set(report.seconds) == {step.name for step in STEPS}
    assert store.current(full_demo.shop.engine) == store.head()  # migrated from nothing
    line = (
        f"full demo build (5,000 products, {report.counts['activities']} activities) into a "
        f"fresh SQLite store: {full_demo.seconds:.1f} s; per step: {dict(report.seconds)}"
    )
    record_property("demo_build_seconds", round(full_demo.seconds, 1))
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        with capsys.disabled():
            reporter.write_line(line)
    assert full_demo.seconds < 120, line


@pytest.fixture(scope="session")
def loaded(full_demo: Built) -> tuple[list[Activity], dict[str, list[Product]]]:
    """The full world's activities and its products by leaf, as the store gives them back."""
    grouped: dict[str, list[Product]] = {}
    with full_demo.shop.sessions() as session:
        activities = store.load_activities(session)
        for record in session.scalars(select(ProductRecord).order_by(ProductRecord.id)):
            product = product_to_domain(record)
            grouped.setdefault(product.category, []).append(product)
    return activities, grouped


def _flash_within(activities: list[Activity], items: list[Product], now: datetime) -> bool:
    """Whether a flash sale covering ``items`` is live at ``now`` or starts within 24 hours."""
    for activity in activities:
        if activity.type is not ActivityType.FLASH_SALE:
            continue
        if not any(activity.scope.covers(product) for product in items):
            continue
        if activity.schedule.window_at(now) is not None:
            return True
        start = activity.schedule.next_start(now)
        if start is not None and start - now <= timedelta(hours=24):
            return True
    return False


@pytest.mark.parametrize("offset", [timedelta(days=8), timedelta(days=8, hours=15, minutes=7)])
def test_every_required_leaf_is_lively_eight_days_after_the_build(
    loaded: tuple[list[Activity], dict[str, list[Product]]], offset: timedelta
) -> None:
    now = BUILD + offset
    activities, by_leaf = loaded
    # A shopper in no audience but "all": what everyone gets.
    ctx = DealContext(now=now, shopper=Shopper("anyone"), shipping_fee=600)
    live = [a for a in activities if eligibility(a, ctx) is None]
    for leaf in REQUIRED:
        items = by_leaf[leaf]
        covering = (a for a in live if eligibility(a, ctx, items) is None)
        found = [a.id for _, a in zip(range(3), covering, strict=False)]
        assert len(found) == 3, f"{leaf}: only {found} live at {now.isoformat()}"
        assert _flash_within(activities, items, now), f"{leaf}: no flash sale within 24 h"
        quotes = [(p, quote_item(p, live, ctx)) for p in [p for p in items if p.stock][:4]]
        for product, quote in quotes:
            assert 0 < quote.goods_total <= product.price, product.id
        assert any(quote.savings for _, quote in quotes), f"{leaf}: no deal for its products"


_LOG_TABLES = {"decisions", "impressions", "feedback_events", "messages", "sessions"}


def _fingerprint(engine: Engine) -> dict[str, tuple[int, str]]:
    """Row count per table, and a digest of every row outside the big log tables.

    A full dump of the 600k logged rows costs more than the build; their counts and the
    ``skipped`` flag are what a no-op must keep.
    """
    out: dict[str, tuple[int, str]] = {}
    with engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            count = connection.execute(select(func.count()).select_from(table)).scalar_one()
            digest = hashlib.sha256()
            if table.name not in _LOG_TABLES:
                for row in connection.execute(select(table).order_by(*table.primary_key.columns)):
                    digest.update(repr(tuple(row)).encode())
            out[table.name] = (count, digest.hexdigest())
    return out


def test_second_build_is_a_noop(full_demo: Built) -> None:
    engine = full_demo.shop.engine
    before = _fingerprint(engine)
    again = build_demo(full_demo.shop, now=BUILD + timedelta(hours=3), progress=False)
    assert again.skipped and again.seconds == {}
    assert again.counts == dict(full_demo.report.counts)
    assert again.built_at == BUILD
    assert _fingerprint(engine) == before


def test_manifest_and_files(full_demo: Built) -> None:
    directory = full_demo.shop.settings.var_dir / "demo"
    manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["fingerprint"]["generator_version"] == GENERATOR_VERSION
    assert manifest["fingerprint"]["params"] == {
        "products": 5000,
        "seed": 7,
        "per_type": 420,
        "categories": None,
    }
    assert manifest["built_at"] == BUILD.isoformat()
    assert manifest["counts"] == dict(full_demo.report.counts)
    assert min(manifest["details"]["activities_per_type"].values()) >= 400
    assert min(manifest["details"]["products_per_leaf"][leaf] for leaf in REQUIRED) >= 30
    assert sum(1 for _ in (directory / "products.jsonl").open(encoding="utf-8")) == 5000


def _live_products(engine: Engine) -> int:
    with store.session_factory(engine)() as session:
        count = session.scalar(select(func.count()).where(ProductRecord.removed_at.is_(None)))
    return int(count or 0)


def test_small_build_is_idempotent_and_force_rebuilds(
    db_url: str, tmp_path: Path, dump: Callable[[Engine], Dump]
) -> None:
    shop = _shop(tmp_path, db_url)
    try:
        first = build_demo(shop, now=BUILD, progress=False, **SMALL)
        assert not first.skipped
        assert (first.counts["products"], first.counts["activities"]) == (300, 240)
        before = dump(shop.engine)
        assert build_demo(shop, now=BUILD, progress=False, **SMALL).skipped
        assert dump(shop.engine) == before
        forced = build_demo(shop, now=BUILD, progress=False, force=True, **SMALL)
        assert not forced.skipped and forced.counts["removed"] == 0
        assert dump(shop.engine) == before  # re-importing the same build changes nothing
        fewer = build_demo(shop, now=BUILD, progress=False, **{**SMALL, "products": 200})
        assert not fewer.skipped
        assert fewer.counts["removed"] == 100
        assert _live_products(shop.engine) == 200
        assert build_demo(shop, now=BUILD, progress=False, **{**SMALL, "products": 200}).skipped
    finally:
        shop.engine.dispose()


def test_a_reset_store_is_built_again(tmp_path: Path) -> None:
    shop = _shop(tmp_path)
    build_demo(shop, now=BUILD, progress=False, **SMALL)
    with shop.sessions.begin() as session:
        ids = list(session.scalars(select(ProductRecord.id)))
        store.remove_products(session, ids, now=BUILD)
    again = build_demo(shop, now=BUILD, progress=False, **SMALL)
    assert not again.skipped
    assert _live_products(shop.engine) == 300
    shop.engine.dispose()


def test_same_seed_gives_identical_files(tmp_path: Path) -> None:
    files = []
    for name in ("a", "b"):
        shop = _shop(tmp_path / name)
        report = build_demo(shop, now=BUILD, progress=False, seed=5, **SMALL)
        files.append(
            [(report.directory / f).read_bytes() for f in ("products.jsonl", "activities.jsonl")]
        )
        shop.engine.dispose()
    assert files[0] == files[1]
    other = _shop(tmp_path / "c")
    report = build_demo(other, now=BUILD, progress=False, seed=6, **SMALL)
    assert (report.directory / "products.jsonl").read_bytes() != files[0][0]
    other.engine.dispose()


def test_steps_can_be_added(tmp_path: Path) -> None:
    shop = _shop(tmp_path)
    extra = DemoStep("extra", lambda ctx: len(ctx.product_rows) + len(ctx.activity_rows))
    report = build_demo(shop, now=BUILD, progress=False, steps=(*STEPS, extra), **SMALL)
    assert list(report.counts) == [
        "products",
        "activities",
        "removed",
        "occurrences",
        "logs",
        "extra",
    ]
    assert report.counts["extra"] == 540 and "extra" in report.seconds
    # A different list of steps is a different build: the plain one is not taken for it.
    assert not build_demo(shop, now=BUILD, progress=False, **SMALL).skipped
    shop.engine.dispose()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"products": 0}, "products must be between 1 and 1,000,000, got 0"),
        ({"products": -3}, "products must be between 1 and 1,000,000, got -3"),
        ({"categories": ["shoes/skates"]}, "unknown demo category 'shoes/skates'"),
        ({"seed": "seven"}, "seed must be a whole number"),
        ({"per_type": 0}, "per_type must be a whole number of at least 1"),
        ({"now": datetime(2030, 1, 1)}, "has no time zone"),
    ],
)
def test_bad_options_raise_before_touching_the_store(
    tmp_path: Path, options: dict[str, Any], message: str
) -> None:
    shop = _shop(tmp_path)
    with pytest.raises(ValidationError, match=re.escape(message)):
        build_demo(shop, progress=False, **options)
    assert store.current(shop.engine) is None  # not even migrated
    assert not (tmp_path / "demo").exists()
    shop.engine.dispose()
