"""Booking's rules without AWS: eligibility on the day of the visit (rule 22), deadlines and web switches
(rule 21), time ids, and recurrences across the clock changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from booking.model import (
    DeadlinePassed,
    Eligibility,
    NotEligible,
    NotOnTheWeb,
    OutsideHorizon,
    TimeRef,
    new_time_id,
    settings_from_body,
    start_of,
)
from booking.service import _starts
from eservices_core.errors import InvalidInput
from eservices_core.registry import Patient

UNIT = {"hsa_id": "SE2321000016-U1", "name": "Vårdcentral Demo", "region": "01", "lat": 59.3, "lon": 18.0}
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def patient(born: date, region: str | None = "01") -> Patient:
    return Patient("p1", "Demo Testsson", born, False, False, True, region_code=region)


def visit(day: str) -> datetime:
    return datetime.fromisoformat(f"{day}T09:00:00+01:00")


@pytest.mark.parametrize(
    ("born", "visit_day", "allowed"),
    [
        (date(1961, 11, 30), "2026-11-30", True),  # 65 on the day of the visit
        (date(1961, 12, 1), "2026-11-30", False),  # 65 the day after
        (date(1960, 2, 29), "2025-02-28", False),  # a leap-day child is 65 on 1 March in common years
        (date(1960, 2, 29), "2025-03-01", True),
    ],
)
def test_age_is_counted_on_the_day_of_the_visit(born, visit_day, allowed):
    rule = Eligibility(min_age=65)
    assert (rule.refusal(patient(born), date.fromisoformat(visit_day)) is None) is allowed


def test_an_upper_age_and_the_region_of_registration():
    rule = Eligibility(max_age=12, regions=("01",))
    assert rule.refusal(patient(date(2014, 1, 1)), date(2026, 11, 30)) is None
    assert "12 or under" in (rule.refusal(patient(date(2013, 11, 30)), date(2026, 11, 30)) or "")
    assert "region" in (rule.refusal(patient(date(2014, 1, 1), region="14"), date(2026, 11, 30)) or "")
    assert rule.refusal(patient(date(2014, 1, 1), region=None), date(2026, 11, 30)) is not None


def test_the_deadline_defaults_by_the_kind_of_care_and_holds_to_the_minute():
    primary = settings_from_body({}, UNIT | {"kind": "primary_care"}, "nurse-visit-15")
    specialist = settings_from_body({}, UNIT | {"kind": "specialist_care"}, "nurse-visit-15")
    assert (primary.deadline_hours, specialist.deadline_hours) == (24, 72)
    start = NOW + timedelta(hours=24)
    primary.check_changeable(start, NOW, cancelling=True)  # exactly at the deadline: still allowed
    with pytest.raises(DeadlinePassed):
        primary.check_changeable(start, NOW + timedelta(minutes=1), cancelling=True)


def test_switches_horizon_and_past_times():
    closed = settings_from_body({"web": {"book": False, "rebook": True, "cancel": False}}, UNIT, "blood-test")
    with pytest.raises(NotOnTheWeb):
        closed.check_bookable(patient(date(1980, 1, 1)), NOW + timedelta(days=3), NOW, rebooking=False)
    closed.check_bookable(patient(date(1980, 1, 1)), NOW + timedelta(days=3), NOW, rebooking=True)
    with pytest.raises(NotOnTheWeb):
        closed.check_changeable(NOW + timedelta(days=3), NOW, cancelling=True)
    near = settings_from_body({"horizon_days": 7}, UNIT, "blood-test")
    with pytest.raises(OutsideHorizon):
        near.check_bookable(patient(date(1980, 1, 1)), NOW + timedelta(days=8), NOW, rebooking=False)
    with pytest.raises(OutsideHorizon):
        near.check_bookable(patient(date(1980, 1, 1)), NOW, NOW, rebooking=False)
    old_only = settings_from_body({"eligibility": {"min_age": 65}}, UNIT, "covid-19-vaccination")
    with pytest.raises(NotEligible):
        old_only.check_bookable(patient(date(1980, 1, 1)), NOW + timedelta(days=3), NOW, rebooking=False)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"deadline_hours": -1}, "deadline_hours"),
        ({"horizon_days": 0}, "horizon_days"),
        ({"max_active": True}, "max_active"),
        ({"web": {"book": "yes"}}, "web.book"),
        ({"web": []}, "web"),
        ({"eligibility": {"min_age": 70, "max_age": 65}}, "eligibility.max_age"),
        ({"eligibility": {"regions": ["Stockholm"]}}, "eligibility.regions"),
        ({"system": "paper"}, "system"),
    ],
)
def test_bad_settings_name_the_field(body, field):
    with pytest.raises(InvalidInput) as refused:
        settings_from_body(body, UNIT, "blood-test")
    assert refused.value.invalid_params[0].name == field


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31), timezones=st.just(UTC)))
def test_a_time_id_says_its_start_and_sorts_by_it(start):
    start = start.replace(second=0, microsecond=0)
    time_id = new_time_id(start)
    assert start_of(time_id) == start
    later = new_time_id(start + timedelta(minutes=1))
    assert time_id < later
    ref = TimeRef("SE2321000016-U1", "blood-test", time_id)
    assert TimeRef.parse(str(ref)) == ref


@pytest.mark.parametrize(
    "value", [None, 7, "", "a~b", "SE1~blood-test~nope", "SE 1~blood-test~20261130T0800Z-x", "x" * 300]
)
def test_a_time_id_from_a_client_is_parsed_strictly(value):
    with pytest.raises(InvalidInput):
        TimeRef.parse(value)


def test_a_recurrence_keeps_the_clinic_s_clock_across_the_change_to_winter_time():
    rule = {
        "from": "2026-10-23",
        "to": "2026-10-26",
        "weekdays": [1, 5],
        "first_start": "08:00",
        "last_start": "08:30",
    }
    starts = _starts({"recurrence": rule}, timedelta(minutes=15))
    utc = [s.astimezone(UTC).strftime("%m-%d %H:%M") for s in starts]
    # Friday 23 October is summer time (UTC+2), Monday 26 October winter time (UTC+1)
    assert utc == ["10-23 06:00", "10-23 06:15", "10-23 06:30", "10-26 07:00", "10-26 07:15", "10-26 07:30"]
