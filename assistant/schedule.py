"""When an activity is live: a one-off window or an RFC 5545 recurrence with a duration.

Schedules are written in shop time (``SHOPASSIST_SHOP_TZ``); every instant that leaves this
module is timezone-aware UTC.

Example:
    >>> from datetime import UTC, datetime, timedelta
    >>> daily = Schedule.recurring(datetime(2030, 1, 1, 20, tzinfo=UTC),
    ...                            "FREQ=DAILY", timedelta(hours=2))
    >>> daily.window_at(datetime(2030, 1, 5, 21, tzinfo=UTC))[1].isoformat()
    '2030-01-05T22:00:00+00:00'
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from dateutil import rrule as _rrule

from assistant.errors import ValidationError

__all__ = ["Schedule", "Window", "aware", "utc_text"]

Window = tuple[datetime, datetime]
"""A half-open interval [start, end) in UTC."""


def aware(moment: datetime, name: str = "time") -> datetime:
    """``moment`` in UTC; a naive datetime is refused rather than guessed."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValidationError(f"{name} {moment.isoformat()} has no time zone; give an offset")
    return moment.astimezone(UTC)


def utc_text(moment: datetime) -> str:
    """``moment`` as ISO 8601 in UTC with a ``Z`` suffix, the form every interface shows."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class Schedule:
    """A one-off ``[starts_at, ends_at)`` window or a recurrence.

    A recurrence starts occurrences at each RRULE instant from ``starts_at`` (interpreted in
    ``tz``, so a daily 20:00 flash sale stays at 20:00 shop time across DST) and each lasts
    ``duration``; ``ends_at``, when set, is the last moment any occurrence may start or run.
    """

    starts_at: datetime
    ends_at: datetime | None
    rrule: str | None = None
    duration: timedelta | None = None
    tz: str = "UTC"

    def __post_init__(self) -> None:
        object.__setattr__(self, "starts_at", aware(self.starts_at, "start"))
        if self.ends_at is not None:
            object.__setattr__(self, "ends_at", aware(self.ends_at, "end"))
            if self.ends_at <= self.starts_at:
                raise ValidationError(
                    f"end {self.ends_at.isoformat()} is not after start "
                    f"{self.starts_at.isoformat()}"
                )
        if self.rrule is None:
            if self.ends_at is None:
                raise ValidationError("a one-off schedule needs an end")
            if self.duration is not None:
                raise ValidationError("duration is only for a recurring schedule")
            return
        if self.duration is None or self.duration <= timedelta(0):
            raise ValidationError("a recurring schedule needs a positive duration")
        self._rule()  # validates the RRULE text once

    @classmethod
    def once(cls, starts_at: datetime, ends_at: datetime) -> Schedule:
        """A single window."""
        return cls(starts_at, ends_at)

    @classmethod
    def recurring(
        cls,
        starts_at: datetime,
        rule: str,
        duration: timedelta,
        ends_at: datetime | None = None,
        tz: str = "UTC",
    ) -> Schedule:
        """A recurrence such as ``"FREQ=WEEKLY;BYDAY=WE"`` with occurrences of ``duration``."""
        return cls(starts_at, ends_at, rule, duration, tz)

    @property
    def is_recurring(self) -> bool:
        """Whether occurrences repeat."""
        return self.rrule is not None

    def _rule(self) -> _rrule.rrule:
        zone = ZoneInfo(self.tz)
        text = self.rrule or ""
        if text.upper().startswith("RRULE:"):
            text = text[len("RRULE:") :]
        try:
            local_start = self.starts_at.astimezone(zone).replace(tzinfo=None)
            parsed = _rrule.rrulestr(text, dtstart=local_start)
        except (ValueError, TypeError) as exc:
            raise ValidationError(f"bad RRULE {self.rrule!r}: {exc}") from None
        if not isinstance(parsed, _rrule.rrule):
            raise ValidationError(f"RRULE {self.rrule!r} must be a single rule")
        return parsed

    def _starts(self, after: datetime) -> Iterator[datetime]:
        """Occurrence starts (UTC) whose window ends after ``after``, in order."""
        assert self.duration is not None
        zone = ZoneInfo(self.tz)
        rule = self._rule()
        local_after = (after - self.duration).astimezone(zone).replace(tzinfo=None)
        first = rule.before(local_after, inc=True)
        cursor = first if first is not None else None
        iterator = rule.xafter(cursor, inc=True) if cursor is not None else iter(rule)
        for local in iterator:
            start = local.replace(tzinfo=zone).astimezone(UTC)
            if self.ends_at is not None and start >= self.ends_at:
                return
            if start + self.duration > after:
                yield start

    def windows(self, start: datetime, end: datetime) -> list[Window]:
        """Every occurrence overlapping ``[start, end)``, clipped to ``ends_at``."""
        start, end = aware(start), aware(end)
        if self.rrule is None:
            assert self.ends_at is not None
            if self.starts_at < end and self.ends_at > start:
                return [(self.starts_at, self.ends_at)]
            return []
        assert self.duration is not None
        found: list[Window] = []
        for occ in self._starts(start):
            if occ >= end:
                break
            stop = occ + self.duration
            if self.ends_at is not None:
                stop = min(stop, self.ends_at)
            if stop > start:  # clipped to ends_at, an occurrence may end before the range
                found.append((occ, stop))
        return found

    def window_at(self, now: datetime) -> Window | None:
        """The occurrence live at ``now`` (start <= now < end), if any."""
        now = aware(now)
        if self.rrule is None:
            assert self.ends_at is not None
            return (self.starts_at, self.ends_at) if self.starts_at <= now < self.ends_at else None
        # Pricing a catalog asks this of every activity for every product: expand the RRULE
        # once per UTC day (cached) and scan that day's few windows.
        day = now.replace(hour=0, minute=0, second=0, microsecond=0)
        for window in _day_windows(self, day):
            if window[0] <= now < window[1]:
                return window
        return None

    def next_start(self, now: datetime) -> datetime | None:
        """The start of the first occurrence that begins after ``now``, if any."""
        now = aware(now)
        if self.rrule is None:
            return self.starts_at if self.starts_at > now else None
        for occ in self._starts(now):
            if occ > now:
                return occ
        return None

    def is_over(self, now: datetime) -> bool:
        """Whether no occurrence is live at or after ``now``."""
        now = aware(now)
        return self.window_at(now) is None and self.next_start(now) is None


@lru_cache(maxsize=65536)
def _day_windows(schedule: Schedule, day: datetime) -> tuple[Window, ...]:
    """The occurrences of a recurring ``schedule`` that overlap the UTC ``day``."""
    return tuple(schedule.windows(day, day + timedelta(days=1)))
