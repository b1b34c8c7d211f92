"""Demo activities: every type, realistic terms, recurring schedules anchored at the build time.

Each type first gets a *backbone* that keeps the demo world lively at any moment of the 14 days
after the build, then random extras up to ``per_type``:

* ``flash_sale``: for every leaf, daily slots at 00:00, 10:00, 14:00 and 20:00 shop time (1-3 h,
  a few selected products, a quantity limit), so the next flash sale covering any leaf is at most
  about ten hours away; extras at other hours, some on weekends only.
* ``percent_off``, ``threshold`` and ``coupon``: one per leaf over a window of one to four
  months that started before the build; ``free_shipping``: the whole shop and every department.
  These give every leaf at least four live activities for everyone at any moment.
* ``member_day``: one weekly day per department for members (``FREQ=WEEKLY;BYDAY=..``), extras
  weekly or monthly; ``threshold`` extras are half monthly events (``FREQ=MONTHLY;BYMONTHDAY``);
  ``new_user``: new-user coupons for the whole shop and each department.
* Audiences: everyone, members, new users, and segments (students, parents, runners, VIP).
  Coupons carry budgets and per-user limits (a budgeted percent coupon always has a cap).

Extras mix windows that run for months with some that start later or end within two weeks.

Example:
    >>> from datetime import UTC, datetime
    >>> from assistant.world.catalog import generate_catalog
    >>> build = datetime(2030, 1, 1, tzinfo=UTC)
    >>> rows = generate_activities(generate_catalog(products=200), now=build, per_type=150)
    >>> sorted({row["type"] for row in rows}) == sorted(t.value for t in ActivityType)
    True
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from assistant.domain import ActivityType
from assistant.errors import ValidationError
from assistant.money import Currency
from assistant.schedule import aware
from assistant.world._makers import DAYS, Makers
from assistant.world._targets import Target, Targets

__all__ = ["ACTIVITY_PREFIX", "DEFAULT_PER_TYPE", "FLASH_SLOTS", "generate_activities"]

logger = logging.getLogger(__name__)

ACTIVITY_PREFIX = "da-"
"""Every generated activity id starts with this (then a type code and a number)."""

DEFAULT_PER_TYPE = 420
"""Activities of each type in the default demo world."""

FLASH_SLOTS = (0, 10, 14, 20)
"""Daily flash-sale hours (shop time) that every leaf gets."""

_CODES = {
    ActivityType.FLASH_SALE: "flash",
    ActivityType.PERCENT_OFF: "pct",
    ActivityType.MEMBER_DAY: "member",
    ActivityType.THRESHOLD: "thr",
    ActivityType.BUNDLE: "bundle",
    ActivityType.COUPON: "coupon",
    ActivityType.NEW_USER: "newuser",
    ActivityType.FREE_SHIPPING: "ship",
}


def generate_activities(
    products: Iterable[Mapping[str, Any]],
    *,
    now: datetime,
    seed: int = 7,
    per_type: int = DEFAULT_PER_TYPE,
    currency: Currency | str = "USD",
    tz: str = "UTC",
) -> list[dict[str, Any]]:
    """Generate demo activities over ``products`` as catalog rows (kind ``activities``).

    Args:
        products: Product rows (``id``, ``category``, ``brand``, ``price`` as decimal text), e.g.
            from :func:`~assistant.world.generate_catalog`; rows outside the demo leaves are
            ignored.
        now: The build time; long windows and recurrences are anchored at its day in ``tz``.
        seed: The random seed; the same products, seed, ``now`` and arguments give the same rows.
        per_type: Activities of each type; a type whose backbone needs more gets more (4 flash
            sales per leaf).
        currency: The shop currency of the product prices and of every amount written.
        tz: The shop time zone (``SHOPASSIST_SHOP_TZ``) the schedules are written in.

    Raises:
        ValidationError: ``per_type`` below 1, a naive ``now``, an unknown time zone, or no
            product in a demo leaf.
    """
    if isinstance(per_type, bool) or not isinstance(per_type, int) or per_type < 1:
        raise ValidationError(f"per_type must be a whole number of at least 1, got {per_type!r}")
    money = currency if isinstance(currency, Currency) else Currency.of(currency)
    try:
        zone = ZoneInfo(tz)
    except (KeyError, ValueError):
        raise ValidationError(f"unknown time zone {tz!r}; use an IANA name such as 'UTC'") from None
    builder = _Builder(Targets(products, money), aware(now, "now"), zone, seed, money)
    rows = builder.build(per_type)
    logger.debug("generated %d demo activities", len(rows))
    return rows


class _Builder(Makers):
    """Draws every activity from one seeded random stream, in a fixed order."""

    def build(self, per_type: int) -> list[dict[str, Any]]:
        makers: dict[ActivityType, Callable[[Target | None], dict[str, Any]]] = {
            ActivityType.FLASH_SALE: self.flash_sale,
            ActivityType.PERCENT_OFF: self.percent_off,
            ActivityType.MEMBER_DAY: self.member_day,
            ActivityType.THRESHOLD: self.threshold,
            ActivityType.BUNDLE: self.bundle,
            ActivityType.COUPON: self.coupon,
            ActivityType.NEW_USER: self.new_user,
            ActivityType.FREE_SHIPPING: self.free_shipping,
        }
        rows: list[dict[str, Any]] = []
        for kind in ActivityType:
            made = self.backbone(kind)
            while len(made) < per_type:
                made.append(makers[kind](None))
            for number, row in enumerate(made, start=1):
                code = f"{ACTIVITY_PREFIX}{_CODES[kind]}-{number:04d}"
                row = {key: value for key, value in row.items() if value is not None}
                rows.append({"id": code, "type": kind.value, "group": kind.group.value, **row})
        return rows

    def backbone(self, kind: ActivityType) -> list[dict[str, Any]]:
        """The activities that keep every leaf covered at any moment of the horizon."""
        t, rng = self.targets, self.rng
        if kind is ActivityType.FLASH_SALE:
            return [
                self.flash_sale(t.products(path, rng, rng.randint(3, 8)), hour=hour)
                for path in t.leaves
                for hour in FLASH_SLOTS
            ]
        if kind in (ActivityType.PERCENT_OFF, ActivityType.THRESHOLD, ActivityType.COUPON):
            make = {
                ActivityType.PERCENT_OFF: self.percent_off,
                ActivityType.THRESHOLD: self.threshold,
                ActivityType.COUPON: self.coupon,
            }[kind]
            return [make(t.leaf(path), backbone=True) for path in t.leaves]
        if kind is ActivityType.MEMBER_DAY:
            return [
                self.member_day(t.department(dept), weekday=DAYS[(2 + i) % 7])
                for i, dept in enumerate(t.departments)
            ]
        if kind is ActivityType.BUNDLE:
            cheap = [p for p in t.leaves if t.leaf(p).ref < 80 * self.unit]
            return [self.bundle(t.leaf(path)) for path in cheap]
        everything = [t.everything(), *(t.department(d) for d in t.departments)]
        if kind is ActivityType.NEW_USER:
            return [self.new_user(target) for target in everything]
        return [self.free_shipping(target, backbone=True) for target in everything]
