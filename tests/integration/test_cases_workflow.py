"""The case workflow (statemachines/case.asl.json) executing against moto, its Lambda tasks in-process:
renewal to the prescription queue, reminders, auto-close, failures kept visible, withdrawal, reopening, and
the events other e-services follow. Timers are shortened by starting runs with small timeouts."""

from __future__ import annotations

import json
import time
from datetime import date
from pathlib import Path

import fastjsonschema
import pytest

from eservices_core.table import Table
from tests.support.aws import fail_calls
from tests.support.events import subscribe
from tests.support.people import ANSWERS, UNIT, World

PRESCRIPTION_CONTRACT = fastjsonschema.compile(
    json.loads(
        (
            Path(__file__).parents[2] / "functions/cases/cases/contracts/prescription-renewal.v1.schema.json"
        ).read_text(encoding="utf-8")
    )
)


def eventually(check, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError("the workflow did not get there in time")
        time.sleep(0.2)


@pytest.fixture
def clinic(workflow_stack):
    world = World(workflow_stack, date.today())
    world.offer("renew-prescription", "advice")
    anna = world.resident("Anna Demoflöde")
    liv = world.resident("Liv Demoflöde", age=5)
    world.guardianship(anna, liv)
    nurse = world.staff("Sköterska Demoflöde")
    return world, anna, liv, nurse


@pytest.fixture
def events(workflow_stack):
    """Every case event on the platform's bus (as notifications will subscribe)."""
    return subscribe(workflow_stack, "eservices.cases")


def staff_post(world, nurse, patient_id, case_id, action, body=None):
    return world.stack.call(
        "POST",
        f"/v1/staff/patients/{patient_id}/cases/{case_id}/{action}",
        token=world.staff_token(nurse),
        headers={"X-Commission-Id": nurse.commission_ids[0]},
        body=body,
    )


def read(world, person, patient_id, case_id):
    return world.stack.call("GET", f"/v1/patients/{patient_id}/cases/{case_id}", token=world.token(person))[1]


def executions(world, case_id):
    sfn = world.stack.session.client("stepfunctions")
    found = sfn.list_executions(stateMachineArn=world.stack.ref("CaseWorkflow"))["executions"]
    return {e["name"]: e for e in found if e["name"].startswith(case_id)}


def waiting_for(world, patient_id, case_id, who):
    table = Table(world.stack.session.client("dynamodb"), world.stack.ref("CasesTable"))
    return lambda: (table.get((f"PATIENT#{patient_id}", f"CASE#{case_id}")) or {}).get("waiting_for") == who


def test_an_approved_renewal_reaches_the_prescription_queue_and_the_case_closes(clinic, events):
    world, anna, liv, nurse = clinic
    patient_id = world.patient_id(liv)
    case_id = world.send_case(anna, liv)
    eventually(waiting_for(world, patient_id, case_id, "staff"))

    status, _ = staff_post(
        world,
        nurse,
        patient_id,
        case_id,
        "decision",
        {"outcome": "approved", "renewed": ["Demoxin 10 mg, 100 st"]},
    )
    assert status == 200

    case = eventually(lambda: (c := read(world, anna, patient_id, case_id))["status"] == "closed" and c)
    assert case["prescription"]["status"] == "sent" and case["decision"]["outcome"] == "approved"
    [message] = world.stack.drain("PrescriptionQueue")
    PRESCRIPTION_CONTRACT(message["Json"])
    assert message["Json"]["case_id"] == case_id and message["Json"]["renewed"] == ["Demoxin 10 mg, 100 st"]
    assert message["Json"]["patient"]["personal_identity_number"] == liv.personnummer
    assert message["Json"]["prescriber"]["hsa_id"] == nurse.hsa_id
    run = eventually(lambda: (e := executions(world, case_id)[f"{case_id}-1"])["status"] == "SUCCEEDED" and e)
    history = world.stack.session.client("stepfunctions").get_execution_history(
        executionArn=run["executionArn"]
    )
    entered = [e for e in history["events"] if e["type"].endswith("StateEntered")]
    assert len(entered) <= 5, "state transitions of one renewal (the cost model counts them)"
    assert liv.personnummer not in json.dumps(history, default=str), (
        "identities stay out of execution history"
    )
    types = eventually(
        lambda: (
            {e["detail-type"] for e in events()} >= {"case.created", "case.answered", "case.closed"}
            and {e["detail-type"] for e in events()}
        )
    )
    assert types >= {"case.created", "case.answered", "case.closed"}
    assert all(
        set(e["detail"]) == {"case_id", "patient_id", "care_unit_hsa_id", "case_type_id", "status"}
        for e in events()
    )


def test_a_renewal_the_prescription_system_cannot_take_stays_visible_and_can_be_decided_again(clinic):
    world, anna, liv, nurse = clinic
    patient_id = world.patient_id(liv)
    case_id = world.send_case(anna, liv)
    eventually(waiting_for(world, patient_id, case_id, "staff"))

    with fail_calls("sqs", "ServiceUnavailable", operation="SendMessage"):
        staff_post(
            world, nurse, patient_id, case_id, "decision", {"outcome": "approved", "renewed": ["Demoxin"]}
        )
        case = eventually(
            lambda: (
                (c := read(world, anna, patient_id, case_id)).get("prescription", {}).get("status")
                == "failed"
                and c
            ),
            timeout=60,
        )
    assert case["status"] == "waiting_for_staff"
    assert world.stack.drain("PrescriptionQueue") == []
    eventually(waiting_for(world, patient_id, case_id, "staff"))

    staff_post(world, nurse, patient_id, case_id, "decision", {"outcome": "approved", "renewed": ["Demoxin"]})
    eventually(lambda: read(world, anna, patient_id, case_id)["status"] == "closed")
    assert len(world.stack.drain("PrescriptionQueue")) == 1


def _restart_with_timers(world, patient_id, case_id, *, answer: int, auto_close: int) -> None:
    """Replace the case's run by one with short timers (the clinic's minimum is a day)."""
    sfn = world.stack.session.client("stepfunctions")
    first = eventually(lambda: executions(world, case_id).get(f"{case_id}-1"))
    eventually(waiting_for(world, patient_id, case_id, "staff"))
    sfn.stop_execution(executionArn=first["executionArn"])
    table = Table(world.stack.session.client("dynamodb"), world.stack.ref("CasesTable"))
    key = (f"PATIENT#{patient_id}", f"CASE#{case_id}")
    case = table.get(key)
    assert case is not None
    table.put_item({k: v for k, v in case.items() if k not in ("task_token", "waiting_for")})
    sfn.start_execution(
        stateMachineArn=world.stack.ref("CaseWorkflow"),
        name=f"{case_id}-timers",
        input=json.dumps(
            {
                "patient_id": patient_id,
                "case_id": case_id,
                "answer_timeout_seconds": answer,
                "auto_close_seconds": auto_close,
            }
        ),
    )
    eventually(waiting_for(world, patient_id, case_id, "staff"))


def test_the_unit_is_reminded_when_the_promised_answer_time_passes(clinic, events):
    world, anna, liv, _ = clinic
    patient_id = world.patient_id(liv)
    case_id = world.send_case(anna, liv)
    _restart_with_timers(world, patient_id, case_id, answer=1, auto_close=3600)

    eventually(lambda: any(e["detail-type"] == "case.answer-overdue" for e in events()), timeout=20)
    assert read(world, anna, patient_id, case_id)["status"] == "waiting_for_staff"


def test_a_case_without_a_reply_from_the_resident_closes_by_itself(clinic):
    world, anna, liv, nurse = clinic
    patient_id = world.patient_id(liv)
    case_id = world.send_case(anna, liv)
    _restart_with_timers(world, patient_id, case_id, answer=3600, auto_close=1)

    status, case = staff_post(
        world, nurse, patient_id, case_id, "information-requests", {"text": "Vilken dos?"}
    )
    assert status == 201 and case["status"] == "waiting_for_resident"

    case = eventually(
        lambda: (c := read(world, anna, patient_id, case_id))["status"] == "closed" and c, timeout=20
    )
    assert case["messages"][-1]["author"] == {"kind": "system"}
    assert "no reply" in case["messages"][-1]["text"]


def test_a_resident_reply_returns_the_case_to_staff_and_a_withdrawal_ends_the_run(clinic):
    world, anna, liv, nurse = clinic
    patient_id = world.patient_id(liv)
    case_id = world.send_case(anna, liv)
    eventually(waiting_for(world, patient_id, case_id, "staff"))
    staff_post(world, nurse, patient_id, case_id, "information-requests", {"text": "Vilken dos?"})
    eventually(waiting_for(world, patient_id, case_id, "resident"))

    status, case = world.stack.call(
        "POST",
        f"/v1/patients/{patient_id}/cases/{case_id}/messages",
        token=world.token(anna),
        body={"text": "10 mg."},
    )
    assert status == 201 and case["status"] == "waiting_for_staff"
    eventually(waiting_for(world, patient_id, case_id, "staff"))

    status, case = world.stack.call(
        "POST", f"/v1/patients/{patient_id}/cases/{case_id}/withdrawal", token=world.token(anna)
    )
    assert status == 200 and case["status"] == "withdrawn"
    eventually(lambda: executions(world, case_id)[f"{case_id}-1"]["status"] == "SUCCEEDED")


def test_a_reopened_case_gets_a_new_run(clinic):
    world, anna, liv, nurse = clinic
    patient_id = world.patient_id(liv)
    case_id = world.send_case(anna, liv)
    eventually(waiting_for(world, patient_id, case_id, "staff"))
    assert staff_post(world, nurse, patient_id, case_id, "closure")[0] == 200
    eventually(lambda: executions(world, case_id)[f"{case_id}-1"]["status"] == "SUCCEEDED")

    status, case = staff_post(world, nurse, patient_id, case_id, "reopening")

    assert status == 200 and case["status"] == "waiting_for_staff"
    eventually(lambda: executions(world, case_id).get(f"{case_id}-2", {}).get("status") == "RUNNING")
    eventually(waiting_for(world, patient_id, case_id, "staff"))
    assert (
        staff_post(world, nurse, patient_id, case_id, "messages", {"text": "Klart.", "close": True})[0] == 201
    )
    eventually(lambda: executions(world, case_id)[f"{case_id}-2"]["status"] == "SUCCEEDED")


def test_staff_acting_before_the_run_reaches_its_wait_is_not_lost(clinic):
    """The API stores what comes next when no task token is there yet; the wait then goes straight on."""
    world, anna, liv, nurse = clinic
    patient_id = world.patient_id(liv)
    body = {"clinic_id": UNIT["hsa_id"], "case_type_id": "renew-prescription", "form_version": 1}
    status, case = world.stack.call(
        "POST",
        f"/v1/patients/{patient_id}/cases",
        token=world.token(anna),
        body=body | {"answers": ANSWERS["renew-prescription"]},
    )
    assert status == 201
    staff_post(world, nurse, patient_id, case["case_id"], "closure")  # at once, racing the run's first task
    eventually(lambda: executions(world, case["case_id"])[f"{case['case_id']}-1"]["status"] == "SUCCEEDED")
    assert read(world, anna, patient_id, case["case_id"])["status"] == "closed"


def test_case_events_survive_an_event_bus_outage_and_the_sweeper_delivers_them(clinic, events):
    from datetime import UTC, datetime, timedelta

    from eservices_core.clock import FixedClock, use_clock

    world, anna, liv, _ = clinic
    table = Table(world.stack.session.client("dynamodb"), world.stack.ref("CasesTable"))

    def outbox() -> list[dict]:
        return [i for shard in range(4) for i in table.query_all(f"OUTBOX#{shard}")]

    with fail_calls("events", "InternalException", operation="PutEvents"):
        case_id = world.send_case(anna, liv)  # the case is stored; its event waits in the outbox
    assert [json.loads(i["entry"])["DetailType"] for i in outbox()] == ["case.created"]

    assert world.stack.invoke("CaseEventsOutboxFunction", {}) == {"found": 0, "left": 0}, "too fresh to sweep"
    with use_clock(FixedClock(datetime.now(UTC) + timedelta(minutes=2))):
        assert world.stack.invoke("CaseEventsOutboxFunction", {}) == {"found": 1, "left": 0}

    assert outbox() == []
    created = eventually(lambda: [e for e in events() if e["detail-type"] == "case.created"])
    assert [e["detail"]["case_id"] for e in created] == [case_id]
