"""Logged interactions drawn from the user-choice model: users, sessions, decisions, feedback.

:func:`generate_logs` turns the live catalog into cards (:mod:`assistant.world._log_items`),
samples a shopper population, and lets :func:`policy.world.simulate_sessions` run sessions
over the 30 days before ``now`` under a Plackett-Luce logging policy ("logging-pl-v1"). Each
turn becomes a shopper message, a decision (the full candidate set with its logging scores and
first-position propensities, the slate chosen, versions, context), one impression per card shown
(with its propensity at that position) and feedback events (click, claim, add to cart, purchase
with its value). docs/world.md, "Logged interactions", gives every convention.

Candidate sets (about 30 per session): up to 20 products of the session's intended leaf
category (popularity-weighted draws), up to 6 activity cards covering that leaf that are live
at the session's time and admit the shopper, and 4 products from other leaves. The logging score
is ``1.5 popularity + 2 depth + 0.3 [has a deal] + 1 [relevant]`` (a product of the intended
leaf, or an activity card) plus, each turn, ``2 x`` the assistant's match estimate; temperature 1,
epsilon 0.05.

No claim rows are written: history must not consume live coupon budgets, so claims appear only
as feedback events.

Example:
    >>> report = generate_logs(shop, users=200, min_impressions=3000)  # doctest: +SKIP
    >>> report.summary()  # doctest: +SKIP
    'logs: 200 users, 402 sessions, 1,013 decisions, 3,039 impressions, ...'
"""

from __future__ import annotations

import logging
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from tqdm import tqdm

from assistant import store
from assistant.errors import InputError, ValidationError
from assistant.money import Currency
from assistant.schedule import aware
from assistant.world._log_items import snapshot
from assistant.world._log_rows import (
    DEMO_USER_PREFIX,
    Versions,
    count_demo,
    delete_demo,
    insert_rows,
    table_rows,
)
from assistant.world._log_sim import simulate_log
from assistant.world._log_text import category_names
from assistant.world.catalog import CATEGORY_NAMES
from policy.world import WORLD_VERSION

if TYPE_CHECKING:
    from assistant.app import Shop

__all__ = ["DEMO_USER_PREFIX", "LOGGING_POLICY", "LogsReport", "generate_logs"]

logger = logging.getLogger(__name__)

LOGGING_POLICY = Versions(
    policy="logging-pl-v1",
    ranker="popularity-v1",
    params="temperature=1;epsilon=0.05;match_weight=2",
    world=WORLD_VERSION,
    temperature=1.0,
    epsilon=0.05,
)
"""The logging policy's versions and parameters, as every logged decision records them."""

_MAX_USERS = 1_000_000
_MAX_IMPRESSIONS = 50_000_000


@dataclass(frozen=True)
class LogsReport:
    """What :func:`generate_logs` wrote; ``purchase_value`` is in minor units of ``currency``."""

    users: int
    sessions: int
    decisions: int
    impressions: int
    clicks: int
    claims: int
    add_to_carts: int
    purchases: int
    purchase_value: int
    messages: int
    seconds: float
    currency: str = "USD"

    def summary(self) -> str:
        """One line for people, e.g. ``logs: 2,000 users, 21,873 sessions, ... in 41.2 s``."""
        money = Currency.of(self.currency).format(self.purchase_value)
        return (
            f"logs: {self.users:,} users, {self.sessions:,} sessions, {self.decisions:,} "
            f"decisions, {self.impressions:,} impressions, {self.clicks:,} clicks, "
            f"{self.claims:,} claims, {self.add_to_carts:,} add-to-carts, {self.purchases:,} "
            f"purchases worth {money} {self.currency}, {self.messages:,} messages "
            f"in {self.seconds:.1f} s"
        )


