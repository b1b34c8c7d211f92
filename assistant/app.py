"""The composition root: one :class:`Shop` wires settings, the SQL store and the deal engine.

Every face (CLI, HTTP, Gradio) talks to a ``Shop``; nothing here connects at import time.

Example:
    >>> shop = Shop.from_settings()  # doctest: +SKIP
    >>> shop.migrate()  # doctest: +SKIP
    >>> quote = shop.quote("demo-shopper", [("P1", 2)])  # doctest: +SKIP
    >>> shop.currency.format(quote.payable)  # doctest: +SKIP
    '69.00'
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from assistant import catalog, store
from assistant.claims import Claim, claim_coupon
from assistant.config import Settings, get_settings
from assistant.deals import CartQuote, DealContext, quote_cart
from assistant.domain import CartLine
from assistant.errors import CartError, UnknownEntityError
from assistant.money import Currency
from assistant.schedule import aware, utc_text

__all__ = ["Shop"]

logger = logging.getLogger(__name__)


def _utc_text(moment: datetime | None) -> str | None:
    return None if moment is None else utc_text(moment)


@dataclass
class Shop:
    """One shop: its settings, its SQL engine and the operations every interface needs."""

    settings: Settings
    engine: Engine

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> Shop:
        """A shop on the configured database (default: SQLite under ``var/``)."""
        settings = settings or get_settings()
        return cls(settings, store.make_engine(settings.sqlalchemy_url))

    @property
    def sessions(self) -> sessionmaker[Session]:
        """The session factory of this shop's engine."""
        return store.session_factory(self.engine)

    @property
    def currency(self) -> Currency:
        """The shop currency."""
        return self.settings.shop_currency

    # --- the store ------------------------------------------------------------------------

    def migrate(self) -> str:
        """Apply every migration; returns the revision the store is now at."""
        store.upgrade(self.engine)
        return store.current(self.engine) or "base"

    def describe_database(self) -> str:
        """The database URL with any password hidden."""
        return self.engine.url.render_as_string(hide_password=True)

    def database_revision(self) -> str | None:
        """The store's migration revision, ``None`` when never migrated."""
        return store.current(self.engine)

    def check_database(self) -> None:
        """Raise when the models and the migrations disagree (``alembic check``)."""
        store.require_head(self.engine)
        store.check(self.engine)

    # --- the catalog ----------------------------------------------------------------------

    def import_catalog(self, path: str | Path, kind: catalog.Kind | None = None) -> ImportSummary:
        """Validate and upsert a catalog file in one transaction (all rows or none)."""
        store.require_head(self.engine)
        return ImportSummary(catalog.import_file(self.engine, path, self.settings, kind=kind))

    def export_catalog(self, kind: catalog.Kind, path: str | Path) -> int:
        """Write the live products or activities to a JSONL or CSV file; returns the row count."""
        store.require_head(self.engine)
        with self.sessions() as session:
            return catalog.export_file(session, path, self.settings, kind=kind)

    def remove_from_catalog(self, kind: catalog.Kind, ids: Sequence[str]) -> int:
        """Explicitly remove products or activities; unknown ids change nothing."""
        store.require_head(self.engine)
        with self.sessions.begin() as session:
            if kind == "products":
                return catalog.remove_products(session, ids)
            return catalog.remove_activities(session, ids)

    # --- deals ----------------------------------------------------------------------------

    def quote(
        self, user_id: str, cart: Sequence[tuple[str, int]], now: datetime | None = None
    ) -> CartQuote:
        """The best deal for ``user_id``'s cart now: final prices, savings, shipping and gap.

        Raises:
            CartError: an empty cart, a quantity below 1 or unknown products (all named); the
                store is left unchanged.
        """
        store.require_head(self.engine)
        now = aware(now, "now") if now is not None else datetime.now(UTC)
        lines = [CartLine(product_id, quantity) for product_id, quantity in cart]
        with self.sessions.begin() as session:
            try:
                products = store.load_products(session, {line.product_id for line in lines})
            except UnknownEntityError as exc:
                raise CartError(f"cart cannot be priced: {exc}") from None
            activities = store.load_activities(session)
            shopper = store.get_or_create_user(session, user_id, now=now).to_shopper()
            uses, held = store.user_deal_state(session, user_id, now=now)
            ctx = DealContext(
                now=now,
                shopper=shopper,
                shipping_fee=self.settings.shipping_fee_minor,
                uses=uses,
                held=held,
                budget_left=store.budget_left(session, [a.id for a in activities]),
            )
            return quote_cart(products, lines, activities, ctx)

    def quote_json(self, quote: CartQuote) -> dict[str, Any]:
        """A quote as JSON: money as decimal strings in the shop currency, times in UTC."""
        money = self.currency.format

        def deal(applied: Any) -> dict[str, Any] | None:
            if applied is None:
                return None
            return {
                "activity_id": applied.activity_id,
                "revision": applied.revision,
                "type": str(applied.type),
                "discount": money(applied.discount),
                "needs_claim": applied.needs_claim,
                "valid_until": _utc_text(applied.valid_until),
            }

        return {
            "currency": self.currency.code,
            "lines": [
                {
                    "product_id": line.product_id,
                    "quantity": line.quantity,
                    "unit_price": money(line.unit_price),
                    "subtotal": money(line.subtotal),
                    "item_deal": deal(line.item_deal),
                    "total": money(line.total),
                }
                for line in quote.lines
            ],
            "order_deal": deal(quote.order),
            "coupon": deal(quote.coupon),
            "free_shipping": deal(quote.free_shipping),
            "subtotal": money(quote.subtotal),
            "savings": money(quote.savings),
            "goods_total": money(quote.goods_total),
            "shipping": money(quote.shipping),
            "payable": money(quote.payable),
            "gap": None
            if quote.gap is None
            else {
                "activity_id": quote.gap.activity_id,
                "add": money(quote.gap.add),
                "unlocks": money(quote.gap.unlocks),
            },
            "to_claim": list(quote.to_claim),
            "valid_until": _utc_text(quote.valid_until),
            "ineligible": {k: str(v) for k, v in sorted(quote.ineligible.items())},
        }

    def quote_text(self, quote: CartQuote) -> str:
        """A quote as a few lines a person reads."""
        money = self.currency.format
        code = self.currency.code
        out = []
        for line in quote.lines:
            deal = line.item_deal
            extra = f"  -{money(deal.discount)} ({deal.activity_id}, {deal.type})" if deal else ""
            out.append(
                f"{line.quantity} x {line.product_id} @ {money(line.unit_price)}"
                f" = {money(line.subtotal)}{extra}"
            )
        for label, applied in (("order", quote.order), ("coupon", quote.coupon)):
            if applied is not None:
                claim = " (claim it first)" if applied.needs_claim else ""
                out.append(f"{label}: -{money(applied.discount)} ({applied.activity_id}){claim}")
        out.append(
            f"savings {money(quote.savings)} {code}; goods {money(quote.goods_total)}; "
            f"shipping {money(quote.shipping)}; to pay {money(quote.payable)} {code}"
        )
        if quote.gap is not None:
            out.append(
                f"add {money(quote.gap.add)} more to save {money(quote.gap.unlocks)} "
                f"more ({quote.gap.activity_id})"
            )
        return "\n".join(out)

    # --- claims ---------------------------------------------------------------------------

    def claim(
        self,
        user_id: str,
        activity_id: str,
        idempotency_key: str | None = None,
        now: datetime | None = None,
    ) -> Claim:
        """Claim a coupon for ``user_id``; see :func:`assistant.claims.claim_coupon`."""
        store.require_head(self.engine)
        return claim_coupon(
            self.sessions,
            user_id=user_id,
            activity_id=activity_id,
            idempotency_key=idempotency_key or uuid.uuid4().hex,
            now=aware(now, "now") if now is not None else datetime.now(UTC),
            shipping_fee=self.settings.shipping_fee_minor,
        )


@dataclass(frozen=True)
class ImportSummary:
    """An import's report with a one-line summary for people."""

    report: catalog.ImportReport

    def summary(self) -> str:
        """E.g. ``products.jsonl: 5 products (5 inserted, 0 updated, 0 unchanged)``."""
        r, c = self.report, self.report.counts
        revised = f", {c.new_revisions} new revisions" if r.kind == "activities" else ""
        return (
            f"{Path(r.source).name}: {r.rows} {r.kind} ({c.inserted} inserted, "
            f"{c.updated} updated, {c.unchanged} unchanged{revised})"
        )
