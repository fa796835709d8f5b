"""Time: a settable clock for tests, UTC storage and Europe/Stockholm midnights across DST changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from eservices_core.clock import (
    STOCKHOLM,
    FixedClock,
    SystemClock,
    get_clock,
    now_stockholm,
    now_utc,
    stockholm_midnight,
    today_stockholm,
    use_clock,
)

INSTANT = datetime(2026, 11, 25, 20, 0, tzinfo=UTC)


def test_fixed_clock_stands_still_until_moved():
    fixed = FixedClock(INSTANT)

    assert fixed.now() == INSTANT
    assert fixed.now() == INSTANT

    fixed.advance(timedelta(minutes=5))
    assert fixed.now() == INSTANT + timedelta(minutes=5)

    fixed.set(datetime(2027, 1, 1, tzinfo=UTC))
    assert fixed.now() == datetime(2027, 1, 1, tzinfo=UTC)


def test_fixed_clock_keeps_any_aware_instant_in_utc():
    fixed = FixedClock(datetime(2026, 7, 1, 12, 0, tzinfo=STOCKHOLM))

    assert fixed.now() == datetime(2026, 7, 1, 10, 0, tzinfo=UTC)
    assert fixed.now().utcoffset() == timedelta(0)


def test_clocks_refuse_naive_datetimes():
    with pytest.raises(ValueError, match="timezone-aware"):
        FixedClock(datetime(2026, 1, 1, 12, 0))
    fixed = FixedClock(INSTANT)
    with pytest.raises(ValueError, match="timezone-aware"):
        fixed.set(datetime(2026, 1, 1, 12, 0))
    assert fixed.now() == INSTANT, "a refused set leaves the clock unchanged"


def test_use_clock_sets_the_time_within_the_block_and_restores_the_previous_clock():
    before = get_clock()

    with use_clock(FixedClock(INSTANT)) as fixed:
        assert get_clock() is fixed
        assert now_utc() == INSTANT
        assert now_stockholm() == INSTANT
        assert now_stockholm().utcoffset() == timedelta(hours=1)
        assert today_stockholm() == date(2026, 11, 25)

    assert get_clock() is before


def test_use_clock_restores_after_an_exception_and_when_nested():
    before = get_clock()

    def request_that_fails() -> None:
        with use_clock(FixedClock(INSTANT)):
            with use_clock(FixedClock(INSTANT + timedelta(days=1))):
                assert now_utc() == INSTANT + timedelta(days=1)
            assert now_utc() == INSTANT
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        request_that_fails()

    assert get_clock() is before


def test_the_stockholm_date_changes_at_stockholm_midnight_not_utc_midnight():
    with use_clock(FixedClock(datetime(2026, 6, 14, 22, 30, tzinfo=UTC))):
        assert today_stockholm() == date(2026, 6, 15)
    with use_clock(FixedClock(datetime(2026, 6, 14, 21, 59, 59, tzinfo=UTC))):
        assert today_stockholm() == date(2026, 6, 14)


def test_system_clock_is_aware_utc_and_current():
    now = SystemClock().now()

    assert now.utcoffset() == timedelta(0)
    assert abs(now - datetime.now(UTC)) < timedelta(seconds=5)


def test_the_default_clock_is_the_system_clock():
    assert isinstance(get_clock(), SystemClock)


@pytest.mark.parametrize(
    ("day", "utc"),
    [
        (date(2026, 1, 15), datetime(2026, 1, 14, 23, 0, tzinfo=UTC)),  # winter, UTC+1
        (date(2026, 7, 15), datetime(2026, 7, 14, 22, 0, tzinfo=UTC)),  # summer, UTC+2
        (date(2026, 3, 29), datetime(2026, 3, 28, 23, 0, tzinfo=UTC)),  # spring forward later that night
        (date(2026, 3, 30), datetime(2026, 3, 29, 22, 0, tzinfo=UTC)),  # first midnight in summer time
        (date(2026, 10, 25), datetime(2026, 10, 24, 22, 0, tzinfo=UTC)),  # fall back later that night
        (date(2026, 10, 26), datetime(2026, 10, 25, 23, 0, tzinfo=UTC)),  # first midnight in winter time
    ],
    ids=["winter", "summer", "spring-dst-day", "after-spring", "autumn-dst-day", "after-autumn"],
)
def test_stockholm_midnight_is_the_right_utc_instant(day, utc):
    midnight = stockholm_midnight(day)

    assert midnight == utc
    assert midnight.tzinfo is UTC
    local = midnight.astimezone(ZoneInfo("Europe/Stockholm"))
    assert (local.date(), local.hour, local.minute) == (day, 0, 0)


def test_dst_change_days_are_23_and_25_hours_long():
    def length(day: date) -> timedelta:
        return stockholm_midnight(day + timedelta(days=1)) - stockholm_midnight(day)

    assert length(date(2026, 3, 29)) == timedelta(hours=23)
    assert length(date(2026, 10, 25)) == timedelta(hours=25)
    assert length(date(2026, 6, 1)) == timedelta(hours=24)


def test_a_request_one_second_before_stockholm_midnight_is_still_the_day_before():
    """The boundary rule 7 depends on: 23:59:59 the day before is before midnight, 00:00:00 is not."""
    midnight = stockholm_midnight(date(2026, 10, 25))

    with use_clock(FixedClock(midnight - timedelta(seconds=1))):
        assert now_utc() < midnight
        assert today_stockholm() == date(2026, 10, 24)
    with use_clock(FixedClock(midnight)):
        assert not now_utc() < midnight
        assert today_stockholm() == date(2026, 10, 25)
