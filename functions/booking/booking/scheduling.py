"""The port to whatever system holds a clinic's times, shaped after RIVTA crm:scheduling (available times,
make, update and cancel a booking), and its two adapters: the platform's own store, and a clinic's external
booking system reached through the national service platform. The resident API is the same for both.

The platform keeps its own record of every appointment either way (the resident's one list, rule 23, and
reminders); with an external system the external booking is made first and undone if the record cannot be
stored.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any, Protocol

from aws_lambda_powertools import Logger

from booking.model import TIME_ID, Settings, Slot, TimeRef, iso, new_time_id, parse_instant
from booking.store import BookingStore, NotActive, TimeUnavailable
from eservices_core.errors import ServiceUnavailable

logger = Logger(child=True)


class SchedulingSystem(Protocol):
    holds_times_here: bool  # whether the store's transaction takes and gives back the time itself

    def free_slots(self, settings: Settings, first: datetime, last: datetime, limit: int) -> list[Slot]: ...

    def slot(self, ref: TimeRef, stored: dict[str, Any] | None) -> Slot | None: ...

    def make(self, appointment: dict[str, Any], slot: Slot, identity: str) -> dict[str, Any]: ...

    def move(self, appointment: dict[str, Any], slot: Slot) -> None: ...

    def cancel(self, appointment: dict[str, Any]) -> None: ...


class BuiltInScheduling:
    """Times in the booking table; taking and giving back happen in the appointment's own transaction."""

    holds_times_here = True

    def __init__(self, store: BookingStore) -> None:
        self.store = store

    def free_slots(self, settings: Settings, first: datetime, last: datetime, limit: int) -> list[Slot]:
        items = self.store.times(
            settings.unit_hsa_id,
            settings.booking_type,
            new_time_id(first, "0"),
            new_time_id(last, "~"),
            free_only=True,
            limit=limit,
        )
        return [Slot.from_item(i) for i in items]

    def slot(self, ref: TimeRef, stored: dict[str, Any] | None) -> Slot | None:
        return Slot.from_item(stored) if stored else None

    def make(self, appointment: dict[str, Any], slot: Slot, identity: str) -> dict[str, Any]:
        return {}

    def move(self, appointment: dict[str, Any], slot: Slot) -> None:
        return None

    def cancel(self, appointment: dict[str, Any]) -> None:
        return None


