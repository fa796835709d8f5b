"""Schedule expressions of the template, as EventBridge evaluates them."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from local_runtime.schedules import Schedule, ScheduledTarget, Scheduler

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("expression", "after", "expected"),
    [
        ("rate(5 minutes)", "2026-11-25T10:00:30", "2026-11-25T10:05:30"),
        ("rate(1 day)", "2026-11-25T10:00:00", "2026-11-26T10:00:00"),
        ("cron(0 12 * * ? *)", "2026-11-25T11:00:00", "2026-11-25T12:00:00"),
        ("cron(0 12 * * ? *)", "2026-11-25T12:00:00", "2026-11-26T12:00:00"),
        ("cron(0/15 * * * ? *)", "2026-11-25T10:16:00", "2026-11-25T10:30:00"),
        ("cron(0 8 ? * MON-FRI *)", "2026-11-28T09:00:00", "2026-11-30T08:00:00"),
        ("cron(30 6 1 JAN,JUL ? *)", "2026-02-01T00:00:00", "2026-07-01T06:30:00"),
        ("cron(0 0 29 2 ? *)", "2026-03-01T00:00:00", "2028-02-29T00:00:00"),
    ],
)
def test_next_firing_in_utc(expression, after, expected):
    assert Schedule(expression).next_after(at(after)) == at(expected)


def test_a_stockholm_cron_follows_daylight_saving_time():
    nightly = Schedule("cron(0 2 * * ? *)", STOCKHOLM)
    assert nightly.next_after(at("2026-01-10T12:00:00")) == at("2026-01-11T01:00:00")  # CET
    assert nightly.next_after(at("2026-06-10T12:00:00")) == at("2026-06-11T00:00:00")  # CEST


@pytest.mark.parametrize(
    "expression", ["rate(5 fortnights)", "cron(0 12 * *)", "every day", "cron(61 * * * ? *)"]
)
def test_invalid_expressions_fail_at_start_up(expression):
    with pytest.raises(ValueError, match=r"."):
        Schedule(expression)


def test_unsupported_cron_features_are_refused_rather_than_guessed():
    with pytest.raises(NotImplementedError):
        Schedule("cron(0 12 L * ? *)")


def test_a_due_target_fires_once_with_a_scheduled_event_and_is_planned_again():
    calls = []
    schedule = Schedule("rate(1 hour)")
    target = ScheduledTarget("F.Hourly", "F", schedule, None, at("2026-11-25T10:00:00"))
    scheduler = Scheduler([target], lambda fn, event: calls.append((fn, event)))

    assert scheduler.run_due(at("2026-11-25T09:59:00")) == []
    assert scheduler.run_due(at("2026-11-25T10:00:00")) == ["F.Hourly"]
    assert scheduler.run_due(at("2026-11-25T10:30:00")) == []
    [(fn, event)] = calls
    assert fn == "F"
    assert event["detail-type"] == "Scheduled Event" and event["source"] == "aws.events"
    assert event["time"] == "2026-11-25T10:00:00Z"
    assert target.next_run == at("2026-11-25T11:00:00")


def test_a_target_with_input_receives_exactly_that_input_and_a_failure_does_not_stop_the_others():
    seen = []

    def invoke(fn, event):
        if fn == "Broken":
            raise RuntimeError("boom")
        seen.append(event)

    due = at("2026-11-25T10:00:00")
    scheduler = Scheduler(
        [
            ScheduledTarget("B", "Broken", Schedule("rate(1 hour)"), None, due),
            ScheduledTarget("G", "Good", Schedule("rate(1 hour)"), {"value": 5}, due),
        ],
        invoke,
    )
    assert scheduler.run_due(due) == ["B", "G"]
    assert seen == [{"value": 5}]
