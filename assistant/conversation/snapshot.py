"""The catalog in memory for serving turns, reloaded when SQL's catalog changes.

A turn prices a few hundred candidates against every live activity; reading them from SQL each
turn would cost more than the whole latency budget. :class:`CatalogSnapshot` holds the live
products (display fields and the deal engine's :class:`~assistant.domain.Product`) and every
activity at its current revision; :class:`LiveCatalog` reloads it when
:func:`catalog_version` moves (a cheap aggregate query, at most every ``check_every_s``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from assistant import store
from assistant.domain import Activity, Product
from assistant.store.models import ActivityRecord, ProductRecord

__all__ = ["CatalogSnapshot", "LiveCatalog", "ProductInfo", "catalog_version"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ProductInfo:
    """What a reply shows of a product (the deal engine's view is :class:`Product`)."""

    id: str
    title: str
    title_zh: str | None
    brand: str
    category: str
    price: int | None
    url: str
    image_url: str | None

    def title_in(self, language: str) -> str:
        """The title in ``language`` (``zh`` falls back to English when there is none)."""
        return self.title_zh if language == "zh" and self.title_zh else self.title


def catalog_version(session: Session) -> Hashable:
    """Changes whenever a product or activity is added, edited or removed."""
    p = session.execute(
        select(
            func.count(), func.max(ProductRecord.updated_at), func.count(ProductRecord.removed_at)
        )
    ).one()
    a = session.execute(
        select(
            func.count(), func.max(ActivityRecord.updated_at), func.count(ActivityRecord.removed_at)
        )
    ).one()
    return (*(str(v) for v in p), *(str(v) for v in a))


@dataclass(frozen=True)
class CatalogSnapshot:
    """Live products and activities at one catalog version.

    Attributes:
        version: :func:`catalog_version` when loaded.
        info: Every live product's display fields, by id.
        products: Every live, priced product as the deal engine sees it, by id.
        activities: Every live activity at its current revision, ordered by id.
        activity_by_id: The same, by id.
    """

    version: Hashable
    info: dict[str, ProductInfo]
    products: dict[str, Product]
    activities: tuple[Activity, ...]
    activity_by_id: dict[str, Activity]

    @classmethod
    def load(cls, session: Session) -> CatalogSnapshot:
        """Read the live catalog."""
        version = catalog_version(session)
        rows = session.execute(
            select(
                ProductRecord.id,
                ProductRecord.title,
                ProductRecord.title_zh,
                ProductRecord.brand,
                ProductRecord.category,
                ProductRecord.price,
                ProductRecord.stock,
                ProductRecord.url,
                ProductRecord.image_url,
            ).where(ProductRecord.removed_at.is_(None))
        ).all()
        info: dict[str, ProductInfo] = {}
        products: dict[str, Product] = {}
        for pid, title, title_zh, brand, category, price, stock, url, image_url in rows:
            info[pid] = ProductInfo(
                pid, title, title_zh, brand, category, price, url or "", image_url
            )
            if price is not None:
                products[pid] = Product(pid, title, category, brand, price, stock, title_zh)
        activities = tuple(store.load_activities(session))
        return cls(version, info, products, activities, {a.id: a for a in activities})

    def products_of(self, ids: Sequence[str]) -> list[Product]:
        """The priced products among ``ids``, in order (unknown and unpriced ones skipped)."""
        return [self.products[i] for i in ids if i in self.products]


class LiveCatalog:
    """The current :class:`CatalogSnapshot`, reloaded when the SQL catalog changes.

    Args:
        sessions: Session factory of the shop's engine.
        check_every_s: Minimum seconds between two version checks (0: every call).
    """

    def __init__(self, sessions: sessionmaker[Session], *, check_every_s: float = 2.0) -> None:
        self._sessions = sessions
        self.check_every_s = check_every_s
        self._lock = threading.Lock()
        with sessions() as session:
            self._snapshot = CatalogSnapshot.load(session)
        self._checked = time.monotonic()

    def current(self) -> CatalogSnapshot:
        """The snapshot for SQL's latest catalog version."""
        now = time.monotonic()
        if now - self._checked < self.check_every_s or not self._lock.acquire(blocking=False):
            return self._snapshot
        try:
            self._checked = now
            with self._sessions() as session:
                if catalog_version(session) != self._snapshot.version:
                    logger.info("catalog changed: reloading the serving snapshot")
                    self._snapshot = CatalogSnapshot.load(session)
        finally:
            self._lock.release()
        return self._snapshot
