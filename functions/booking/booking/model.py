"""What booking is about: the national booking types, a clinic's settings for one of them, bookable times
and their ids, and the rules a booking must pass (rules 21 and 22 of the domain rules)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from eservices_core.clock import STOCKHOLM
from eservices_core.errors import Conflict, Forbidden, InvalidInput
from eservices_core.registry import Patient

BUILT_IN = "built-in"
EXTERNAL = "external"
SPECIALIST_KINDS = frozenset({"specialist_care", "psychiatry", "rehabilitation"})
PRIMARY_DEADLINE_HOURS, SPECIALIST_DEADLINE_HOURS = 24, 72
DEFAULT_HORIZON_DAYS = 60
REMINDER_BEFORE = timedelta(hours=24)
TIME_ID = re.compile(r"^(\d{8}T\d{4}Z)-[A-Za-z0-9_]{1,48}\Z", re.ASCII)
UNIT_ID = re.compile(r"^[A-Za-z0-9-]{1,40}\Z")
TYPE_ID = re.compile(r"^[a-z0-9-]{1,64}\Z")
REGION_CODE = re.compile(r"^\d{2}\Z", re.ASCII)
SEPARATOR = "~"


class NotEligible(Forbidden):
    code = "not-eligible"
    title = "The patient is not eligible for this booking type"


class NotOnTheWeb(Conflict):
    code = "not-allowed-on-the-web"
    title = "The clinic does not allow this on the web; contact the clinic"


class DeadlinePassed(Conflict):
    code = "deadline-passed"
    title = "Too late to change this appointment on the web; contact the clinic"


class OutsideHorizon(Conflict):
    code = "outside-booking-horizon"
    title = "The time is not bookable now"


@dataclass(frozen=True, slots=True)
class BookingType:
    """A nationally agreed kind of visit, so residents can search for it across every clinic."""

    type_id: str
    name: dict[str, str]
    duration_minutes: int
    category: str

    def summary(self) -> dict[str, Any]:
        return {
            "booking_type": self.type_id,
            "name": self.name,
            "duration_minutes": self.duration_minutes,
            "category": self.category,
        }


CATALOGUE: dict[str, BookingType] = {
    t.type_id: t
    for t in (
        BookingType("covid-19-vaccination", {"sv": "Vaccination mot covid-19", "en": "COVID-19 vaccination"}, 5, "vaccination"),
        BookingType("influenza-vaccination", {"sv": "Vaccination mot influensa", "en": "Influenza vaccination"}, 5, "vaccination"),
        BookingType("pneumococcal-vaccination", {"sv": "Vaccination mot pneumokocker", "en": "Pneumococcal vaccination"}, 5, "vaccination"),
        BookingType("nurse-visit-15", {"sv": "Besök hos sjuksköterska, 15 min", "en": "Nurse visit, 15 min"}, 15, "visit"),
        BookingType("doctor-visit-30", {"sv": "Läkarbesök, 30 min", "en": "Doctor visit, 30 min"}, 30, "visit"),
        BookingType("blood-test", {"sv": "Provtagning", "en": "Blood test"}, 10, "test"),
        BookingType("cervical-screening", {"sv": "Cellprovtagning", "en": "Cervical screening"}, 15, "screening"),
    )
}  # fmt: skip


# ---- times and their ids -------------------------------------------------------------------------------------
def iso(instant: datetime) -> str:
    return instant.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def parse_instant(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def new_time_id(start: datetime, suffix: str | None = None) -> str:
    """`<start, UTC, to the minute>-<suffix>`: sorts by start, and says the start without a read."""
    return f"{start.astimezone(UTC):%Y%m%dT%H%MZ}-{suffix or uuid.uuid4().hex[:8]}"


def start_of(time_id: str) -> datetime:
    match = TIME_ID.match(time_id)
    if match is None:
        raise ValueError(time_id)
    return datetime.strptime(match.group(1), "%Y%m%dT%H%MZ").replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class TimeRef:
    """Which time: the clinic, the booking type and the time's id there. Residents see it as one string."""

    unit_hsa_id: str
    booking_type: str
    time_id: str

    @classmethod
    def parse(cls, value: Any, field: str = "time_id") -> TimeRef:
        parts = value.split(SEPARATOR) if isinstance(value, str) and len(value) <= 200 else []
        if (
            len(parts) != 3
            or not UNIT_ID.match(parts[0])
            or not TYPE_ID.match(parts[1])
            or not TIME_ID.match(parts[2])
        ):
            raise InvalidInput.for_param(field, "is not a time id from a time search")
        return cls(*parts)

    def __str__(self) -> str:
        return SEPARATOR.join((self.unit_hsa_id, self.booking_type, self.time_id))

    @property
    def start(self) -> datetime:
        return start_of(self.time_id)


