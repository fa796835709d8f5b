"""The template's schedules (function events of type Schedule and ScheduleV2), run by the local runtime.

Supports `rate(N minute|minutes|hour|hours|day|days)` and AWS six-field `cron(min hour day-of-month month
day-of-week year)` with `*`, `?`, numbers, names (JAN-DEC, SUN-SAT), ranges, lists and steps, evaluated in
UTC or the schedule's `ScheduleExpressionTimezone`. `L`, `W` and `#` are refused loudly rather than guessed.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

logger = logging.getLogger(__name__)
_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_CRON = re.compile(r"^cron\((.+)\)$")
_MONTHS = {
    m: i + 1
    for i, m in enumerate(
        ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
    )
}
_DAYS = {d: i + 1 for i, d in enumerate(["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"])}
_LIMITS = [(0, 59), (0, 23), (1, 31), (1, 12), (1, 7), (1970, 2199)]


def _field(text: str, low: int, high: int, names: dict[str, int]) -> set[int] | None:
    """The values a cron field allows; None for `*`/`?` (anything)."""
    if text in ("*", "?"):
        return None
    for name, number in names.items():
        text = re.sub(rf"\b{name}\b", str(number), text)
    if re.search(r"[LW#]", text):
        raise NotImplementedError(f"cron field {text!r}: L, W and # are not supported locally")
    values: set[int] = set()
    for part in text.split(","):
        base, _, step = part.partition("/")
        if base == "*":
            start, end = low, high
        elif "-" in base:
            a, b = base.split("-")
            start, end = names.get(a) or int(a), names.get(b) or int(b)
        else:
            start = names.get(base) or int(base)
            end = high if step else start
        values.update(range(start, end + 1, int(step) if step else 1))
    if not values or min(values) < low or max(values) > high:
        raise ValueError(f"cron field {text!r} is out of range {low}-{high}")
    return values


@dataclass(frozen=True)
class Schedule:
    expression: str
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))

    def __post_init__(self) -> None:
        self._parsed()  # fail at start-up, not at the first firing

    def _parsed(self) -> tuple[timedelta | None, list[set[int] | None]]:
        rate = _RATE.match(self.expression)
        if rate:
            unit = rate.group(2).rstrip("s") + "s"
            return timedelta(**{unit: int(rate.group(1))}), []
        cron = _CRON.match(self.expression)
        if not cron or len(cron.group(1).split()) != 6:
            raise ValueError(f"not a schedule expression: {self.expression!r}")
        parts = cron.group(1).split()
        names = [{}, {}, {}, _MONTHS, _DAYS, {}]
        return None, [_field(p, lo, hi, n) for p, (lo, hi), n in zip(parts, _LIMITS, names, strict=True)]

    def next_after(self, instant: datetime) -> datetime:
        """The first firing strictly after `instant` (an aware datetime), in UTC."""
        interval, fields = self._parsed()
        if interval is not None:
            return instant.astimezone(UTC) + interval
        minute, hour, dom, month, dow, year = fields
        t = instant.astimezone(self.timezone).replace(second=0, microsecond=0) + timedelta(minutes=1)
        for _ in range(600_000):  # a little over a year of minutes, at most
            if year is not None and t.year not in year:
                t = t.replace(year=t.year + 1, month=1, day=1, hour=0, minute=0)
            elif month is not None and t.month not in month:
                t = (t.replace(day=1) + timedelta(days=32)).replace(day=1, hour=0, minute=0)
            elif (dom is not None and t.day not in dom) or (
                dow is not None and (t.isoweekday() % 7) + 1 not in dow
            ):
                t = (t + timedelta(days=1)).replace(hour=0, minute=0)
            elif hour is not None and t.hour not in hour:
                t = (t + timedelta(hours=1)).replace(minute=0)
            elif minute is not None and t.minute not in minute:
                t += timedelta(minutes=1)
            else:
                return t.astimezone(UTC)
        raise ValueError(f"{self.expression} never fires")


@dataclass
class ScheduledTarget:
    name: str
    function: str
    schedule: Schedule
    payload: dict[str, Any] | None
    next_run: datetime


class Scheduler:
    """Fires each target when due, invoking its function in-process with the event AWS would send."""

    def __init__(self, targets: list[ScheduledTarget], invoke: Callable[[str, dict[str, Any]], Any]) -> None:
        self.targets = targets
        self.invoke = invoke
        self._stop = threading.Event()

    @classmethod
    def from_template(
        cls, template: Any, invoke: Callable[[str, dict[str, Any]], Any], now: datetime
    ) -> Scheduler:
        targets = []
        for fn in template.functions.values():
            for event_name, event in fn.events.items():
                props = event.get("Properties", {})
                if event["Type"] == "Schedule" and props.get("Enabled", True):
                    expression, zone = props["Schedule"], "UTC"
                elif event["Type"] == "ScheduleV2" and props.get("State", "ENABLED") == "ENABLED":
                    expression, zone = (
                        props["ScheduleExpression"],
                        props.get("ScheduleExpressionTimezone", "UTC"),
                    )
                else:
                    continue
                schedule = Schedule(expression, ZoneInfo(zone))
                payload = json.loads(props["Input"]) if "Input" in props else None
                name = f"{fn.logical_id}.{event_name}"
                targets.append(
                    ScheduledTarget(name, fn.logical_id, schedule, payload, schedule.next_after(now))
                )
        return cls(targets, invoke)

    def run_due(self, now: datetime) -> list[str]:
        """Fire every target due at `now` (once each), then plan its next run; returns what fired."""
        fired = []
        for target in self.targets:
            if target.next_run <= now:
                event = target.payload if target.payload is not None else _scheduled_event(target, now)
                try:
                    self.invoke(target.function, event)
                except Exception:
                    logger.exception("scheduled %s failed", target.name)
                fired.append(target.name)
                target.next_run = target.schedule.next_after(now)
        return fired

    def run(self, clock: Callable[[], datetime]) -> None:
        while not self._stop.is_set():
            self.run_due(clock())
            upcoming = min((t.next_run for t in self.targets), default=None)
            wait = 60.0 if upcoming is None else max(0.05, min(60.0, (upcoming - clock()).total_seconds()))
            self._stop.wait(wait)

    def stop(self) -> None:
        self._stop.set()


def _scheduled_event(target: ScheduledTarget, now: datetime) -> dict[str, Any]:
    """The event EventBridge sends for a scheduled rule."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": "eu-north-1",
        "resources": [f"arn:aws:events:eu-north-1:123456789012:rule/{target.name}"],
        "detail": {},
    }
