"""The population register and HSA staff feeds: what the identity store holds after them, and what is
dead-lettered with which reason. State is read back through the registry the access policy uses."""

from __future__ import annotations

import json
import uuid
from datetime import date
from typing import Any

import pytest

from eservices_core.clock import today_stockholm
from eservices_core.identifiers import PersonalIdentity, parse_personal_identity
from eservices_core.registry import Registry, profile_key
from eservices_core.table import Table
from local_runtime.demo import DEMO_CLINIC, personnummer
from local_runtime.poller import send_all
from local_runtime.population import (
    commission,
    commission_revoked,
    employee,
    employee_removed,
    guardianship,
    person,
)
from tests.support.aws import Stack, fail_calls
from tests.support.events import sqs_event

REGISTER, STAFF = "PopulationRegisterFeedFunction", "HsaStaffFeedFunction"
QUEUES = {REGISTER: "PopulationRegisterQueue", STAFF: "HsaStaffFeedQueue"}
DLQS = {REGISTER: "PopulationRegisterDeadLetterQueue", STAFF: "HsaStaffFeedDeadLetterQueue"}

PARENT = personnummer(date(1984, 5, 17), 386)
OTHER_PARENT = personnummer(date(1982, 11, 2), 395)
CHILD = personnummer(date(2016, 3, 9), 382)
BAD_CHECK_DIGIT = PARENT[:-1] + str((int(PARENT[-1]) + 1) % 10)
DOCTOR = "SE2321000016-T0001"


def identity(pnr: str) -> PersonalIdentity:
    return parse_personal_identity(pnr, today=today_stockholm())


def registry(stack: Stack) -> Registry:
    return Registry(Table(stack.session.client("dynamodb"), stack.ref("IdentityTable")))


def deliver(stack: Stack, function: str, *messages: dict[str, Any] | str) -> dict[str, Any]:
    """One batch to the consumer, as Lambda's SQS event source would; returns its batch response."""
    return stack.invoke(function, sqs_event(list(messages), stack.arn(QUEUES[function])))


def rejections(stack: Stack, function: str) -> list[dict[str, str]]:
    """What the consumer dead-lettered: each message's attributes, plus its body under "body"."""
    return [
        {k: v["StringValue"] for k, v in m.get("MessageAttributes", {}).items()} | {"body": m["Body"]}
        for m in stack.drain(DLQS[function])
    ]


def stored_items(stack: Stack) -> list[dict[str, Any]]:
    return stack.session.client("dynamodb").scan(TableName=stack.ref("IdentityTable"))["Items"]


def patient_id(stack: Stack, pnr: str) -> str:
    found = registry(stack).patient_id_of(identity(pnr))
    assert found is not None, "the person is unknown to the store"
    return found


# ---- population register --------------------------------------------------------------------------------


def test_a_person_is_stored_under_an_opaque_patient_id_with_name_and_markers(stack):
    result = deliver(
        stack,
        REGISTER,
        person(PARENT, "Anna Demotest", region_code="12", municipality_code="1280"),
        person(CHILD, "Liv Demotest", protected_identity=True, deceased=True),
    )

    assert result == {"batchItemFailures": []}
    parent_id = patient_id(stack, PARENT)
    assert str(uuid.UUID(parent_id)) == parent_id and PARENT not in parent_id
    parent = registry(stack).patient(parent_id)
    assert parent is not None
    assert (parent.name, parent.birth_date, parent.registered) == ("Anna Demotest", date(1984, 5, 17), True)
    assert (parent.protected_identity, parent.deceased) == (False, False)
    profile = registry(stack).table.get(profile_key(parent_id))
    assert profile is not None and (profile["region_code"], profile["municipality_code"]) == ("12", "1280")
    child = registry(stack).patient(patient_id(stack, CHILD))
    assert child is not None and (child.protected_identity, child.deceased) == (True, True)
    assert patient_id(stack, CHILD) != parent_id
    assert rejections(stack, REGISTER) == []