@dataclass(frozen=True, slots=True)
class Slot:
    """A bookable time as either scheduling system reports it."""

    ref: TimeRef
    start: str
    end: str
    capacity: int
    booked: int
    open: bool

    @property
    def free(self) -> int:
        return max(self.capacity - self.booked, 0) if self.open else 0

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> Slot:
        return cls(
            TimeRef(item["unit_hsa_id"], item["booking_type"], item["time_id"]),
            item["start"],
            item["end"],
            int(item["capacity"]),
            int(item["booked"]),
            bool(item["open"]),
        )


# ---- a clinic's settings for one booking type ------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Eligibility:
    """Who may book (rule 22): age on the day of the visit, from the identifier; region of registration."""

    min_age: int | None = None
    max_age: int | None = None
    regions: tuple[str, ...] = ()

    def refusal(self, patient: Patient, visit_day: date) -> str | None:
        age = patient.age_on(visit_day)
        if self.min_age is not None and age < self.min_age:
            return f"This time is for those aged {self.min_age} or over on the day of the visit"
        if self.max_age is not None and age > self.max_age:
            return f"This time is for those aged {self.max_age} or under on the day of the visit"
        if self.regions and patient.region_code not in self.regions:
            return "This time is for those registered in the clinic's region"
        return None

    def as_json(self) -> dict[str, Any]:
        return {"min_age": self.min_age, "max_age": self.max_age, "regions": list(self.regions)}


@dataclass(frozen=True, slots=True)
class Settings:
    unit_hsa_id: str
    unit_name: str
    region: str | None
    lat: float
    lon: float
    booking_type: str
    active: bool
    system: str
    deadline_hours: int
    horizon_days: int
    web_book: bool
    web_rebook: bool
    web_cancel: bool
    max_active: int
    eligibility: Eligibility

    @property
    def searchable(self) -> bool:
        return self.active and self.web_book

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> Settings:
        web, rules = item["web"], item.get("eligibility") or {}
        return cls(
            unit_hsa_id=item["unit_hsa_id"],
            unit_name=item["unit_name"],
            region=item.get("region"),
            lat=float(item["lat"]),
            lon=float(item["lon"]),
            booking_type=item["booking_type"],
            active=bool(item["active"]),
            system=item["system"],
            deadline_hours=int(item["deadline_hours"]),
            horizon_days=int(item["horizon_days"]),
            web_book=bool(web["book"]),
            web_rebook=bool(web["rebook"]),
            web_cancel=bool(web["cancel"]),
            max_active=int(item["max_active"]),
            eligibility=Eligibility(
                _int_or_none(rules.get("min_age")),
                _int_or_none(rules.get("max_age")),
                tuple(rules.get("regions") or ()),
            ),
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "unit_hsa_id": self.unit_hsa_id,
            "unit_name": self.unit_name,
            "region": self.region,
            "lat": self.lat,
            "lon": self.lon,
            "booking_type": self.booking_type,
            "active": self.active,
            "system": self.system,
            "deadline_hours": self.deadline_hours,
            "horizon_days": self.horizon_days,
            "web": {"book": self.web_book, "rebook": self.web_rebook, "cancel": self.web_cancel},
            "max_active": self.max_active,
            "eligibility": self.eligibility.as_json(),
        }

    # ---- the rules a change must pass ----------------------------------------------------------------------
    def check_bookable(self, patient: Patient, start: datetime, now: datetime, *, rebooking: bool) -> None:
        """The server decides, whatever the client sent: open on the web, within the horizon, eligible."""
        if not self.active or not (self.web_rebook if rebooking else self.web_book):
            raise NotOnTheWeb("The clinic does not take this on the web; contact the clinic")
        if start <= now:
            raise OutsideHorizon("The time has already begun")
        if start > now + timedelta(days=self.horizon_days):
            raise OutsideHorizon(f"Times can be booked at most {self.horizon_days} days ahead")
        refusal = self.eligibility.refusal(patient, start.astimezone(STOCKHOLM).date())
        if refusal:
            raise NotEligible(refusal)

    def check_changeable(self, start: datetime, now: datetime, *, cancelling: bool) -> None:
        """Rule 21: switchable, and not later than the deadline before the visit."""
        if not (self.web_cancel if cancelling else self.web_rebook):
            raise NotOnTheWeb("The clinic does not allow this on the web; contact the clinic")
        if now > start - timedelta(hours=self.deadline_hours):
            raise DeadlinePassed(
                f"Appointments can be changed on the web until {self.deadline_hours} hours before the visit",
                deadline_hours=self.deadline_hours,
            )


