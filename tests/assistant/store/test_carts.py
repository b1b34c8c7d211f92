"""Session carts: add-to-cart feedback fills the session's cart once per event, and a turn
without a cart from the host site prices against it (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from assistant.app import Shop
from assistant.config import Settings
from assistant.conversation import Assistant
from assistant.errors import ValidationError
from assistant.indexing import sync_catalog_index
from assistant.store import (
    MAX_CART_LINES,
    MAX_LINE_QUANTITY,
    SQLITE_BEGIN_OPTION,
    CartItemRecord,
    DecisionRecord,
    FeedbackEvent,
    FeedbackRecord,
    ImpressionRecord,
    ProductData,
    SessionRecord,
    add_to_session_cart,
    get_or_create_user,
    make_engine,
    record_feedback,
    session_cart,
    session_factory,
    upsert_products,
)
from assistant.world import STEPS, build_demo

NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)
WORLD_NOW = datetime(2030, 6, 15, 12, tzinfo=UTC)


def _shown(session: Session, session_id: str = "s1", user: str = "U1", n_products: int = 2) -> None:
    """A session of ``user`` whose one turn showed products P0.. and the activity A1."""
    get_or_create_user(session, user, now=NOW)
    upsert_products(
        session,
        [
            ProductData(f"P{i}", f"Shoe {i}", "shoes/running", "Acme", 5000 + i, "USD")
            for i in range(n_products)
        ],
        now=NOW,
    )
    session.add(
        SessionRecord(id=session_id, user_id=user, created_at=NOW, updated_at=NOW, state={})
    )
    session.flush()
    items = [("product", f"P{i}") for i in range(n_products)] + [("activity", "A1")]
    session.add(
        DecisionRecord(
            id=f"d-{session_id}",
            turn_id=f"t-{session_id}",
            session_id=session_id,
            user_id=user,
            created_at=NOW,
            candidate_ids=[i for _, i in items],
            scores=[0.5] * len(items),
            propensities=[0.5] * len(items),
            chosen_ids=[i for _, i in items],
            positions=list(range(len(items))),
            ranker_version="r1",
            policy_version="p1",
            params_version="v1",
        )
    )
    session.flush()
    for position, (kind, item_id) in enumerate(items):
        session.add(
            ImpressionRecord(
                id=f"{session_id}-{item_id}",
                decision_id=f"d-{session_id}",
                position=position,
                kind=kind,
                item_id=item_id,
                propensity=0.5,
                created_at=NOW,
            )
        )


def _event(
    event_id: str, impression_id: str, kind: str = "add_to_cart", quantity: int | None = None
) -> FeedbackEvent:
    return FeedbackEvent(event_id, impression_id, kind, quantity=quantity, created_at=NOW)


def _cart(engine: Engine, session_id: str = "s1") -> list[tuple[str, int]]:
    with session_factory(engine)() as session:
        return session_cart(session, session_id)


def test_add_to_cart_feedback_fills_the_session_cart(db_engine: Engine) -> None:
    with session_factory(db_engine).begin() as session:
        _shown(session)
        _shown(session, "s2", user="U2")
    with session_factory(db_engine).begin() as session:
        assert record_feedback(session, _event("e1", "s1-P0", quantity=2)) is True
        assert record_feedback(session, _event("e2", "s1-P1")) is True
        assert record_feedback(session, _event("e3", "s1-P0")) is True
    assert _cart(db_engine) == [("P0", 3), ("P1", 1)]
    assert _cart(db_engine, "s2") == []  # a cart belongs to the session that showed the item


def test_a_replayed_add_to_cart_event_adds_nothing(db_engine: Engine) -> None:
    with session_factory(db_engine).begin() as session:
        _shown(session)
    for _ in range(3):
        with session_factory(db_engine).begin() as session:
            record_feedback(session, _event("e1", "s1-P1", quantity=4))
    assert _cart(db_engine) == [("P1", 4)]
    with session_factory(db_engine)() as session:
        assert session.scalar(select(func.count()).select_from(FeedbackRecord)) == 1


def test_other_feedback_and_activity_impressions_leave_the_cart_alone(db_engine: Engine) -> None:
    with session_factory(db_engine).begin() as session:
        _shown(session)
    with session_factory(db_engine).begin() as session:
        assert record_feedback(session, _event("e1", "s1-P0", "click"))
        assert record_feedback(session, _event("e2", "s1-P0", "purchase"))
        assert record_feedback(session, _event("e3", "s1-A1"))  # recorded, but no product
    assert _cart(db_engine) == []


def test_a_line_stops_at_the_quantity_limit_and_a_full_cart_takes_no_new_product(
    db_engine: Engine,
) -> None:
    with session_factory(db_engine).begin() as session:
        _shown(session, n_products=MAX_CART_LINES + 1)
    with session_factory(db_engine).begin() as session:
        add_to_session_cart(session, "s1", "U1", "P0", MAX_LINE_QUANTITY - 1, now=NOW)
        add_to_session_cart(session, "s1", "U1", "P0", 5, now=NOW)
        for i in range(1, MAX_CART_LINES):
            assert add_to_session_cart(session, "s1", "U1", f"P{i}", now=NOW) is True
        assert add_to_session_cart(session, "s1", "U1", f"P{MAX_CART_LINES}", now=NOW) is False
        assert add_to_session_cart(session, "s1", "U1", "P1", now=NOW) is True  # already held
    cart = dict(_cart(db_engine))
    assert len(cart) == MAX_CART_LINES and f"P{MAX_CART_LINES}" not in cart
    assert (cart["P0"], cart["P1"]) == (MAX_LINE_QUANTITY, 2)


def test_bad_additions_are_refused_and_change_nothing(db_engine: Engine) -> None:
    with session_factory(db_engine).begin() as session:
        _shown(session)
    with session_factory(db_engine).begin() as session:
        with pytest.raises(ValidationError, match="quantity 0 must be at least 1"):
            add_to_session_cart(session, "s1", "U1", "P0", 0, now=NOW)
        with pytest.raises(ValidationError, match="unknown product id 'nope'"):
            add_to_session_cart(session, "s1", "U1", "nope", now=NOW)
    with pytest.raises(ValidationError, match="quantity 0 must be at least 1"):
        _event("e1", "s1-P0", quantity=0)
    with session_factory(db_engine)() as session:
        assert session.scalar(select(func.count()).select_from(CartItemRecord)) == 0


# --- turns ---------------------------------------------------------------------------------


@pytest.fixture
def assistant(db_url: str, tmp_path: Path) -> Iterator[Assistant]:
    """A rules-mode assistant on a small demo world (running shoes, knives) on ``db_url``."""
    settings = Settings(
        _env_file=None,
        var_dir=tmp_path / "var",
        database_url=db_url,
        embedder="use",
        llm_backend="rules",
    )
    shop = Shop(settings, make_engine(settings.sqlalchemy_url))
    build_demo(
        shop,
        now=WORLD_NOW,
        products=120,
        per_type=4,
        categories=["shoes/running", "home/kitchen-knives"],
        steps=[s for s in STEPS if s.name != "logs"],
        progress=False,
    )
    sync_catalog_index(shop, progress=False, now=WORLD_NOW)
    yield Assistant.from_shop(shop, seed=5)
    shop.engine.dispose()


def _gaps(
    shop: Shop, user: str, cart: list[tuple[str, int]], ids: list[str]
) -> list[tuple[int, int, str] | None]:
    """What the deal engine says each product's cart gap is with ``cart`` plus one of it."""
    out = []
    for product_id in ids:
        gap = shop.quote(user, [*cart, (product_id, 1)], now=WORLD_NOW).gap
        out.append(None if gap is None else (gap.add, gap.unlocks, gap.activity_id))
    return out