def test_a_redelivered_person_changes_nothing_and_keeps_the_patient_id(stack):
    message = person(PARENT, "Anna Demotest", seconds=5)
    deliver(stack, REGISTER, message)
    first_id, before = patient_id(stack, PARENT), stored_items(stack)

    assert deliver(stack, REGISTER, message, message) == {"batchItemFailures": []}

    assert patient_id(stack, PARENT) == first_id
    assert stored_items(stack) == before
    assert rejections(stack, REGISTER) == []


def test_an_older_change_arriving_after_a_newer_one_is_ignored(stack):
    newer = person(PARENT, "Anna Demotest Nyare", protected_identity=True, seconds=20)
    older = person(PARENT, "Anna Demotest Äldre", seconds=10)

    deliver(stack, REGISTER, newer)
    deliver(stack, REGISTER, older)

    stored = registry(stack).patient(patient_id(stack, PARENT))
    assert stored is not None
    assert (stored.name, stored.protected_identity) == ("Anna Demotest Nyare", True)


def test_a_guardianship_arriving_before_its_persons_links_them_and_registration_fills_in_the_profiles(
    stack,
):
    deliver(stack, REGISTER, guardianship(PARENT, CHILD, seconds=1))
    parent_id, child_id = patient_id(stack, PARENT), patient_id(stack, CHILD)

    guardian, view = registry(stack).guardian_view(child_id, parent_id)
    assert view.guardianship_active is True
    assert guardian is not None and (guardian.registered, guardian.name) == (False, "")
    assert view.child is not None and view.child.birth_date == date(2016, 3, 9)

    deliver(stack, REGISTER, person(PARENT, "Erik Demotest"), person(CHILD, "Siri Demotest"))

    assert (patient_id(stack, PARENT), patient_id(stack, CHILD)) == (parent_id, child_id)
    profile, children = registry(stack).household(parent_id)
    assert profile is not None and (profile.name, profile.registered) == ("Erik Demotest", True)
    assert children == [child_id]
    guardian, view = registry(stack).guardian_view(child_id, parent_id)
    assert view.guardianship_active is True
    assert view.child is not None and (view.child.name, view.child.registered) == ("Siri Demotest", True)


def test_a_removed_guardianship_stays_removed_when_an_older_added_is_redelivered(stack):
    added = guardianship(PARENT, CHILD, seconds=1)
    other = guardianship(OTHER_PARENT, CHILD, seconds=1)
    removed = guardianship(PARENT, CHILD, added=False, seconds=2)

    assert deliver(stack, REGISTER, added, other, removed, added) == {"batchItemFailures": []}

    parent_id, other_id, child_id = (patient_id(stack, p) for p in (PARENT, OTHER_PARENT, CHILD))
    assert registry(stack).household(parent_id)[1] == []
    assert registry(stack).guardian_view(child_id, parent_id)[1].guardianship_active is False
    assert registry(stack).household(other_id)[1] == [child_id]
    assert registry(stack).guardian_view(child_id, other_id)[1].guardianship_active is True


def test_a_person_cannot_be_their_own_guardian(stack):
    result = deliver(stack, REGISTER, guardianship(PARENT, PARENT))

    assert result == {"batchItemFailures": []}
    [dead] = rejections(stack, REGISTER)
    assert dead["rejection_reason"] == "invalid-guardianship"
    assert dead["source_queue_arn"] == stack.arn("PopulationRegisterQueue")
    assert stored_items(stack) == []


@pytest.mark.parametrize(
    ("message", "field"),
    [
        (person(BAD_CHECK_DIGIT, "Anna Demotest"), "person"),
        (guardianship(BAD_CHECK_DIGIT, CHILD), "guardianship.guardian"),
        (guardianship(PARENT, BAD_CHECK_DIGIT), "guardianship.child"),
    ],
    ids=["person", "guardian", "child"],
)
def test_an_identity_with_a_bad_check_digit_is_dead_lettered_without_the_number_in_the_reason(
    stack, message, field
):
    result = deliver(stack, REGISTER, message)

    assert result == {"batchItemFailures": []}
    [dead] = rejections(stack, REGISTER)
    assert dead["rejection_reason"] == "invalid-identity"
    assert dead["rejection_detail"].startswith(field)
    assert (
        BAD_CHECK_DIGIT not in dead["rejection_detail"]
        and BAD_CHECK_DIGIT[2:] not in dead["rejection_detail"]
    )
    assert json.loads(dead["body"]) == message, "the DLQ keeps the message as sent, for replay"
    assert registry(stack).patient_id_of(identity(PARENT)) is None, "nothing half-applied"


