"""The booking store's transactions against the emulator (serialised, as DynamoDB is atomic): a time is never
booked beyond its capacity, whatever the concurrency; one active booking per type; cancelling gives it back;
rebooking takes the new time or changes nothing."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

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
    [item] = [t for t in store.times(UNIT, TYPE, time.start[:10]) if t["time_id"] == time.time_id]
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
