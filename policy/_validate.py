"""Argument checks shared by the business-rule modules (`ValueError`s naming the argument)."""

from __future__ import annotations

import math
from datetime import datetime

import numpy as np

__all__ = ["aware", "minor_units", "number"]


def number(owner: str, name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise ValueError(f"{owner}: `{name}` must be a number; got {value!r}")
    out = float(value)
    if not math.isfinite(out):
        raise ValueError(f"{owner}: `{name}` must be finite; got {value!r}")
    return out


def minor_units(owner: str, name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ValueError(
            f"{owner}: `{name}` must be an integer amount in minor units (cents); got {value!r}"
        )
    if value < 0:
        raise ValueError(f"{owner}: `{name}` must be >= 0 minor units; got {value}")
    return int(value)


def aware(owner: str, name: str, value: object) -> datetime:
    if not isinstance(value, datetime):
        raise ValueError(f"{owner}: `{name}` must be a datetime; got {value!r}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(
            f"{owner}: `{name}` must be timezone-aware (UTC); got naive {value.isoformat()}"
        )
    return value