def _without_name() -> dict[str, Any]:
    message = person(PARENT, "Anna Demotest")
    del message["person"]["name"]
    return message


@pytest.mark.parametrize(
    ("body", "reason", "detail_mentions"),
    [
        ("{not json", "malformed-json", "Expecting"),
        (_without_name(), "contract-violation", "name"),
        (person(PARENT, "Anna Demotest") | {"type": "person.deleted"}, "contract-violation", "type"),
        (person(PARENT, "Anna Demotest") | {"source": "skatteverket"}, "contract-violation", "source"),
        (
            person(PARENT, "Anna Demotest") | {"guardianship": {"guardian": PARENT, "child": CHILD}},
            "contract-violation",
            "guardianship",
        ),
        (person(PARENT[2:], "Anna Demotest"), "contract-violation", "personal_identity_number"),
    ],
    ids=["not-json", "missing-field", "unknown-type", "extra-field", "mixed-payloads", "ten-digits"],
)
def test_a_register_message_breaking_the_contract_is_dead_lettered_and_not_retried(
    stack, body, reason, detail_mentions
):
    result = deliver(stack, REGISTER, body)

    assert result == {"batchItemFailures": []}, "a poison message must not be retried"
    [dead] = rejections(stack, REGISTER)
    assert dead["rejection_reason"] == reason
    assert detail_mentions in dead["rejection_detail"]
    assert PARENT[2:] not in dead["rejection_detail"], "no personal identity number in the reason"
    assert stored_items(stack) == []


def test_good_messages_in_a_batch_apply_while_the_poison_ones_are_dead_lettered(stack):
    result = deliver(
        stack,
        REGISTER,
        person(PARENT, "Anna Demotest"),
        "garbage",
        guardianship(CHILD, CHILD),
        guardianship(PARENT, CHILD),
        person(CHILD, "Liv Demotest") | {"extra": 1},
        person(CHILD, "Liv Demotest"),
    )

    assert result == {"batchItemFailures": []}
    assert sorted(d["rejection_reason"] for d in rejections(stack, REGISTER)) == [
        "contract-violation",
        "invalid-guardianship",
        "malformed-json",
    ]
    parent_id, child_id = patient_id(stack, PARENT), patient_id(stack, CHILD)
    profile, children = registry(stack).household(parent_id)
    assert profile is not None and profile.name == "Anna Demotest" and children == [child_id]


@pytest.mark.parametrize(
    "changed_at",
    ["2026-01-01t00:00:05z", "2026-01-01T01:00:05+01:00", "2026-01-01T00:00:05.250000Z"],
    ids=["lower-case", "offset", "fraction"],
)
def test_any_rfc3339_changed_at_the_contract_allows_is_applied_in_order(stack, changed_at):
    deliver(stack, REGISTER, person(PARENT, "Anna Demotest Nyare") | {"changed_at": changed_at})
    deliver(stack, REGISTER, person(PARENT, "Anna Demotest Äldre", seconds=4))

    stored = registry(stack).patient(patient_id(stack, PARENT))
    assert stored is not None and stored.name == "Anna Demotest Nyare"
    assert rejections(stack, REGISTER) == []


def test_a_leap_second_changed_at_is_dead_lettered_rather_than_retried_forever(stack):
    result = deliver(
        stack, REGISTER, person(PARENT, "Anna Demotest") | {"changed_at": "2016-12-31T23:59:60Z"}
    )

    assert result == {"batchItemFailures": []}
    [dead] = rejections(stack, REGISTER)
    assert dead["rejection_reason"] == "contract-violation" and "changed_at" in dead["rejection_detail"]
    assert stored_items(stack) == []


