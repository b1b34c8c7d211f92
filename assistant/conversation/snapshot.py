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
from datetime import UTC, datetime

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from assistant import store
from assistant.catalog_pricer import CatalogPricer
from assistant.domain import Activity, Product
from assistant.pricing import ScopeIndex
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
        pricer: Prices any of ``products`` for a shopper in a few milliseconds.
        covering: Product id -> indices into ``activities`` whose scope covers it.
    """

    version: Hashable
    info: dict[str, ProductInfo]
    products: dict[str, Product]
    activities: tuple[Activity, ...]
    activity_by_id: dict[str, Activity]
    pricer: CatalogPricer
    covering: dict[str, tuple[int, ...]]

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
        priced = list(products.values())
        # Expanding today's recurring schedules costs ~0.1 s: do it here, not in a turn.
        today = datetime.now(UTC)
        pricer = CatalogPricer(priced, activities, now=today)
        for activity in activities:
            activity.schedule.window_at(today)
        scopes = ScopeIndex(priced)
        found: list[list[int]] = [[] for _ in priced]
        for n, activity in enumerate(activities):
            for row in scopes.rows(activity.scope).tolist():
                found[row].append(n)
        covering = {p.id: tuple(rows) for p, rows in zip(priced, found, strict=True)}
        by_id = {a.id: a for a in activities}
        return cls(version, info, products, activities, by_id, pricer, covering)

    def activities_for(
        self,
        product_ids: Sequence[str],
        now: datetime | None = None,
        usable: NDArray[np.bool_] | None = None,
    ) -> list[Activity]:
        """The activities whose scope covers any of these products, in catalog order; with
        ``now``, only those live then; with ``usable`` (shape ``(len(activities),)``), only
        those it marks.

        Pricing a cart with only these gives the same prices, deals and gap as with every
        activity: the others cover no line or are not live, so the engine could only list them
        as ineligible (``out_of_scope``, ``expired``, ``not_started``).
        """
        rows = sorted({n for pid in product_ids for n in self.covering.get(pid, ())})
        if usable is not None:
            rows = [n for n in rows if usable[n]]
        found = [self.activities[n] for n in rows]
        if now is None:
            return found
        return [a for a in found if a.schedule.window_at(now) is not None]

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
