"""The booking e-service's operations: clinics set up and publish times; residents search, book, rebook and
cancel. Every patient operation receives an `AccessGrant` already decided by the access policy (and
audited). The rules of the clinic (rules 21, 22) are checked here, on the server, whatever a client sent;
rule 20 is the store's transaction.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from booking.model import (
    BUILT_IN,
    CATALOGUE,
    EXTERNAL,
    Settings,
    Slot,
    TimeRef,
    iso,
    new_time_id,
    parse_instant,
    settings_from_body,
)
from booking.scheduling import SchedulingSystem
from booking.store import (
    ACTIVE,
    IDEMPOTENCY_HOURS,
    BookingStore,
    DuplicateRequest,
    TimeUnavailable,
    reminder_fields,
)
from eservices_core.clock import STOCKHOLM, now_utc, stockholm_midnight, today_stockholm
from eservices_core.errors import Conflict, InvalidInput, NotFound, ServiceUnavailable
from eservices_core.geo import distance_km
from eservices_core.outbox import Outbox, event_entry, outbox_item
from eservices_core.registry import Patient
from eservices_core.requests import string_field
from eservices_core.table import Table

if TYPE_CHECKING:
    from eservices_core.access import AccessGrant
    from eservices_core.registry import Commission

EVENT_SOURCE = "eservices.booking"
MAX_SEARCH_DAYS = 31
MAX_SEARCH_CLINICS = 20
DEFAULT_RADIUS_KM, MAX_RADIUS_KM = 50, 200
MAX_TIMES_PER_REQUEST = 1000


class IdempotencyKeyReused(Conflict):
    code = "idempotency-key-reused"
    title = "The Idempotency-Key was used for another request"


class HeldElsewhere(Conflict):
    code = "times-held-by-external-system"
    title = "This booking type's times are kept in the clinic's own booking system"


@dataclass(frozen=True, slots=True)
class Search:
    booking_type: str
    first: datetime
    last: datetime
    clinic_id: str | None = None
    region: str | None = None
    near: tuple[float, float] | None = None
    radius_km: float = DEFAULT_RADIUS_KM
    limit: int = 20


@dataclass
class Booking:
    store: BookingStore
    directory: Table
    systems: dict[str, SchedulingSystem]
    outbox: Outbox
    event_bus_name: str

    # ---- residents: search -----------------------------------------------------------------------------------
    def search(self, search: Search, patient: Patient | None) -> list[dict[str, Any]]:
        """Free times of a type across clinics: nearest clinics first from a point, else the earliest times.
        One Query of the type's clinics, then one read of times per clinic (at most MAX_SEARCH_CLINICS)."""
        now = now_utc()
        offers = [Settings.from_item(o) for o in self.store.offers(search.booking_type, search.region)]
        if search.clinic_id:
            offers = [o for o in offers if o.unit_hsa_id == search.clinic_id]
        distances: dict[str, float] = {}
        if search.near:
            lat, lon = search.near
            distances = {o.unit_hsa_id: distance_km(lat, lon, o.lat, o.lon) for o in offers}
            offers = sorted(
                (o for o in offers if distances[o.unit_hsa_id] <= search.radius_km),
                key=lambda o: distances[o.unit_hsa_id],
            )
        found: list[tuple[Settings, Slot]] = []
        for settings in offers[:MAX_SEARCH_CLINICS]:
            first = max(search.first, now + timedelta(minutes=1))
            last = min(search.last, now + timedelta(days=settings.horizon_days))
            if first > last or (search.near and len(found) >= search.limit):
                continue
            try:
                slots = self._system(settings.system).free_slots(settings, first, last, search.limit)
            except ServiceUnavailable:
                continue  # one clinic's system down does not hide the others' times
            found += [
                (settings, s)
                for s in slots
                if patient is None
                or settings.eligibility.refusal(patient, parse_instant(s.start).astimezone(STOCKHOLM).date())
                is None
            ]
        if not search.near:
            found.sort(key=lambda pair: (pair[1].start, pair[0].unit_name))
        return [
            _time_view(settings, slot, distances.get(settings.unit_hsa_id))
            for settings, slot in found[: search.limit]
        ]

    # ---- residents: book, rebook, cancel -----------------------------------------------------------------------
    def book(
        self, grant: AccessGrant, body: dict[str, Any], idempotency_key: str | None
    ) -> tuple[dict[str, Any], bool]:
        """Book a time for the grant's patient: (appointment, created). A retry with the same Idempotency-Key
        answers the appointment it made (created False); the same key with another request is a conflict."""
        ref = TimeRef.parse(body.get("time_id"))
        settings, slot = self._slot(ref)
        now = now_utc()
        settings.check_bookable(grant.patient, parse_instant(slot.start), now, rebooking=False)
        fingerprint = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
        idempotency = None
        if idempotency_key is not None:
            idempotency = (
                _checked_key(idempotency_key),
                fingerprint,
                int((now + timedelta(hours=IDEMPOTENCY_HOURS)).timestamp()),
            )
            used = (
                None
                if self._system(settings.system).holds_times_here
                else self.store.used_key(grant.patient_id, idempotency[0])
            )
            if used is not None:  # asked before calling a clinic's system twice
                return self._replayed(grant, used, fingerprint), False
        if slot.free == 0 and idempotency is None:  # a retry's answer is the appointment it made
            raise TimeUnavailable("The time is fully booked or not open for booking")
        appointment_id = f"{int(now.timestamp() * 1000):012x}{uuid.uuid4().hex[:12]}"
        appointment = {
            "appointment_id": appointment_id,
            "patient_id": grant.patient_id,
            "patient_name": grant.patient.name,
            "unit_hsa_id": settings.unit_hsa_id,
            "unit_name": settings.unit_name,
            "booking_type": settings.booking_type,
            "system": settings.system,
            "status": ACTIVE,
            "booked_at": iso(now),
            "booked_by": _author(grant),
            **_time_fields(slot, appointment_id, now),
        }
        system = self._system(settings.system)
        appointment |= system.make(appointment, slot, grant.patient.identity)
        events = [outbox_item(self._event("booking.booked", appointment))]
        try:
            self.store.book(
                appointment,
                take=ref if system.holds_times_here else None,
                max_active=settings.max_active,
                idempotency=idempotency,
                events=events,
            )
        except DuplicateRequest as duplicate:
            self._undo(system, appointment)
            return self._replayed(grant, duplicate.existing, fingerprint), False
        except Conflict:
            self._undo(system, appointment)
            raise
        self.outbox.deliver(events)
        return appointment, True

    def appointments(self, grant: AccessGrant, status: str | None) -> list[dict[str, Any]]:
        if status not in (None, "active", "cancelled", "all"):
            raise InvalidInput.for_param("status", "must be active, cancelled or all")
        wanted = status or "active"
        items = self.store.appointments_of(grant.patient_id, active_only=wanted == "active")
        return [a for a in items if wanted == "all" or a["status"] == wanted]

    def appointment(self, grant: AccessGrant, appointment_id: str) -> dict[str, Any]:
        appointment = self.store.appointment(grant.patient_id, appointment_id)
        if appointment is None:
            raise NotFound("No such appointment")
        return appointment

    def rebook(self, grant: AccessGrant, appointment_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """Move an active appointment to another time of the same type at the same clinic, atomically.

        The appointment, the clinic's settings and the new time are read in one BatchGetItem (make bench)."""
        try:
            ref = TimeRef.parse(body.get("time_id"))
        except InvalidInput:
            self._active(grant, appointment_id)  # a missing or inactive appointment is answered first
            raise
        appointment, *found = self.store.appointment_settings_and_time(grant.patient_id, appointment_id, ref)
        if appointment is None:
            raise NotFound("No such appointment")
        if appointment["status"] != ACTIVE:
            raise Conflict("Only an active appointment can be changed")
        if (ref.unit_hsa_id, ref.booking_type) != (appointment["unit_hsa_id"], appointment["booking_type"]):
            raise InvalidInput.for_param("time_id", "must be a time of the same type at the same clinic")
        if ref.time_id == appointment["time_id"]:
            raise InvalidInput.for_param("time_id", "is the appointment's own time")
        settings, slot = self._slot(ref, (found[0], found[1]))
        now = now_utc()
        settings.check_changeable(parse_instant(appointment["start"]), now, cancelling=False)
        settings.check_bookable(grant.patient, parse_instant(slot.start), now, rebooking=True)
        if slot.free == 0:
            raise TimeUnavailable("The new time is fully booked or not open for booking")
        if settings.system != appointment["system"]:
            raise HeldElsewhere(
                "The clinic has moved this type to another booking system: cancel and book again"
            )
        system = self._system(appointment["system"])
        system.move(appointment, slot)
        moved = {**appointment, **_time_fields(slot, appointment_id, now), "rebooked_at": iso(now)}
        events = [outbox_item(self._event("booking.rebooked", moved))]
        changed = {k: moved[k] for k in (*_time_fields(slot, appointment_id, now), "rebooked_at")}
        self.store.rebook(appointment, changed, held_here=system.holds_times_here, events=events)
        self.outbox.deliver(events)
        return moved

    def cancel(self, grant: AccessGrant, appointment_id: str) -> dict[str, Any]:
        appointment = self._active(grant, appointment_id)
        settings = self._settings(appointment["unit_hsa_id"], appointment["booking_type"])
        now = now_utc()
        settings.check_changeable(parse_instant(appointment["start"]), now, cancelling=True)
        system = self._system(appointment["system"])  # where it was booked, whatever the type uses now
        system.cancel(appointment)
        cancelled = {**appointment, "status": "cancelled", "cancelled_at": iso(now)}
        events = [outbox_item(self._event("booking.cancelled", cancelled))]
        self.store.cancel(appointment, give_back=system.holds_times_here, at=iso(now), events=events)
        self.outbox.deliver(events)
        for field in ("remind_pk", "remind_sk"):
            cancelled.pop(field, None)
        return cancelled

    # ---- clinics ------------------------------------------------------------------------------------------------
    def unit_types(self, unit_hsa_id: str) -> dict[str, Any]:
        configured = {
            i["booking_type"]: Settings.from_item(i).as_json() for i in self.store.unit_settings(unit_hsa_id)
        }
        return {
            "items": [{**t.summary(), "settings": configured.get(t.type_id)} for t in CATALOGUE.values()],
        }

    def configure(self, commission: Commission, booking_type: str, body: dict[str, Any]) -> dict[str, Any]:
        if booking_type not in CATALOGUE:
            raise NotFound("No such booking type in the national catalogue")
        unit = self.directory.get((f"UNIT#{commission.care_unit_hsa_id}", "UNIT"), consistent=False)
        if unit is None or unit.get("removed"):
            raise Conflict("Your care unit is not in the HSA catalogue")
        settings = settings_from_body(body, unit, booking_type)
        if settings.system == EXTERNAL and EXTERNAL not in self.systems:
            raise InvalidInput.for_param(
                "system", "no service platform is configured for external booking systems"
            )
        self.store.save_settings(settings.as_json(), searchable=settings.searchable)
        return settings.as_json()

    def publish(
        self, commission: Commission, booking_type: str, body: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """One-off times (`starts`) or a recurrence (days, weekdays, first and last start of the day), each as
        long as the type's visit, with `capacity` places. Local clock times are Stockholm time."""
        settings = self._settings(commission.care_unit_hsa_id, booking_type)
        if settings.system != BUILT_IN:
            raise HeldElsewhere("Times of this type are published in the clinic's own booking system")
        capacity = body.get("capacity", 1)
        if not isinstance(capacity, int) or isinstance(capacity, bool) or not 1 <= capacity <= 1000:
            raise InvalidInput.for_param("capacity", "must be an integer from 1 to 1000")
        duration = timedelta(minutes=CATALOGUE[booking_type].duration_minutes)
        starts = _starts(body, duration)
        now = now_utc()
        if any(start <= now for start in starts):
            raise InvalidInput.for_param("starts", "must all be in the future")
        times = [
            {
                "unit_hsa_id": settings.unit_hsa_id,
                "booking_type": booking_type,
                "time_id": new_time_id(start),
                "start": iso(start),
                "end": iso(start + duration),
                "capacity": capacity,
                "booked": 0,
                "free": capacity,
                "open": True,
            }
            for start in starts
        ]
        self.store.publish(times)
        return times

    def unit_times(
        self, unit_hsa_id: str, booking_type: str, first: date, last: date
    ) -> list[dict[str, Any]]:
        self._settings(unit_hsa_id, booking_type)
        low, high = stockholm_midnight(first), stockholm_midnight(last + timedelta(days=1))
        return self.store.times(unit_hsa_id, booking_type, new_time_id(low, "0"), new_time_id(high, "0"))

    def set_open(self, commission: Commission, value: str, *, is_open: bool) -> dict[str, Any]:
        ref = TimeRef.parse(value, "timeId")
        if ref.unit_hsa_id != commission.care_unit_hsa_id:
            raise NotFound("No such time at your care unit")
        _, time = self.store.settings_and_time(ref)
        if time is None:
            raise NotFound("No such time at your care unit")
        self.store.set_open(ref, is_open=is_open)
        return {**time, "open": is_open}

    def unit_appointments(
        self, unit_hsa_id: str, day: date, booking_type: str | None
    ) -> list[dict[str, Any]]:
        first, last = (
            stockholm_midnight(day),
            stockholm_midnight(day + timedelta(days=1)) - timedelta(seconds=1),
        )
        items = self.store.unit_appointments(unit_hsa_id, iso(first), iso(last))
        return [a for a in items if booking_type is None or a["booking_type"] == booking_type]

    # ---- shared ---------------------------------------------------------------------------------------------------
    def _system(self, name: str) -> SchedulingSystem:
        system = self.systems.get(name)
        if system is None:
            raise ServiceUnavailable(
                "The clinic's booking system cannot be reached from here", retry_after=300
            )
        return system

    def _settings(self, unit_hsa_id: str, booking_type: str) -> Settings:
        item = self.store.settings(unit_hsa_id, booking_type)
        if item is None:
            raise NotFound("The clinic has not set up this booking type")
        return Settings.from_item(item)

    def _slot(
        self, ref: TimeRef, read: tuple[dict[str, Any] | None, dict[str, Any] | None] | None = None
    ) -> tuple[Settings, Slot]:
        """The clinic's settings and the time as its system has it now (one BatchGetItem for the built-in,
        none when the caller has `read` both already)."""
        settings_item, time_item = read if read is not None else self.store.settings_and_time(ref)
        if settings_item is None:
            raise NotFound("No such bookable time")
        settings = Settings.from_item(settings_item)
        slot = self._system(settings.system).slot(ref, time_item)
        if slot is None:
            raise NotFound("No such bookable time")
        return settings, slot

    def _active(self, grant: AccessGrant, appointment_id: str) -> dict[str, Any]:
        appointment = self.appointment(grant, appointment_id)
        if appointment["status"] != ACTIVE:
            raise Conflict("Only an active appointment can be changed")
        return appointment

    def _replayed(self, grant: AccessGrant, used: dict[str, Any], fingerprint: str) -> dict[str, Any]:
        if used["fingerprint"] != fingerprint:
            raise IdempotencyKeyReused("This Idempotency-Key was used for another request")
        return self.appointment(grant, used["appointment_id"])

    def _undo(self, system: SchedulingSystem, appointment: dict[str, Any]) -> None:
        """The record could not be stored: release what the clinic's system booked."""
        if "external_booking_id" in appointment:
            system.cancel(appointment)

    def _event(self, detail_type: str, appointment: dict[str, Any]) -> dict[str, Any]:
        return event_entry(EVENT_SOURCE, detail_type, event_detail(appointment), self.event_bus_name)


def event_detail(appointment: dict[str, Any]) -> dict[str, Any]:
    """What a booking event says: ids, the clinic, the type, the start and the status; never a name."""
    return {
        "appointment_id": appointment["appointment_id"],
        "patient_id": appointment["patient_id"],
        "care_unit_hsa_id": appointment["unit_hsa_id"],
        "booking_type": appointment["booking_type"],
        "start": appointment["start"],
        "status": appointment["status"],
    }


def _time_fields(slot: Slot, appointment_id: str, now: datetime) -> dict[str, Any]:
    return {
        "time_id": slot.ref.time_id,
        "start": slot.start,
        "end": slot.end,
        "unit_sk": f"{slot.start}#{appointment_id}",
        "active_sk": f"{slot.start}#{appointment_id}",
        "unit_pk": f"UNIT#{slot.ref.unit_hsa_id}",
        **reminder_fields(slot.start, appointment_id, now),
    }


def _time_view(settings: Settings, slot: Slot, distance: float | None) -> dict[str, Any]:
    view: dict[str, Any] = {
        "time_id": str(slot.ref),
        "booking_type": settings.booking_type,
        "start": slot.start,
        "end": slot.end,
        "free": slot.free,
        "clinic": {"id": settings.unit_hsa_id, "name": settings.unit_name, "region": settings.region},
    }
    if distance is not None:
        view["clinic"]["distance_km"] = round(distance, 1)
    return view


def _author(grant: AccessGrant) -> dict[str, Any]:
    return {"relation": grant.relation, "name": grant.actor.name}


def _checked_key(value: str) -> str:
    if not 1 <= len(value) <= 128 or not all(c.isascii() and (c.isalnum() or c in "-_.") for c in value):
        raise InvalidInput.for_param("Idempotency-Key", "must be 1-128 letters, digits, '-', '_' or '.'")
    return value


def local_instant(value: Any, field: str) -> datetime:
    """An ISO date-time; without an offset it is Stockholm time (what the clinic's staff mean)."""
    if not isinstance(value, str):
        raise InvalidInput.for_param(field, "must be an ISO 8601 date-time")
    try:
        instant = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput.for_param(field, "must be an ISO 8601 date-time") from None
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=STOCKHOLM)
    return instant


def day_param(value: str | None, field: str, default: date) -> date:
    if value is None:
        return default
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput.for_param(field, "must be a date, YYYY-MM-DD") from None


def _starts(body: dict[str, Any], duration: timedelta) -> list[datetime]:
    if "starts" in body:
        starts = body["starts"]
        if not isinstance(starts, list) or not 1 <= len(starts) <= MAX_TIMES_PER_REQUEST:
            raise InvalidInput.for_param("starts", f"must be a list of 1-{MAX_TIMES_PER_REQUEST} date-times")
        return [local_instant(s, f"starts[{i}]") for i, s in enumerate(starts)]
    rule = body.get("recurrence")
    if not isinstance(rule, dict):
        raise InvalidInput.for_param("starts", "or recurrence is required")
    first_day = day_param(string_field(rule, "from", max_length=10), "recurrence.from", today_stockholm())
    last_day = day_param(string_field(rule, "to", max_length=10), "recurrence.to", today_stockholm())
    weekdays = rule.get("weekdays", [1, 2, 3, 4, 5])
    if not isinstance(weekdays, list) or not all(isinstance(d, int) and 1 <= d <= 7 for d in weekdays):
        raise InvalidInput.for_param("recurrence.weekdays", "must list ISO weekdays, 1 (Monday) to 7")
    try:
        first_start = time.fromisoformat(string_field(rule, "first_start", max_length=5))
        last_start = time.fromisoformat(string_field(rule, "last_start", max_length=5))
    except ValueError:
        raise InvalidInput.for_param("recurrence.first_start", "and last_start must be HH:MM") from None
    if not first_day <= last_day <= first_day + timedelta(days=366) or first_start > last_start:
        raise InvalidInput.for_param(
            "recurrence", "must run forward, at most a year, with first_start <= last_start"
        )
    starts = []
    day = first_day
    while day <= last_day:
        if day.isoweekday() in weekdays:
            at = datetime.combine(day, first_start, tzinfo=STOCKHOLM)
            end = datetime.combine(day, last_start, tzinfo=STOCKHOLM)
            while at <= end:
                starts.append(at)
                if len(starts) > MAX_TIMES_PER_REQUEST:
                    raise InvalidInput.for_param(
                        "recurrence", f"makes more than {MAX_TIMES_PER_REQUEST} times"
                    )
                at += duration
        day += timedelta(days=1)
    if not starts:
        raise InvalidInput.for_param("recurrence", "makes no times")
    return starts
