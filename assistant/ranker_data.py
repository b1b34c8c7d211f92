"""Export the shop's SQL logs as a ranking training snapshot (:mod:`ranking.snapshot`).

:func:`export_snapshot` reads one window of logged decisions and writes the five tables a
ranker trains from, so training needs neither the database nor the project:

* ``items``: every product with a list price > 0 (removed ones included: old logs show them);
  ``category`` is the product's category path, ``department`` its first segment, ``listed_at``
  the product's ``created_at`` when that is no later than its first logged impression and the
  window's end (the demo world imports its catalog after back-filling 30 days of logs, so
  there it is null: an unknown listing time counts as old), and ``embedding`` the float16 text
  embedding of exactly the text ``shopassist index`` embeds (bilingual title, brand, category
  words), read through the shop's embedding cache (``var/embeddings.sqlite``).
* ``users``: the users with an event in the window; ``segment`` is the first of their sorted
  segments ("" when none).
* ``events``: one row per *product* impression in the window (activity cards are skipped):
  ``request_id`` = the decision, ``ts`` = the impression's time, ``query_id`` = a stable hash of
  the turn's shopper message (null when the turn has none), ``shown`` = True, ``click`` = any
  click, claim, add-to-cart or purchase feedback on the impression, ``conversion`` = a claim or
  a purchase.
* ``queries``: one row per distinct message text, embedded like the items.
* ``prices``: for every UTC day of the window, every item's *public* one-unit final price at
  12:00 UTC of that day (:data:`PRICE_HOUR`): the price a shopper with no membership, not new,
  with no segments and no claimed coupons sees, with claimable coupons counted (as the
  demo log generator's "typical shopper"), from :class:`~assistant.catalog_pricer.CatalogPricer`.
  ``has_deal`` = the final price is below the list price; ``needs_claim`` = a coupon that must
  be claimed is part of it; ``hours_left`` = hours from that moment to the end of the live
  window (the current occurrence of a recurring one) of the main deal: the item-level deal,
  else the larger of the order- and coupon-level deals. Activities are priced at their current
  revision and remaining budget: which revision was live on a past day is not replayed.

The split puts the last ``test_days`` before the last event in test and the ``valid_days``
before those in validation. Logs of the demo world (users ``demo-u...``) come from the
user-choice model, so the manifest says ``simulated``.

Example:
    >>> from assistant.app import Shop  # doctest: +SKIP
    >>> snap = export_snapshot(Shop.from_settings())  # doctest: +SKIP
    >>> snap.write("var/ranking/snapshot")  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import logging
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from tqdm import tqdm

from assistant import store
from assistant.catalog_pricer import CatalogPricer, ItemPrices, PricingContext, percent_of_minor
from assistant.deals import CartQuote, DealContext
from assistant.domain import Activity, ActivityType, Group, Product, Shopper
from assistant.errors import InputError, ValidationError
from assistant.indexing import product_items
from assistant.pricing import price_items
from assistant.schedule import aware
from assistant.store import (
    DecisionRecord,
    FeedbackRecord,
    ImpressionRecord,
    MessageRecord,
    ProductRecord,
    UserRecord,
)
from ranking.snapshot import Snapshot

if TYPE_CHECKING:
    from assistant.app import Shop

__all__ = [
    "CLICK_TYPES",
    "CONVERSION_TYPES",
    "PRICE_HOUR",
    "PUBLIC_SHOPPER",
    "export_snapshot",
    "price_days",
    "query_id",
]

logger = logging.getLogger(__name__)

CLICK_TYPES = ("click", "claim", "add_to_cart", "purchase")
"""Feedback types that make an impression count as clicked."""
CONVERSION_TYPES = ("claim", "purchase")
"""Feedback types that make an impression count as converted."""
PRICE_HOUR = 12
"""The UTC hour of each day at which the ``prices`` table quotes the public price."""
PUBLIC_SHOPPER = Shopper("public")
"""No membership, not new, no segments, no claims: the audience every shopper belongs to."""

_DEMO_USER_PREFIX = "demo-u"  # assistant.world._log_rows.DEMO_USER_PREFIX, without the import
_DAY = timedelta(days=1)
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]


def query_id(text: str) -> str:
    """A stable id of a shopper message text: ``q-`` and 16 hex digits of its sha256."""
    return "q-" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _bar(total: int, desc: str, progress: bool) -> tqdm[Any]:
    return tqdm(total=total, desc=desc, unit="day", file=sys.stderr, disable=not progress,
                leave=False)  # fmt: skip


def export_snapshot(
    shop: Shop,
    *,
    now: datetime | None = None,
    days: int = 30,
    valid_days: int = 3,
    test_days: int = 4,
    progress: bool = True,
) -> Snapshot:
    """A ranking snapshot of the product impressions logged in ``(now - days, now]``.

    Args:
        shop: The shop whose store holds the logs (SQLite or PostgreSQL) and whose settings
            name the embedder and ``var_dir`` (the embedding cache).
        now: The end of the window (default: the time of the last logged impression, so an
            export of an old build still sees its logs).
        days: The window's length in days.
        valid_days: Days of validation events before the test period.
        test_days: Days of test events, ending at the last event.
        progress: Progress bars on stderr.

    Returns:
        The validated snapshot (see the module docstring for every column); write it with
        :meth:`~ranking.snapshot.Snapshot.write`.

    Raises:
        ValidationError: ``days``, ``valid_days`` or ``test_days`` is not a whole number
            >= 1, or the split does not fit in the window.
        InputError: no product impression was logged in the window.
        StoreError: the store is not migrated.
    """
    for name, value in (("days", days), ("valid_days", valid_days), ("test_days", test_days)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValidationError(f"{name} must be a whole number of days >= 1, got {value!r}")
    if valid_days + test_days >= days:
        raise ValidationError(
            f"valid_days + test_days ({valid_days + test_days}) must be fewer than days ({days}) "
            "so that some events are left to train on"
        )
    started = time.perf_counter()
    store.require_head(shop.engine)
    with shop.sessions() as session:
        if now is None:
            last = session.scalar(
                select(func.max(ImpressionRecord.created_at)).where(
                    ImpressionRecord.kind == "product"
                )
            )
            now = last if last is not None else datetime.now(UTC)
        now = aware(now, "now")
        start = now - timedelta(days=days)
        events, texts = _events(session, start, now)
        if not events["request_id"]:
            raise InputError(
                f"no product impression was logged between {start.isoformat()} and "
                f"{now.isoformat()}; build the demo world (shopassist data demo) or pass an "
                "earlier now"
            )
        records = list(session.scalars(select(ProductRecord).order_by(ProductRecord.id)))
        users = _users(session, sorted(set(events["user_id"])))
        activities = store.load_activities(session)
        budget = store.budget_left(session, [a.id for a in activities])
    logger.info(
        "export: %d product impressions of %d users, %d distinct messages, %d products, "
        "%d activities read in %.1f s",
        len(events["request_id"]), len(users["user_id"]), len(texts), len(records),
        len(activities), time.perf_counter() - started,
    )  # fmt: skip

    priced = [r for r in records if r.price is not None and r.price > 0]
    item_ids = {r.id for r in priced}
    keep = [i for i, item in enumerate(events["item_id"]) if item in item_ids]
    if len(keep) < len(events["item_id"]):
        logger.warning(
            "export: %d impressions of unpriced or unknown products dropped",
            len(events["item_id"]) - len(keep),
        )
        events = {k: [v[i] for i in keep] for k, v in events.items()}
    first_seen: dict[str, datetime] = {}
    for item, ts in zip(events["item_id"], events["ts"], strict=True):
        if item not in first_seen or ts < first_seen[item]:
            first_seen[item] = ts

    step = time.perf_counter()
    embedder = _embedder(shop)
    item_vectors = embedder.embed([i.text for i in product_items(priced, {})], progress=progress)
    query_texts = sorted(texts)
    query_vectors = embedder.embed(query_texts, progress=progress)
    logger.info(
        "export: %d item and %d query texts embedded in %.1f s (%s)",
        len(priced), len(query_texts), time.perf_counter() - step, embedder.stats,
    )  # fmt: skip
    items = _items(priced, first_seen, now, item_vectors)
    queries = pa.table(
        {"query_id": [query_id(t) for t in query_texts], "embedding": _f16(query_vectors)}
    )

    step = time.perf_counter()
    products = [store.product_to_domain(r) for r in priced]
    days_to_price = _days(start, now)
    prices = price_days(
        products,
        activities,
        days_to_price,
        shipping_fee=shop.settings.shipping_fee_minor,
        budget_left=budget,
        progress=progress,
    )

    logger.info("export: %d days priced in %.1f s", len(days_to_price), time.perf_counter() - step)
    last_event = max(events["ts"])
    test_start = last_event - timedelta(days=test_days)
    valid_start = test_start - timedelta(days=valid_days)
    simulated = any(u.startswith(_DEMO_USER_PREFIX) for u in users["user_id"])
    var = Path(shop.settings.var_dir)
    notes = (
        f"window ({start.isoformat()}, {now.isoformat()}]; product impressions only; prices: "
        f"public one-unit final price at {PRICE_HOUR:02d}:00 UTC each day (no membership, not "
        "new, no segments, no claims; activities at their current revision)"
    )
    if simulated:
        notes += "; demo world: the logs were drawn from the user-choice model (simulated)"
    snap = Snapshot.build(
        items=items,
        users=pa.table(users),
        events=pa.table(
            {
                **events,
                "ts": pa.array(events["ts"], pa.timestamp("us", tz="UTC")),
                "shown": [True] * len(events["request_id"]),
            }
        ),
        prices=prices,
        queries=queries,
        valid_start=valid_start,
        test_start=test_start,
        source=f"shopassist SQL logs ({var.resolve()})",
        simulated=simulated,
        task="next-item",
        notes=notes,
    )
    counts = snap.manifest["counts"]
    logger.info(
        "export: %s in %.1f s (valid from %s, test from %s)",
        ", ".join(f"{k} {v:,}" for k, v in counts.items()),
        time.perf_counter() - started,
        valid_start.isoformat(),
        test_start.isoformat(),
    )
    return snap


def _events(
    session: Session, start: datetime, end: datetime
) -> tuple[dict[str, list[Any]], set[str]]:
    """Product impressions in ``(start, end]`` with labels and query ids; the message texts."""
    imp, dec = ImpressionRecord, DecisionRecord
    in_window = (imp.kind == "product", imp.created_at > start, imp.created_at <= end)
    rows = session.execute(
        select(imp.id, imp.decision_id, dec.user_id, imp.item_id, imp.created_at, dec.turn_id)
        .join(dec, dec.id == imp.decision_id)
        .where(*in_window)
        .order_by(imp.created_at, imp.id)
    ).all()
    feedback = session.execute(
        select(FeedbackRecord.impression_id, FeedbackRecord.type)
        .join(imp, imp.id == FeedbackRecord.impression_id)
        .where(*in_window, FeedbackRecord.type.in_(CLICK_TYPES))
    ).all()
    clicked = {i for i, _ in feedback}
    converted = {i for i, kind in feedback if kind in CONVERSION_TYPES}
    turns = (
        select(dec.turn_id)
        .join(imp, imp.decision_id == dec.id)
        .where(*in_window)
        .distinct()
        .scalar_subquery()
    )
    message_of: dict[str, str] = {}
    for turn, text in session.execute(
        select(MessageRecord.turn_id, MessageRecord.text)
        .where(MessageRecord.role == "shopper", MessageRecord.turn_id.in_(turns))
        .order_by(MessageRecord.created_at, MessageRecord.id)
    ):
        if text and text.strip():
            message_of[turn] = text  # the turn's last shopper message
    qid = {text: query_id(text) for text in set(message_of.values())}
    out: dict[str, list[Any]] = {
        k: [] for k in ("request_id", "user_id", "item_id", "ts", "query_id", "click", "conversion")
    }
    for impression, decision, user, item, ts, turn in rows:
        message = message_of.get(turn)
        out["request_id"].append(decision)
        out["user_id"].append(user)
        out["item_id"].append(item)
        out["ts"].append(ts)
        out["query_id"].append(qid[message] if message is not None else None)
        out["click"].append(impression in clicked)
        out["conversion"].append(impression in converted)
    return out, set(qid)


def _users(session: Session, ids: Sequence[str]) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {"user_id": [], "is_member": [], "is_new": [], "segment": []}
    for chunk in range(0, len(ids), 1000):
        part = ids[chunk : chunk + 1000]
        for uid, member, new, segments in session.execute(
            select(UserRecord.id, UserRecord.member, UserRecord.new_user, UserRecord.segments)
            .where(UserRecord.id.in_(part))
            .order_by(UserRecord.id)
        ):
            out["user_id"].append(uid)
            out["is_member"].append(bool(member))
            out["is_new"].append(bool(new))
            out["segment"].append(sorted(segments or ())[0] if segments else "")
    return out


def _items(
    records: Sequence[ProductRecord],
    first_seen: dict[str, datetime],
    end: datetime,
    vectors: npt.NDArray[np.float32],
) -> pa.Table:
    listed: list[datetime | None] = []
    for r in records:
        bound = min(first_seen.get(r.id, end), end)
        listed.append(r.created_at if r.created_at <= bound else None)
    return pa.table(
        {
            "item_id": [r.id for r in records],
            "category": [r.category for r in records],
            "department": [r.category.strip("/").split("/")[0] for r in records],
            "brand": [r.brand for r in records],
            "price": pa.array([r.price for r in records], pa.int64()),
            "listed_at": pa.array(listed, pa.timestamp("us", tz="UTC")),
            "embedding": _f16(vectors),
        }
    )


def _f16(vectors: npt.NDArray[np.floating[Any]]) -> pa.FixedSizeListArray:
    """Rows of shape ``(n, d)`` as a fixed-size list of float16 (d entries each)."""
    flat = np.ascontiguousarray(vectors, dtype=np.float16).reshape(-1)
    width = int(vectors.shape[1]) if vectors.ndim == 2 else 0
    return pa.FixedSizeListArray.from_arrays(pa.array(flat, pa.float16()), width)


def _embedder(shop: Shop) -> Any:
    """The shop's embedder behind its embedding cache: ``shopassist index`` already paid for
    every product text (measured on the demo world: 0.5 s for 5,000 cached texts, against
    1.8 s reading the same vectors from Chroma)."""
    from retrieval import CachedEmbedder, EmbeddingCache, make_embedder

    var = Path(shop.settings.var_dir)
    return CachedEmbedder(
        make_embedder(shop.settings.embedder), EmbeddingCache(var / "embeddings.sqlite")
    )


def _days(start: datetime, end: datetime) -> list[date]:
    first, last = start.astimezone(UTC).date(), end.astimezone(UTC).date()
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


# --- public prices per day ------------------------------------------------------------------


@dataclass(frozen=True)
class _Terms:
    """Per activity (the pricer's order): stacking group and how a ladder computes its
    discount, as plain arrays."""

    item: BoolArray
    order: BoolArray
    coupon: BoolArray
    tiers: BoolArray
    fixed: BoolArray

    @classmethod
    def of(cls, activities: Sequence[Activity]) -> _Terms:
        group = [a.group for a in activities]
        return cls(
            item=np.array([g is Group.ITEM for g in group], dtype=np.bool_),
            order=np.array([g is Group.ORDER for g in group], dtype=np.bool_),
            coupon=np.array([g is Group.COUPON for g in group], dtype=np.bool_),
            tiers=np.array([a.type is ActivityType.THRESHOLD for a in activities], np.bool_),
            fixed=np.array([a.amount is not None for a in activities], dtype=np.bool_),
        )


def _best(seg: IntArray, value: IntArray, act: IntArray, n: int) -> tuple[IntArray, IntArray]:
    """Per product (``n``): the largest ``value`` among its entries and whose it is (-1)."""
    best = np.zeros(n, dtype=np.int64)
    who = np.full(n, -1, dtype=np.int64)
    if seg.size == 0:
        return best, who
    order = np.lexsort((-value, seg))  # stable: ties go to the first activity
    seg_sorted = seg[order]
    first = np.flatnonzero(np.r_[True, seg_sorted[1:] != seg_sorted[:-1]])
    rows = seg_sorted[first]
    best[rows] = value[order][first]
    who[rows] = act[order][first]
    return best, who


def _main_deals(
    pricer: CatalogPricer, terms: _Terms, pctx: PricingContext, prices: ItemPrices
) -> tuple[IntArray, BoolArray, BoolArray]:
    """Per product: the main deal's activity (-1 none), whether a coupon is used, and whether
    the arrays can tell (False where the free-shipping minimum changed the engine's choice).

    The same levels as :meth:`CatalogPricer.price` over every catalog row, keeping which
    activity gave each level's discount.
    """
    n = len(pricer.products)
    counts = np.diff(pricer.indptr)
    seg = np.repeat(np.arange(n, dtype=np.int64), counts)
    act = pricer.entry_activity
    keep = pctx.usable[act]
    seg, act, item_off = seg[keep], act[keep], pricer.entry_item_off[keep]
    pick = terms.item[act]
    best_item, item_act = _best(seg[pick], item_off[pick], act[pick], n)
    base = prices.price - best_item
    lad = terms.order[act] | terms.coupon[act]
    la, ls = act[lad], seg[lad]
    lb = base[ls]
    reached = (pricer.tier_threshold[la] <= lb[:, None]).sum(axis=1)
    tier_off = pricer.tier_discount[la, np.maximum(reached - 1, 0)]
    raw = np.where(
        terms.tiers[la],
        tier_off,
        np.where(terms.fixed[la], pricer.amount[la], percent_of_minor(lb, pricer.percent[la])),
    )
    applies = np.where(terms.tiers[la], reached > 0, lb >= pricer.coupon_min_spend[la])
    off = np.maximum(0, np.minimum(np.minimum(raw, pricer.max_discount[la]), lb))
    o = applies & terms.order[la]
    c = applies & terms.coupon[la]
    best_order, order_act = _best(ls[o], off[o], la[o], n)
    best_coupon, coupon_act = _best(ls[c], off[c], la[c], n)
    exact = base - np.minimum(best_order + best_coupon, base) == prices.final_price
    main = np.where(
        best_item > 0,
        item_act,
        np.where(
            (best_order >= best_coupon) & (best_order > 0),
            order_act,
            np.where(best_coupon > 0, coupon_act, -1),
        ),
    )
    has_deal = prices.final_price < prices.price
    main = np.where(has_deal, main, -1)
    uses_coupon = has_deal & (best_coupon > 0)
    return main, uses_coupon, exact


def price_days(
    products: Sequence[Product],
    activities: Sequence[Activity],
    days: Sequence[date],
    *,
    shipping_fee: int,
    budget_left: dict[str, int] | None = None,
    progress: bool = False,
) -> pa.Table:
    """The ``prices`` table: every product's public one-unit price at :data:`PRICE_HOUR` UTC
    of each day (the module docstring defines every column).

    Final prices are :class:`~assistant.catalog_pricer.CatalogPricer`'s (exactly the deal
    engine's). The main deal and whether it needs a claim come from the same arrays; where the
    free-shipping minimum made the engine stop short of the largest discounts (the arrays
    cannot tell which pair it kept) those products are quoted with the engine itself.

    Args:
        products: The priced products, shape (n,).
        activities: Every activity at its current revision.
        days: The UTC days to price.
        shipping_fee: The shop's flat fee in minor units.
        budget_left: Activity id -> remaining budget (default: every budget untouched).
        progress: A progress bar on stderr, one step per day.
    """
    pricer = CatalogPricer(products, activities)
    terms = _Terms.of(pricer.activities)
    n = len(pricer.products)
    rows = np.arange(n, dtype=np.int64)
    parts: dict[str, list[Any]] = {
        k: [] for k in ("final_price", "has_deal", "needs_claim", "hours_left")
    }
    engine_quotes = 0
    with _bar(len(days), "pricing days", progress) as bar:
        for day in days:
            moment = datetime(day.year, day.month, day.day, PRICE_HOUR, tzinfo=UTC)
            ctx = DealContext(
                now=moment,
                shopper=PUBLIC_SHOPPER,
                shipping_fee=shipping_fee,
                budget_left=budget_left or {},
            )
            pctx = pricer.context(ctx)
            quoted = pricer.price(rows, pctx)
            main, needs_claim, exact = _main_deals(pricer, terms, pctx, quoted)
            hours = np.zeros(n, dtype=np.float64)
            ends: dict[int, float] = {}
            for row in np.flatnonzero(main >= 0).tolist():
                a = int(main[row])
                if a not in ends:
                    window = pricer.activities[a].schedule.window_at(moment)
                    ends[a] = 0.0 if window is None else (window[1] - moment) / timedelta(hours=1)
                hours[row] = ends[a]
            unsure = np.flatnonzero(~exact & (quoted.final_price < quoted.price))
            if unsure.size:
                engine_quotes += int(unsure.size)
                chosen = [pricer.products[int(r)] for r in unsure]
                # Only the usable activities covering them: the same quotes (price_items drops
                # the rest anyway) without checking thousands of schedules again.
                covering = np.unique(
                    np.concatenate(
                        [pricer.entry_activity[pricer.indptr[r] : pricer.indptr[r + 1]]
                         for r in unsure.tolist()]
                    )
                )  # fmt: skip
                subset = [pricer.activities[a] for a in covering.tolist() if pctx.usable[a]]
                for r, quote in zip(unsure.tolist(), price_items(chosen, subset, ctx),
                                    strict=True):  # fmt: skip
                    needs_claim[r] = bool(quote.to_claim)
                    hours[r] = _quote_hours(quote, moment)
            parts["final_price"].append(quoted.final_price)
            parts["has_deal"].append(quoted.final_price < quoted.price)
            parts["needs_claim"].append(needs_claim)
            parts["hours_left"].append(hours)
            bar.update(1)
    logger.info(
        "prices: %d products x %d days; %d quotes needed the deal engine",
        n, len(days), engine_quotes,
    )  # fmt: skip
    ids = [p.id for p in pricer.products]
    return pa.table(
        {
            "item_id": ids * len(days),
            "day": pa.array(np.repeat(np.array(days, dtype="datetime64[D]"), n), pa.date32()),
            "final_price": pa.array(_concat(parts["final_price"], np.int64), pa.int64()),
            "has_deal": pa.array(_concat(parts["has_deal"], np.bool_), pa.bool_()),
            "needs_claim": pa.array(_concat(parts["needs_claim"], np.bool_), pa.bool_()),
            "hours_left": pa.array(_concat(parts["hours_left"], np.float32), pa.float32()),
        }
    )


def _concat(parts: list[Any], dtype: type[Any]) -> npt.NDArray[Any]:
    if not parts:
        return np.zeros(0, dtype=dtype)
    out: npt.NDArray[Any] = np.concatenate(parts).astype(dtype)
    return out


def _quote_hours(quote: CartQuote, moment: datetime) -> float:
    """Hours left of the engine quote's main deal (as :mod:`assistant.world._log_items`)."""
    item = quote.lines[0].item_deal
    goods = [d for d in (quote.order, quote.coupon) if d is not None]
    main = item or max(goods, key=lambda d: d.discount, default=None)
    if main is None or main.valid_until is None:
        return 0.0
    hours: float = (main.valid_until - moment) / timedelta(hours=1)
    return max(hours, 0.0)