def settings_from_body(body: Mapping[str, Any], unit: Mapping[str, Any], booking_type: str) -> Settings:
    """A local administrator's settings, with the defaults of rule 21 (deadline by the kind of care)."""
    default_deadline = (
        SPECIALIST_DEADLINE_HOURS if unit.get("kind") in SPECIALIST_KINDS else PRIMARY_DEADLINE_HOURS
    )
    web = body.get("web", {})
    if not isinstance(web, dict):
        raise InvalidInput.for_param("web", "must be an object with book, rebook and cancel")
    # Left out or null is "none"; any other value of a wrong type is refused (false, {} or "" were taken as none).
    rules = {} if body.get("eligibility") is None else body["eligibility"]
    if not isinstance(rules, dict):
        raise InvalidInput.for_param("eligibility", "must be an object")
    regions = [] if rules.get("regions") is None else rules["regions"]
    if not isinstance(regions, list) or not all(isinstance(r, str) and REGION_CODE.match(r) for r in regions):
        raise InvalidInput.for_param("eligibility.regions", "must be a list of two-digit region codes")
    min_age = _number(rules, "min_age", 0, 130, None, "eligibility.")
    max_age = _number(rules, "max_age", 0, 130, None, "eligibility.")
    if min_age is not None and max_age is not None and min_age > max_age:
        raise InvalidInput.for_param("eligibility.max_age", "must not be below min_age")
    system = body.get("system", BUILT_IN)
    if system not in (BUILT_IN, EXTERNAL):
        raise InvalidInput.for_param("system", f"must be {BUILT_IN} or {EXTERNAL}")
    return Settings(
        unit_hsa_id=unit["hsa_id"],
        unit_name=unit["name"],
        region=unit.get("region"),
        lat=float(unit["lat"]),
        lon=float(unit["lon"]),
        booking_type=booking_type,
        active=_flag(body, "active", True),
        system=system,
        deadline_hours=_required(_number(body, "deadline_hours", 0, 14 * 24, default_deadline)),
        horizon_days=_required(_number(body, "horizon_days", 1, 366, DEFAULT_HORIZON_DAYS)),
        web_book=_flag(web, "book", True, "web."),
        web_rebook=_flag(web, "rebook", True, "web."),
        web_cancel=_flag(web, "cancel", True, "web."),
        max_active=_required(_number(body, "max_active", 1, 10, 1)),
        eligibility=Eligibility(min_age, max_age, tuple(regions)),
    )


def _flag(body: Mapping[str, Any], name: str, default: bool, prefix: str = "") -> bool:
    value = body.get(name, default)
    if not isinstance(value, bool):
        raise InvalidInput.for_param(prefix + name, "must be true or false")
    return value


def _number(
    body: Mapping[str, Any], name: str, low: int, high: int, default: int | None, prefix: str = ""
) -> int | None:
    value = body.get(name)
    if value is None:  # left out or null: the default (an explicit null used to fail as a 500)
        return default
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise InvalidInput.for_param(prefix + name, f"must be an integer from {low} to {high}")
    return value


def _required(value: int | None) -> int:
    assert value is not None  # a default was given
    return value


def _int_or_none(value: Any) -> int | None:
    return None if value is None else int(value)
