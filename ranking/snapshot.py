"""Training snapshots: a self-contained directory of parquet tables the ranker trains from.

``shopassist train ranker --export DIR`` writes one from the SQL logs; the benchmark writes one
for The Complete Journey and one for the Open Bandit Dataset sample. ``python -m ranking.train
DIR`` trains from it with only torch, numpy and pyarrow, so a snapshot can be copied to a GPU
machine that has no project, no database and no network.

Layout (every table is parquet; ids are strings; times are UTC microseconds):

``manifest.json``
    ``format`` (:data:`SNAPSHOT_FORMAT`), ``source`` (free text: where the rows come from),
    ``simulated`` (the data are simulated: say so wherever numbers from it appear),
    ``created_at``, ``valid_start`` and ``test_start`` (the time split: events before
    ``valid_start`` train, ``[valid_start, test_start)`` validate, the rest test), ``task``
    (:data:`TASKS`), ``counts`` (rows per table) and optional ``notes``.
``items.parquet``
    ``item_id``, ``category`` (the item's own category), ``department`` (the group a true item
    is ranked within at evaluation), ``brand``, ``price`` (int64 list price in minor units,
    > 0), ``listed_at`` (nullable: unknown listing time counts as old), ``embedding`` (optional
    column, fixed-size list of float16: the item's text embedding).
``users.parquet``
    ``user_id``, ``is_member``, ``is_new``, ``segment`` ("" when none).
``events.parquet``
    One row per observed (request, item): ``request_id`` (one decision or one basket),
    ``user_id``, ``item_id``, ``ts``, ``query_id`` (nullable), ``shown`` (a logged policy showed
    it; False for organic purchases), ``click``, ``conversion`` (claim or purchase).
``prices.parquet`` (optional)
    The public price of each item per UTC day: ``item_id``, ``day`` (date32), ``final_price``
    (int64 minor units), ``has_deal``, ``needs_claim``, ``hours_left`` (float, 0 without a deal).
    Items or days missing here are priced at list price without a deal.
``queries.parquet`` (optional)
    ``query_id``, ``embedding`` (fixed-size list of float16, the same dimension as the items').

Every candidate in an evaluation group gets its deal features from ``prices`` (never from the
event row), so a positive cannot be told apart from its negatives by where its price came from.

Example:
    >>> import tempfile
    >>> snap = Snapshot.from_pydict(
    ...     items={"item_id": ["a"], "category": ["c"], "department": ["d"], "brand": ["b"],
    ...            "price": [100]},
    ...     users={"user_id": ["u"], "is_member": [False], "is_new": [True], "segment": [""]},
    ...     events={"request_id": ["r"], "user_id": ["u"], "item_id": ["a"],
    ...             "ts": [datetime(2030, 1, 1, tzinfo=UTC)], "query_id": [None],
    ...             "shown": [False], "click": [True], "conversion": [True]},
    ...     valid_start=datetime(2030, 1, 2, tzinfo=UTC),
    ...     test_start=datetime(2030, 1, 3, tzinfo=UTC), source="doctest")
    >>> with tempfile.TemporaryDirectory() as d:
    ...     _ = snap.write(d)
    ...     read_snapshot(d).events.num_rows
    1
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

__all__ = [
    "MAX_SNAPSHOT_BYTES",
    "SCHEMAS",
    "SNAPSHOT_FORMAT",
    "TASKS",
    "Snapshot",
    "SnapshotError",
    "read_snapshot",
]

SNAPSHOT_FORMAT = "shopassist-ranking-snapshot/1"
MAX_SNAPSHOT_BYTES = 50 * 1024 * 1024
TASKS = ("next-item", "impressions")
"""``next-item``: rank each request's converted (or clicked) items among all items of their
department. ``impressions``: score the logged impressions (click AUC), for logs whose users have
no history (the Open Bandit Dataset)."""

_TS = pa.timestamp("us", tz="UTC")

SCHEMAS: dict[str, pa.Schema] = {
    "items": pa.schema(
        [
            ("item_id", pa.string()),
            ("category", pa.string()),
            ("department", pa.string()),
            ("brand", pa.string()),
            ("price", pa.int64()),
            ("listed_at", _TS),
        ]
    ),
    "users": pa.schema(
        [
            ("user_id", pa.string()),
            ("is_member", pa.bool_()),
            ("is_new", pa.bool_()),
            ("segment", pa.string()),
        ]
    ),
    "events": pa.schema(
        [
            ("request_id", pa.string()),
            ("user_id", pa.string()),
            ("item_id", pa.string()),
            ("ts", _TS),
            ("query_id", pa.string()),
            ("shown", pa.bool_()),
            ("click", pa.bool_()),
            ("conversion", pa.bool_()),
        ]
    ),
    "prices": pa.schema(
        [
            ("item_id", pa.string()),
            ("day", pa.date32()),
            ("final_price", pa.int64()),
            ("has_deal", pa.bool_()),
            ("needs_claim", pa.bool_()),
            ("hours_left", pa.float32()),
        ]
    ),
    "queries": pa.schema([("query_id", pa.string())]),
}
"""The required columns of each table (``embedding`` columns are checked separately)."""

_REQUIRED = ("items", "users", "events")
_OPTIONAL = ("prices", "queries")


class SnapshotError(ValueError):
    """A snapshot that is missing, of another format, or whose tables break the layout."""


def _conform(name: str, table: pa.Table) -> pa.Table:
    schema = SCHEMAS[name]
    missing = [f.name for f in schema if f.name not in table.column_names]
    if name == "items" and "listed_at" in missing:
        table = table.append_column("listed_at", pa.nulls(table.num_rows, _TS))
        missing.remove("listed_at")
    if missing:
        raise SnapshotError(f"{name}: missing column(s) {', '.join(missing)}")
    columns = {}
    for f in schema:
        try:
            columns[f.name] = table.column(f.name).cast(f.type)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise SnapshotError(f"{name}.{f.name}: cannot be read as {f.type}: {exc}") from exc
    if "embedding" in table.column_names:
        emb = table.column("embedding")
        if not pa.types.is_fixed_size_list(emb.type):
            emb = emb.cast(pa.list_(pa.float16()))
            width = len(emb[0]) if len(emb) else 0
            emb = emb.cast(pa.list_(pa.float16(), width))
        columns["embedding"] = emb.cast(pa.list_(pa.float16(), emb.type.list_size))
    elif name == "queries":
        raise SnapshotError("queries: missing column 'embedding'")
    return pa.table(columns)


def _check(name: str, table: pa.Table) -> None:
    import pyarrow.compute as pc

    for column in ("item_id", "user_id", "request_id", "category", "department", "brand"):
        if column in table.column_names and table.column(column).null_count:
            raise SnapshotError(f"{name}.{column}: null ids are not allowed")
    if name == "items":
        if table.num_rows and pc.min(table.column("price")).as_py() <= 0:
            raise SnapshotError("items.price: every list price must be > 0 (minor units)")
        if pc.count_distinct(table.column("item_id")).as_py() != table.num_rows:
            raise SnapshotError("items.item_id: ids must be unique")
    if name == "events" and table.column("ts").null_count:
        raise SnapshotError("events.ts: every event needs a time")


@dataclass(frozen=True)
class Snapshot:
    """The tables of one training snapshot, validated against :data:`SCHEMAS`.

    Attributes:
        items: ``items`` table.
        users: ``users`` table.
        events: ``events`` table, sorted by ``ts``.
        prices: ``prices`` table, or None.
        queries: ``queries`` table, or None.
        manifest: the manifest (see the module docstring).
    """

    items: pa.Table
    users: pa.Table
    events: pa.Table
    prices: pa.Table | None = None
    queries: pa.Table | None = None
    manifest: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        *,
        items: pa.Table,
        users: pa.Table,
        events: pa.Table,
        valid_start: datetime,
        test_start: datetime,
        source: str,
        prices: pa.Table | None = None,
        queries: pa.Table | None = None,
        task: str = "next-item",
        simulated: bool = True,
        notes: str = "",
    ) -> Snapshot:
        """Validate the tables and write the manifest fields.

        Raises:
            SnapshotError: a missing or mistyped column, null ids, non-positive prices,
                duplicate items, an unknown task or a split out of order.
        """
        if task not in TASKS:
            raise SnapshotError(f"unknown task {task!r}; expected one of {', '.join(TASKS)}")
        if valid_start.tzinfo is None or test_start.tzinfo is None:
            raise SnapshotError("valid_start and test_start must be timezone-aware")
        if not valid_start <= test_start:
            raise SnapshotError("valid_start must not be after test_start")
        tables: dict[str, pa.Table | None] = {
            "items": items,
            "users": users,
            "events": events,
            "prices": prices,
            "queries": queries,
        }
        checked: dict[str, pa.Table | None] = {}
        for name, table in tables.items():
            if table is None:
                checked[name] = None
                continue
            table = _conform(name, table)
            _check(name, table)
            checked[name] = table
        ev = checked["events"]
        assert ev is not None
        checked["events"] = ev.sort_by([("ts", "ascending"), ("request_id", "ascending")])
        manifest = {
            "format": SNAPSHOT_FORMAT,
            "source": source,
            "simulated": simulated,
            "task": task,
            "created_at": datetime.now(UTC).isoformat(),
            "valid_start": valid_start.astimezone(UTC).isoformat(),
            "test_start": test_start.astimezone(UTC).isoformat(),
            "counts": {k: (v.num_rows if v is not None else 0) for k, v in checked.items()},
            "notes": notes,
        }
        return cls(
            items=checked["items"],
            users=checked["users"],
            events=checked["events"],
            prices=checked["prices"],
            queries=checked["queries"],
            manifest=manifest,
        )

    @classmethod
    def from_pydict(
        cls,
        *,
        items: Mapping[str, Sequence[Any]],
        users: Mapping[str, Sequence[Any]],
        events: Mapping[str, Sequence[Any]],
        prices: Mapping[str, Sequence[Any]] | None = None,
        queries: Mapping[str, Sequence[Any]] | None = None,
        **kwargs: Any,
    ) -> Snapshot:
        """:meth:`build` from plain column dicts (tests, small exports)."""

        def table(data: Mapping[str, Sequence[Any]] | None) -> pa.Table | None:
            return None if data is None else pa.table(dict(data))

        return cls.build(
            items=pa.table(dict(items)),
            users=pa.table(dict(users)),
            events=pa.table(dict(events)),
            prices=table(prices),
            queries=table(queries),
            **kwargs,
        )

    @property
    def valid_start(self) -> datetime:
        """Events at or after this time validate (or test)."""
        return datetime.fromisoformat(self.manifest["valid_start"])

    @property
    def test_start(self) -> datetime:
        """Events at or after this time test."""
        return datetime.fromisoformat(self.manifest["test_start"])

    @property
    def task(self) -> str:
        """One of :data:`TASKS`."""
        return str(self.manifest.get("task", "next-item"))

    def with_split(self, valid_start: datetime, test_start: datetime) -> Snapshot:
        """The same tables under another time split."""
        manifest = dict(self.manifest)
        manifest["valid_start"] = valid_start.astimezone(UTC).isoformat()
        manifest["test_start"] = test_start.astimezone(UTC).isoformat()
        return replace(self, manifest=manifest)

    def write(self, directory: str | Path, *, max_bytes: int = MAX_SNAPSHOT_BYTES) -> Path:
        """Write the tables (zstd parquet) and the manifest; returns the directory.

        Raises:
            SnapshotError: the written snapshot exceeds ``max_bytes`` (it is left on disk so
                it can be inspected, and the message says how big it is).
        """
        path = Path(directory)
        path.mkdir(parents=True, exist_ok=True)
        for name in (*_REQUIRED, *_OPTIONAL):
            table = getattr(self, name)
            target = path / f"{name}.parquet"
            if table is None:
                target.unlink(missing_ok=True)
                continue
            pq.write_table(table, target, compression="zstd")
        tmp = path / "manifest.json.tmp"
        tmp.write_text(json.dumps(dict(self.manifest), indent=2, sort_keys=True) + "\n")
        os.replace(tmp, path / "manifest.json")
        size = sum(p.stat().st_size for p in path.iterdir() if p.is_file())
        if size > max_bytes:
            raise SnapshotError(
                f"snapshot at {path} is {size / 2**20:.1f} MiB, over the "
                f"{max_bytes / 2**20:.0f} MiB limit; export fewer days or items"
            )
        return path


def read_snapshot(directory: str | Path) -> Snapshot:
    """Read and validate a snapshot written by :meth:`Snapshot.write`.

    Raises:
        SnapshotError: no manifest, another format, or a table that breaks the layout.
    """
    path = Path(directory)
    manifest_path = path / "manifest.json"
    if not manifest_path.is_file():
        raise SnapshotError(f"{path} is not a ranking snapshot: no manifest.json")
    manifest = json.loads(manifest_path.read_text())
    if manifest.get("format") != SNAPSHOT_FORMAT:
        raise SnapshotError(
            f"{path} holds snapshot format {manifest.get('format')!r}; this code reads "
            f"{SNAPSHOT_FORMAT!r}"
        )
    tables: dict[str, pa.Table | None] = {}
    for name in (*_REQUIRED, *_OPTIONAL):
        file = path / f"{name}.parquet"
        if not file.is_file():
            if name in _REQUIRED:
                raise SnapshotError(f"{path}: missing {file.name}")
            tables[name] = None
            continue
        table = _conform(name, pq.read_table(file))
        _check(name, table)
        tables[name] = table
    return Snapshot(manifest=manifest, **tables)
