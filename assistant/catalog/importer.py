"""Catalog import: validate every row first, then apply them all in one transaction.

A file is read twice, streamed both times: the first pass validates every row with the pydantic
row models and converts it to domain values (so currency and term errors are caught) and
collects every bad row with its line number; if any row is bad,
:class:`~assistant.errors.CatalogImportError` lists them all and nothing is written. The second
pass upserts by id in one transaction: re-importing the same file changes nothing, a changed
activity gets a new revision, a changed price appends price history. Occurrences are then
materialized over the rolling horizon.

Example:
    >>> report = import_file(engine, "examples/catalog/products.jsonl", settings)  # doctest: +SKIP
    >>> report.products.inserted  # doctest: +SKIP
    5
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pydantic
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from tqdm import tqdm

from assistant.catalog.files import detect_kind, read_rows
from assistant.catalog.schemas import ActivityRow, Kind, ProductRow
from assistant.config import Settings
from assistant.domain import Activity
from assistant.errors import CatalogImportError, RowError, ValidationError
from assistant.money import Currency
from assistant.schedule import aware
from assistant.store.activities import materialize_occurrences, upsert_activity
from assistant.store.engine import analyze_tables
from assistant.store.products import ProductData, UpsertOutcome, upsert_products

__all__ = ["ImportReport", "KindCounts", "import_file", "validate_file"]

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class KindCounts:
    """What an import did to one kind of catalog item.

    ``new_revisions`` counts revisions added to activities that already existed (always 0 for
    products).
    """

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    new_revisions: int = 0

    @property
    def total(self) -> int:
        """Rows applied."""
        return self.inserted + self.updated + self.unchanged


@dataclass(slots=True)
class ImportReport:
    """The outcome of one successful import."""

    source: str
    kind: Kind
    rows: int = 0
    products: KindCounts = field(default_factory=KindCounts)
    activities: KindCounts = field(default_factory=KindCounts)
    occurrence_changes: int = 0

    @property
    def counts(self) -> KindCounts:
        """The counts of the imported kind."""
        return self.products if self.kind == "products" else self.activities


Parsed = ProductData | Activity


def _describe(exc: pydantic.ValidationError) -> str:
    """Pydantic's errors as ``field: reason`` text, one per problem."""
    parts: list[str] = []
    for error in exc.errors(include_url=False):
        where = ".".join(str(p) for p in error["loc"])
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "enum":
            expected = error.get("ctx", {}).get("expected", "")
            what = "activity type" if where == "type" else where.replace("_", " ")
            message = f"unknown {what} {error['input']!r}; use one of {expected}"
        elif error["type"] == "extra_forbidden":
            message = "unknown field"
        elif error["type"] == "missing":
            message = "missing"
        parts.append(f"{where}: {message}" if where else message)
    return "; ".join(parts)


def _parse(kind: Kind, raw: dict[str, Any], settings: Settings) -> Parsed:
    """A raw row as the value to store; raises ValueError with the reason when it is bad."""
    currency = settings.shop_currency
    try:
        if kind == "products":
            product = ProductRow.model_validate(raw)
            _check_currency(product.currency, currency)
            try:
                price = product.price_minor(currency)
            except ValidationError as exc:
                raise ValidationError(f"price: {exc}") from None
            return ProductData(
                id=product.id,
                title=product.title,
                title_zh=product.title_zh,
                description=product.description,
                description_zh=product.description_zh,
                category=product.category,
                brand=product.brand,
                price=price,
                currency=currency.code,
                stock=product.stock,
                url=product.url,
                image_url=product.image_url,
                attributes=dict(product.attributes),
            )
        activity = ActivityRow.model_validate(raw)
        _check_amounts(activity, currency)
        return activity.to_domain(currency, settings.shop_tz)
    except pydantic.ValidationError as exc:
        raise ValueError(_describe(exc)) from None
    except ValidationError as exc:
        raise ValueError(str(exc)) from None


def _check_currency(code: str | None, shop: Currency) -> None:
    if code is None:
        return
    try:
        found = Currency.of(code)
    except ValidationError as exc:
        raise ValidationError(f"currency: {exc}") from None
    if found.code != shop.code:
        raise ValidationError(
            f"currency: {found.code} is not the shop currency {shop.code}; "
            "shopassist converts nothing"
        )


def _check_amounts(row: ActivityRow, currency: Currency) -> None:
    """Parse every amount once, so that an error names its field."""
    amounts = [(name, getattr(row, name)) for name in ("amount", "max_discount", "min_spend")]
    amounts.append(("budget", row.budget))
    for number, (threshold, discount) in enumerate(row.tiers, start=1):
        amounts += [(f"tiers.{number}", threshold), (f"tiers.{number}", discount)]
    for name, value in amounts:
        if value is not None:
            try:
                currency.parse(value)
            except ValidationError as exc:
                raise ValidationError(f"{name}: {exc}") from None


