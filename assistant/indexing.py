"""Keep the Chroma indexes in step with SQL, the source of truth (``shopassist index``).

The assistant maps its catalog to plain :class:`retrieval.IndexItem` values and hands them to
:func:`retrieval.sync_index`, which embeds only what is new or changed (and the embedding cache
makes even a rebuild of unchanged text cheap). One writer at a time: the sync holds
``var/chroma.lock``. A killed run leaves whole batches behind; running it again finishes the job
and yields the same index as an uninterrupted run.

Example:
    >>> report = sync_catalog_index(Shop.from_settings())  # doctest: +SKIP
    >>> report.summary()  # doctest: +SKIP
    'products: 5000 added ...; activities: 3360 added ...'
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from chromadb.errors import ChromaError
from sqlalchemy import select

from assistant import store
from assistant.deals import DealContext
from assistant.domain import Activity, Product, Shopper
from assistant.errors import RetrievalError
from assistant.pricing import price_items
from assistant.schedule import aware
from assistant.store import ProductRecord
from retrieval import (
    MAX_EPOCH,
    ActivityMeta,
    CachedEmbedder,
    ChromaIndex,
    EmbeddingCache,
    IndexDamagedError,
    IndexItem,
    ProductMeta,
    SyncReport,
    VectorIndexError,
    discard_local_index,
    index_lock,
    make_client,
    make_embedder,
    sync_index,
)

if TYPE_CHECKING:
    from assistant.app import Shop

__all__ = [
    "ACTIVITIES",
    "PRODUCTS",
    "IndexReport",
    "activity_items",
    "catalog_items",
    "product_items",
    "sync_catalog_index",
]

logger = logging.getLogger(__name__)

PRODUCTS = "products"
ACTIVITIES = "activities"


@dataclass(frozen=True)
class IndexReport:
    """What one ``shopassist index`` run did to each collection."""

    products: SyncReport
    activities: SyncReport

    def summary(self) -> str:
        """One line per collection for people."""

        def line(name: str, r: SyncReport) -> str:
            return (
                f"{name}: {r.added} added, {r.updated} updated, {r.deleted} deleted, "
                f"{r.unchanged} unchanged, {r.embedded} embedded in {r.seconds:.1f} s"
            )

        return "; ".join((line(PRODUCTS, self.products), line(ACTIVITIES, self.activities)))


def _words(category: str) -> str:
    return " ".join(part.replace("-", " ") for part in category.split("/"))


def product_items(
    records: Sequence[ProductRecord], final_prices: dict[str, int]
) -> Iterator[IndexItem]:
    """Index items for products: bilingual title, brand and category words are embedded."""
    for r in records:
        text = " | ".join(t for t in (r.title, r.title_zh, r.brand, _words(r.category)) if t)
        meta = ProductMeta(
            category=r.category,
            brand=r.brand,
            price=r.price,
            final_price=final_prices.get(r.id, r.price) if r.price is not None else None,
            in_stock=r.stock is None or r.stock > 0,
        )
        yield IndexItem(r.id, text, meta.to_metadata())


def activity_items(activities: Sequence[Activity]) -> Iterator[IndexItem]:
    """Index items for activities: bilingual title, terms and scope words are embedded."""
    for a in activities:
        scope_words = " ".join(_words(c) for c in a.scope.categories)
        text = " | ".join(
            t
            for t in (
                a.title,
                a.title_zh,
                a.terms.replace("\n", " "),
                scope_words,
                " ".join(a.scope.brands),
            )
            if t
        )
        schedule = a.schedule
        meta = ActivityMeta(
            type=str(a.type),
            group=str(a.group),
            starts=int(schedule.starts_at.timestamp()),
            ends=int(schedule.ends_at.timestamp()) if schedule.ends_at else MAX_EPOCH,
            audience=str(a.audience),
            needs_claim=a.type.claimable,
            scope_all=a.scope.all,
            categories=a.scope.categories,
            brands=a.scope.brands,
            products=a.scope.products,
        )
        yield IndexItem(a.id, text or a.id, meta.to_metadata())


def catalog_items(
    shop: Shop, *, now: datetime | None = None, progress: bool = False
) -> tuple[list[IndexItem], list[IndexItem]]:
    """What SQL says the two collections hold: the product and the activity index items.

    Args:
        shop: The shop whose store is read.
        now: The moment final prices are quoted at (default: now).
        progress: A progress bar on stderr while pricing.

    Returns:
        Products (by id) and activities, as :func:`sync_catalog_index` writes them.
    """
    settings = shop.settings
    now = aware(now, "now") if now is not None else datetime.now(UTC)
    with shop.sessions() as session:
        records = list(
            session.scalars(
                select(ProductRecord)
                .where(ProductRecord.removed_at.is_(None))
                .order_by(ProductRecord.id)
            )
        )
        activities = store.load_activities(session)
        priced = [store.product_to_domain(r) for r in records if r.price is not None]
        ctx = DealContext(
            now=now,
            shopper=Shopper("typical-shopper"),
            shipping_fee=settings.shipping_fee_minor,
            budget_left=store.budget_left(session, [a.id for a in activities]),
        )
    finals = _final_prices(priced, activities, ctx, progress)
    return list(product_items(records, finals)), list(activity_items(activities))


def sync_catalog_index(
    shop: Shop,
    *,
    rebuild: bool = False,
    progress: bool = True,
    now: datetime | None = None,
) -> IndexReport:
    """Sync the products and activities collections from SQL under the writer lock.

    After writing, every record's vector is read back (:meth:`retrieval.ChromaIndex.verify`),
    so a damaged HNSW segment fails here, not in the server. A rebuild of a local directory
    that Chroma cannot read at all (a damaged SQLite file) removes the directory, under the
    lock, and builds it again.

    Args:
        shop: The shop (its settings name the Chroma location and the embedder).
        rebuild: Drop both collections and index everything again.
        progress: Progress bars on stderr.
        now: The moment final prices are quoted at (default: now).

    Raises:
        RetrievalError: another ``shopassist index`` holds the lock, the Chroma server is
            unreachable, the index was built with another embedder (use ``rebuild``), or the
            index is damaged (use ``rebuild``).
    """
    settings = shop.settings
    store.require_head(shop.engine)
    var = Path(settings.var_dir)
    var.mkdir(parents=True, exist_ok=True)
    products, activities = catalog_items(shop, now=now, progress=progress)
    directory = var / "chroma"
    try:
        embedder = CachedEmbedder(
            make_embedder(settings.embedder), EmbeddingCache(var / "embeddings.sqlite")
        )
        with index_lock(var / "chroma.lock"):
            wanted = {PRODUCTS: products, ACTIVITIES: activities}
            try:
                reports = _sync(settings.chroma_url, directory, wanted, embedder, rebuild, progress)
            except (ChromaError, IndexDamagedError, sqlite3.DatabaseError) as exc:
                if not rebuild or settings.chroma_url:
                    raise
                # Chroma cannot read its own directory: nothing in it is worth keeping (SQL is
                # the truth), so start from an empty one.
                logger.warning("rebuilding a damaged Chroma directory from scratch: %s", exc)
                discard_local_index(directory)
                reports = _sync(None, directory, wanted, embedder, rebuild, progress)
    except VectorIndexError as exc:
        raise RetrievalError(str(exc)) from exc
    except (ChromaError, sqlite3.DatabaseError) as exc:
        raise RetrievalError(
            f"the Chroma index failed ({exc}); if it persists, the index is damaged: run "
            "`shopassist index --rebuild` (SQL is the source of truth, nothing is lost)"
        ) from exc
    return IndexReport(reports[PRODUCTS], reports[ACTIVITIES])


def _sync(
    url: str | None,
    directory: Path,
    wanted: dict[str, list[IndexItem]],
    embedder: CachedEmbedder,
    rebuild: bool,
    progress: bool,
) -> dict[str, SyncReport]:
    """Sync each collection of ``wanted`` and read it back (the caller holds the lock)."""
    client = make_client(path=directory, url=url)
    reports = {}
    for name, items in wanted.items():
        index = ChromaIndex.open(
            client, name, dim=embedder.dim, embedder_name=embedder.name, rebuild=rebuild
        )
        reports[name] = sync_index(index, items, embedder, progress=progress, rebuild=rebuild)
        index.verify()
        logger.info("index %s synced: %s", name, reports[name])
    return reports


def _final_prices(
    products: list[Product], activities: list[Activity], ctx: DealContext, progress: bool
) -> dict[str, int]:
    quotes = price_items(products, activities, ctx, progress=progress)
    return {p.id: q.goods_total for p, q in zip(products, quotes, strict=True)}
