"""Lists staff see of many patients at once (a clinic day's appointments): every patient shown is decided by the
one access policy and written to the PDL audit log, in a few round trips however many patients there are
(`authorize_staff_many`, `AuditLog.append_many`; make bench measured 26 round trips for eight appointments when
each was decided and audited on its own, 5 together)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from eservices_core import aws
from eservices_core.access import Action, authorize_staff_many
from eservices_core.actors import Staff
from eservices_core.audit import AuditEntry, AuditLog, Verb, verify_table
from eservices_core.errors import Forbidden, ServiceUnavailable
from eservices_core.registry import Registry
from eservices_core.table import Table
from tests.support.aws import count_calls, fail_calls
from tests.support.people import OTHER_UNIT, World

MONDAY = "2026-11-30"
TYPE = "influenza-vaccination"
RETENTION = timedelta(days=1827)
READ = Action(Verb.READ, "appointments")


@pytest.fixture
def audit(stack) -> Table:
    return Table(aws.dynamodb(), stack.ref("AuditTable"))


def staff_call(world: World, member: Any, path: str, query: str = "") -> tuple[int, Any]:
    headers = {"X-Commission-Id": member.commission_ids[0]}
    return world.stack.call("GET", path, token=world.staff_token(member), headers=headers, query=query)


def access_log(world: World, person: Any) -> list[dict[str, Any]]:
    path = f"/v1/patients/{world.patient_id(person)}/access-log"
    status, log = world.stack.call("GET", path, token=world.token(person))
    assert status == 200, log
    return list(log["items"])


def entry(patient_id: str, n: int) -> AuditEntry:
    return AuditEntry(
        patient_id=patient_id,
        actor_kind="staff",
        actor_id="SE2321000016-T0001",
        actor_name="Sara Demosköterska",
        acting_for=None,
        relation="staff",
        verb=Verb.READ,
        resource=f"appointments/{n}",
        request_id=f"request-{n}",
        care_unit_hsa_id="SE2321000016-U0001",
        care_unit_name="Vårdcentralen Demo",
        care_provider_hsa_id="SE2321000016-P0",
        care_provider_public=True,
        purpose="Vård och behandling",
        commission_id="C-T0001-1",
    )


def test_a_day_of_appointments_shows_every_patient_each_audited_once_in_five_round_trips(world):
    admin = world.bookable(TYPE)
    times = world.publish_times(admin, TYPE, [f"{MONDAY}T13:00", f"{MONDAY}T13:05"], capacity=3)
    people = [world.resident(f"Vaccin Demosson {n}") for n in range(6)]
    for n, person in enumerate(people):
        world.book(person, person, times[n // 3])
    nurse = world.staff("Sara Demosköterska")

    with count_calls() as calls:
        status, answer = staff_call(world, nurse, "/v1/staff/appointments", f"date={MONDAY}")

    assert status == 200, answer
    assert {a["patient_id"] for a in answer["items"]} == {world.patient_id(p) for p in people}
    assert len(calls) == 5, calls  # commission, the day's query, patients, their audit heads, one transaction
    for person in people:
        [record] = access_log(world, person)
        assert record["resource"].startswith("appointments/") and record["staff_name"] == nurse.name, record
    other = world.staff("Olle Annanenhet", unit=OTHER_UNIT)
    status, answer = staff_call(world, other, "/v1/staff/appointments", f"date={MONDAY}")
    assert (status, answer["items"]) == (200, []), "another unit sees nothing, and nothing is audited for it"
    assert all(len(access_log(world, p)) == 1 for p in people)


def test_many_patients_are_decided_in_one_read_and_unknown_ones_left_out(world):
    people = [world.resident(f"Lista Demosson {n}") for n in range(3)]
    nurse = world.staff("Sara Demosköterska")
    registry = Registry(Table(aws.dynamodb(), world.stack.ref("IdentityTable")))
    staff = Staff("subject", nurse.hsa_id, nurse.name, nurse.commission_ids[0])
    ids = [world.patient_id(p) for p in people] + ["no-such-patient"]

    with count_calls() as calls:
        grants = authorize_staff_many(registry, staff, ids, READ)

    assert calls == ["BatchGetItem"]
    assert sorted(grants) == sorted(ids[:3])
    assert {g.patient.name for g in grants.values()} == {p.name for p in people}
    assert {g.commission.commission_id for g in grants.values() if g.commission} == {nurse.commission_ids[0]}
    wrong = Staff("subject", nurse.hsa_id, nurse.name, "C-NOT-MINE")
    with pytest.raises(Forbidden):
        authorize_staff_many(registry, wrong, ids, READ)


def test_append_many_extends_each_chain_and_appends_a_patient_twice_in_order(audit, clock):
    log = AuditLog(audit, RETENTION)
    log.append(entry("patient-a", 0))
    entries = [entry("patient-a", 1), entry("patient-b", 2), entry("patient-a", 3), entry("patient-c", 4)]

    with count_calls() as calls:
        records = log.append_many(entries)

    assert calls == ["BatchGetItem", "TransactWriteItems", "GetItem", "TransactWriteItems"]
    assert sorted((r["patient_id"], r["seq"], r["resource"]) for r in records) == [
        ("patient-a", 2, "appointments/1"),
        ("patient-a", 3, "appointments/3"),
        ("patient-b", 1, "appointments/2"),
        ("patient-c", 1, "appointments/4"),
    ]
    assert verify_table(audit, clock.now()) == (3, 5, [])


def test_a_head_that_moved_meanwhile_sends_the_batch_entry_by_entry_without_forking_a_chain(
    stack, audit, clock
):
    log = AuditLog(audit, RETENTION)
    log.append(entry("patient-a", 0))
    elsewhere = AuditLog(Table(stack.session.client("dynamodb"), stack.ref("AuditTable")), RETENTION)
    raced: list[str] = []

    def another_request_appends_first(model: Any, **_: Any) -> None:
        if model.name == "TransactWriteItems" and not raced:
            raced.append("patient-a")
            elsewhere.append(entry("patient-a", 99))

    with aws.watching("dynamodb", "before-call", another_request_appends_first):
        records = log.append_many([entry("patient-a", 1), entry("patient-b", 2)])

    assert raced and sorted((r["patient_id"], r["seq"]) for r in records) == [
        ("patient-a", 3),
        ("patient-b", 1),
    ]
    assert verify_table(audit, clock.now()) == (2, 4, [])


@pytest.mark.parametrize("code", ["ProvisionedThroughputExceededException", "InternalServerError"])
def test_a_failing_dynamodb_makes_append_many_raise_service_unavailable_and_write_nothing(audit, clock, code):
    with fail_calls("dynamodb", code, operation="TransactWriteItems"), pytest.raises(ServiceUnavailable):
        AuditLog(audit, RETENTION).append_many([entry("patient-a", 1), entry("patient-b", 2)])
    assert audit.query_all("PATIENT#patient-a") == [] and audit.query_all("PATIENT#patient-b") == []


def test_an_error_that_is_not_transient_still_returns_no_data(audit, clock):
    def refuse(model: Any, **_: Any) -> None:
        raise ClientError({"Error": {"Code": "ValidationException", "Message": "no"}}, model.name)

    with aws.watching("dynamodb", "before-call", refuse), pytest.raises(ServiceUnavailable):
        AuditLog(audit, RETENTION).append_many([entry("patient-a", 1)])