class ExternalScheduling:
    """A clinic's own booking system, called through the service platform with the clinic's HSA-ID as logical
    address. Operations and fields follow crm:scheduling (GetAvailableTimeslots, MakeBooking, UpdateBooking,
    CancelBooking; resultCode OK / ERROR with an errorCode), carried as JSON. The personal identity goes in
    the body of MakeBooking only (the clinic's system must know whom it books), never in a URL or a log."""

    holds_times_here = False

    def __init__(self, platform_url: str, *, timeout_seconds: float = 5.0) -> None:
        if not platform_url.startswith(("https://", "http://")):
            raise ValueError("the service platform URL must be http(s)")
        self.url = platform_url.rstrip("/")
        self.timeout = timeout_seconds

    def free_slots(self, settings: Settings, first: datetime, last: datetime, limit: int) -> list[Slot]:
        answer = self._call(
            "GetAvailableTimeslots",
            settings.unit_hsa_id,
            healthcareFacility=settings.unit_hsa_id,
            timeTypeId=settings.booking_type,
            startDateInclusive=iso(first),
            endDateInclusive=iso(last),
        )
        slots = []
        for timeslot in answer.get("timeslots", []):
            slot = _slot(settings.unit_hsa_id, settings.booking_type, timeslot)
            if slot is not None and first <= parse_instant(slot.start) <= last and slot.free > 0:
                slots.append(slot)
        return sorted(slots, key=lambda s: s.start)[:limit]

    def slot(self, ref: TimeRef, stored: dict[str, Any] | None) -> Slot | None:
        """The time as the clinic's system reports it now (its day asked for, the id matched)."""
        start = ref.start
        day = start.replace(hour=0, minute=0)
        answer = self._call(
            "GetAvailableTimeslots",
            ref.unit_hsa_id,
            healthcareFacility=ref.unit_hsa_id,
            timeTypeId=ref.booking_type,
            startDateInclusive=iso(day),
            endDateInclusive=iso(day + timedelta(days=1)),
        )
        for timeslot in answer.get("timeslots", []):
            slot = _slot(ref.unit_hsa_id, ref.booking_type, timeslot)
            if slot is not None and slot.ref == ref:
                return slot
        return None

    def make(self, appointment: dict[str, Any], slot: Slot, identity: str) -> dict[str, Any]:
        answer = self._call(
            "MakeBooking",
            slot.ref.unit_hsa_id,
            healthcareFacility=slot.ref.unit_hsa_id,
            timeTypeId=slot.ref.booking_type,
            timeslotId=_external_id(slot.ref),
            subjectOfCareId=identity,
            externalReference=appointment["appointment_id"],
        )
        return {"external_booking_id": str(answer["bookingId"])}

    def move(self, appointment: dict[str, Any], slot: Slot) -> None:
        self._call(
            "UpdateBooking",
            slot.ref.unit_hsa_id,
            bookingId=appointment["external_booking_id"],
            timeslotId=_external_id(slot.ref),
        )

    def cancel(self, appointment: dict[str, Any]) -> None:
        self._call("CancelBooking", appointment["unit_hsa_id"], bookingId=appointment["external_booking_id"])

    def _call(self, operation: str, logical_address: str, **body: Any) -> dict[str, Any]:
        # Imported here, not at module level: urllib.request (http.client, email, ...) costs the booking API's
        # cold start several ms, and only clinics with their own booking system need it (make bench).
        import urllib.error
        import urllib.request

        request = urllib.request.Request(  # noqa: S310 - the scheme is checked in __init__
            f"{self.url}/{operation}",
            data=json.dumps({"logicalAddress": logical_address, **body}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                answer: dict[str, Any] = json.loads(response.read())
        except (urllib.error.URLError, TimeoutError, ValueError) as error:
            logger.warning(
                "clinic booking system unavailable",
                extra={"operation": operation, "error": type(error).__name__},
            )
            raise ServiceUnavailable("The clinic's booking system does not answer; try again later", retry_after=30) from None  # fmt: skip
        if answer.get("resultCode") == "ERROR":
            code = answer.get("errorCode")
            if code == "TIMESLOT_UNAVAILABLE":
                raise TimeUnavailable("The clinic's booking system says the time is no longer free")
            if code == "BOOKING_NOT_FOUND":
                raise NotActive("The clinic's booking system has no such booking")
            logger.warning("clinic booking system refused", extra={"operation": operation, "code": code})
            raise ServiceUnavailable("The clinic's booking system could not do this; try again later", retry_after=30)  # fmt: skip
        return answer


def _external_id(ref: TimeRef) -> str:
    return ref.time_id.split("-", 1)[1]


def _slot(unit_hsa_id: str, booking_type: str, timeslot: dict[str, Any]) -> Slot | None:
    """A crm:scheduling timeslot as a Slot, or None when it cannot be one (logged by kind, not content)."""
    try:
        start, end = (
            parse_instant(timeslot["startTimeInclusive"]),
            parse_instant(timeslot["endTimeExclusive"]),
        )
        time_id = new_time_id(start, str(timeslot["timeslotId"]))
        if not TIME_ID.match(time_id):
            raise ValueError("timeslot id")
        available = int(timeslot.get("numberOfAvailable", 1))
    except (KeyError, TypeError, ValueError):
        logger.warning("unusable timeslot from a clinic booking system", extra={"unit": unit_hsa_id})
        return None
    return Slot(TimeRef(unit_hsa_id, booking_type, time_id), iso(start), iso(end), available, 0, True)
