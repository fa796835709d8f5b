"""Notifications: verified settings, one content-free notification per window of events, a rate limit, the
guardians of a child, failures retried to a DLQ, and the active-user answer (rules 25, 26 and 4)."""

from __future__ import annotations

import json
import logging
import re
from datetime import timedelta

import pytest

from eservices_core.table import Table
from inbox.store import InboxStore
from local_runtime import captured
from notifications import texts
from tests.support.aws import fail_calls
from tests.support.events import inbox_message, sqs_event
from tests.support.people import Resident, World

SYSTEM = "demo-screening"


@pytest.fixture
def world(world):
    """The shared world (tests/conftest.py), SYSTEM registered as a sending system in it."""
    inbox = InboxStore(Table(world.stack.session.client("dynamodb"), world.stack.ref("InboxTable")))
    inbox.register_system(SYSTEM, "Screening")
    return world


def settings_path(world: World, person: Resident) -> str:
    return f"/v1/patients/{world.patient_id(person)}/notification-settings"


def sent_to(address: str) -> list[captured.Sent]:
    return [m for m in captured.sent() if m.to == address]


def run(world: World, function: str) -> None:
    world.stack.event_source(function).drain()


def verified(world: World, person: Resident, **addresses: str) -> None:
    """The person saves addresses and types in each code that was sent."""
    status, saved = world.stack.call(
        "PUT", settings_path(world, person), token=world.token(person), body=addresses
    )
    assert status == 200, saved
    run(world, "NotificationSenderFunction")
    for channel in addresses:
        address = saved[channel]["address"]
        code = re.findall(r"\d{6}", sent_to(address)[-1].text)[0]
        body = {"channel": channel, "code": code}
        status, answer = world.stack.call(
            "POST", f"{settings_path(world, person)}/verification", token=world.token(person), body=body
        )
        assert status == 200 and answer[channel]["verified"] is True, answer


def deliver(world: World, person: Resident, n: int, subject: str = "Kallelse till screening") -> None:
    sender = {"care_unit_hsa_id": "SE2321000016-R002", "care_unit_name": "Screeningenheten"}
    body = "Hemlig text om din hälsa"
    message = inbox_message(SYSTEM, f"s-{n}", person.personnummer, sender=sender, subject=subject, body=body)
    result = world.stack.invoke(
        "InboxDeliveryFunction", sqs_event([json.dumps(message)], world.stack.arn("InboxDeliveryQueue"))
    )
    assert result == {"batchItemFailures": []}
    run(world, "NotificationCollectorFunction")  # as the event queue's consumer does within a second


def pipeline(world: World) -> None:
    """Events to pending notifications; the minute sweep; the sends."""
    run(world, "NotificationCollectorFunction")
    world.stack.invoke("NotificationDispatchFunction", {})
    run(world, "NotificationSenderFunction")


# ---- settings -------------------------------------------------------------------------------------------------------
def test_an_address_is_used_only_once_verified_and_a_wrong_code_counts(world, clock):
    anna = world.resident("Anna Notisson")
    status, saved = world.stack.call(
        "PUT",
        settings_path(world, anna),
        token=world.token(anna),
        body={"mobile": "070-123 45 67", "email": "anna@example.se"},
    )
    assert status == 200
    assert saved == {
        "email": {"address": "anna@example.se", "verified": False},
        "mobile": {"address": "+46701234567", "verified": False},
        "events": {"inbox": True, "cases": True, "booking": True},
    }
    run(world, "NotificationSenderFunction")
    [sms] = sent_to("+46701234567")
    assert re.fullmatch(texts.CODE_SMS.replace("{code}", r"\d{6}"), sms.text)
    wrong = {"channel": "mobile", "code": "000000" if "000000" not in sms.text else "111111"}
    status, answer = world.stack.call(
        "POST", f"{settings_path(world, anna)}/verification", token=world.token(anna), body=wrong
    )
    assert status == 409 and answer["reason"] == "wrong-code" and answer["attempts_left"] == 4
    clock.advance(timedelta(minutes=16))
    code = re.findall(r"\d{6}", sms.text)[0]
    status, answer = world.stack.call(
        "POST",
        f"{settings_path(world, anna)}/verification",
        token=world.token(anna),
        body={"channel": "mobile", "code": code},
    )
    assert status == 409 and answer["reason"] == "no-code", "a code lives 15 minutes"


@pytest.mark.parametrize(
    ("body", "field"),
    [({"mobile": "12"}, "mobile"), ({"mobile": "08-123 456 78"}, "mobile"), ({"email": "anna"}, "email"),
     ({"events": {"inbox": "yes"}}, "events"), ({"events": {"spam": True}}, "events"), ({"phone": "070"}, "phone")],
)  # fmt: skip
def test_bad_settings_are_named(world, body, field):
    anna = world.resident("Anna Notisson")
    status, answer = world.stack.call("PUT", settings_path(world, anna), token=world.token(anna), body=body)
    assert status == 400 and answer["invalid_params"][0]["name"] == field


def test_a_guardian_cannot_change_a_child_s_contact_settings(world):
    parent, child = world.resident("Förälder Notis"), world.resident("Barn Notis", age=6)
    world.family(parent, children=[child])
    status, _ = world.stack.call(
        "PUT", settings_path(world, child), token=world.token(parent), body={"mobile": "0701234567"}
    )
    assert status == 403