def test_a_turn_without_a_cart_prices_against_the_session_cart(assistant: Assistant) -> None:
    shop = assistant.shop
    first = assistant.turn("shopper-c", "running shoes under $90", now=WORLD_NOW)
    products = [r for r in first.recommendations if r.item.kind == "product"]
    assert products, "the first turn showed no product"
    added = products[0]
    with shop.sessions.begin() as session:
        assert record_feedback(session, _event("add-1", added.impression_id, quantity=3))
    with shop.sessions.begin() as session:  # the client retries: no second effect
        assert not record_feedback(session, _event("add-1", added.impression_id, quantity=3))
    saved = [(added.item.id, 3)]
    with shop.sessions() as session:
        assert session_cart(session, first.session_id) == saved

    again = assistant.turn(
        "shopper-c", "running shoes under $90", session_id=first.session_id, now=WORLD_NOW
    )
    ids = [r.item.id for r in again.recommendations if r.item.kind == "product"]
    assert ids
    shown = [
        None
        if r.item.cart_gap is None
        else (r.item.cart_gap.add, r.item.cart_gap.unlocks, r.item.cart_gap.activity_id)
        for r in again.recommendations
        if r.item.kind == "product"
    ]
    with_cart = _gaps(shop, "shopper-c", saved, ids)
    alone = _gaps(shop, "shopper-c", [], ids)
    assert shown == with_cart
    assert with_cart != alone, "the session cart changed no gap: the test proves nothing"

    # The host site's cart, when sent, is authoritative: the session's is ignored.
    given = [(ids[0], 1)]
    hosted = assistant.turn(
        "shopper-c",
        "running shoes under $90",
        session_id=first.session_id,
        cart=given,
        now=WORLD_NOW,
    )
    hosted_ids = [r.item.id for r in hosted.recommendations if r.item.kind == "product"]
    hosted_gaps = [
        None
        if r.item.cart_gap is None
        else (r.item.cart_gap.add, r.item.cart_gap.unlocks, r.item.cart_gap.activity_id)
        for r in hosted.recommendations
        if r.item.kind == "product"
    ]
    assert hosted_gaps == _gaps(shop, "shopper-c", given, hosted_ids)
    assert hosted_gaps != _gaps(shop, "shopper-c", [*saved, *given], hosted_ids)
    with shop.sessions() as session:  # sending a cart does not overwrite the session's
        assert session_cart(session, first.session_id) == saved


def test_concurrent_additions_add_up_and_concurrent_replays_add_once(db_engine: Engine) -> None:
    with session_factory(db_engine).begin() as session:
        _shown(session)
    factory = session_factory(db_engine)
    start = threading.Barrier(8)

    def add(event_id: str) -> bool:
        start.wait()
        with factory.begin() as session:
            # Writers on SQLite take the write lock up front (see record_feedback).
            session.connection(execution_options={SQLITE_BEGIN_OPTION: "IMMEDIATE"})
            return record_feedback(session, _event(event_id, "s1-P0"))

    with ThreadPoolExecutor(8) as pool:
        distinct = list(pool.map(add, [f"e{i}" for i in range(8)]))
    with ThreadPoolExecutor(8) as pool:
        replayed = list(pool.map(add, ["again"] * 8))
    assert distinct == [True] * 8
    assert sorted(replayed) == [False] * 7 + [True]
    assert _cart(db_engine) == [("P0", 9)]
