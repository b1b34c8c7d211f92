"""Catalog files: JSONL and CSV rows in, JSONL and CSV rows out, streamed.

The format comes from the extension (``.jsonl``/``.ndjson`` or ``.csv``) and the kind from the
file name (``products*`` or ``activities*``) unless given. In CSV, nested values (``scope``,
``window``, ``schedule``, ``tiers``, ``attributes``) are JSON text in a cell and an empty cell
means the value is absent. Line numbers are 1-based; a CSV header is line 1.

Example:
    >>> detect_kind("examples/catalog/products.jsonl"), detect_format("activities.csv")
    ('products', 'csv')
"""

from __future__ import annotations

import csv
import json
import logging
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Literal

from assistant.catalog.schemas import ActivityRow, Kind, ProductRow
from assistant.errors import RowError, ValidationError

__all__ = [
    "COLUMNS",
    "NESTED_COLUMNS",
    "Format",
    "RawRow",
    "detect_format",
    "detect_kind",
    "read_rows",
    "write_rows",
]

logger = logging.getLogger(__name__)

Format = Literal["jsonl", "csv"]
"""A catalog file format."""

RawRow = tuple[int, dict[str, Any] | RowError]
"""A line number and the row read there as plain values, or why it could not be read."""

COLUMNS: dict[Kind, tuple[str, ...]] = {
    "products": tuple(ProductRow.model_fields),
    "activities": tuple(ActivityRow.model_fields),
}
"""Every column of each kind, in the order files are written."""

NESTED_COLUMNS = frozenset({"scope", "window", "schedule", "tiers", "attributes"})
"""Columns whose values are JSON text in a CSV cell."""

_INT_COLUMNS = frozenset({"stock", "percent", "min_quantity", "per_user_limit", "quantity_limit"})
_SUFFIXES: dict[str, Format] = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv"}


def detect_format(path: str | Path) -> Format:
    """The file format from the extension.

    Raises:
        ValidationError: the extension is neither JSONL nor CSV.
    """
    suffix = Path(path).suffix.lower()
    try:
        return _SUFFIXES[suffix]
    except KeyError:
        raise ValidationError(
            f"{path}: unknown catalog format {suffix or '(no extension)'!r}; use .jsonl or .csv"
        ) from None


def detect_kind(path: str | Path) -> Kind:
    """``products`` or ``activities`` from the file name.

    Raises:
        ValidationError: the name starts with neither; pass the kind explicitly.
    """
    name = Path(path).name.lower()
    if name.startswith("products"):
        return "products"
    if name.startswith("activities"):
        return "activities"
    raise ValidationError(
        f"{path}: cannot tell whether it holds products or activities; name it products*.jsonl "
        "or activities*.csv, or give the kind"
    )


def read_rows(path: str | Path, kind: Kind) -> Iterator[RawRow]:
    """Stream the rows of a catalog file with their line numbers.

    Rows come back as plain values for the pydantic row models; lines that cannot be read
    (bad JSON, not an object, not UTF-8, a bad CSV header) come back as :class:`RowError`.

    Raises:
        ValidationError: the file does not exist or its format is unknown.
    """
    path = Path(path)
    fmt = detect_format(path)
    if not path.is_file():
        raise ValidationError(f"{path}: no such catalog file")
    if fmt == "jsonl":
        yield from _read_jsonl(path)
    else:
        yield from _read_csv(path, kind)


def _read_jsonl(path: Path) -> Iterator[RawRow]:
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                text = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError:
                yield number, RowError(number, "not UTF-8 text")
                continue
            if not text.strip():
                continue
            try:
                value = json.loads(text.rstrip("\r\n"))  # columns stay on this line
            except json.JSONDecodeError as exc:
                yield number, RowError(number, f"not valid JSON: {exc.msg} (column {exc.colno})")
                continue
            if not isinstance(value, dict):
                kind = type(value).__name__
                yield number, RowError(number, f"expected a JSON object, got a {kind}")
                continue
            yield number, value


def _read_csv(path: Path, kind: Kind) -> Iterator[RawRow]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        try:
            header = [name.strip() for name in next(reader)]
        except StopIteration:
            return
        except (UnicodeDecodeError, csv.Error) as exc:
            yield 1, RowError(1, f"unreadable CSV header: {exc}")
            return
        if problem := _header_problem(header, kind):
            yield 1, RowError(1, problem)
            return
        start = reader.line_num + 1
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except UnicodeDecodeError:
                yield start, RowError(start, "not UTF-8 text; nothing after it was read")
                return
            except csv.Error as exc:
                yield start, RowError(start, f"unreadable CSV: {exc}")
                start = reader.line_num + 1
                continue
            line, start = start, reader.line_num + 1
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) != len(header):
                yield line, RowError(line, f"{len(cells)} cells but the header has {len(header)}")
                continue
            yield line, _csv_values(header, cells)


def _header_problem(header: list[str], kind: Kind) -> str | None:
    known = COLUMNS[kind]
    unknown = [name for name in header if name not in known]
    if unknown:
        return f"unknown column(s) {', '.join(unknown)} for {kind}; known: {', '.join(known)}"
    duplicated = sorted({name for name in header if header.count(name) > 1})
    if duplicated:
        return f"duplicate column(s) {', '.join(duplicated)}"
    if "id" not in header:
        return "no id column"
    return None


def _csv_values(header: list[str], cells: list[str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, cell in zip(header, cells, strict=True):
        text = cell.strip()
        if not text:
            continue  # an empty cell is an absent value
        if name in _INT_COLUMNS and text.lstrip("-").isdigit():
            values[name] = int(text)
        else:
            values[name] = text  # nested JSON text is parsed by the row models
    return values


def write_rows(path: str | Path, kind: Kind, rows: Iterable[dict[str, Any]]) -> int:
    """Write rows (as :mod:`assistant.catalog.exporter` builds them) to a JSONL or CSV file.

    Keys follow :data:`COLUMNS` order; absent values are left out of JSONL and empty in CSV, so
    the same rows always give the same bytes.

    Returns:
        How many rows were written.
    """
    path = Path(path)
    fmt = detect_format(path)
    columns = COLUMNS[kind]
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        if fmt == "jsonl":
            for row in rows:
                ordered = {name: row[name] for name in columns if name in row}
                handle.write(json.dumps(ordered, ensure_ascii=False) + "\n")
                count += 1
        else:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(columns)
            for row in rows:
                writer.writerow([_csv_cell(name, row.get(name)) for name in columns])
                count += 1
    logger.info("wrote %d %s to %s", count, kind, path)
    return count


def _csv_cell(name: str, value: Any) -> str:
    if value is None:
        return ""
    if name in NESTED_COLUMNS or isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)
