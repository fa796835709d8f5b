"""The booking store's transactions against the emulator (serialised, as DynamoDB is atomic): a time is never
booked beyond its capacity, whatever the concurrency; one active booking per type; cancelling gives it back;
rebooking takes the new time or changes nothing."""

from __future__ import annotations

import itertools
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

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

from booking.store import AlreadyBooked, BookingStore, NotActive, TimeRef, TimeUnavailable
from eservices_core.table import Table
from local_runtime import moto_patches

UNIT, TYPE = "SE2321000016-U00000", "vaccination-covid-19"


@pytest.fixture
def store(stack):
    moto_patches.serialise_dynamodb()
    return BookingStore(Table(stack.session.client("dynamodb"), stack.ref("BookingTable")))


def publish(store, start: str, capacity: int = 1) -> TimeRef:
    time = TimeRef(UNIT, TYPE, start, uuid.uuid4().hex[:8])
    store.publish(time, end=start.replace("T09", "T10"), capacity=capacity)
    return time


def booked(store, time: TimeRef) -> int:
    [item] = [
        t
        for t in store.times(time.unit_hsa_id, time.booking_type, time.start[:10])
        if t["time_id"] == time.time_id
    ]
    return int(item["booked"])


@pytest.mark.parametrize("capacity", [1, 3])
def test_concurrent_residents_never_book_a_time_beyond_its_capacity(store, capacity):
    time = publish(store, "2026-12-01T09:00:00Z", capacity)

    def attempt(n: int) -> str:
        try:
            store.book(f"patient-{n}", uuid.uuid4().hex, time, max_active=1)
            return "booked"
        except TimeUnavailable as refused:
            return refused.code

    with ThreadPoolExecutor(40) as pool:
        outcomes = list(pool.map(attempt, range(80)))

    assert outcomes.count("booked") == capacity
    assert outcomes.count("time-unavailable") == 80 - capacity
    assert booked(store, time) == capacity


def test_one_active_booking_per_type_and_cancelling_gives_the_time_back(store):
    first, second = publish(store, "2026-12-01T09:00:00Z"), publish(store, "2026-12-02T09:00:00Z")
    store.book("anna", "a1", first, max_active=1)

    with pytest.raises(AlreadyBooked):
        store.book("anna", "a2", second, max_active=1)
    assert booked(store, second) == 0, "a refused booking changes nothing"

    store.cancel("anna", "a1", first)
    assert booked(store, first) == 0
    with pytest.raises(NotActive):
        store.cancel("anna", "a1", first)
    store.book("anna", "a2", second, max_active=1)
    assert booked(store, second) == 1


def test_rebooking_takes_the_new_time_or_changes_nothing(store):
    old, new, full = (publish(store, f"2026-12-0{d}T09:00:00Z") for d in (1, 2, 3))
    store.book("anna", "a1", old, max_active=1)
    store.book("erik", "e1", full, max_active=1)

    with pytest.raises(TimeUnavailable):
        store.rebook("anna", "a1", old, full)
    assert (booked(store, old), booked(store, full)) == (1, 1), "the old time is kept when the new is full"

    store.rebook("anna", "a1", old, new)
    assert (booked(store, old), booked(store, new)) == (0, 1)
    with pytest.raises(NotActive):  # it is no longer at the old time (and the new one is full too)
        store.rebook("anna", "a1", old, new)
    assert (booked(store, old), booked(store, new)) == (0, 1)


def test_closing_a_time_stops_new_bookings_and_keeps_the_booked_ones(store):
    time = publish(store, "2026-12-01T09:00:00Z", capacity=2)
    store.book("anna", "a1", time, max_active=1)
    store.set_open(time, is_open=False)
    with pytest.raises(TimeUnavailable):
        store.book("erik", "e1", time, max_active=1)
    assert booked(store, time) == 1
    store.set_open(time, is_open=True)
    store.book("erik", "e1", time, max_active=1)
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

    @rule(capacity=st.integers(1, 3), day=st.integers(1, 9))
    def publish(self, capacity: int, day: int) -> None:
        time = TimeRef(self.unit, TYPE, f"2026-12-0{day}T09:00:00Z", f"t{next(self.ids):04d}")
        self.store.publish(time, end=time.start, capacity=capacity)
        self.times.append(time)
        self.capacity[time.time_id] = capacity

    @precondition(lambda self: self.times)
    @rule(patient=st.sampled_from(["anna", "erik", "liv", "maja"]), data=st.data())
    def book(self, patient: str, data: st.DataObject) -> None:
        time = data.draw(st.sampled_from(self.times))
        appointment_id, patient = f"a{next(self.ids):04d}", f"{self.unit}-{patient}"
        try:
            self.store.book(patient, appointment_id, time, max_active=1)
        except (TimeUnavailable, AlreadyBooked):
            return
        self.appointments[appointment_id] = (patient, time)

    @precondition(lambda self: self.appointments)
    @rule(data=st.data())
    def cancel(self, data: st.DataObject) -> None:
        appointment_id = data.draw(st.sampled_from(sorted(self.appointments)))
        patient, time = self.appointments.pop(appointment_id)
        self.store.cancel(patient, appointment_id, time)

    @precondition(lambda self: self.appointments and self.times)
    @rule(data=st.data())
    def rebook(self, data: st.DataObject) -> None:
        appointment_id = data.draw(st.sampled_from(sorted(self.appointments)))
        new = data.draw(st.sampled_from(self.times))
        patient, old = self.appointments[appointment_id]
        if new.time_id == old.time_id:
            return
        try:
            self.store.rebook(patient, appointment_id, old, new)
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


def test_any_sequence_of_bookings_keeps_the_invariants(store):
    BookingModel.store = store
    run_state_machine_as_test(
        BookingModel, settings=settings(max_examples=15, stateful_step_count=25, deadline=None)
    )
