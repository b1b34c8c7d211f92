"""Schedules: one-off windows and RRULE recurrences in shop time, always answered in UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from assistant.errors import ValidationError
from assistant.schedule import Schedule


def t(day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2030, 1, day, hour, minute, tzinfo=UTC)


def test_one_off_window() -> None:
    s = Schedule.once(t(1), t(2))
    assert s.window_at(t(1, 12)) == (t(1), t(2))
    assert s.window_at(t(2)) is None  # half-open
    assert s.next_start(t(1, 12)) is None
    assert s.is_over(t(2))
    assert not s.is_over(t(1, 23))


def test_daily_flash_sale_in_shop_time() -> None:
    # 20:00-22:00 in Shanghai every day is 12:00-14:00 UTC.
    from zoneinfo import ZoneInfo

    local = datetime(2030, 1, 1, 20, tzinfo=ZoneInfo("Asia/Shanghai"))
    s = Schedule.recurring(local, "FREQ=DAILY", timedelta(hours=2), tz="Asia/Shanghai")
    assert s.window_at(t(5, 13)) == (t(5, 12), t(5, 14))
    assert s.window_at(t(5, 15)) is None
    assert s.next_start(t(5, 15)) == t(6, 12)
    assert len(s.windows(t(1), t(15))) == 14


def test_recurrence_ends() -> None:
    s = Schedule.recurring(t(1), "FREQ=WEEKLY;COUNT=2", timedelta(days=1))
    assert [w[0] for w in s.windows(t(1), t(31))] == [t(1), t(8)]
    assert s.is_over(t(9, 1))
    until = Schedule.recurring(t(1, 20), "FREQ=DAILY", timedelta(hours=3), ends_at=t(3, 21))
    assert until.windows(t(3), t(5)) == [(t(3, 20), t(3, 21))]  # clipped to the end


def test_not_started_yet() -> None:
    s = Schedule.recurring(t(10, 20), "FREQ=DAILY", timedelta(hours=2))
    assert s.window_at(t(1)) is None
    assert s.next_start(t(1)) == t(10, 20)
    assert not s.is_over(t(1))


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Schedule.once(t(2), t(1)), "is not after start"),
        (lambda: Schedule.once(datetime(2030, 1, 1), t(2)), "has no time zone"),
        (lambda: Schedule.recurring(t(1), "FREQ=SOMETIMES", timedelta(hours=1)), "bad RRULE"),
        (lambda: Schedule.recurring(t(1), "FREQ=DAILY", timedelta(0)), "positive duration"),
    ],
)
def test_bad_schedules(make: object, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        make()  # type: ignore[operator]
