"""JSON-safe snapshots of policy parameters: exact float64 arrays as base64, a content digest.

A snapshot is what the one updater writes to SQL and what serving workers reload by version, so
the encoding is exact (float64 little-endian bytes, base64) and the digest covers everything
that changes a choice: loading a snapshot recomputes the version and refuses a mismatch.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import numpy as np

from .base import FloatArray

__all__ = ["SNAPSHOT_FORMAT", "decode_array", "digest", "encode_array", "snapshot_field"]

SNAPSHOT_FORMAT = 1
"""Bumped when the snapshot layout changes; `from_snapshot` refuses other formats."""


def encode_array(arr: FloatArray) -> dict[str, Any]:
    """`{"shape": [...], "dtype": "<f8", "data": base64}` for a float64 array, bit-exact."""
    out = np.ascontiguousarray(arr, dtype="<f8")
    return {
        "shape": list(out.shape),
        "dtype": "<f8",
        "data": base64.b64encode(out.tobytes()).decode("ascii"),
    }


def decode_array(owner: str, name: str, value: object, shape: tuple[int, ...]) -> FloatArray:
    """The array `encode_array` wrote, checked against the expected `shape`; read-only.

    Raises:
        ValueError: If the field is malformed or its shape differs from `shape`.
    """
    if not isinstance(value, dict) or set(value) != {"shape", "dtype", "data"}:
        raise ValueError(
            f"{owner}: snapshot field `{name}` must be an object with shape, dtype and data"
        )
    if value["dtype"] != "<f8" or tuple(value["shape"]) != shape:
        raise ValueError(
            f"{owner}: snapshot field `{name}` must be <f8 of shape {list(shape)}; got "
            f"{value['dtype']} of shape {value['shape']}"
        )
    try:
        raw = base64.b64decode(str(value["data"]), validate=True)
    except ValueError as exc:
        raise ValueError(f"{owner}: snapshot field `{name}` is not valid base64; {exc}") from exc
    if len(raw) != 8 * int(np.prod(shape)):
        raise ValueError(
            f"{owner}: snapshot field `{name}` holds {len(raw)} bytes; expected "
            f"{8 * int(np.prod(shape))}"
        )
    arr = np.frombuffer(raw, dtype="<f8").astype(np.float64).reshape(shape)
    arr.flags.writeable = False
    return arr


def digest(params: dict[str, Any], *arrays: FloatArray) -> str:
    """First 16 hex digits of the SHA-256 of the parameters (canonical JSON) and arrays."""
    h = hashlib.sha256(json.dumps(params, sort_keys=True).encode())
    for arr in arrays:
        h.update(np.ascontiguousarray(arr, dtype="<f8").tobytes())
    return h.hexdigest()[:16]


def snapshot_field(owner: str, snapshot: dict[str, Any], name: str) -> Any:
    """`snapshot[name]`, or a ValueError saying the snapshot lacks it."""
    if name not in snapshot:
        raise ValueError(f"{owner}: snapshot has no `{name}` field; was it written by to_snapshot?")
    return snapshot[name]
