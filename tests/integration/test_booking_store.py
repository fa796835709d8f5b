"""The booking store's transactions against the emulator (serialised, as DynamoDB is atomic): a time is never
booked beyond its capacity, whatever the concurrency; one active booking per type; cancelling gives it back;
rebooking takes the new time or changes nothing."""

from __future__ import annotations

import itertools
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from booking.model import TimeRef, iso, new_time_id, parse_instant
from booking.store import ACTIVE, AlreadyBooked, NotActive, TimeUnavailable, time_ref_of
from booking.store import BookingStore as Store
from eservices_core.table import Table
from local_runtime import moto_patches

UNIT, TYPE = "SE2321000016-U00000", "vaccination-covid-19"
NOW = datetime.fromisoformat("2026-11-25T10:00:00+00:00")


class BookingStore(Store):
    """The store with the test's shorthand: appointments by (patient, id, time)."""

    def publish_one(self, time: TimeRef, capacity: int) -> None:
        start = time.start
        self.publish([{"unit_hsa_id": time.unit_hsa_id, "booking_type": time.booking_type, "time_id": time.time_id,
                       "start": iso(start), "end": iso(start), "capacity": capacity, "booked": 0, "free": capacity,
                       "open": True}])  # fmt: skip

    def book_at(self, patient: str, appointment_id: str, time: TimeRef, *, max_active: int = 1) -> None:
        appointment = {"appointment_id": appointment_id, "patient_id": patient, "unit_hsa_id": time.unit_hsa_id,
                       "booking_type": time.booking_type, "time_id": time.time_id, "start": iso(time.start),
                       "status": ACTIVE}  # fmt: skip
        self.book(appointment, take=time, max_active=max_active, idempotency=None)

    def cancel_at(self, patient: str, appointment_id: str) -> None:
        appointment = self.appointment(patient, appointment_id)
        assert appointment is not None
        self.cancel(appointment, give_back=True, at=iso(NOW))

    def rebook_to(self, patient: str, appointment_id: str, new: TimeRef) -> None:
        appointment = self.appointment(patient, appointment_id)
        assert appointment is not None
        self.rebook(appointment, {"time_id": new.time_id, "start": iso(new.start)}, held_here=True)


@pytest.fixture
def store(stack):
    moto_patches.serialise_dynamodb()
    return BookingStore(Table(stack.session.client("dynamodb"), stack.ref("BookingTable")))


def publish(store, start: str, capacity: int = 1, unit: str = UNIT) -> TimeRef:
    time = TimeRef(unit, TYPE, new_time_id(parse_instant(start)))
    store.publish_one(time, capacity)
    return time


def booked(store, time: TimeRef) -> int:
    [item] = [t for t in store.times(time.unit_hsa_id, TYPE, "0", "~") if t["time_id"] == time.time_id]
    assert item["free"] == item["capacity"] - item["booked"]
    return int(item["booked"])


@pytest.mark.parametrize("capacity", [1, 3])
def test_concurrent_residents_never_book_a_time_beyond_its_capacity(store, capacity):
    time = publish(store, "2026-12-01T09:00:00Z", capacity)

    def attempt(n: int) -> str:
        try:
            store.book_at(f"patient-{n}", uuid.uuid4().hex, time)
            return "booked"
        except TimeUnavailable as refused:
            return refused.code

    with ThreadPoolExecutor(40) as pool:
        outcomes = list(pool.map(attempt, range(80)))

    assert outcomes.count("booked") == capacity
    assert outcomes.count("time-unavailable") == 80 - capacity
    assert booked(store, time) == capacity


def test_a_failed_publication_withdraws_its_times_but_not_one_booked_meanwhile(store):
    """Publishing is all or none (a retry must not publish twice), but never at a resident's expense."""
    kept, withdrawn = publish(store, "2026-12-03T09:00:00Z"), publish(store, "2026-12-03T09:15:00Z")
    store.book_at("anna", "a1", kept)
    items = [
        t for t in store.times(UNIT, TYPE, "0", "~") if t["time_id"] in (kept.time_id, withdrawn.time_id)
    ]

    store._withdraw(items)

    assert [t["time_id"] for t in store.times(UNIT, TYPE, "0", "~")] == [kept.time_id]
    assert booked(store, kept) == 1


def test_one_active_booking_per_type_and_cancelling_gives_the_time_back(store):
    first, second = publish(store, "2026-12-01T09:00:00Z"), publish(store, "2026-12-02T09:00:00Z")
    store.book_at("anna", "a1", first)

    with pytest.raises(AlreadyBooked):
        store.book_at("anna", "a2", second)
    assert booked(store, second) == 0, "a refused booking changes nothing"

    store.cancel_at("anna", "a1")
    assert booked(store, first) == 0
    with pytest.raises(NotActive):
        store.cancel_at("anna", "a1")
    store.book_at("anna", "a2", second)
    assert booked(store, second) == 1


