"""Build the demo world into a shop: generate files, import them, materialize occurrences.

:func:`build_demo` runs :data:`STEPS` in order, each a named :class:`DemoStep` that takes the
:class:`DemoContext` and returns a count. Generated files go to ``var_dir/demo``
(``products.jsonl``, ``activities.jsonl``) and everything is loaded through
:func:`assistant.catalog.import_file`, so the demo world is an ordinary catalog. A manifest
(``manifest.json``: generator version, parameters, steps, counts, build time) makes a second
call with the same parameters a fast no-op; ``force=True`` rebuilds: re-importing is an
idempotent upsert, and generated items that the new build no longer has (ids starting with
``dp-`` / ``da-``) are removed explicitly.

The last step draws the logged interactions (:func:`assistant.world.logs.generate_logs`):
2,000 shoppers and 200,000 impressions at the default size, scaled down with the catalog for
small builds (:func:`logs_size`). Adding a step is one line in :data:`STEPS`.

A step may read ``ctx.shop``, ``ctx.directory``, ``ctx.params`` (products, seed, per_type,
categories), ``ctx.now`` and ``ctx.progress``, and what earlier steps left in
``ctx.product_rows`` / ``ctx.activity_rows``; it must be deterministic for the same parameters.

Example:
    >>> from assistant.app import Shop  # doctest: +SKIP
    >>> report = build_demo(Shop.from_settings())  # doctest: +SKIP
    >>> report.counts["products"], report.skipped  # doctest: +SKIP
    (5000, False)
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from tqdm import tqdm

from assistant import catalog, store
from assistant.app import Shop
from assistant.errors import ValidationError
from assistant.schedule import aware
from assistant.store.models import ActivityRecord, OccurrenceRecord, ProductRecord
from assistant.world.activities import ACTIVITY_PREFIX, DEFAULT_PER_TYPE, generate_activities
from assistant.world.catalog import PRODUCT_PREFIX, check_options, generate_catalog
from assistant.world.logs import generate_logs

__all__ = [
    "GENERATOR_VERSION",
    "STEPS",
    "logs_size",
    "DemoContext",
    "DemoParams",
    "DemoReport",
    "DemoStep",
    "build_demo",
]

logger = logging.getLogger(__name__)

GENERATOR_VERSION = 1
"""Bump when generated content changes, so existing demo stores are rebuilt."""

_MANIFEST = "manifest.json"


@dataclass(frozen=True, slots=True)
class DemoParams:
    """What a build depends on (besides the shop's currency, time zone and database)."""

    products: int
    seed: int
    per_type: int
    categories: tuple[str, ...] | None


@dataclass
class DemoContext:
    """What every step sees; steps may leave results here for later steps."""

    shop: Shop
    directory: Path
    params: DemoParams
    now: datetime
    progress: bool
    product_rows: list[dict[str, Any]] = field(default_factory=list)
    activity_rows: list[dict[str, Any]] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def products_file(self) -> Path:
        """Where the generated products go."""
        return self.directory / "products.jsonl"

    @property
    def activities_file(self) -> Path:
        """Where the generated activities go."""
        return self.directory / "activities.jsonl"


@dataclass(frozen=True, slots=True)
class DemoStep:
    """One named step of the build; ``run`` returns the count reported for it."""

    name: str
    run: Callable[[DemoContext], int]


@dataclass(frozen=True)
class DemoReport:
    """What :func:`build_demo` did.

    Attributes:
        directory: Where the generated files and the manifest are.
        skipped: True when the store already held this build (nothing was done).
        built_at: When the build that is in the store was made.
        counts: Step name -> its count (products, activities, removed, occurrences, ...).
        seconds: Step name -> seconds it took (empty when skipped).
    """

    directory: Path
    skipped: bool
    built_at: datetime
    counts: Mapping[str, int]
    seconds: Mapping[str, float]

    @property
    def total_seconds(self) -> float:
        """Seconds over all steps."""
        return sum(self.seconds.values())

    def summary(self) -> str:
        """One line for people, e.g. ``demo world built in 41.2 s: products 5000, ...``."""
        counts = ", ".join(f"{name} {count}" for name, count in self.counts.items())
        if self.skipped:
            return f"demo world already built at {self.built_at.isoformat()}: {counts}"
        return f"demo world built in {self.total_seconds:.1f} s: {counts}"


def _catalog_step(ctx: DemoContext) -> int:
    """Generate products, write ``products.jsonl`` and import it."""
    p = ctx.params
    rows = generate_catalog(
        products=p.products,
        seed=p.seed,
        categories=p.categories,
        currency=ctx.shop.settings.shop_currency,
    )
    keep = ("id", "category", "brand", "price")

    def remembered() -> Iterator[dict[str, Any]]:
        for row in rows:
            ctx.product_rows.append({key: row[key] for key in keep})
            yield row

    catalog.write_rows(ctx.products_file, "products", remembered())
    ctx.details["products_per_leaf"] = dict(Counter(r["category"] for r in ctx.product_rows))
    return _import(ctx, ctx.products_file, "products")


def _activities_step(ctx: DemoContext) -> int:
    """Generate activities over the products, write ``activities.jsonl`` and import it."""
    settings = ctx.shop.settings
    ctx.activity_rows = generate_activities(
        ctx.product_rows,
        now=ctx.now,
        seed=ctx.params.seed,
        per_type=ctx.params.per_type,
        currency=settings.shop_currency,
        tz=settings.shop_tz,
    )
    catalog.write_rows(ctx.activities_file, "activities", ctx.activity_rows)
    ctx.details["activities_per_type"] = dict(Counter(r["type"] for r in ctx.activity_rows))
    return _import(ctx, ctx.activities_file, "activities")


def _cleanup_step(ctx: DemoContext) -> int:
    """Remove generated products and activities that this build no longer has."""
    products = {row["id"] for row in ctx.product_rows}
    activities = {row["id"] for row in ctx.activity_rows}
    with ctx.shop.sessions.begin() as session:
        stale_products = [
            pid
            for pid in session.scalars(
                select(ProductRecord.id).where(
                    ProductRecord.id.startswith(PRODUCT_PREFIX, autoescape=True),
                    ProductRecord.removed_at.is_(None),
                )
            )
            if pid not in products
        ]
        stale_activities = [
            aid
            for aid in session.scalars(
                select(ActivityRecord.id).where(
                    ActivityRecord.id.startswith(ACTIVITY_PREFIX, autoescape=True),
                    ActivityRecord.removed_at.is_(None),
                )
            )
            if aid not in activities
        ]
        removed = 0
        if stale_products:
            removed += catalog.remove_products(session, stale_products, now=ctx.now)
        if stale_activities:
            removed += catalog.remove_activities(session, stale_activities, now=ctx.now)
    if removed:
        logger.info("removed %d stale generated item(s)", removed)
    return removed


def _occurrences_step(ctx: DemoContext) -> int:
    """Materialize occurrences over the rolling horizon; returns how many lie in it."""
    end = ctx.now + store.DEFAULT_HORIZON
    with ctx.shop.sessions.begin() as session:
        store.materialize_occurrences(session, ctx.now)
        count = session.scalar(
            select(func.count())
            .select_from(OccurrenceRecord)
            .where(OccurrenceRecord.ends_at > ctx.now, OccurrenceRecord.starts_at < end)
        )
    return int(count or 0)


def _import(ctx: DemoContext, path: Path, kind: catalog.Kind) -> int:
    report = catalog.import_file(
        ctx.shop.engine,
        path,
        ctx.shop.settings,
        kind=kind,
        now=ctx.now,
        progress=None if ctx.progress else False,
    )
    return report.rows


def logs_size(products: int) -> tuple[int, int]:
    """Shoppers and impressions logged for a catalog of ``products``: (2000, 200000) at 5,000.

    >>> logs_size(5000), logs_size(600)
    ((2000, 200000), (240, 24000))
    """
    return min(2000, max(20, products * 2 // 5)), min(200_000, 40 * products)


def _logs_step(ctx: DemoContext) -> int:
    users, impressions = logs_size(ctx.params.products)
    report = generate_logs(
        ctx.shop,
        users=users,
        min_impressions=impressions,
        seed=ctx.params.seed,
        now=ctx.now,
        replace=True,
        progress=ctx.progress,
    )
    ctx.details["logs"] = report.summary()
    return report.impressions


STEPS: tuple[DemoStep, ...] = (
    DemoStep("products", _catalog_step),
    DemoStep("activities", _activities_step),
    DemoStep("removed", _cleanup_step),
    DemoStep("occurrences", _occurrences_step),
    DemoStep("logs", _logs_step),
)
"""The build, in order; each step's name is the key of its count and seconds in the report."""


def _params(
    products: int, seed: int, per_type: int, categories: Sequence[str] | None
) -> DemoParams:
    leaves = check_options(products, categories)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValidationError(f"seed must be a whole number, got {seed!r}")
    if isinstance(per_type, bool) or not isinstance(per_type, int) or per_type < 1:
        raise ValidationError(f"per_type must be a whole number of at least 1, got {per_type!r}")
    chosen = None if categories is None else tuple(leaf.path for leaf in leaves)
    return DemoParams(products, seed, per_type, chosen)


def _fingerprint(shop: Shop, params: DemoParams, steps: Sequence[DemoStep]) -> dict[str, Any]:
    """Everything that must match for a build to be reused."""
    return {
        "generator_version": GENERATOR_VERSION,
        "params": {**asdict(params), "categories": _listed(params.categories)},
        "steps": [step.name for step in steps],
        "currency": shop.settings.shop_currency.code,
        "shop_tz": shop.settings.shop_tz,
        "database": shop.describe_database(),
    }


def _listed(categories: tuple[str, ...] | None) -> list[str] | None:
    return None if categories is None else list(categories)


def _stored_counts(shop: Shop) -> tuple[int, int]:
    """Live generated products and activities in the store."""
    with shop.sessions() as session:
        products = session.scalar(
            select(func.count()).where(
                ProductRecord.id.startswith(PRODUCT_PREFIX, autoescape=True),
                ProductRecord.removed_at.is_(None),
            )
        )
        activities = session.scalar(
            select(func.count()).where(
                ActivityRecord.id.startswith(ACTIVITY_PREFIX, autoescape=True),
                ActivityRecord.removed_at.is_(None),
            )
        )
    return int(products or 0), int(activities or 0)


def _reusable(shop: Shop, manifest: Path, fingerprint: dict[str, Any]) -> dict[str, Any] | None:
    """The manifest of the build in the store, when it is this very build; else None."""
    try:
        recorded = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(recorded, dict) or recorded.get("fingerprint") != fingerprint:
        return None
    counts = recorded.get("counts", {})
    if _stored_counts(shop) != (counts.get("products"), counts.get("activities")):
        return None  # the store was reset or edited since: build again
    return recorded


def build_demo(
    shop: Shop,
    *,
    products: int = 5000,
    seed: int = 7,
    force: bool = False,
    now: datetime | None = None,
    progress: bool = True,
    per_type: int = DEFAULT_PER_TYPE,
    categories: Sequence[str] | None = None,
    steps: Sequence[DemoStep] = STEPS,
) -> DemoReport:
    """Build the demo world into ``shop`` (idempotent; ``force=True`` rebuilds).

    Args:
        shop: The shop whose store receives the world; migrated first if it is behind.
        products: How many products (1 to 1,000,000).
        seed: The random seed; the same seed and arguments give the same files.
        force: Rebuild even when the store already holds this build.
        now: The build time (default: now); schedules are anchored at its day in shop time.
        progress: Show a progress bar on stderr.
        per_type: Activities of each type (the default gives 3,360 in all).
        categories: Leaf categories to fill (default: all of
            :data:`~assistant.world.catalog.LEAF_CATEGORIES`).
        steps: The steps to run (default :data:`STEPS`).

    Returns:
        Counts and seconds per step, or the recorded counts with ``skipped`` set.

    Raises:
        ValidationError: a bad option (products out of range, unknown category, bad seed or
            per_type, naive ``now``).
        CatalogImportError: a generated file did not import (a bug; nothing of it was written).
    """
    params = _params(products, seed, per_type, categories)
    moment = aware(now, "now") if now is not None else datetime.now(UTC)
    directory = shop.settings.var_dir / "demo"
    manifest = directory / _MANIFEST
    if store.current(shop.engine) != store.head():
        logger.info("migrating the store to %s", shop.migrate())
    fingerprint = _fingerprint(shop, params, steps)
    if not force and (recorded := _reusable(shop, manifest, fingerprint)) is not None:
        logger.info("demo world already built at %s; nothing to do", recorded["built_at"])
        return DemoReport(
            directory=directory,
            skipped=True,
            built_at=datetime.fromisoformat(recorded["built_at"]),
            counts=dict(recorded["counts"]),
            seconds={},
        )
    directory.mkdir(parents=True, exist_ok=True)
    manifest.unlink(missing_ok=True)  # a failed build leaves no claim to be complete
    ctx = DemoContext(shop, directory, params, moment, progress)
    counts: dict[str, int] = {}
    seconds: dict[str, float] = {}
    bar = tqdm(
        total=len(steps), desc="demo world", unit="step", file=sys.stderr, disable=not progress
    )
    with bar:
        for step in steps:
            bar.set_postfix_str(step.name)
            started = time.perf_counter()
            counts[step.name] = step.run(ctx)
            seconds[step.name] = round(time.perf_counter() - started, 3)
            logger.info(
                "demo step %s: %d in %.1f s", step.name, counts[step.name], seconds[step.name]
            )
            bar.update(1)
    store.analyze_tables(shop.engine)
    record = {
        "fingerprint": fingerprint,
        "built_at": moment.isoformat(),
        "counts": counts,
        "seconds": seconds,
        "details": ctx.details,
    }
    temporary = manifest.with_suffix(".tmp")
    temporary.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    temporary.replace(manifest)
    return DemoReport(directory, False, moment, counts, seconds)