def test_a_throttled_store_reports_the_record_for_retry_and_dead_letters_nothing(stack):
    with fail_calls("dynamodb", "ProvisionedThroughputExceededException"):
        result = deliver(stack, REGISTER, person(PARENT, "Anna Demotest"))

    assert len(result["batchItemFailures"]) == 1, "SQS must redeliver it"
    assert rejections(stack, REGISTER) == [], "a transient failure is not dead-lettered at once"
    assert stored_items(stack) == []

    assert deliver(stack, REGISTER, person(PARENT, "Anna Demotest")) == {"batchItemFailures": []}
    assert registry(stack).patient_id_of(identity(PARENT)) is not None, "the redelivery applies"


def test_register_messages_on_the_template_queue_reach_the_store_and_poison_reaches_its_dlq(stack):
    sqs = stack.session.client("sqs")
    url = stack.ref("PopulationRegisterQueue")
    send_all(
        sqs,
        url,
        [person(PARENT, "Anna Demotest"), guardianship(PARENT, CHILD), {"type": "person.upserted"}],
    )

    assert stack.event_source(REGISTER).drain() == 3

    parent_id, child_id = patient_id(stack, PARENT), patient_id(stack, CHILD)
    assert registry(stack).household(parent_id)[1] == [child_id]
    [dead] = rejections(stack, REGISTER)
    assert dead["rejection_reason"] == "contract-violation"
    assert dead["source_queue_arn"] == stack.arn("PopulationRegisterQueue")
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert (
        attributes["ApproximateNumberOfMessages"],
        attributes["ApproximateNumberOfMessagesNotVisible"],
    ) == (
        "0",
        "0",
    ), "everything was deleted from the source queue"


# ---- HSA staff feed ------------------------------------------------------------------------------------


def test_an_employee_with_a_commission_appears_with_its_commission_fields(stack):
    result = deliver(
        stack,
        STAFF,
        employee(DOCTOR, "Doktor Demo Testare", "Läkare"),
        commission(
            "C-T0001-1",
            DOCTOR,
            DEMO_CLINIC,
            roles=["local-administrator", "block-guardians"],
            provider_public=False,
            valid_from="2025-02-01",
            valid_to="2027-01-31",
        ),
    )

    assert result == {"batchItemFailures": []}
    member, [held] = registry(stack).staff_member(DOCTOR)
    assert member is not None
    assert (member.name, member.title, member.removed) == ("Doktor Demo Testare", "Läkare", False)
    assert (held.commission_id, held.hsa_id) == ("C-T0001-1", DOCTOR)
    assert (held.care_unit_hsa_id, held.care_unit_name) == (DEMO_CLINIC["hsa_id"], DEMO_CLINIC["name"])
    assert (held.care_provider_hsa_id, held.care_provider_public) == (
        DEMO_CLINIC["care_provider_hsa_id"],
        False,
    )
    assert (held.purpose, held.roles) == (
        "Vård och behandling",
        frozenset({"block-guardians", "local-administrator"}),
    )
    assert (held.valid_from, held.valid_to) == (date(2025, 2, 1), date(2027, 1, 31))
    assert held.active_on(date(2026, 6, 1)) and not held.active_on(date(2027, 2, 1))


def test_a_revoked_commission_disappears_and_an_older_redelivered_added_does_not_resurrect_it(stack):
    added = commission("C-T0001-1", DOCTOR, DEMO_CLINIC, seconds=1)
    kept = commission("C-T0001-2", DOCTOR, DEMO_CLINIC, purpose="Administration", seconds=1)
    deliver(stack, STAFF, employee(DOCTOR, "Doktor Demo Testare", "Läkare"), added, kept)

    deliver(stack, STAFF, commission_revoked(DOCTOR, "C-T0001-1", seconds=2))
    deliver(stack, STAFF, added)

    _, commissions = registry(stack).staff_member(DOCTOR)
    assert [c.commission_id for c in commissions] == ["C-T0001-2"]
    member, acting_under, _ = registry(stack).staff_view(DOCTOR, "C-T0001-1", None)
    assert member is not None and acting_under is None
    assert rejections(stack, STAFF) == []


