"""Drafting demo activities: round amounts, windows and recurrences in shop time, audiences.

:class:`Drafting` holds the one seeded random stream every draw comes from, so the activities of
a build are a pure function of the products, the seed and the build time.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from assistant.money import Currency
from assistant.schedule import utc_text
from assistant.world._phrases import Phrases
from assistant.world._targets import Target, Targets

__all__ = ["Drafting"]

_NICE = (1, 2, 3, 5, 8, 10, 12, 15, 20, 25, 30, 35, 40, 50, 60, 70, 80, 100, 120, 150, 200, 250,
         300, 350, 400, 500, 600, 800, 1000, 1200, 1500, 2000, 2500, 3000, 4000, 5000)  # fmt: skip
_SEGMENTS = {
    "students": ("Students", "学生"),
    "parents": ("Parents", "宝爸宝妈"),
    "runners": ("Runners", "跑者"),
    "vip": ("VIP customers", "VIP客户"),
}
_SEGMENT_OF = {
    "shoes": "runners",
    "sports": "runners",
    "apparel": "students",
    "electronics": "students",
    "baby": "parents",
    "toys": "parents",
}


class Drafting:
    """Shared state and helpers of the activity makers (see :mod:`assistant.world.activities`)."""

    def __init__(
        self, targets: Targets, now: datetime, zone: ZoneInfo, seed: int, currency: Currency
    ) -> None:
        self.targets, self.zone, self.currency = targets, zone, currency
        self.today: date = now.astimezone(zone).date()
        self.rng = random.Random(f"shopassist-demo-activities:{seed}")
        self.say = Phrases(currency)
        self.unit = int(10**currency.exponent)

    # --- amounts and schedules ------------------------------------------------------------

    def nice(self, major: float, *, at_least: int = 1) -> int:
        """The round amount nearest ``major`` (on a log scale), in minor units."""
        value = max(major, at_least)
        best = min(_NICE, key=lambda n: abs(n - value) / n)
        return max(best, at_least) * self.unit

    def major(self, minor: int) -> float:
        return minor / self.unit

    def local(self, days: int, hour: int = 0) -> datetime:
        return datetime.combine(self.today + timedelta(days=days), time(hour), tzinfo=self.zone)

    def window(self, backbone: bool) -> dict[str, Any]:
        """Weeks to months; backbone windows always cover the 14 days after the build."""
        rng = self.rng
        roll = 0.0 if backbone else rng.random()
        if roll < 0.7:
            start, end = -rng.randint(1, 30), rng.randint(30 if backbone else 15, 120)
        elif roll < 0.85:
            start = rng.randint(1, 10)
            end = start + rng.randint(7, 45)
        else:
            start, end = -rng.randint(10, 40), rng.randint(2, 13)
        return {"window": [utc_text(self.local(start)), utc_text(self.local(end))]}

    def recurring(
        self, start: datetime, rule: str, minutes: int, until_days: int | None
    ) -> dict[str, Any]:
        spec: dict[str, Any] = {
            "starts_at": start.isoformat(),
            "rrule": rule,
            "duration_minutes": minutes,
        }
        if until_days is not None:
            spec["until"] = utc_text(self.local(until_days))
        return {"schedule": spec}

    def audience(self, target: Target, segment_share: float, member_share: float = 0.0) -> str:
        roll = self.rng.random()
        if roll < segment_share:
            return f"segment:{_SEGMENT_OF.get(target.department, 'vip')}"
        if roll < segment_share + member_share:
            return "members"
        return "all"

    def with_audience(
        self, audience: str, title: tuple[str, str], terms: tuple[list[str], list[str]]
    ) -> dict[str, Any]:
        (en, zh), (terms_en, terms_zh) = title, terms
        if audience == "members":
            en, zh = f"Members: {en}", f"会员专享：{zh}"
            terms_en, terms_zh = ["For members only.", *terms_en], ["仅限会员。", *terms_zh]
        elif audience.startswith("segment:"):
            who_en, who_zh = _SEGMENTS[audience.split(":", 1)[1]]
            en, zh = f"{who_en} only: {en}", f"{who_zh}专享：{zh}"
            terms_en = [f"For {who_en.lower()} only.", *terms_en]
            terms_zh = [f"仅限{who_zh}。", *terms_zh]
        return {
            "title": en,
            "title_zh": zh,
            "terms": self.say.terms(terms_en, terms_zh),
            "status": "active",
            "audience": audience,
        }

    def small(self, amount: int, target: Target) -> bool:
        """Whether ``amount`` may come off with no minimum spend: at most 30% of the cheapest
        product in scope, so that no deal makes anything free."""
        return amount <= 0.3 * target.low

    def money(self, minor: int | None) -> str | None:
        return None if minor is None else self.currency.format(minor)