# ---- notifications ---------------------------------------------------------------------------------------------------
def test_a_burst_of_messages_gives_one_generic_notification_about_a_minute_later(world, clock):
    anna = world.resident("Anna Notisson")
    verified(world, anna, mobile="070-123 45 67", email="anna@example.se")
    before = len(captured.sent())
    for n in range(3):
        deliver(world, anna, n)
        pipeline(world)  # the collector runs as events arrive; the first opens the window
        clock.advance(timedelta(seconds=10))
    assert len(captured.sent()) == before, "not yet: the window is open"
    clock.advance(timedelta(seconds=40))
    pipeline(world)
    new = [m for m in captured.sent() if "kod" not in m.text.lower()]
    assert sorted((m.channel, m.to) for m in new) == [("email", "anna@example.se"), ("sms", "+46701234567")]
    assert {m.text for m in new} == {texts.NOTICE_SMS, texts.NOTICE_EMAIL}
    assert [m.subject for m in new if m.channel == "email"] == [texts.NOTICE_SUBJECT]
    clock.advance(timedelta(minutes=2))
    pipeline(world)
    assert len(captured.sent()) == before + 2, "once for the burst"
    assert before == 2, "the two codes"


def test_the_rate_limit_holds_a_second_notification_back_not_forever(world, clock):
    anna = world.resident("Anna Notisson")
    verified(world, anna, mobile="0701234567")
    deliver(world, anna, 1)
    clock.advance(timedelta(seconds=61))
    pipeline(world)
    assert len(sent_to("+46701234567")) == 2  # the code, the notice
    clock.advance(timedelta(minutes=2))
    deliver(world, anna, 2)
    clock.advance(timedelta(seconds=61))
    pipeline(world)
    assert len(sent_to("+46701234567")) == 2, "within 15 minutes of the last one"
    clock.advance(timedelta(minutes=13))
    pipeline(world)
    assert len(sent_to("+46701234567")) == 3


def test_the_guardians_of_a_child_are_notified_with_their_own_settings(world, clock):
    parent, other, blocked = (
        world.resident("Förälder Notis"),
        world.resident("Annan Notis"),
        world.resident("Spärrad Notis"),
    )
    child = world.resident("Barn Notis", age=6)
    world.family(parent, other, blocked, children=[child])
    nurse = world.staff("Sara Spärrsköterska", roles=["block-guardians"])
    status, _ = world.stack.call(
        "POST",
        f"/v1/staff/patients/{world.patient_id(child)}/guardian-blocks",
        token=world.staff_token(nurse),
        headers={"X-Commission-Id": nurse.commission_ids[0]},
        body={"guardian_patient_id": world.patient_id(blocked)},
    )
    assert status == 201
    verified(world, parent, mobile="0701111111")
    verified(world, blocked, mobile="0702222222")
    deliver(world, child, 1)
    clock.advance(timedelta(seconds=61))
    pipeline(world)
    assert [m.text for m in sent_to("+46701111111")][-1] == texts.NOTICE_SMS
    assert len(sent_to("+46702222222")) == 1, "a blocked guardian gets only their own code"


def test_a_failing_sms_service_is_retried_and_ends_in_the_dlq(world, clock):
    anna = world.resident("Anna Notisson")
    verified(world, anna, mobile="0701234567")
    deliver(world, anna, 1)
    clock.advance(timedelta(seconds=61))
    run(world, "NotificationCollectorFunction")
    world.stack.invoke("NotificationDispatchFunction", {})
    sqs = world.stack.session.client("sqs")
    url = world.stack.ref("NotificationSendQueue")
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "0"})
    with fail_calls("sns", "InternalError", operation="Publish"):
        for _ in range(6):
            world.stack.event_source("NotificationSenderFunction").poll_once()
    [dead] = world.stack.drain("NotificationSendDeadLetterQueue")
    assert dead["Json"]["channel"] == "mobile" and "+4670" not in dead["Body"], (
        "the queue never carries the number"
    )


# ---- active users (rule 26) -------------------------------------------------------------------------------------------
def test_the_active_user_answer_says_nothing_else(world):
    anna, never = world.resident("Anna Notisson"), world.resident("Aldrig Inloggad")

    def ask(person: Resident) -> dict:
        return world.stack.invoke("ActiveUserFunction", {"personal_identity_number": person.personnummer})

    assert ask(anna) == {"active_user": False, "channels": []}
    assert world.stack.call("GET", "/v1/me", token=world.token(anna))[0] == 200
    verified(world, anna, mobile="0701234567")
    assert ask(anna) == {"active_user": True, "channels": ["mobile"]}
    assert ask(never) == {"active_user": False, "channels": []}
    assert (
        world.stack.invoke("ActiveUserFunction", {"personal_identity_number": "19121212-1212x"})["error"]
        == "invalid-request"
    )


# ---- rule 4 -----------------------------------------------------------------------------------------------------------
def test_no_notification_log_line_or_metric_carries_a_number_a_subject_or_a_body(
    world, clock, capsys, caplog
):
    caplog.set_level(
        logging.INFO
    )  # what a function logs in Lambda (botocore DEBUG, off there, would show keys)
    anna = world.resident("Anna Notisson")
    verified(world, anna, mobile="0701234567", email="anna@example.se")
    secret_subject = "Ditt provsvar: klamydia"
    deliver(world, anna, 1, subject=secret_subject)
    deliver(world, anna, 1, subject=secret_subject)  # a duplicate (metric)
    bad = {"message_id": "x", "system_id": SYSTEM, "recipient": anna.personnummer, "subject": secret_subject}
    world.stack.invoke(
        "InboxDeliveryFunction", sqs_event([json.dumps(bad)], world.stack.arn("InboxDeliveryQueue"))
    )
    clock.advance(timedelta(seconds=61))
    pipeline(world)
    out = capsys.readouterr()
    everything = out.out + out.err + caplog.text + json.dumps([repr(m) for m in captured.sent()])
    for secret in (anna.personnummer, anna.personnummer[2:], secret_subject, "Hemlig text om din hälsa"):
        assert secret not in everything, secret
    assert "InboxMessagesDelivered" in everything, "metrics were emitted and checked"
