"""Small rules of the cases e-service: working-day answer times, and statistics read from the histogram."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cases.service import working_days_after
from cases.stats import bucket_of, quantile_minutes


@pytest.mark.parametrize(
    ("sent", "days", "due"),
    [
        ("2026-11-25T10:00:00+00:00", 2, "2026-11-27T10:00:00+00:00"),  # Wednesday -> Friday
        ("2026-11-27T10:00:00+00:00", 1, "2026-11-30T10:00:00+00:00"),  # Friday -> Monday
        ("2026-11-28T10:00:00+00:00", 1, "2026-11-30T10:00:00+00:00"),  # sent on a Saturday
        ("2026-10-23T08:00:00+00:00", 1, "2026-10-26T09:00:00+00:00"),  # 10:00 Stockholm, across the DST end
        ("2026-11-25T10:00:00+00:00", 0, "2026-11-25T10:00:00+00:00"),
    ],
)
def test_answer_times_count_working_days_at_the_same_stockholm_time(sent, days, due):
    assert working_days_after(datetime.fromisoformat(sent), days) == datetime.fromisoformat(due).astimezone(
        UTC
    )


def test_first_answer_quantiles_are_read_from_the_histogram_buckets():
    counters: dict[str, int] = {}
    for minutes in [10, 20, 50, 50, 100, 300, 2000, 2000, 5000, 60000]:
        key = bucket_of(minutes)
        counters[key] = counters.get(key, 0) + 1
    assert quantile_minutes(counters, 0.5) == 120
    assert quantile_minutes(counters, 0.9) == 7200
    assert quantile_minutes(counters, 1.0) is None, "beyond the last edge: more than 30 days"
    assert quantile_minutes({}, 0.5) is None
