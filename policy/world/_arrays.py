"""Array aliases and the one-time validation used at the world's public entry points.

Every public constructor converts its inputs with these helpers, so the code behind them can
index without checking again. Converted arrays are copies marked read-only: the frozen
dataclasses that hold them really are immutable.
"""

from __future__ import annotations

from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

__all__ = [
    "ArrayLike",
    "BoolArray",
    "FloatArray",
    "IntArray",
    "as_bool",
    "as_float",
    "as_int",
    "check_range",
    "sigmoid",
]

ArrayLike = npt.ArrayLike
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

Shape = tuple[int | None, ...]
_G = TypeVar("_G", bound=np.generic)


def _check_shape(owner: str, name: str, arr: npt.NDArray[Any], shape: Shape) -> None:
    bad = arr.ndim != len(shape) or any(
        want is not None and got != want for got, want in zip(arr.shape, shape, strict=False)
    )
    if bad:
        dims = ["*" if s is None else str(s) for s in shape]
        want = f"({dims[0]},)" if len(dims) == 1 else "(" + ", ".join(dims) + ")"
        raise ValueError(f"{owner}: `{name}` must have shape {want}; got {arr.shape}")


def _readonly(arr: npt.NDArray[_G]) -> npt.NDArray[_G]:
    arr.flags.writeable = False
    return arr


def as_float(
    owner: str, name: str, value: object, shape: Shape, *, allow_inf: bool = False
) -> FloatArray:
    """A read-only float64 copy of `value` with the given shape (None = any size), no NaN."""
    try:
        arr = np.array(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{owner}: `{name}` must be numeric; {exc}") from exc
    _check_shape(owner, name, arr, shape)
    bad = np.isnan(arr) if allow_inf else ~np.isfinite(arr)
    if bad.any():
        what = "NaN" if allow_inf else "NaN or infinite values"
        raise ValueError(f"{owner}: `{name}` holds {what} (first at {int(np.argmax(bad.ravel()))})")
    return _readonly(arr)


def as_int(owner: str, name: str, value: object, shape: Shape) -> IntArray:
    """A read-only int64 copy of `value`; floats and booleans are refused, not truncated."""
    arr = np.asarray(value)
    if arr.size and (arr.dtype == np.bool_ or not np.issubdtype(arr.dtype, np.integer)):
        raise ValueError(f"{owner}: `{name}` must hold integers; got dtype {arr.dtype}")
    out = np.array(arr, dtype=np.int64)
    _check_shape(owner, name, out, shape)
    return _readonly(out)


def as_bool(owner: str, name: str, value: object, shape: Shape) -> BoolArray:
    """A read-only bool copy of `value`; only booleans (or 0/1 integers) are accepted."""
    arr = np.asarray(value)
    ok = arr.dtype == np.bool_ or (
        np.issubdtype(arr.dtype, np.integer) and bool(np.isin(arr, (0, 1)).all())
    )
    if arr.size and not ok:
        raise ValueError(f"{owner}: `{name}` must hold booleans; got dtype {arr.dtype}")
    out = np.array(arr, dtype=np.bool_)
    _check_shape(owner, name, out, shape)
    return _readonly(out)


def check_range(
    owner: str,
    name: str,
    arr: npt.NDArray[Any],
    low: float | None = None,
    high: float | None = None,
    *,
    low_open: bool = False,
) -> None:
    """Raise ValueError naming the first value of `arr` outside [low, high] (or (low, high])."""
    if arr.size == 0:
        return
    bad = np.zeros(arr.shape, dtype=np.bool_)
    if low is not None:
        bad |= arr <= low if low_open else arr < low
    if high is not None:
        bad |= arr > high
    if bad.any():
        first = int(np.argmax(bad.ravel()))
        lo = "-inf" if low is None else f"{low:g}"
        hi = "inf" if high is None else f"{high:g}"
        interval = f"{'(' if low_open else '['}{lo}, {hi}]"
        raise ValueError(
            f"{owner}: `{name}` must lie in {interval}; got {arr.ravel()[first].item()!r} at flat "
            f"index {first}"
        )


def sigmoid(x: FloatArray) -> FloatArray:
    """The logistic function, overflow-free for large |x|."""
    out: FloatArray = np.exp(-np.logaddexp(0.0, -x))
    return out
