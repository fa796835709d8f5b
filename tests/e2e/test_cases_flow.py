"""A care case end to end over HTTP against `make run`'s runtime with its demo data: a guardian renews a
child's prescription, the other guardian follows it, the clinic's nurse approves it, the prescription reaches
the prescription system's queue, the family sees the answer and the case closes; staff of another unit see
nothing of it."""

from __future__ import annotations

import json
import time

import boto3
import pytest

from local_runtime import demo
from tests.support.http import get_json, resident_token, send_json, staff_token

NURSE = "SE2321000016-S0002"  # C-S0002-1 at the demo clinic, C-S0002-2 at a private clinic


@pytest.fixture(scope="module")
def family(runtime):
    _, identities = get_json(runtime, "/dev/identities")
    by_name = {p["name"]: p for p in identities["residents"]}
    anna = resident_token(runtime, by_name["Anna Demosson"]["personnummer"])
    erik = resident_token(runtime, by_name["Erik Demosson"]["personnummer"])
    _, me = get_json(runtime, "/v1/me", {"authorization": f"Bearer {anna}"})
    siri = next(p["patient_id"] for p in me["patients"] if p["name"] == "Siri Demosson")
    return anna, erik, siri, by_name["Siri Demosson"]["personnummer"]


def bearer(token, **headers):
    return {"authorization": f"Bearer {token}", **headers}


def eventually(check, timeout=30.0):
    deadline = time.monotonic() + timeout
    while not (result := check()):
        assert time.monotonic() < deadline, "not in time"
        time.sleep(0.2)
    return result


def test_a_renewal_for_a_child_from_sending_to_the_prescription_system(runtime, family):
    anna, erik, siri, siri_pnr = family
    clinic = demo.DEMO_CLINIC["hsa_id"]

    status, offered = get_json(runtime, f"/v1/clinics/{clinic}/case-types?patient_id={siri}", bearer(anna))
    assert status == 200
    renew = next(t for t in offered["items"] if t["id"] == "renew-prescription")
    assert renew["terms"]["sv"] and renew["form"]["fields"]

    body = {
        "clinic_id": clinic,
        "case_type_id": "renew-prescription",
        "form_version": renew["form"]["version"],
        "answers": {
            "medicines": "Demomycin mixtur 50 mg/ml",
            "dispensing": "any_pharmacy",
            "health_changed": False,
        },
    }
    status, case = send_json(
        runtime, "POST", f"/v1/patients/{siri}/cases", body, bearer(anna, **{"idempotency-key": "e2e-1"})
    )
    assert status == 201 and case["status"] == "waiting_for_staff"
    case_id = case["case_id"]

    _, listed = get_json(runtime, f"/v1/patients/{siri}/cases", bearer(erik))
    assert case_id in [c["case_id"] for c in listed["items"]], "the other guardian sees the case (rule 8)"

    nurse = staff_token(runtime, NURSE)
    own_unit, other_unit = (
        bearer(nurse, **{"x-commission-id": "C-S0002-1"}),
        bearer(nurse, **{"x-commission-id": "C-S0002-2"}),
    )
    _, queue = get_json(runtime, "/v1/staff/cases?status=waiting_for_staff", own_unit)
    assert case_id in [c["case_id"] for c in queue["items"]]
    _, elsewhere = get_json(runtime, "/v1/staff/cases", other_unit)
    assert case_id not in [c["case_id"] for c in elsewhere["items"]]
    assert get_json(runtime, f"/v1/staff/patients/{siri}/cases/{case_id}", other_unit)[0] == 404

    status, decided = send_json(
        runtime,
        "POST",
        f"/v1/staff/patients/{siri}/cases/{case_id}/decision",
        {"outcome": "approved", "renewed": ["Demomycin mixtur 50 mg/ml, 100 ml"]},
        own_unit,
    )
    assert status == 200, decided

    def closed():
        _, seen = get_json(runtime, f"/v1/patients/{siri}/cases/{case_id}", bearer(anna))
        return seen if seen["status"] == "closed" else None

    seen = eventually(closed)
    assert seen["prescription"]["status"] == "sent"
    assert any(m["kind"] == "decision" and "Demomycin" in m["text"] for m in seen["messages"])
    sqs = boto3.client("sqs", endpoint_url=runtime.aws_url, region_name="eu-north-1")
    url = runtime.deployment.lookup("PrescriptionQueue", None)
    [message] = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    sent = json.loads(message["Body"])
    assert sent["case_id"] == case_id and sent["patient"]["personal_identity_number"] == siri_pnr


def test_bad_input_is_refused_and_stores_nothing(runtime, family):
    anna, _, siri, _ = family
    clinic = demo.DEMO_CLINIC["hsa_id"]
    _, before = get_json(runtime, f"/v1/patients/{siri}/cases", bearer(anna))
    base = {"clinic_id": clinic, "case_type_id": "advice", "form_version": 1}
    cases = [
        (base | {"case_type_id": "no-such-type", "answers": {}}, 400, "case_type_id"),
        (base | {"answers": {"question": 42}}, 400, "answers."),
        (base | {"form_version": 99, "answers": {}}, 409, None),
        (base | {"answers": {}, "attachments": ["not-an-id"]}, 400, None),
    ]
    for body, expected, named in cases:
        status, problem = send_json(runtime, "POST", f"/v1/patients/{siri}/cases", body, bearer(anna))
        assert status == expected, (body, problem)
        if named:
            assert any(p["name"].startswith(named) for p in problem["invalid_params"]), problem
    _, after = get_json(runtime, f"/v1/patients/{siri}/cases", bearer(anna))
    assert after["items"] == before["items"]