def _check(users: object, min_impressions: object) -> None:
    for name, value, high in (
        ("users", users, _MAX_USERS),
        ("min_impressions", min_impressions, _MAX_IMPRESSIONS),
    ):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValidationError(f"{name} must be a whole number, got {value!r}")
        if not 1 <= value <= high:
            raise ValidationError(f"{name} must be between 1 and {high:,}, got {value:,}")


def generate_logs(
    shop: Shop,
    *,
    users: int = 2000,
    min_impressions: int = 200_000,
    seed: int = 7,
    now: datetime | None = None,
    replace: bool = False,
    progress: bool = True,
) -> LogsReport:
    """Draw logged interactions from the user-choice model and write them in one transaction.

    Args:
        shop: the shop whose store holds the catalog and receives the logs.
        users: how many shoppers (``demo-u00001`` ...); each has zero or more sessions.
        min_impressions: sessions are added until at least this many cards were shown.
        seed: the same seed, catalog and ``now`` give the same rows.
        now: the end of the logged period (default: now); every timestamp is in the 30 days
            before it.
        replace: delete the previous demo logs (every row of the ``demo-u`` users) first.
        progress: show progress bars on stderr.

    Returns:
        The counts written and the seconds taken.

    Raises:
        ValidationError: ``users`` or ``min_impressions`` is not a whole number >= 1.
        InputError: the catalog has no priced, in-stock product; demo logs already exist and
            ``replace`` is false; or demo users hold coupon claims (they cannot be replaced).
        StoreError: the store is not migrated.
    """
    started = time.perf_counter()
    _check(users, min_impressions)
    now = aware(now, "now") if now is not None else datetime.now(UTC)
    store.require_head(shop.engine)
    settings = shop.settings
    with shop.engine.connect() as conn:
        demo_users, claims = count_demo(conn)
    if demo_users and not replace:
        raise InputError(
            f"demo logs already exist: {demo_users:,} user(s) {DEMO_USER_PREFIX}... are in the "
            "store; pass replace=True (shopassist data demo --force) to regenerate them"
        )
    if claims:
        raise InputError(
            f"{claims:,} coupon claim(s) belong to demo users ({DEMO_USER_PREFIX}...); demo "
            "logs cannot be replaced while they hold claims, which reserve live budgets"
        )
    with shop.sessions() as session:
        snap = snapshot(
            session,
            now=now,
            currency=shop.currency,
            shipping_fee=settings.shipping_fee_minor,
            seed=seed,
            progress=progress,
        )
    if snap is None:
        raise InputError(
            "the catalog has no priced, in-stock product to recommend; import a catalog first "
            "(shopassist data demo, or shopassist catalog import FILE)"
        )
    log = simulate_log(snap, users, min_impressions, seed, progress=progress)
    names = category_names(snap.leaves, CATEGORY_NAMES)
    counts: dict[str, int] = {}
    with shop.engine.begin() as conn:
        if demo_users:
            delete_demo(conn)
        for table, total, rows in table_rows(log, snap, names, LOGGING_POLICY, now):
            with tqdm(
                total=total,
                desc=f"writing {table.name}",
                unit="row",
                file=sys.stderr,
                disable=not progress,
                leave=False,
            ) as bar:
                counts[table.name] = insert_rows(conn, table, rows, bar)
    events = log.events.sum(axis=(0, 1))
    value = sum(
        int(q) * int(snap.final_minor[i])
        for i, q in zip(
            log.chosen[log.events[..., 3]], log.quantity[log.events[..., 3]], strict=True
        )
    )
    report = LogsReport(
        users=counts["users"],
        sessions=counts["sessions"],
        decisions=counts["decisions"],
        impressions=counts["impressions"],
        clicks=int(events[0]),
        claims=int(events[1]),
        add_to_carts=int(events[2]),
        purchases=int(events[3]),
        purchase_value=value,
        messages=counts["messages"],
        seconds=time.perf_counter() - started,
        currency=shop.currency.code,
    )
    logger.info("%s", report.summary())
    return report
