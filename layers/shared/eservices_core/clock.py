"""Time, in UTC for storage and Europe/Stockholm for the rules of care. Tests and the local runtime set it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

STOCKHOLM = ZoneInfo("Europe/Stockholm")


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware in UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that stands still until moved; accepts any aware datetime and keeps it in UTC."""

    def __init__(self, instant: datetime) -> None:
        self._instant = _as_utc(instant)

    def now(self) -> datetime:
        return self._instant

    def set(self, instant: datetime) -> None:
        self._instant = _as_utc(instant)

    def advance(self, delta: timedelta) -> None:
        self._instant += delta


_current: Clock = SystemClock()


def get_clock() -> Clock:
    return _current


@contextmanager
def use_clock[C: Clock](clock: C) -> Iterator[C]:
    global _current
    previous, _current = _current, clock
    try:
        yield clock
    finally:
        _current = previous


def now_utc() -> datetime:
    return _current.now()


def now_stockholm() -> datetime:
    return _current.now().astimezone(STOCKHOLM)


def today_stockholm() -> date:
    return now_stockholm().date()


def stockholm_midnight(day: date) -> datetime:
    """00:00 Europe/Stockholm on `day`, as a UTC instant (correct on both sides of DST changes)."""
    return datetime(day.year, day.month, day.day, tzinfo=STOCKHOLM).astimezone(UTC)


def _as_utc(instant: datetime) -> datetime:
    if instant.tzinfo is None:
        raise ValueError("a clock needs a timezone-aware datetime")
    return instant.astimezone(UTC)
