"""The inbox: external systems deliver through the queue (rule 24), residents and guardians read, archive and
delete from view (rules 8, 11, 15 through the shared policy)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from eservices_core import aws
from eservices_core.table import Table
from inbox.store import InboxStore
from local_runtime.demo import personnummer
from tests.support.aws import fail_calls
from tests.support.events import inbox_message, sqs_event, subscribe
from tests.support.people import NOW, World

SYSTEM = "demo-quality-registry"


@pytest.fixture
def world(world):
    """The shared world (tests/conftest.py), SYSTEM registered as a sending system in it."""
    store(world).register_system(SYSTEM, "Nationellt Demoregister")
    return world


@pytest.fixture
def anna(world):
    return world.resident("Anna Inkorgsson")


def store(world: World) -> InboxStore:
    return InboxStore(Table(world.stack.session.client("dynamodb"), world.stack.ref("InboxTable")))


def message(recipient: str, n: int = 1, **changes: Any) -> dict[str, Any]:
    body = (
        "Hej!\n\nDu kallas till **screening**.\n\n- Ta med legitimation\n- [Läs mer](https://example.se/info)"
    )
    return inbox_message(SYSTEM, f"msg-{n}", recipient, subject=f"Kallelse {n}", body=body) | changes


def deliver(world: World, *messages: Any) -> dict[str, Any]:
    bodies: list[str | dict[str, Any]] = [m if isinstance(m, str) else json.dumps(m) for m in messages]
    return world.stack.invoke(
        "InboxDeliveryFunction", sqs_event(bodies, world.stack.arn("InboxDeliveryQueue"))
    )


def dead_letters(world: World) -> list[tuple[str, str]]:
    return [
        (
            m["MessageAttributes"]["rejection_reason"]["StringValue"],
            m["MessageAttributes"]["rejection_detail"]["StringValue"],
        )
        for m in world.stack.drain("InboxDeliveryDeadLetterQueue")
    ]


def inbox(world: World, caller, patient, query: str = "") -> tuple[int, Any]:
    return world.stack.call(
        "GET", f"/v1/patients/{world.patient_id(patient)}/inbox", token=world.token(caller), query=query
    )


# ---- delivery ------------------------------------------------------------------------------------------------------
def test_a_message_is_delivered_once_whatever_the_redeliveries(world, anna):
    events = subscribe(world.stack, "eservices.inbox")
    assert deliver(world, message(anna.personnummer), message(anna.personnummer)) == {"batchItemFailures": []}
    assert deliver(world, message(anna.personnummer)) == {"batchItemFailures": []}
    status, listed = inbox(world, anna, anna)
    assert status == 200
    [item] = listed["items"]
    assert item["subject"] == "Kallelse 1" and item["read"] is False and item["category"] == "call-up"
    assert item["sender"] == {"care_unit_hsa_id": "SE2321000016-R001", "care_unit_name": "Demoregistret"}
    [event] = events()
    assert event["detail-type"] == "inbox.message-received"
    assert event["detail"] == {
        "message_id": item["message_id"],
        "patient_id": world.patient_id(anna),
        "category": "call-up",
    }


def test_refused_messages_go_to_the_dlq_with_their_reason_and_the_rest_of_the_batch_is_stored(world, anna):
    no_sender_hsa = message(anna.personnummer, 2, sender={"care_unit_name": "Utan HSA-id"})
    bad_check_digit = message(anna.personnummer[:-1] + str((int(anna.personnummer[-1]) + 1) % 10), 3)
    unknown_person = message(personnummer(date(1940, 1, 1), 999), 4)  # valid, but never registered
    result = deliver(
        world,
        message(anna.personnummer, 1),
        no_sender_hsa,
        message(anna.personnummer, 5, system_id="unregistered-ehr"),
        bad_check_digit,
        unknown_person,
        message(anna.personnummer, 6, category="gossip"),
        message(anna.personnummer, 7, body="x" * 20001),
        "not json at all",
        message(anna.personnummer, 8),
    )
    assert result == {"batchItemFailures": []}, "refusals are dead-lettered, not retried"
    reasons = dead_letters(world)
    assert sorted(r for r, _ in reasons) == sorted(
        ["contract-violation", "unknown-sending-system", "invalid-recipient", "contract-violation",
         "contract-violation", "malformed-json", "unknown-recipient"]
    )  # fmt: skip
    assert any("care_unit_hsa_id" in detail for _, detail in reasons), (
        "rule 24: the missing sender HSA-ID is named"
    )
    _, listed = inbox(world, anna, anna)
    assert sorted(i["subject"] for i in listed["items"]) == ["Kallelse 1", "Kallelse 8"]


def test_after_an_event_bus_outage_the_message_is_stored_and_the_sweeper_delivers_its_event(
    world, anna, clock
):
    events = subscribe(world.stack, "eservices.inbox")
    table = store(world).table

    def outbox() -> list[dict[str, Any]]:
        return [i for shard in range(4) for i in table.query_all(f"OUTBOX#{shard}")]

    with fail_calls("events", "InternalException", operation="PutEvents"):
        assert deliver(world, message(anna.personnummer)) == {"batchItemFailures": []}
    _, listed = inbox(world, anna, anna)
    assert [i["subject"] for i in listed["items"]] == ["Kallelse 1"]
    assert [json.loads(i["entry"])["DetailType"] for i in outbox()] == ["inbox.message-received"]
    assert events() == []

    assert world.stack.invoke("InboxOutboxFunction", {}) == {"found": 0, "left": 0}, "too fresh to sweep"
    clock.advance(timedelta(minutes=2))
    assert world.stack.invoke("InboxOutboxFunction", {}) == {"found": 1, "left": 0}

    assert outbox() == []
    assert [e["detail"]["message_id"] for e in events()] == [listed["items"][0]["message_id"]]


def test_an_inactive_system_cannot_deliver(world, anna):
    store(world).register_system(SYSTEM, "Nationellt Demoregister", active=False)
    deliver(world, message(anna.personnummer, 1))
    assert [r for r, _ in dead_letters(world)] == ["unknown-sending-system"]


# ---- residents ---------------------------------------------------------------------------------------------------------
def test_reading_marks_read_and_unread_first_puts_the_unread_on_top(world, anna, clock):
    for n in (1, 2, 3):
        deliver(world, message(anna.personnummer, n, category="result" if n == 2 else "call-up"))
        clock.advance(timedelta(seconds=1))
    _, newest = inbox(world, anna, anna)
    assert [i["subject"] for i in newest["items"]] == ["Kallelse 3", "Kallelse 2", "Kallelse 1"]
    path = f"/v1/patients/{world.patient_id(anna)}/inbox/{newest['items'][0]['message_id']}"
    status, read = world.stack.call("GET", path, token=world.token(anna))
    assert status == 200 and read["read"] is True and read["read_at"] == "2026-11-25T10:00:03Z"
    assert read["body_blocks"] == [
        {"type": "paragraph", "spans": [{"text": "Hej!"}]},
        {
            "type": "paragraph",
            "spans": [{"text": "Du kallas till "}, {"text": "screening", "strong": True}, {"text": "."}],
        },
        {
            "type": "list",
            "items": [
                [{"text": "Ta med legitimation"}],
                [{"text": "Läs mer", "href": "https://example.se/info"}],
            ],
        },
    ]
    _, unread_first = inbox(world, anna, anna, "order=unread-first")
    assert [i["subject"] for i in unread_first["items"]] == ["Kallelse 2", "Kallelse 1", "Kallelse 3"]
    _, results = inbox(world, anna, anna, "category=result")
    assert [i["subject"] for i in results["items"]] == ["Kallelse 2"]


@contextmanager
def throttled_writes_to(table_name: str) -> Iterator[None]:
    """Transactions writing to `table_name` are throttled; others (the audit record first) go through."""

    def before_parameter_build(params: dict[str, Any], model: Any, **_: Any) -> None:
        tables = {next(iter(i.values()))["TableName"] for i in params.get("TransactItems", [])}
        if model.name == "TransactWriteItems" and table_name in tables:
            code = "ProvisionedThroughputExceededException"
            raise ClientError({"Error": {"Code": code, "Message": "injected"}}, model.name)

    with aws.watching("dynamodb", "before-parameter-build", before_parameter_build):
        yield


def test_a_message_is_shown_even_when_marking_it_read_is_throttled_and_the_next_reading_marks_it(world, anna):
    deliver(world, message(anna.personnummer, 1))
    _, listed = inbox(world, anna, anna)
    path = f"/v1/patients/{world.patient_id(anna)}/inbox/{listed['items'][0]['message_id']}"

    with throttled_writes_to(world.stack.ref("InboxTable")):
        status, shown = world.stack.call("GET", path, token=world.token(anna))
    assert status == 200 and shown["subject"] == "Kallelse 1"
    assert shown["read"] is False and shown["read_at"] is None
    _, still = inbox(world, anna, anna)
    assert still["items"][0]["read"] is False

    status, again = world.stack.call("GET", path, token=world.token(anna))
    assert status == 200 and again["read"] is True and again["read_at"] is not None


def test_archive_and_delete_from_view_and_the_message_is_kept(world, anna):
    deliver(world, message(anna.personnummer, 1), message(anna.personnummer, 2))
    _, listed = inbox(world, anna, anna)
    first, second = (
        f"/v1/patients/{world.patient_id(anna)}/inbox/{i['message_id']}" for i in listed["items"]
    )
    status, archived = world.stack.call("PATCH", first, token=world.token(anna), body={"archived": True})
    assert status == 200 and archived["archived"] is True
    _, inbox_now = inbox(world, anna, anna)
    _, archive = inbox(world, anna, anna, "archived=true")
    assert len(inbox_now["items"]) == 1 and len(archive["items"]) == 1
    assert world.stack.call("DELETE", second, token=world.token(anna))[0] == 204
    assert world.stack.call("GET", second, token=world.token(anna))[0] == 404
    _, inbox_now = inbox(world, anna, anna)
    assert inbox_now["items"] == []
    kept = store(world).message(world.patient_id(anna), second.rsplit("/", 1)[1])
    assert kept is not None and kept["shown"] is False and kept["purge_at"] > NOW.timestamp() + 700 * 86400


def test_an_expired_message_is_no_longer_shown(world, anna, clock):
    deliver(world, message(anna.personnummer, 1, expires_at="2026-11-26T00:00:00Z"))
    assert len(inbox(world, anna, anna)[1]["items"]) == 1
    clock.set(datetime(2026, 11, 26, 0, 0, 1, tzinfo=UTC))
    assert inbox(world, anna, anna)[1]["items"] == []


def test_a_guardian_reads_a_child_s_inbox_and_a_stranger_cannot(world):
    parent, child, stranger = (
        world.resident("Förälder Inkorg"),
        world.resident("Barn Inkorg", age=7),
        world.resident("Främling Inkorg"),
    )
    world.family(parent, children=[child])
    deliver(world, message(child.personnummer, 1, category="vaccination"))
    status, listed = inbox(world, parent, child)
    assert status == 200 and [i["category"] for i in listed["items"]] == ["vaccination"]
    assert inbox(world, stranger, child)[0] == 404


def test_pages_follow_a_cursor_bound_to_the_query(world, anna, clock):
    for n in range(5):
        deliver(world, message(anna.personnummer, n))
        clock.advance(timedelta(seconds=1))
    _, first = inbox(world, anna, anna, "limit=2")
    _, second = inbox(world, anna, anna, f"limit=2&cursor={first['next_cursor']}")
    assert [i["subject"] for i in first["items"] + second["items"]] == [f"Kallelse {n}" for n in (4, 3, 2, 1)]
    status, refused = inbox(world, anna, anna, f"limit=2&category=result&cursor={first['next_cursor']}")
    assert status == 400 and refused["invalid_params"][0]["name"] == "cursor"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("order=oldest", "order"),
        ("category=spam", "category"),
        ("archived=maybe", "archived"),
        ("limit=0", "limit"),
    ],
)
def test_bad_inbox_parameters_are_named(world, anna, query, field):
    status, answer = inbox(world, anna, anna, query)
    assert status == 400 and answer["invalid_params"][0]["name"] == field


@pytest.mark.parametrize("body", [{}, {"starred": True}, {"archived": "yes"}, None])
def test_bad_changes_are_400(world, anna, body):
    deliver(world, message(anna.personnummer))
    _, listed = inbox(world, anna, anna)
    path = f"/v1/patients/{world.patient_id(anna)}/inbox/{listed['items'][0]['message_id']}"
    status, answer = world.stack.call("PATCH", path, token=world.token(anna), body=body)
    assert status == 400, answer
