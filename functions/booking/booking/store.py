"""The booking table: bookable times, appointments and each patient's active-booking count, changed only
in transactions whose conditions make double booking impossible whatever the concurrency (rule 20).

Keys (one table):
    TIMES#<unit>#<booking type>#<yyyy-mm-dd>  <start>#<time id>     a bookable time: capacity, booked, open
    PATIENT#<id>                              APPT#<appointment id> an appointment, under its patient
    PATIENT#<id>                              ACTIVE#<booking type> how many active bookings of that type
A clinic's day of one booking type is one partition, so a rush on one clinic spreads over its days and the
conditional writes of one time contend only with bookings of that same time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eservices_core.errors import Conflict
from eservices_core.table import ConditionFailed, Key, Table

ACTIVE = "active"
CANCELLED = "cancelled"
NAMES = {"#booked": "booked", "#capacity": "capacity", "#open": "open"}


class TimeUnavailable(Conflict):
    code = "time-unavailable"
    title = "The time is fully booked or not open for booking"


class AlreadyBooked(Conflict):
    code = "already-booked"
    title = "You already have an active booking of this type"


class NotActive(Conflict):
    code = "appointment-not-active"
    title = "The appointment is not active"


def time_key(unit_hsa_id: str, booking_type: str, start: str, time_id: str) -> Key:
    return f"TIMES#{unit_hsa_id}#{booking_type}#{start[:10]}", f"{start}#{time_id}"


def appointment_key(patient_id: str, appointment_id: str) -> Key:
    return f"PATIENT#{patient_id}", f"APPT#{appointment_id}"


def active_key(patient_id: str, booking_type: str) -> Key:
    return f"PATIENT#{patient_id}", f"ACTIVE#{booking_type}"


@dataclass(frozen=True, slots=True)
class TimeRef:
    unit_hsa_id: str
    booking_type: str
    start: str  # ISO instant, UTC
    time_id: str

    @property
    def key(self) -> Key:
        return time_key(self.unit_hsa_id, self.booking_type, self.start, self.time_id)

    def as_json(self) -> dict[str, str]:
        return {
            "unit_hsa_id": self.unit_hsa_id,
            "booking_type": self.booking_type,
            "start": self.start,
            "time_id": self.time_id,
        }


class BookingStore:
    def __init__(self, table: Table) -> None:
        self.table = table

    def publish(self, time: TimeRef, *, end: str, capacity: int) -> None:
        """A new bookable time, open for web booking."""
        pk, sk = time.key
        item = {
            "pk": pk,
            "sk": sk,
            **time.as_json(),
            "end": end,
            "capacity": capacity,
            "booked": 0,
            "open": True,
        }
        self.table.put_item(item, "attribute_not_exists(pk)")

    def set_open(self, time: TimeRef, *, is_open: bool) -> None:
        """Open or close a time for web booking; what is booked stays booked."""
        self.table.transact(
            [
                self.table.update(
                    time.key,
                    "SET #open = :open",
                    "attribute_exists(pk)",
                    names={"#open": "open"},
                    open=is_open,
                )
            ]
        )

    def times(self, unit_hsa_id: str, booking_type: str, day: str) -> list[dict[str, Any]]:
        """One Query: the unit's times of a booking type on a day, in start order."""
        return self.table.query_all(f"TIMES#{unit_hsa_id}#{booking_type}#{day}")

    def book(self, patient_id: str, appointment_id: str, time: TimeRef, *, max_active: int) -> dict[str, Any]:
        """One transaction: the time gains a booking if open and not full, the patient's active count of the
        type stays within `max_active`, the appointment is stored. 409 naming which condition failed."""
        pk, sk = appointment_key(patient_id, appointment_id)
        appointment: dict[str, Any] = {
            "pk": pk,
            "sk": sk,
            "appointment_id": appointment_id,
            "patient_id": patient_id,
        }
        appointment |= {"time": time.as_json(), "status": ACTIVE}
        try:
            self.table.transact(
                [
                    self._take(time),
                    self.table.update(
                        active_key(patient_id, time.booking_type),
                        "ADD #n :one",
                        "attribute_not_exists(#n) OR #n < :max",
                        names={"#n": "n"},
                        one=1,
                        max=max_active,
                    ),
                    self.table.put(appointment, "attribute_not_exists(pk)"),
                ]
            )
        except ConditionFailed as failed:
            if 1 in failed.indexes:  # the more useful answer when the time is full too
                raise AlreadyBooked("You already have an active booking of this type") from None
            raise TimeUnavailable("The time is fully booked or not open for booking") from None
        return appointment

    def cancel(self, patient_id: str, appointment_id: str, time: TimeRef) -> None:
        """One transaction: the appointment is cancelled (if active), its time and the count give back one."""
        try:
            self.table.transact(
                [
                    self.table.update(
                        appointment_key(patient_id, appointment_id),
                        "SET #status = :cancelled",
                        "#status = :active",
                        names={"#status": "status"},
                        cancelled=CANCELLED,
                        active=ACTIVE,
                    ),
                    self._give_back(time),
                    self.table.update(
                        active_key(patient_id, time.booking_type),
                        "ADD #n :minus",
                        names={"#n": "n"},
                        minus=-1,
                    ),
                ]
            )
        except ConditionFailed:
            raise NotActive("Only an active appointment can be cancelled") from None

    def rebook(self, patient_id: str, appointment_id: str, old: TimeRef, new: TimeRef) -> None:
        """One transaction: the new time is taken and the old one released, or neither (rule 21's rebooking
        never leaves a resident without their time)."""
        if old.booking_type != new.booking_type:
            raise TimeUnavailable("A time can only be rebooked to a time of the same booking type")
        try:
            self.table.transact(
                [
                    self._take(new),
                    self._give_back(old),
                    self.table.update(
                        appointment_key(patient_id, appointment_id),
                        "SET #time = :new",
                        "#status = :active AND #time.time_id = :old_id",
                        names={"#status": "status", "#time": "time"},
                        new=new.as_json(),
                        active=ACTIVE,
                        old_id=old.time_id,
                    ),
                ]
            )
        except ConditionFailed as failed:
            if 2 in failed.indexes:  # the appointment moved or ended: whatever the times say
                raise NotActive("Only an active appointment can be rebooked") from None
            raise TimeUnavailable("The new time is fully booked or not open for booking") from None

    def _take(self, time: TimeRef) -> dict[str, Any]:
        return self.table.update(
            time.key,
            "SET #booked = #booked + :one",
            "#open = :yes AND #booked < #capacity",
            names=NAMES,
            one=1,
            yes=True,
        )

    def _give_back(self, time: TimeRef) -> dict[str, Any]:
        return self.table.update(
            time.key,
            "SET #booked = #booked - :one",
            "#booked > :zero",
            names={"#booked": "booked"},
            one=1,
            zero=0,
        )
