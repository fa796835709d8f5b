"""The notification collector reads a whole SQS batch's profiles and settings in two BatchGetItems, not two
calls per record (a registry's burst of 10,000 inbox messages is 10,000 events), and a failure of those batch
reads only makes each record read its own."""

from __future__ import annotations

from typing import Any

from eservices_core.table import Table
from notifications.store import NotificationStore, pending_key
from tests.support.aws import count_calls, fail_first_call
from tests.support.events import sqs_event
from tests.support.people import Resident, World


def store(world: World) -> NotificationStore:
    return NotificationStore(
        Table(world.stack.session.client("dynamodb"), world.stack.ref("NotificationsTable"))
    )


def wants_inbox_notices(world: World, *people: Resident) -> None:
    for person in people:
        settings = {
            "patient_id": world.patient_id(person),
            "events": {"inbox": True},
            "mobile": "+46701234567",
            "mobile_verified": True,
        }
        store(world).save_settings(settings, {})


def collect(world: World, *people: Resident) -> dict[str, Any]:
    """One batch of inbox events, one per person, as the event queue delivers it."""
    events: list[str | dict[str, Any]] = [
        {
            "source": "eservices.inbox",
            "detail-type": "inbox.message-received",
            "detail": {"patient_id": world.patient_id(p)},
        }
        for p in people
    ]
    event = sqs_event(events, world.stack.arn("NotificationEventsQueue"))
    return world.stack.invoke("NotificationCollectorFunction", event)


def pending(world: World, *people: Resident) -> list[bool]:
    return [store(world).table.get(pending_key(world.patient_id(p))) is not None for p in people]


def test_a_batch_of_ten_adults_costs_two_reads_and_one_write_per_wanted_notice(world):
    people = [world.resident(f"Samla Batchsson {i}") for i in range(10)]
    wants_inbox_notices(world, people[1], people[4], people[7])

    with count_calls() as calls:
        assert collect(world, *people) == {"batchItemFailures": []}

    assert sorted(calls) == ["BatchGetItem", "BatchGetItem", "UpdateItem", "UpdateItem", "UpdateItem"]
    assert pending(world, *people) == [i in (1, 4, 7) for i in range(10)]


def test_a_child_in_the_batch_brings_its_guardians_who_want_notices(world):
    adult, parent = world.resident("Vuxen Batchsson"), world.resident("Förälder Batchsson")
    child = world.resident("Barn Batchsson", age=6)
    world.guardianship(parent, child)
    wants_inbox_notices(world, adult, parent)

    assert collect(world, adult, child) == {"batchItemFailures": []}

    assert pending(world, adult, parent, child) == [True, True, False]


def test_when_the_batch_reads_are_throttled_each_record_reads_its_own_and_nothing_is_lost(world):
    people = [world.resident(f"Strypt Batchsson {i}") for i in range(3)]
    wants_inbox_notices(world, people[0], people[2])

    with (
        fail_first_call("dynamodb", "BatchGetItem", "ProvisionedThroughputExceededException") as failed,
        count_calls() as calls,
    ):
        assert collect(world, *people) == {"batchItemFailures": []}

    assert failed == ["BatchGetItem"]
    assert calls.count("GetItem") == 3, calls  # each record's profile, read on its own
    assert pending(world, *people) == [True, False, True]