def _progress(rows: Iterator[Any], description: str, enabled: bool | None) -> Iterator[Any]:
    """A tqdm bar on stderr; by default only when a person is watching it."""
    return iter(
        tqdm(
            rows,
            desc=description,
            unit=" rows",
            file=sys.stderr,
            disable=not sys.stderr.isatty() if enabled is None else not enabled,
            leave=False,
        )
    )


def _parsed_rows(
    path: Path, kind: Kind, settings: Settings, stage: str, progress: bool | None = None
) -> Iterator[Parsed]:
    """Every row of a file, parsed; raises :class:`CatalogImportError` listing all bad rows."""
    errors: list[RowError] = []
    first_line: dict[str, int] = {}
    for line, raw in _progress(read_rows(path, kind), f"{stage} {path.name}", progress):
        if isinstance(raw, RowError):
            errors.append(raw)
            continue
        row_id = raw.get("id")
        if isinstance(row_id, str) and row_id.strip():
            row_id = row_id.strip()
            if row_id in first_line:
                errors.append(
                    RowError(line, f"duplicate id {row_id!r} (first on line {first_line[row_id]})")
                )
                continue
            first_line[row_id] = line
        try:
            parsed = _parse(kind, raw, settings)
        except ValueError as exc:
            errors.append(RowError(line, str(exc)))
            continue
        if not errors:
            yield parsed
    if errors:
        raise CatalogImportError(str(path), errors)


def validate_file(
    path: str | Path,
    settings: Settings,
    *,
    kind: Kind | None = None,
    progress: bool | None = None,
) -> int:
    """Check every row of a catalog file without touching the store.

    ``progress`` shows a bar on stderr (default: only when stderr is a terminal).

    Returns:
        How many rows the file has.

    Raises:
        CatalogImportError: some rows are bad; every one is listed with its line and reason.
        ValidationError: the file is missing, or its format or kind cannot be told.
    """
    path = Path(path)
    kind = kind or detect_kind(path)
    return sum(1 for _ in _parsed_rows(path, kind, settings, "checking", progress))


def import_file(
    target: Engine | Session,
    path: str | Path,
    settings: Settings,
    *,
    kind: Kind | None = None,
    now: datetime | None = None,
    progress: bool | None = None,
) -> ImportReport:
    """Import a JSONL or CSV catalog file: all rows or nothing.

    Args:
        target: An engine (the import commits its own transaction) or a session (the caller's
            transaction receives the writes and the caller commits).
        path: The file; ``.jsonl`` or ``.csv``.
        settings: The shop's currency and time zone.
        kind: ``products`` or ``activities``; detected from the file name when not given.
        now: The import time (default: now); also the start of the occurrence horizon.
        progress: Progress bars on stderr: ``None`` (default) only when stderr is a terminal.

    Returns:
        What was inserted, updated, left unchanged and newly revised.

    Raises:
        CatalogImportError: some rows are bad; all are listed and nothing was written.
        ValidationError: the file is missing, or its format or kind cannot be told.
    """
    path = Path(path)
    kind = kind or detect_kind(path)
    now = aware(now, "now") if now is not None else datetime.now(UTC)
    rows = validate_file(path, settings, kind=kind, progress=progress)
    report = ImportReport(source=str(path), kind=kind, rows=rows)
    if isinstance(target, Engine):
        with Session(target) as session, session.begin():
            _apply(session, path, kind, settings, now, report, progress)
        analyze_tables(target)
    else:
        _apply(target, path, kind, settings, now, report, progress)
    counts = report.counts
    logger.info(
        "imported %s: %d %s (%d inserted, %d updated, %d unchanged, %d new revisions)",
        path.name,
        rows,
        kind,
        counts.inserted,
        counts.updated,
        counts.unchanged,
        counts.new_revisions,
    )
    return report


def _apply(
    session: Session,
    path: Path,
    kind: Kind,
    settings: Settings,
    now: datetime,
    report: ImportReport,
    progress: bool | None,
) -> None:
    # The file is read again: memory stays flat for big catalogs. Should it have changed since
    # validation, the error surfaces here and the caller's transaction rolls back.
    parsed = _parsed_rows(path, kind, settings, "importing", progress)
    if kind == "products":
        outcomes = upsert_products(
            session, (p for p in parsed if isinstance(p, ProductData)), now=now
        )
        report.products.inserted = outcomes[UpsertOutcome.INSERTED]
        report.products.updated = outcomes[UpsertOutcome.UPDATED]
        report.products.unchanged = outcomes[UpsertOutcome.UNCHANGED]
    else:
        counts = report.activities
        for activity in parsed:
            if not isinstance(activity, Activity):
                continue
            done = upsert_activity(session, activity, now=now)
            if done.outcome is UpsertOutcome.INSERTED:
                counts.inserted += 1
            elif done.outcome is UpsertOutcome.UPDATED:
                counts.updated += 1
                counts.new_revisions += int(done.new_revision)
            else:
                counts.unchanged += 1
    report.occurrence_changes = materialize_occurrences(session, now)