def test_a_revoke_arriving_before_its_add_keeps_the_commission_revoked(stack):
    result = deliver(
        stack,
        STAFF,
        commission_revoked(DOCTOR, "C-T0001-1", seconds=9),
        commission("C-T0001-1", DOCTOR, DEMO_CLINIC, seconds=3),
    )

    assert result == {"batchItemFailures": []}
    assert registry(stack).staff_member(DOCTOR) == (None, [])
    assert registry(stack).staff_view(DOCTOR, "C-T0001-1", None)[1] is None


def test_a_removed_employee_is_marked_removed_and_an_older_upsert_does_not_bring_them_back(stack):
    upserted = employee(DOCTOR, "Doktor Demo Testare", "Läkare", seconds=1)
    deliver(stack, STAFF, upserted, commission("C-T0001-1", DOCTOR, DEMO_CLINIC, seconds=1))

    deliver(stack, STAFF, employee_removed(DOCTOR, seconds=5), upserted)

    member, _ = registry(stack).staff_member(DOCTOR)
    assert member is not None and member.removed is True
    assert registry(stack).staff_view(DOCTOR, "C-T0001-1", None)[0] == member


def test_hsa_ids_are_matched_whatever_the_case_of_their_suffix(stack):
    lower = DOCTOR[:-5] + DOCTOR[-5:].lower()
    deliver(
        stack,
        STAFF,
        employee(lower, "Doktor Demo Testare", "Läkare"),
        commission("C-T0001-1", DOCTOR, DEMO_CLINIC, seconds=1),
        commission("C-T0001-2", lower, DEMO_CLINIC, seconds=1),
    )
    deliver(stack, STAFF, commission_revoked(lower, "C-T0001-1", seconds=2))

    member, commissions = registry(stack).staff_member(DOCTOR)
    assert member is not None and member.hsa_id == DOCTOR
    assert [c.commission_id for c in commissions] == ["C-T0001-2"]


@pytest.mark.parametrize(("valid_to", "stored"), [("2025-12-31", False), ("2026-01-01", True)])
def test_a_commission_ending_before_it_starts_is_dead_lettered_as_invalid(stack, valid_to, stored):
    message = commission("C-T0001-1", DOCTOR, DEMO_CLINIC, valid_from="2026-01-01", valid_to=valid_to)

    assert deliver(stack, STAFF, message) == {"batchItemFailures": []}

    reasons = [d["rejection_reason"] for d in rejections(stack, STAFF)]
    assert reasons == ([] if stored else ["invalid-commission"])
    assert len(registry(stack).staff_member(DOCTOR)[1]) == (1 if stored else 0)


@pytest.mark.parametrize(
    ("message", "detail_mentions"),
    [
        (employee("SE12-T0001", "Doktor Demo Testare", "Läkare"), "hsa_id"),
        (commission("C-T0001-1", "se2321000016-T0001", DEMO_CLINIC), "employee_hsa_id"),
        (employee_removed("SE2321000016_T0001"), "employee_hsa_id"),
        (commission_revoked(DOCTOR, "C T0001 1"), "commission_id"),
    ],
    ids=["employee", "commission-employee", "removed", "commission-id"],
)
def test_a_staff_message_with_a_malformed_identifier_is_a_contract_violation(stack, message, detail_mentions):
    assert deliver(stack, STAFF, message) == {"batchItemFailures": []}

    [dead] = rejections(stack, STAFF)
    assert dead["rejection_reason"] == "contract-violation"
    assert detail_mentions in dead["rejection_detail"]
    assert dead["source_queue_arn"] == stack.arn("HsaStaffFeedQueue")
    assert stored_items(stack) == []


def test_staff_messages_on_the_template_queue_reach_the_store(stack):
    send_all(
        stack.session.client("sqs"),
        stack.ref("HsaStaffFeedQueue"),
        [employee(DOCTOR, "Doktor Demo Testare", "Läkare"), commission("C-T0001-1", DOCTOR, DEMO_CLINIC)],
    )

    assert stack.event_source(STAFF).drain() == 2

    member, commissions = registry(stack).staff_member(DOCTOR)
    assert member is not None and [c.commission_id for c in commissions] == ["C-T0001-1"]
