"""Session carts: what a shopper added to the cart from the assistant's recommendations.

DESIGN.md: the cart a host site sends with a turn is authoritative; without one, the session's
add-to-cart events make the cart. :func:`add_to_session_cart` is called by
:func:`~assistant.store.feedback.record_feedback` for each new ``add_to_cart`` event (a replayed
event never reaches it), and the turn pipeline reads :func:`session_cart`.

A session has one cart whose id is derived from the session id, so concurrent first additions
agree on it; lines are upserted (``ON CONFLICT``) so concurrent additions of one product add up.

Example:
    >>> with session_factory(engine).begin() as session:  # doctest: +SKIP
    ...     add_to_session_cart(session, "s1", "u1", "P-1", 2, now=now)
    ...     session_cart(session, "s1")
    [('P-1', 2)]
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime
from typing import cast

from sqlalchemy import Table, bindparam, case, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from assistant.errors import ValidationError
from assistant.schedule import aware
from assistant.store.models import CartItemRecord, CartRecord, ProductRecord

__all__ = [
    "MAX_CART_LINES",
    "MAX_LINE_QUANTITY",
    "add_to_session_cart",
    "session_cart",
    "session_cart_id",
]

logger = logging.getLogger(__name__)

MAX_CART_LINES = 100
"""Lines a session cart holds (the turn's cart limit); further products are not added."""
MAX_LINE_QUANTITY = 999
"""Units of one product a session cart holds; further additions stop there."""


def session_cart_id(session_id: str) -> str:
    """The id of ``session_id``'s cart (stable, so concurrent writers agree on it)."""
    return "cart-" + hashlib.sha256(session_id.encode()).hexdigest()[:40]


def add_to_session_cart(
    session: Session,
    session_id: str,
    user_id: str,
    product_id: str,
    quantity: int = 1,
    *,
    now: datetime,
) -> bool:
    """Add ``quantity`` units of ``product_id`` to the session's cart; nothing here commits.

    Call it once per add-to-cart event (record the event in the same transaction, so a replay
    adds nothing). A line's quantity stops at :data:`MAX_LINE_QUANTITY`; a cart that already
    holds :data:`MAX_CART_LINES` other products takes no new one.

    Returns:
        ``True`` when the cart now holds the addition; ``False`` when the cart was full.

    Raises:
        ValidationError: ``quantity`` is below 1, or ``product_id`` is no stored product.
    """
    if quantity < 1:
        raise ValidationError(f"quantity {quantity} must be at least 1")
    if session.get(ProductRecord, product_id) is None:
        raise ValidationError(f"unknown product id {product_id!r}; only stored products go in")
    quantity = min(quantity, MAX_LINE_QUANTITY)
    cart_id = session_cart_id(session_id)
    when = aware(now, "now")
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(
        insert(CartRecord)
        .values(id=cart_id, user_id=user_id, session_id=session_id, updated_at=when)
        .on_conflict_do_nothing(index_elements=["id"])
    )
    lines = session.scalar(
        select(func.count()).select_from(CartItemRecord).where(CartItemRecord.cart_id == cart_id)
    )
    held = session.get(CartItemRecord, (cart_id, product_id)) is not None
    if not held and (lines or 0) >= MAX_CART_LINES:
        logger.warning("session cart is full (%d lines): a product was not added", lines)
        return False
    statement = insert(CartItemRecord).values(
        cart_id=cart_id, product_id=product_id, quantity=quantity
    )
    total = CartItemRecord.__table__.c.quantity + statement.excluded.quantity
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["cart_id", "product_id"],
            set_={"quantity": case((total > MAX_LINE_QUANTITY, MAX_LINE_QUANTITY), else_=total)},
        )
    )
    session.execute(update(CartRecord).where(CartRecord.id == cart_id).values(updated_at=when))
    logger.debug("session cart: +%d of a product", quantity)
    return True


_ITEMS = cast(Table, CartItemRecord.__table__)
_CARTS = cast(Table, CartRecord.__table__)
# Built once on the tables: a turn reads its session's cart at every message, and a prebuilt
# Core statement skips the ORM's compilation and the rebuilding of its cache key.
_SESSION_CART = (
    select(_ITEMS.c.product_id, func.sum(_ITEMS.c.quantity))
    .join(_CARTS, _CARTS.c.id == _ITEMS.c.cart_id)
    .where(_CARTS.c.session_id == bindparam("session_id"))
    .group_by(_ITEMS.c.product_id)
    .order_by(_ITEMS.c.product_id)
)


def session_cart(session: Session, session_id: str) -> list[tuple[str, int]]:
    """The session's cart as (product id, quantity) pairs, by product id; empty when none."""
    rows = session.execute(_SESSION_CART, {"session_id": session_id}).all()
    return [(product_id, int(quantity)) for product_id, quantity in rows]
