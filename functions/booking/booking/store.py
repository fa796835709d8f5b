"""The booking table: clinics' settings, bookable times, appointments and each patient's active-booking
count, changed only in transactions whose conditions make double booking impossible whatever the
concurrency (rule 20).

Keys (one table, `BookingTable`):
    UNIT#<unit>                TYPE#<booking type>     the clinic's settings for a booking type
    OFFER#<booking type>       <unit>                  a clinic offering the type on the web (search reads these)
    TIMES#<unit>#<type>        <time id>               a bookable time: capacity, booked, open
    PATIENT#<id>               APPT#<appointment id>   an appointment, under its patient
    PATIENT#<id>               ACTIVE#<booking type>   how many active bookings of that type
    PATIENT#<id>               IDEM#<key>              an Idempotency-Key already used to book (24 h)
    OUTBOX#<shard>             <at>#<event id>         events not yet delivered (`eservices_core.outbox`)
Local index `ActiveAppointments` (pk, active_sk = <start>#<appointment id>): sparse, a patient's active
appointments in start order.
Index `UnitAppointments` (unit_pk = UNIT#<unit>, unit_sk = <start>#<appointment id>): who booked what.
Index `Reminders` (remind_pk = REMIND#<yyyy-mm-ddThh>, remind_sk = <remind at>#<appointment id>): sparse,
only active appointments whose reminder is not yet sent.

Hot partitions: a clinic's times of one type share a partition (one Query answers a date range). A booking
writes one item there (2 write units, transactional), so a partition's 1,000 units a second carry about 500
bookings a second of one clinic's type, four times a whole region's rush (125 attempts a second), and
DynamoDB splits a hot partition by sort key. Contention is per item: only bookings of the same time race,
and the loser's condition fails (409) or, if the transactions overlapped, it is retried with jitter.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from aws_lambda_powertools import Logger

from booking.model import REMINDER_BEFORE, TimeRef, iso, parse_instant
from eservices_core.errors import Conflict, ServiceUnavailable
from eservices_core.table import ConditionFailed, Key, Table

logger = Logger(child=True)
ACTIVE = "active"
CANCELLED = "cancelled"
UNIT_INDEX = "UnitAppointments"
REMINDER_INDEX = "Reminders"
ACTIVE_INDEX = "ActiveAppointments"
IDEMPOTENCY_HOURS = 24  # how long a used Idempotency-Key is kept (the service sets its IDEM# item to expire)
CONFLICT_ATTEMPTS = 4


class TimeUnavailable(Conflict):
    code = "time-unavailable"
    title = "The time is fully booked or not open for booking"


class AlreadyBooked(Conflict):
    code = "already-booked"
    title = "You already have an active booking of this type"


class NotActive(Conflict):
    code = "appointment-not-active"
    title = "The appointment is not active"


class DuplicateRequest(Exception):
    def __init__(self, existing: dict[str, Any]) -> None:
        super().__init__("idempotency key already used")
        self.existing = existing


def settings_key(unit_hsa_id: str, booking_type: str) -> Key:
    return f"UNIT#{unit_hsa_id}", f"TYPE#{booking_type}"


def offer_key(booking_type: str, unit_hsa_id: str) -> Key:
    return f"OFFER#{booking_type}", unit_hsa_id


def time_key(time: TimeRef) -> Key:
    return f"TIMES#{time.unit_hsa_id}#{time.booking_type}", time.time_id


def appointment_key(patient_id: str, appointment_id: str) -> Key:
    return f"PATIENT#{patient_id}", f"APPT#{appointment_id}"


def active_key(patient_id: str, booking_type: str) -> Key:
    return f"PATIENT#{patient_id}", f"ACTIVE#{booking_type}"


def idempotency_key(patient_id: str, key: str) -> Key:
    return f"PATIENT#{patient_id}", f"IDEM#{key}"


def reminder_fields(start: str, appointment_id: str, now: datetime) -> dict[str, str]:
    """Where the reminder waits: 24 h before the visit; none when booked less than 24 h before it."""
    remind_at = parse_instant(start) - REMINDER_BEFORE
    if remind_at <= now:
        return {}
    return {"remind_pk": f"REMIND#{remind_at:%Y-%m-%dT%H}", "remind_sk": f"{iso(remind_at)}#{appointment_id}"}


def time_ref_of(appointment: dict[str, Any]) -> TimeRef:
    return TimeRef(appointment["unit_hsa_id"], appointment["booking_type"], appointment["time_id"])


class BookingStore:
    def __init__(self, table: Table) -> None:
        self.table = table

    # ---- clinics' settings ---------------------------------------------------------------------------------
    def unit_settings(self, unit_hsa_id: str) -> list[dict[str, Any]]:
        return self.table.query_all(f"UNIT#{unit_hsa_id}", prefix="TYPE#")

    def save_settings(self, settings: dict[str, Any], *, searchable: bool) -> None:
        """The settings and the clinic's entry in the type's offers (present only while web-bookable)."""
        unit, booking_type = settings["unit_hsa_id"], settings["booking_type"]
        pk, sk = settings_key(unit, booking_type)
        opk, osk = offer_key(booking_type, unit)
        offer = (
            self.table.put({"pk": opk, "sk": osk, **settings})
            if searchable
            else self.table.delete((opk, osk))
        )
        self.table.transact([self.table.put({"pk": pk, "sk": sk, **settings}), offer])

    def offers(self, booking_type: str, region: str | None = None) -> list[dict[str, Any]]:
        """One Query (more pages for more than about 1,000 clinics): the clinics offering the type."""
        offers = self.table.query_all(f"OFFER#{booking_type}")
        return [o for o in offers if region is None or o.get("region") == region]

    # ---- times ----------------------------------------------------------------------------------------------
    def publish(self, times: Sequence[dict[str, Any]]) -> None:
        """New bookable times (fresh ids, so no condition is needed): one BatchWriteItem per 25. All or none: if
        a batch fails, those already written are withdrawn again unless someone booked one in the meantime
        (a conditional delete each: a time with a booking stays, rightly published), and the failure goes to
        the caller, so a retry does not publish them twice."""
        items = [{"pk": time_key(TimeRef(t["unit_hsa_id"], t["booking_type"], t["time_id"]))[0],
                  "sk": t["time_id"], **t} for t in times]  # fmt: skip
        try:
            self.table.put_many(items)
        except ServiceUnavailable:
            self._withdraw(items)
            raise

    def _withdraw(self, items: Sequence[dict[str, Any]]) -> None:
        left = 0
        for item in items:
            try:
                self.table.delete_item(
                    (item["pk"], item["sk"]), "attribute_not_exists(pk) OR booked = :none", none=0
                )
            except ConditionFailed:
                continue  # booked meanwhile: it stays
            except ServiceUnavailable:
                left += 1
        if left:
            logger.error("published times could not be withdrawn", extra={"times": left})

    def settings_and_time(self, time: TimeRef) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        """One BatchGetItem: the clinic's settings for the time's type, and the time."""
        keys = [settings_key(time.unit_hsa_id, time.booking_type), time_key(time)]
        found = self.table.get_many(keys)
        return found.get(keys[0]), found.get(keys[1])

    def appointment_settings_and_time(
        self, patient_id: str, appointment_id: str, time: TimeRef
    ) -> tuple[dict[str, Any] | None, dict[str, Any] | None, dict[str, Any] | None]:
        """One BatchGetItem: an appointment, and the clinic's settings and the time it is to move to."""
        keys = [
            appointment_key(patient_id, appointment_id),
            settings_key(time.unit_hsa_id, time.booking_type),
            time_key(time),
        ]
        found = self.table.get_many(keys)
        return found.get(keys[0]), found.get(keys[1]), found.get(keys[2])

    def settings(self, unit_hsa_id: str, booking_type: str) -> dict[str, Any] | None:
        return self.table.get(settings_key(unit_hsa_id, booking_type))

    def times(
        self,
        unit_hsa_id: str,
        booking_type: str,
        first: str,
        last: str,
        *,
        free_only: bool = False,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        """The unit's times of a type with ids between `first` and `last` (time ids sort by start); one Query
        a page. `free_only`: open with a place left (read eventually consistent, checked again on booking)."""
        where = [("open", "=", True), ("free", ">", 0)] if free_only else []
        items: list[dict[str, Any]] = []
        start: dict[str, Any] | None = None
        while True:
            page = self.table.query(
                f"TIMES#{unit_hsa_id}#{booking_type}",
                between=(first, last),
                where=where,
                start=start,
                consistent=not free_only,
            )
            items += page.items
            if not page.last_key or (limit is not None and len(items) >= limit):
                return items[:limit]
            start = page.last_key

    def set_open(self, time: TimeRef, *, is_open: bool) -> None:
        """Open or close a time for web booking; what is booked stays booked."""
        self.table.transact(
            [self.table.update(time_key(time), "SET #open = :open", "attribute_exists(pk)", names={"#open": "open"}, open=is_open)]
        )  # fmt: skip

    # ---- appointments ---------------------------------------------------------------------------------------
    def appointment(self, patient_id: str, appointment_id: str) -> dict[str, Any] | None:
        return self.table.get(appointment_key(patient_id, appointment_id))

    def appointments_of(self, patient_id: str, *, active_only: bool = False) -> list[dict[str, Any]]:
        """The patient's appointments at every clinic (rule 23), in start order. The active ones come from
        the sparse local index, so years of cancelled and past appointments are not read to show them."""
        if not active_only:
            items = self.table.query_all(f"PATIENT#{patient_id}", prefix="APPT#")
            return sorted(items, key=lambda a: (a["start"], a["appointment_id"]))
        active: list[dict[str, Any]] = []
        start: dict[str, Any] | None = None
        while True:
            page = self.table.query(
                f"PATIENT#{patient_id}", index=ACTIVE_INDEX, sort_key="active_sk", start=start
            )
            active += page.items
            if not page.last_key:
                return active
            start = page.last_key

    def unit_appointments(self, unit_hsa_id: str, first: str, last: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        start: dict[str, Any] | None = None
        while True:
            page = self.table.query(
                f"UNIT#{unit_hsa_id}",
                index=UNIT_INDEX,
                partition_key="unit_pk",
                sort_key="unit_sk",
                between=(first, last + "~"),
                start=start,
            )
            items += page.items
            if not page.last_key:
                return items
            start = page.last_key

    def used_key(self, patient_id: str, key: str) -> dict[str, Any] | None:
        return self.table.get(idempotency_key(patient_id, key))

    def book(
        self,
        appointment: dict[str, Any],
        *,
        take: TimeRef | None,
        max_active: int,
        idempotency: tuple[str, str, int] | None,
        events: Sequence[dict[str, Any]] = (),
    ) -> None:
        """One transaction: the time gains a booking if open and not full (`take`; None when an external
        system holds the time), the patient's active count of the type stays within `max_active`, the
        appointment, its Idempotency-Key record (key, request fingerprint, expiry) and its events are stored.
        409 naming the failed condition; DuplicateRequest when the key was used before."""
        patient_id, booking_type = appointment["patient_id"], appointment["booking_type"]
        pk, sk = appointment_key(patient_id, appointment["appointment_id"])
        actions = [self._take(take)] if take else []
        count_at = len(actions)
        actions.append(
            self.table.update(
                active_key(patient_id, booking_type),
                "ADD #n :one",
                "attribute_not_exists(#n) OR #n < :max",
                names={"#n": "n"},
                one=1,
                max=max_active,
            )
        )
        actions.append(self.table.put({"pk": pk, "sk": sk, **appointment}, "attribute_not_exists(pk)"))
        key_at = len(actions)
        if idempotency:
            key, fingerprint, expires = idempotency
            ipk, isk = idempotency_key(patient_id, key)
            record = {"pk": ipk, "sk": isk, "fingerprint": fingerprint, "expires_at": expires}
            actions.append(
                self.table.put(
                    record | {"appointment_id": appointment["appointment_id"]}, "attribute_not_exists(pk)"
                )
            )
        actions += [self.table.put(event) for event in events]
        try:
            self.table.transact(actions, attempts=CONFLICT_ATTEMPTS)
        except ConditionFailed as failed:
            if idempotency and key_at in failed.indexes:
                existing = self.used_key(patient_id, idempotency[0])
                if existing is not None:
                    raise DuplicateRequest(existing) from None
            if count_at in failed.indexes:  # the more useful answer when the time is full too
                raise AlreadyBooked("You already have an active booking of this type") from None
            raise TimeUnavailable("The time is fully booked or not open for booking") from None

    def cancel(
        self, appointment: dict[str, Any], *, give_back: bool, at: str, events: Sequence[dict[str, Any]] = ()
    ) -> None:
        """One transaction: the appointment is cancelled (if still active), its time (`give_back`, when held
        here) and the patient's count give back one; its reminder is withdrawn."""
        patient_id = appointment["patient_id"]
        actions = [
            self.table.update(
                appointment_key(patient_id, appointment["appointment_id"]),
                "SET #status = :cancelled, cancelled_at = :at REMOVE remind_pk, remind_sk, active_sk",
                "#status = :active",
                names={"#status": "status"},
                cancelled=CANCELLED,
                active=ACTIVE,
                at=at,
            ),
            self.table.update(active_key(patient_id, appointment["booking_type"]), "ADD #n :minus", names={"#n": "n"}, minus=-1),
        ]  # fmt: skip
        if give_back:
            actions.append(self._give_back(time_ref_of(appointment)))
        actions += [self.table.put(event) for event in events]
        try:
            self.table.transact(actions, attempts=CONFLICT_ATTEMPTS)
        except ConditionFailed:
            raise NotActive("Only an active appointment can be cancelled") from None

    def rebook(
        self,
        appointment: dict[str, Any],
        moved: dict[str, Any],
        *,
        held_here: bool,
        events: Sequence[dict[str, Any]] = (),
    ) -> None:
        """One transaction: the new time is taken and the old one released, or neither (rule 21's rebooking
        never leaves a resident without their time). `moved`: the appointment's new time fields."""
        old, new = time_ref_of(appointment), time_ref_of({**appointment, **moved})
        if old.booking_type != new.booking_type or old.unit_hsa_id != new.unit_hsa_id:
            raise TimeUnavailable(
                "An appointment can only be moved to a time of the same type at the same clinic"
            )
        names = {"#status": "status", "#tid": "time_id"}
        fields = {k: v for k, v in moved.items() if k not in ("remind_pk", "remind_sk")}
        sets = [f"#f{i} = :f{i}" for i in range(len(fields))]
        names |= {f"#f{i}": name for i, name in enumerate(fields)}
        values = {f"f{i}": value for i, value in enumerate(fields.values())}
        reminder = {k: moved[k] for k in ("remind_pk", "remind_sk") if k in moved}
        sets += [f"{k} = :{k}" for k in reminder]
        expression = "SET " + ", ".join(sets) + ("" if reminder else " REMOVE remind_pk, remind_sk")
        update = self.table.update(
            appointment_key(appointment["patient_id"], appointment["appointment_id"]),
            expression,
            "#status = :active AND #tid = :old_id",
            names=names,
            active=ACTIVE,
            old_id=old.time_id,
            **values,
            **reminder,
        )
        actions = [self._take(new), self._give_back(old), update] if held_here else [update]
        actions += [self.table.put(event) for event in events]
        try:
            self.table.transact(actions, attempts=CONFLICT_ATTEMPTS)
        except ConditionFailed as failed:
            if (
                actions.index(update) in failed.indexes
            ):  # the appointment moved or ended, whatever the times say
                raise NotActive("Only an active appointment can be rebooked") from None
            raise TimeUnavailable("The new time is fully booked or not open for booking") from None

    # ---- reminders ------------------------------------------------------------------------------------------
    def due_reminders(self, hour: datetime, now: datetime) -> list[dict[str, Any]]:
        page = self.table.query(
            f"REMIND#{hour:%Y-%m-%dT%H}",
            index=REMINDER_INDEX,
            partition_key="remind_pk",
            sort_key="remind_sk",
            between=("0", iso(now) + "~"),
        )
        return page.items

    def mark_reminded(self, appointment: dict[str, Any], at: str, events: Sequence[dict[str, Any]]) -> bool:
        """Take the appointment out of the reminder index, with the reminder's event; False when it was
        cancelled, moved or reminded meanwhile."""
        update = self.table.update(
            appointment_key(appointment["patient_id"], appointment["appointment_id"]),
            "SET reminded_at = :at REMOVE remind_pk, remind_sk",
            "#status = :active AND remind_sk = :due",
            names={"#status": "status"},
            at=at,
            active=ACTIVE,
            due=appointment["remind_sk"],
        )
        try:
            self.table.transact([update, *(self.table.put(event) for event in events)])
        except ConditionFailed:
            return False
        return True

    # ---- the conditions of rule 20 ---------------------------------------------------------------------------
    def _take(self, time: TimeRef) -> dict[str, Any]:
        return self.table.update(
            time_key(time),
            "SET #booked = #booked + :one, #free = #free - :one",
            "#open = :yes AND #booked < #capacity",
            names={"#booked": "booked", "#capacity": "capacity", "#open": "open", "#free": "free"},
            one=1,
            yes=True,
        )

    def _give_back(self, time: TimeRef) -> dict[str, Any]:
        return self.table.update(
            time_key(time),
            "SET #booked = #booked - :one, #free = #free + :one",
            "#booked > :zero",
            names={"#booked": "booked", "#free": "free"},
            one=1,
            zero=0,
        )