def test_rebooking_takes_the_new_time_or_changes_nothing(store):
    old, new, full = (publish(store, f"2026-12-0{d}T09:00:00Z") for d in (1, 2, 3))
    store.book_at("anna", "a1", old)
    store.book_at("erik", "e1", full)

    with pytest.raises(TimeUnavailable):
        store.rebook_to("anna", "a1", full)
    assert (booked(store, old), booked(store, full)) == (1, 1), "the old time is kept when the new is full"

    stale = store.appointment("anna", "a1")
    store.rebook_to("anna", "a1", new)
    assert (booked(store, old), booked(store, new)) == (0, 1)
    other = publish(store, "2026-12-04T09:00:00Z")
    with pytest.raises(NotActive):  # a request that read it at the old time loses, whatever the times say
        store.rebook(stale, {"time_id": other.time_id, "start": iso(other.start)}, held_here=True)
    assert (booked(store, old), booked(store, new), booked(store, other)) == (0, 1, 0)


def test_closing_a_time_stops_new_bookings_and_keeps_the_booked_ones(store):
    time = publish(store, "2026-12-01T09:00:00Z", capacity=2)
    store.book_at("anna", "a1", time)
    store.set_open(time, is_open=False)
    with pytest.raises(TimeUnavailable):
        store.book_at("erik", "e1", time)
    assert booked(store, time) == 1
    store.set_open(time, is_open=True)
    store.book_at("erik", "e1", time)
    assert booked(store, time) == 2


class BookingModel(RuleBasedStateMachine):
    """Residents book, rebook and cancel while the clinic publishes and closes times, in any order: the
    store's counts always equal the appointments it holds, and no limit is ever exceeded."""

    store: BookingStore

    def __init__(self) -> None:
        super().__init__()
        # A clinic and residents of its own per example (the table outlives examples); every other id is
        # counted, so replaying an example draws exactly as the first run did.
        self.unit = f"SE2321000016-{uuid.uuid4().hex[:8].upper()}"
        self.ids = itertools.count()
        self.times: list[TimeRef] = []
        self.capacity: dict[str, int] = {}
        self.appointments: dict[str, tuple[str, TimeRef]] = {}  # appointment id -> (patient, time)
        self.residents: set[str] = set()

    @rule(capacity=st.integers(1, 3), day=st.integers(1, 9))
    def publish(self, capacity: int, day: int) -> None:
        time = TimeRef(self.unit, TYPE, f"202612{day:02d}T0900Z-t{next(self.ids):04d}")
        self.store.publish_one(time, capacity)
        self.times.append(time)
        self.capacity[time.time_id] = capacity

    @precondition(lambda self: self.times)
    @rule(patient=st.sampled_from(["anna", "erik", "liv", "maja"]), data=st.data())
    def book(self, patient: str, data: st.DataObject) -> None:
        time = data.draw(st.sampled_from(self.times))
        appointment_id, patient = f"a{next(self.ids):04d}", f"{self.unit}-{patient}"
        self.residents.add(patient)
        try:
            self.store.book_at(patient, appointment_id, time)
        except (TimeUnavailable, AlreadyBooked):
            return
        self.appointments[appointment_id] = (patient, time)

    @precondition(lambda self: self.appointments)
    @rule(data=st.data())
    def cancel(self, data: st.DataObject) -> None:
        appointment_id = data.draw(st.sampled_from(sorted(self.appointments)))
        patient, _ = self.appointments.pop(appointment_id)
        self.store.cancel_at(patient, appointment_id)

    @precondition(lambda self: self.appointments and self.times)
    @rule(data=st.data())
    def rebook(self, data: st.DataObject) -> None:
        appointment_id = data.draw(st.sampled_from(sorted(self.appointments)))
        new = data.draw(st.sampled_from(self.times))
        patient, old = self.appointments[appointment_id]
        if new.time_id == old.time_id:
            return
        try:
            self.store.rebook_to(patient, appointment_id, new)
        except TimeUnavailable:
            return
        self.appointments[appointment_id] = (patient, new)

    @precondition(lambda self: self.times)
    @rule(data=st.data(), is_open=st.booleans())
    def open_or_close(self, data: st.DataObject, is_open: bool) -> None:
        self.store.set_open(data.draw(st.sampled_from(self.times)), is_open=is_open)

    @invariant()
    def counts_match_the_appointments_and_stay_within_limits(self) -> None:
        held = Counter(time.time_id for _, time in self.appointments.values())
        for time in self.times:
            count = booked(self.store, time)
            assert count == held[time.time_id] <= self.capacity[time.time_id]
        per_patient = Counter(patient for patient, _ in self.appointments.values())
        assert all(n <= 1 for n in per_patient.values()), "one active booking per type"

    @invariant()
    def each_resident_s_list_equals_the_store(self) -> None:
        """What each resident's list shows is exactly what the model holds: each active appointment on exactly
        one time, the one it was last booked or moved to."""
        for patient in {p for p, _ in self.appointments.values()} | self.residents:
            listed = {
                a["appointment_id"]: time_ref_of(a)
                for a in self.store.appointments_of(patient)
                if a["status"] == ACTIVE
            }
            expected = {i: t for i, (p, t) in self.appointments.items() if p == patient}
            assert listed == expected


def test_any_sequence_of_bookings_keeps_the_invariants(store):
    BookingModel.store = store
    run_state_machine_as_test(
        BookingModel, settings=settings(max_examples=15, stateful_step_count=25, deadline=None)
    )
