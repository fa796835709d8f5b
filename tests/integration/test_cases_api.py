"""The cases e-service (ärenden) through the gateway: what residents, guardians, staff and clinic administrators
see and get back. Rules 8, 14-15 and 17-19. The state machine does not execute here (test_cases_workflow
runs it), so these tests are about the API's answers and what it stores."""

from __future__ import annotations

import json
import uuid
from datetime import date, timedelta
from typing import Any

import pytest

from cases.catalogue import standard_types
from eservices_core.table import Table
from local_runtime import population
from tests.support.aws import count_calls
from tests.support.aws import upload as store_upload
from tests.support.people import (
    ANSWERS,
    CARE,
    OTHER_UNIT,
    PRIVATE_UNIT,
    UNIT,
    Resident,
    StaffMember,
    World,
)

TERMS = {"sv": "Vi svarar inom 2 dagar.", "en": "We answer within 2 days."}
SAMPLE: dict[str, dict[str, Any]] = {
    **ANSWERS,
    "advice": {"question": "Jag har ont i ryggen.", "duration": "under_a_week", "symptoms_worsened": False},
    "contact-me": {"reason": "Frågor om provsvar", "callback_time": "morning", "phone": "070-123 45 67"},
    "feedback": {"topic": "praise", "message": "Tack för ett bra bemötande!", "wants_reply": False},
    "certificate": {"certificate_kind": "driving_licence"},
}
LOCAL_FORM: dict[str, Any] = {
    "version": 1,
    "fields": [
        {
            "id": "destination",
            "type": "text",
            "label": {"sv": "Vart ska du resa?", "en": "Where are you travelling?"},
            "required": True,
        },
        {
            "id": "departure",
            "type": "date",
            "label": {"sv": "Avresedatum", "en": "Departure date"},
            "required": True,
        },
    ],
}
LOCAL_TYPE: dict[str, Any] = {
    "terms": TERMS,
    "name": {"sv": "Resevaccination", "en": "Travel vaccination"},
    "description": {"sv": "Frågor inför resa", "en": "Questions before travelling"},
    "category": "advice",
    "answer_days": 5,
    "form": LOCAL_FORM,
}


@pytest.fixture
def admin(world):
    """UNIT's local administrator, who has activated renew-prescription and advice."""
    return world.offer("renew-prescription", "advice")


@pytest.fixture
def nurse(world, admin):
    return world.staff("Sara Demosköterska")


@pytest.fixture
def anna(world):
    return world.resident("Anna Demotest")


# ---- helpers -------------------------------------------------------------------------------------------------
def call(
    world: World,
    method: str,
    path: str,
    person: Resident,
    *,
    body: Any = None,
    query: str = "",
    headers: dict[str, str] | None = None,
) -> tuple[int, Any]:
    return world.stack.call(method, path, token=world.token(person), body=body, query=query, headers=headers)


def staff_call(
    world: World,
    method: str,
    path: str,
    member: StaffMember,
    *,
    body: Any = None,
    query: str = "",
    commission: str | None = None,
) -> tuple[int, Any]:
    headers = {} if commission == "" else {"X-Commission-Id": commission or member.commission_ids[0]}
    return world.stack.call(
        method, path, token=world.staff_token(member), headers=headers, body=body, query=query
    )


def case_body(
    type_id: str = "renew-prescription", unit: dict[str, Any] = UNIT, **fields: Any
) -> dict[str, Any]:
    return {
        "clinic_id": unit["hsa_id"],
        "case_type_id": type_id,
        "form_version": 1,
        "answers": SAMPLE[type_id],
    } | fields


def cases_path(world: World, patient: Resident) -> str:
    return f"/v1/patients/{world.patient_id(patient)}/cases"


def send(
    world: World, sender: Resident, patient: Resident, body: Any, headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    return call(world, "POST", cases_path(world, patient), sender, body=body, headers=headers)


def open_case(
    world: World,
    sender: Resident,
    patient: Resident | None = None,
    type_id: str = "renew-prescription",
    **kw: Any,
) -> str:
    status, body = send(world, sender, patient or sender, case_body(type_id, **kw))
    assert status == 201, body
    return str(body["case_id"])


def resident_case(world: World, patient: Resident, case_id: str, action: str = "") -> str:
    return f"{cases_path(world, patient)}/{case_id}" + (f"/{action}" if action else "")


def staff_case(world: World, patient: Resident, case_id: str, action: str = "") -> str:
    return f"/v1/staff/patients/{world.patient_id(patient)}/cases/{case_id}" + (
        f"/{action}" if action else ""
    )


def listed(world: World, caller: Resident, patient: Resident, query: str = "") -> list[str]:
    status, body = call(world, "GET", cases_path(world, patient), caller, query=query)
    assert status == 200, body
    return [c["case_id"] for c in body["items"]]


def queue(world: World, member: StaffMember, query: str = "") -> list[str]:
    status, body = staff_call(world, "GET", "/v1/staff/cases", member, query=query)
    assert status == 200, body
    return [c["case_id"] for c in body["items"]]


def offered(world: World, caller: Resident, unit: dict[str, Any] = UNIT, query: str = "") -> list[str]:
    status, body = call(world, "GET", f"/v1/clinics/{unit['hsa_id']}/case-types", caller, query=query)
    assert status == 200, body
    return sorted(t["id"] for t in body["items"])


def configure(world: World, member: StaffMember, type_id: str, body: Any) -> tuple[int, Any]:
    return staff_call(world, "PUT", f"/v1/staff/case-types/{type_id}", member, body=body)


def stored(world: World, patient: Resident) -> list[dict[str, Any]]:
    """Everything the cases table holds under the patient: cases, messages, idempotency records."""
    table = Table(world.stack.session.client("dynamodb"), world.stack.ref("CasesTable"))
    return table.query_all(f"PATIENT#{world.patient_id(patient)}")


def audit_records(world: World, patient_id: str) -> list[dict[str, Any]]:
    table = Table(world.stack.session.client("dynamodb"), world.stack.ref("AuditTable"))
    return table.query_all(f"PATIENT#{patient_id}", prefix="REC#")


def names(problem: dict[str, Any]) -> set[str]:
    return {p["name"] for p in problem.get("invalid_params", [])}


def without_instance(problem: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in problem.items() if k != "instance"}


def is_female(person: Resident) -> bool:
    return int(person.personnummer[10]) % 2 == 0


def reregister(world: World, person: Resident, region: str | None, municipality: str | None) -> None:
    world.feed_register(
        population.person(
            person.personnummer,
            person.name,
            region_code=region,
            municipality_code=municipality,
            seconds=world.tick(),
        )
    )


# ---- the case types a clinic offers (rules 17-18) ------------------------------------------------------------
def test_residents_see_the_active_types_with_their_terms_and_form(world, admin, anna):
    world.offer("feedback", active=False)

    status, body = call(world, "GET", f"/v1/clinics/{UNIT['hsa_id']}/case-types", anna)

    assert status == 200
    assert sorted(t["id"] for t in body["items"]) == ["advice", "renew-prescription"], "feedback is inactive"
    [renew] = [t for t in body["items"] if t["id"] == "renew-prescription"]
    assert renew["terms"] == TERMS and renew["answer_days"] == 3
    assert renew["standard"] is True and renew["category"] == "prescription"
    assert renew["name"]["sv"] and renew["name"]["en"]
    assert renew["form"]["version"] == 1
    assert [f["id"] for f in renew["form"]["fields"]] == [
        "medicines",
        "dispensing",
        "health_changed",
        "health_changes",
    ]
    assert offered(world, anna, OTHER_UNIT) == [], "another unit offers nothing until it activates types"


def test_a_type_switched_off_disappears_and_cannot_be_sent(world, admin, anna):
    status, _ = configure(world, admin, "advice", {"terms": TERMS, "active": False})
    assert status == 200

    assert offered(world, anna) == ["renew-prescription"]
    status, body = send(world, anna, anna, case_body("advice"))
    assert status == 400 and names(body) == {"case_type_id"}


@pytest.mark.parametrize(
    ("region", "municipality", "expected"),
    [
        ("01", "0180", ["advice", "contact-me", "renew-prescription"]),
        ("01", "0181", ["advice", "renew-prescription"]),
        ("12", "1280", ["feedback", "renew-prescription"]),
        (None, None, ["renew-prescription"]),  # not registered in Sweden: only types without a region
    ],
)
def test_the_service_area_follows_the_registration(world, admin, anna, region, municipality, expected):
    world.offer("advice", service_area={"region_code": "01"})
    world.offer("contact-me", service_area={"region_code": "01", "municipality_code": "0180"})
    world.offer("feedback", service_area={"region_code": "12"})
    reregister(world, anna, region, municipality)

    assert offered(world, anna) == expected


def test_the_service_area_filters_by_sex_and_age_from_the_identity(world, admin):
    world.offer("advice", service_area={"sex": "female"})
    world.offer("contact-me", service_area={"min_age": 18})
    world.offer("feedback", service_area={"max_age": 12})
    first, second = world.resident("Kim Demotest"), world.resident("Alex Demotest")
    woman, man = (first, second) if is_female(first) else (second, first)
    assert is_female(woman) and not is_female(man)
    eighteen_today = world.resident("Myndig Demotest", born=date(2008, 11, 25))
    eighteen_tomorrow = world.resident("Snart Demotest", born=date(2008, 11, 26))

    assert offered(world, woman) == ["advice", "contact-me", "renew-prescription"]
    assert offered(world, man) == ["contact-me", "renew-prescription"]
    assert "contact-me" in offered(world, eighteen_today)
    assert "contact-me" not in offered(world, eighteen_tomorrow)


def test_a_guardian_sees_the_types_offered_to_the_child_and_nothing_of_other_children(world, admin, anna):
    world.offer("feedback", service_area={"max_age": 12})
    liv = world.resident("Liv Demotest", age=5)
    world.guardianship(anna, liv)
    stranger = world.resident("Maja Demotest")
    child = f"patient_id={world.patient_id(liv)}"

    assert "feedback" in offered(world, anna, query=child)
    assert "feedback" not in offered(world, anna), "Anna herself is 40"
    status, body = call(world, "GET", f"/v1/clinics/{UNIT['hsa_id']}/case-types", stranger, query=child)
    assert status == 404 and "Liv" not in json.dumps(body)


def test_a_restricted_type_is_offered_only_to_residents_it_was_handed_to(world, admin, anna, nurse):
    world.offer("certificate", restricted=True)
    erik = world.resident("Erik Demotest")
    assert "certificate" not in offered(world, anna)
    status, body = send(world, anna, anna, case_body("certificate"))
    assert status == 400 and names(body) == {"case_type_id"}

    hand = "/v1/staff/case-types/certificate/handed-to"
    body_for_anna = {"patient_id": world.patient_id(anna)}
    assert staff_call(world, "POST", hand, nurse, body=body_for_anna)[0] == 403, "needs local-administrator"
    unconfigured = staff_call(
        world, "POST", "/v1/staff/case-types/feedback/handed-to", admin, body=body_for_anna
    )
    assert unconfigured[0] == 404
    status, body = staff_call(world, "POST", hand, admin, body=body_for_anna)

    assert status == 201 and body == {"case_type_id": "certificate", "patient_id": world.patient_id(anna)}
    assert "certificate" in offered(world, anna)
    assert "certificate" not in offered(world, erik)
    assert send(world, anna, anna, case_body("certificate"))[0] == 201
    handing = [r for r in audit_records(world, world.patient_id(anna)) if r["actor_kind"] == "staff"]
    assert handing and {(r["actor_id"], r["care_unit_hsa_id"], r["action"]) for r in handing} == {
        (admin.hsa_id, UNIT["hsa_id"], "write")
    }


# ---- sending a case ------------------------------------------------------------------------------------------
def test_sending_a_case_answers_201_with_its_location_and_the_case(world, admin, anna):
    path = cases_path(world, anna)
    headers = {"host": "localhost", "authorization": f"Bearer {world.token(anna)}"}
    answers = SAMPLE["renew-prescription"] | {"medicines": "  Demoxin 10 mg\r\nen tablett  "}

    response = world.stack.gateway.handle(
        "POST", path, "", headers, json.dumps(case_body(answers=answers)).encode()
    )

    assert response.status == 201
    case = json.loads(response.body)
    assert response.headers["Location"] == f"{path}/{case['case_id']}"
    assert case["status"] == "waiting_for_staff" and case["patient_id"] == world.patient_id(anna)
    assert case["clinic"] == {"hsa_id": UNIT["hsa_id"], "name": UNIT["name"]}
    assert case["case_type"]["id"] == "renew-prescription" and case["form_version"] == 1
    assert case["answers"]["medicines"] == "Demoxin 10 mg\nen tablett", "answers are normalised"
    assert (
        case["created_at"] == "2026-11-25T10:00:00Z" and case["due_at"] == "2026-11-30T10:00:00Z"
    )  # 3 working days from a Wednesday
    assert case["created_by"] == {"kind": "resident", "relation": "self", "name": "Anna Demotest"}
    assert case["closed_at"] is None and case["decision"] is None
    assert "patient_name" not in case and "version" not in case
    assert listed(world, anna, anna) == [case["case_id"]]


BAD_REQUESTS: dict[str, tuple[Any, int, set[str]]] = {
    "unknown type": (case_body(case_type_id="no-such-type"), 400, {"case_type_id"}),
    "standard type not activated": (
        case_body(case_type_id="feedback", answers=SAMPLE["feedback"]),
        400,
        {"case_type_id"},
    ),
    "clinic that offers nothing": (case_body(unit=OTHER_UNIT), 400, {"case_type_id"}),
    "no clinic": ({k: v for k, v in case_body().items() if k != "clinic_id"}, 400, {"clinic_id"}),
    "answers not an object": (case_body(answers="Demoxin"), 400, {"answers"}),
    "attachment never uploaded": (case_body(attachments=[str(uuid.uuid4())]), 400, {"attachments[0]"}),
    "attachments not a list": (case_body(attachments="x"), 400, {"attachments"}),
    "no body": (None, 400, {"body"}),
    "not JSON": (b"{clinic_id: 1", 400, {"body"}),
    "a JSON array": ([case_body()], 400, {"body"}),
}


@pytest.mark.parametrize("case", list(BAD_REQUESTS))
def test_a_bad_request_is_refused_naming_the_field_and_stores_nothing(world, admin, anna, case):
    body, expected_status, expected_names = BAD_REQUESTS[case]

    status, problem = send(world, anna, anna, body)

    assert status == expected_status, problem
    assert problem["code"] == "invalid-input" and names(problem) == expected_names
    assert listed(world, anna, anna) == [] and stored(world, anna) == []


def test_answers_that_do_not_fit_the_form_are_refused_naming_each_answer(world, admin, anna):
    answers = {"medicines": " ", "dispensing": "drone", "health_changed": True, "colour": "blue"}

    status, problem = send(world, anna, anna, case_body(answers=answers))

    assert status == 400
    assert names(problem) == {
        "answers.medicines",  # required
        "answers.dispensing",  # not an option
        "answers.health_changes",  # asked because health_changed is true, and required
        "answers.colour",  # not a question of this form
    }
    assert "drone" not in json.dumps(problem), "a refused answer is never repeated"
    assert stored(world, anna) == []


@pytest.mark.parametrize("version", [2, 0, None, "1"])
def test_an_outdated_form_version_is_a_conflict_naming_the_current_one(world, admin, anna, version):
    body = (
        case_body(form_version=version)
        if version is not None
        else {k: v for k, v in case_body().items() if k != "form_version"}
    )

    status, problem = send(world, anna, anna, body)

    assert status == 409 and problem["code"] == "form-version-changed"
    assert problem["current_form_version"] == 1
    assert stored(world, anna) == []


def test_a_retry_with_the_same_idempotency_key_answers_the_case_already_created(world, admin, anna):
    key = {"Idempotency-Key": "9b2f6a1e-retry.1"}
    first = send(world, anna, anna, case_body(), key)
    again = send(world, anna, anna, case_body(), key)

    assert first[0] == 201 and again[0] == 200
    assert again[1] == first[1]
    assert listed(world, anna, anna) == [first[1]["case_id"]]
    assert len([i for i in stored(world, anna) if i["sk"].startswith("CASE#")]) == 1
    other_key = send(world, anna, anna, case_body(), {"Idempotency-Key": "another-key"})
    assert other_key[0] == 201 and len(listed(world, anna, anna)) == 2, "a new key is a new case"


def test_the_same_idempotency_key_with_another_request_is_a_conflict(world, admin, anna):
    key = {"Idempotency-Key": "key-1"}
    first = send(world, anna, anna, case_body(), key)

    status, problem = send(world, anna, anna, case_body("advice"), key)

    assert first[0] == 201
    assert status == 409 and problem["code"] == "idempotency-key-reused"
    assert listed(world, anna, anna) == [first[1]["case_id"]]


@pytest.mark.parametrize("key", ["nyckel med mellanslag", "x" * 129, "å"])
def test_a_malformed_idempotency_key_is_refused(world, admin, anna, key):
    status, problem = send(world, anna, anna, case_body(), {"Idempotency-Key": key})

    assert status == 400 and names(problem) == {"Idempotency-Key"}
    assert stored(world, anna) == []


def test_a_case_refers_to_an_uploaded_attachment_that_its_patient_can_download(world, admin, anna):
    png = b"\x89PNG\r\n\x1a\n" + bytes(64)
    status, upload = call(
        world,
        "POST",
        f"/v1/patients/{world.patient_id(anna)}/attachments",
        anna,
        body={"content_type": "image/png", "size": len(png), "filename": "utslag.png"},
    )
    assert status == 201, upload
    store_upload(world.stack.session.client("s3"), world.stack.ref("AttachmentsBucket"), upload, png)
    attachment_id = upload["attachment_id"]

    status, case = send(world, anna, anna, case_body("advice", attachments=[attachment_id]))

    assert status == 201, case
    assert [(a["attachment_id"], a["content_type"]) for a in case["attachments"]] == [
        (attachment_id, "image/png")
    ]
    path = resident_case(world, anna, case["case_id"], f"attachments/{attachment_id}")
    status, link = call(world, "GET", path, anna)
    assert status == 200 and link["url"] and link["expires_in"] == 300
    other = resident_case(world, anna, case["case_id"], f"attachments/{uuid.uuid4()}")
    assert call(world, "GET", other, anna)[0] == 404


# ---- guardians and other residents (rule 8) ------------------------------------------------------------------
def test_a_case_one_guardian_sends_for_a_child_is_seen_by_the_other_and_no_one_else(world, admin, anna):
    erik, maja = world.resident("Erik Demotest"), world.resident("Maja Demotest")
    liv = world.resident("Liv Demotest", age=5)
    world.family(anna, erik, children=[liv])

    case_id = open_case(world, anna, liv, "advice")

    assert listed(world, erik, liv) == [case_id]
    status, case = call(world, "GET", resident_case(world, liv, case_id), erik)
    assert status == 200 and case["patient_id"] == world.patient_id(liv)
    assert case["created_by"] == {"kind": "resident", "relation": "guardian", "name": "Anna Demotest"}
    assert listed(world, anna, anna) == [], "the child's case is not in Anna's own list"
    for path in (cases_path(world, liv), resident_case(world, liv, case_id)):
        status, body = call(world, "GET", path, maja)
        assert status == 404 and "Liv" not in json.dumps(body)
    own = f"{cases_path(world, maja)}/{case_id}"
    assert call(world, "GET", own, maja)[0] == 404, "a case id under one's own patient id reveals nothing"
    reads = [r for r in audit_records(world, world.patient_id(liv)) if r["action"] == "read"]
    assert {(r["actor_id"], r["acting_for"], r["relation"]) for r in reads} == {
        (world.patient_id(erik), world.patient_id(liv), "guardian")
    }


# ---- the resident's list and one case ------------------------------------------------------------------------
def test_the_list_is_newest_first_filters_by_status_and_pages(world, admin, anna, clock):
    ids = []
    for _ in range(3):
        ids.append(open_case(world, anna))
        clock.advance(timedelta(minutes=1))
    newest_first = ids[::-1]
    assert call(world, "POST", resident_case(world, anna, ids[1], "withdrawal"), anna)[0] == 200

    assert listed(world, anna, anna) == newest_first
    assert listed(world, anna, anna, "status=withdrawn") == [ids[1]]
    assert listed(world, anna, anna, "status=waiting_for_staff") == [ids[2], ids[0]]
    seen, cursor = [], ""
    for _ in range(5):
        status, body = call(world, "GET", cases_path(world, anna), anna, query=f"limit=1{cursor}")
        assert status == 200 and len(body["items"]) <= 1
        seen += [c["case_id"] for c in body["items"]]
        if not body["next_cursor"]:
            break
        cursor = f"&cursor={body['next_cursor']}"
    assert seen == newest_first


def test_the_list_refuses_bad_parameters(world, admin, anna):
    open_case(world, anna)
    open_case(world, anna)
    _, page = call(world, "GET", cases_path(world, anna), anna, query="limit=1&status=waiting_for_staff")
    cursor = page["next_cursor"]
    assert cursor

    for query, name in [
        ("status=open", "status"),
        ("cursor=garbage", "cursor"),
        (f"cursor={cursor}", "cursor"),  # a cursor of another search (with a status)
        (f"cursor={cursor}&status=closed", "cursor"),
        ("limit=0", "limit"),
        ("limit=101", "limit"),
    ]:
        status, problem = call(world, "GET", cases_path(world, anna), anna, query=query)
        assert status == 400 and names(problem) == {name}, query


def test_the_resident_reads_the_case_with_its_thread_in_order(world, nurse, anna, clock):
    case_id = open_case(world, anna)
    clock.advance(timedelta(minutes=5))
    reply = {"text": "Vilken styrka har du?"}
    assert (
        staff_call(world, "POST", staff_case(world, anna, case_id, "messages"), nurse, body=reply)[0] == 201
    )
    clock.advance(timedelta(minutes=5))
    mine = {"text": "  10 mg  "}
    status, after = call(world, "POST", resident_case(world, anna, case_id, "messages"), anna, body=mine)
    assert status == 201 and after["status"] == "waiting_for_staff"

    status, case = call(world, "GET", resident_case(world, anna, case_id), anna)

    assert status == 200
    assert [(m["kind"], m["text"], m["author"]["kind"]) for m in case["messages"]] == [
        ("reply", "Vilken styrka har du?", "staff"),
        ("message", "10 mg", "resident"),
    ]
    assert case["messages"][0]["author"]["name"] == "Sara Demosköterska"
    assert [m["sent_at"] for m in case["messages"]] == ["2026-11-25T10:05:00Z", "2026-11-25T10:10:00Z"]
    hidden = {"pk", "sk", "version", "queue_pk", "queue_sk", "task_token", "pending_next", "runs"}
    assert not hidden & set(case) and all(not hidden & set(m) for m in case["messages"])
    for empty in ({}, {"text": "   "}):
        status, problem = call(
            world, "POST", resident_case(world, anna, case_id, "messages"), anna, body=empty
        )
        assert status == 400 and names(problem) == {"text"}


def test_a_withdrawn_case_takes_no_more_messages(world, nurse, anna):
    case_id = open_case(world, anna)

    status, case = call(world, "POST", resident_case(world, anna, case_id, "withdrawal"), anna)

    assert status == 200 and case["status"] == "withdrawn" and case["closed_at"] == "2026-11-25T10:00:00Z"
    message = call(world, "POST", resident_case(world, anna, case_id, "messages"), anna, body={"text": "Hej"})
    assert message[0] == 409 and message[1]["code"] == "case-not-open"
    assert call(world, "POST", resident_case(world, anna, case_id, "withdrawal"), anna)[0] == 409
    reply = staff_call(
        world, "POST", staff_case(world, anna, case_id, "messages"), nurse, body={"text": "Hej"}
    )
    assert reply[0] == 409 and reply[1]["code"] == "case-not-open"
    _, read = call(world, "GET", resident_case(world, anna, case_id), anna)
    assert [m["kind"] for m in read["messages"]] == ["withdrawn"]
    assert call(world, "GET", resident_case(world, anna, "0" * 24), anna)[0] == 404


# ---- staff: the unit's work queue ----------------------------------------------------------------------------
def test_the_work_queue_shows_the_units_cases_and_filters_them(world, nurse, anna, clock):
    erik = world.resident("Erik Demotest")
    world.offer("advice", unit=OTHER_UNIT)
    other_nurse = world.staff("Olle Demoannan", unit=OTHER_UNIT)
    renew = open_case(world, anna)
    clock.advance(timedelta(minutes=1))
    advice = open_case(world, erik, type_id="advice")
    elsewhere = open_case(world, erik, type_id="advice", unit=OTHER_UNIT)

    status, body = staff_call(world, "GET", "/v1/staff/cases", nurse)

    assert status == 200 and [c["case_id"] for c in body["items"]] == [renew, advice], "oldest first"
    assert body["items"][0]["patient_name"] == "Anna Demotest" and body["items"][0]["assignee_hsa_id"] is None
    assert queue(world, nurse, "case_type_id=advice") == [advice]
    assert queue(world, nurse, "status=waiting_for_staff&case_type_id=renew-prescription") == [renew]
    assert queue(world, nurse, "status=closed") == []
    assert queue(world, other_nurse) == [elsewhere], "staff see only their own unit's cases"
    no_commission = staff_call(world, "GET", "/v1/staff/cases", nurse, commission="")
    assert no_commission[0] == 400 and names(no_commission[1]) == {"X-Commission-Id"}
    assert (
        staff_call(world, "GET", "/v1/staff/cases", nurse, commission=other_nurse.commission_ids[0])[0] == 403
    )
    assert staff_call(world, "GET", "/v1/staff/cases", nurse, query="status=open")[0] == 400
    assert world.stack.call("GET", "/v1/staff/cases", token=world.token(anna))[0] == 401
    clerk = world.staff("Demo Administratör", purpose="Administration")
    assert staff_call(world, "GET", "/v1/staff/cases", clerk)[0] == 403


def test_overdue_cases_are_those_past_their_answer_time(world, nurse, anna, clock):
    advice = open_case(world, anna, type_id="advice")  # 2 days: due Friday 10:00
    renew = open_case(world, anna)  # 3 days
    clock.advance(timedelta(days=2, minutes=1))

    assert queue(world, nurse, "overdue=true") == [advice]
    assert queue(world, nurse, "overdue=false") == [renew]
    status, problem = staff_call(world, "GET", "/v1/staff/cases", nurse, query="overdue=yes")
    assert status == 400 and names(problem) == {"overdue"}


def test_assignment_to_me_to_a_colleague_and_to_no_one(world, nurse, anna):
    case_id = open_case(world, anna)
    colleague = world.staff("Doktor Demokollega")
    path = staff_case(world, anna, case_id, "assignment")

    status, case = staff_call(world, "POST", path, nurse, body={"assignee_hsa_id": "me"})
    assert status == 200 and case["assignee_hsa_id"] == nurse.hsa_id
    assert queue(world, nurse, f"assignee_hsa_id={nurse.hsa_id}") == [case_id]
    assert staff_call(world, "POST", path, nurse, body={"assignee_hsa_id": colleague.hsa_id})[0] == 200
    assert queue(world, nurse, f"assignee_hsa_id={nurse.hsa_id}") == []
    assert queue(world, nurse, f"assignee_hsa_id={colleague.hsa_id}") == [case_id]
    status, case = staff_call(world, "POST", path, nurse, body={"assignee_hsa_id": None})
    assert status == 200 and case["assignee_hsa_id"] is None
    for bad in ("Sara", 5, ""):
        status, problem = staff_call(world, "POST", path, nurse, body={"assignee_hsa_id": bad})
        assert status == 400 and names(problem) == {"assignee_hsa_id"}, bad
    assert staff_call(world, "GET", "/v1/staff/cases", nurse, query="assignee_hsa_id=Sara")[0] == 400


# ---- staff: working one case ---------------------------------------------------------------------------------
def test_staff_of_another_unit_cannot_read_or_change_the_case(world, nurse, anna):
    case_id = open_case(world, anna)
    other_nurse = world.staff("Olle Demoannan", unit=OTHER_UNIT)

    status, body = staff_call(world, "GET", staff_case(world, anna, case_id), other_nurse)
    missing = staff_call(world, "GET", staff_case(world, anna, "0" * 24), other_nurse)
    assert status == missing[0] == 404 and "Demoxin" not in json.dumps(body)
    assert without_instance(body) == without_instance(missing[1]), "nothing tells that the case exists"
    reply = staff_call(
        world, "POST", staff_case(world, anna, case_id, "messages"), other_nurse, body={"text": "x"}
    )
    assert reply[0] == 404
    assert staff_call(world, "GET", staff_case(world, anna, "0" * 24), nurse)[0] == 404
    reads = [r for r in audit_records(world, world.patient_id(anna)) if r["action"] == "read"]
    assert reads == [], "refused and empty reads accessed nothing: the access log does not show them"

    status, case = staff_call(world, "GET", staff_case(world, anna, case_id), nurse)
    assert status == 200 and case["patient_name"] == "Anna Demotest" and case["messages"] == []
    assert case["answers"] == SAMPLE["renew-prescription"]


def test_staff_reply_with_text_or_a_standard_answer(world, nurse, anna):
    case_id = open_case(world, anna)
    path = staff_case(world, anna, case_id, "messages")

    status, answers = staff_call(world, "GET", "/v1/staff/standard-answers", nurse)
    assert status == 200
    texts = {a["id"]: a["text"] for a in answers["items"]}
    assert {"prescription-renewed", "book-a-visit", "call-1177"} <= set(texts)

    assert staff_call(world, "POST", path, nurse, body={"text": "Vi ringer dig."})[0] == 201
    status, case = staff_call(
        world,
        "POST",
        path,
        nurse,
        body={"standard_answer_id": "book-a-visit", "language": "en", "text": "Welcome."},
    )
    assert status == 201 and case["status"] == "waiting_for_staff"
    for bad, name in [
        ({"standard_answer_id": "no-such-answer"}, "standard_answer_id"),
        ({"standard_answer_id": "call-1177", "language": "de"}, "language"),
        ({}, "text"),
        ({"text": " "}, "text"),
        ({"text": "x" * 4001}, "text"),
    ]:
        status, problem = staff_call(world, "POST", path, nurse, body=bad)
        assert status == 400 and names(problem) == {name}, bad
    status, closed = staff_call(
        world, "POST", path, nurse, body={"standard_answer_id": "call-1177", "close": True}
    )
    assert status == 201 and closed["status"] == "closed"

    _, read = call(world, "GET", resident_case(world, anna, case_id), anna)
    assert [m["text"] for m in read["messages"]] == [
        "Vi ringer dig.",
        texts["book-a-visit"]["en"] + "\n\nWelcome.",
        texts["call-1177"]["sv"],
    ]
    assert read["status"] == "closed"


def test_an_information_request_waits_for_the_residents_reply(world, nurse, anna):
    case_id = open_case(world, anna)

    status, case = staff_call(
        world,
        "POST",
        staff_case(world, anna, case_id, "information-requests"),
        nurse,
        body={"text": "Vilken dos?"},
    )

    assert status == 201 and case["status"] == "waiting_for_resident"
    assert queue(world, nurse, "status=waiting_for_resident") == [case_id]
    assert listed(world, anna, anna, "status=waiting_for_resident") == [case_id]
    status, case = call(
        world, "POST", resident_case(world, anna, case_id, "messages"), anna, body={"text": "10 mg"}
    )
    assert status == 201 and case["status"] == "waiting_for_staff"
    assert queue(world, nurse, "status=waiting_for_staff") == [case_id]
    _, read = staff_call(world, "GET", staff_case(world, anna, case_id), nurse)
    assert [m["kind"] for m in read["messages"]] == ["information_request", "message"]


def test_a_prescription_renewal_is_approved_with_what_was_renewed(world, nurse, anna):
    case_id = open_case(world, anna)
    path = staff_case(world, anna, case_id, "decision")
    for bad, name in [
        ({"outcome": "approved"}, "renewed"),
        ({"outcome": "approved", "renewed": []}, "renewed"),
        ({"outcome": "approved", "renewed": ["Demoxin", " "]}, "renewed[1]"),
        ({"outcome": "maybe"}, "outcome"),
        ({"outcome": "denied"}, "reason"),
    ]:
        status, problem = staff_call(world, "POST", path, nurse, body=bad)
        assert status == 400 and names(problem) == {name}, bad

    status, case = staff_call(
        world, "POST", path, nurse, body={"outcome": "approved", "renewed": ["Demoxin 10 mg"]}
    )

    assert status == 200, case
    assert case["decision"]["outcome"] == "approved" and case["decision"]["renewed"] == ["Demoxin 10 mg"]
    assert case["decision"]["decided_by"]["hsa_id"] == nurse.hsa_id
    assert case["prescription"] == {"status": "pending"}
    _, seen = call(world, "GET", resident_case(world, anna, case_id), anna)
    assert seen["decision"]["outcome"] == "approved" and "decided_by" not in seen["decision"]
    assert [m["text"] for m in seen["messages"]] == ["Renewed: Demoxin 10 mg"]


def test_a_denied_renewal_closes_the_case_and_other_types_are_not_decided(world, nurse, anna):
    renew = open_case(world, anna)
    advice = open_case(world, anna, type_id="advice")

    status, case = staff_call(
        world,
        "POST",
        staff_case(world, anna, renew, "decision"),
        nurse,
        body={"outcome": "denied", "reason": "Boka ett besök."},
    )
    assert status == 200 and case["status"] == "closed" and case["decision"]["outcome"] == "denied"

    status, problem = staff_call(
        world,
        "POST",
        staff_case(world, anna, advice, "decision"),
        nurse,
        body={"outcome": "denied", "reason": "x"},
    )
    assert status == 409 and problem["code"] == "case-not-open"
    _, unchanged = staff_call(world, "GET", staff_case(world, anna, advice), nurse)
    assert unchanged["status"] == "waiting_for_staff" and unchanged["decision"] is None


def test_forwarding_moves_the_case_to_another_unit_of_the_same_provider(world, nurse, anna):
    case_id = open_case(world, anna)
    other_nurse = world.staff("Olle Demoannan", unit=OTHER_UNIT)
    path = staff_case(world, anna, case_id, "forwarding")
    assert staff_call(world, "POST", path, nurse, body={"assignee_hsa_id": "me"})[0] == 400

    private = staff_call(world, "POST", path, nurse, body={"care_unit_hsa_id": PRIVATE_UNIT["hsa_id"]})
    assert private[0] == 403
    for unit in ("SE2321000016-NOPE", UNIT["hsa_id"]):
        status, problem = staff_call(world, "POST", path, nurse, body={"care_unit_hsa_id": unit})
        assert status == 400 and names(problem) == {"care_unit_hsa_id"}, unit
    assert queue(world, nurse) == [case_id], "refused forwards change nothing"

    assert (
        staff_call(
            world,
            "POST",
            staff_case(world, anna, case_id, "assignment"),
            nurse,
            body={"assignee_hsa_id": "me"},
        )[0]
        == 200
    )

    status, case = staff_call(world, "POST", path, nurse, body={"care_unit_hsa_id": OTHER_UNIT["hsa_id"]})

    assert status == 200 and case["clinic"] == {"hsa_id": OTHER_UNIT["hsa_id"], "name": OTHER_UNIT["name"]}
    assert case["assignee_hsa_id"] is None, "the other unit assigns it anew"
    assert queue(world, nurse) == [] and queue(world, other_nurse) == [case_id]
    assert staff_call(world, "GET", staff_case(world, anna, case_id), nurse)[0] == 404, "no longer UNIT's"
    status, read = staff_call(world, "GET", staff_case(world, anna, case_id), other_nurse)
    assert status == 200 and [m["kind"] for m in read["messages"]] == ["forwarded"]
    _, seen = call(world, "GET", resident_case(world, anna, case_id), anna)
    assert seen["clinic"]["hsa_id"] == OTHER_UNIT["hsa_id"]


def test_a_closed_case_can_be_reopened_within_14_days(world, nurse, anna, clock):
    case_id = open_case(world, anna)
    close, reopen = staff_case(world, anna, case_id, "closure"), staff_case(world, anna, case_id, "reopening")
    assert staff_call(world, "POST", reopen, nurse)[0] == 409, "an open case is not reopened"

    status, case = staff_call(world, "POST", close, nurse, body={"text": "Klart, hör av dig vid behov."})
    assert status == 200 and case["status"] == "closed" and case["closed_at"] == "2026-11-25T10:00:00Z"
    assert staff_call(world, "POST", close, nurse)[0] == 409, "closed already"
    clock.advance(timedelta(days=14))
    status, case = staff_call(world, "POST", reopen, nurse)
    assert status == 200 and case["status"] == "waiting_for_staff" and case["closed_at"] is None
    assert queue(world, nurse, "status=waiting_for_staff") == [case_id]

    assert staff_call(world, "POST", close, nurse)[0] == 200
    clock.advance(timedelta(days=14, seconds=1))
    status, problem = staff_call(world, "POST", reopen, nurse)
    assert status == 409 and problem["code"] == "case-not-open"
    _, read = call(world, "GET", resident_case(world, anna, case_id), anna)
    assert read["status"] == "closed"
    assert [m["kind"] for m in read["messages"]] == ["closed", "reopened", "closed"]
    assert read["messages"][0]["text"] == "Klart, hör av dig vid behov."


def test_every_staff_read_and_write_is_audited_with_the_commissions_care_unit(world, nurse, anna):
    case_id = open_case(world, anna)
    patient_id = world.patient_id(anna)
    before = len(audit_records(world, patient_id))

    staff_call(world, "GET", staff_case(world, anna, case_id), nurse)
    staff_call(
        world, "POST", staff_case(world, anna, case_id, "assignment"), nurse, body={"assignee_hsa_id": "me"}
    )
    staff_call(world, "POST", staff_case(world, anna, case_id, "messages"), nurse, body={"text": "Hej"})
    staff_call(world, "POST", staff_case(world, anna, case_id, "closure"), nurse)

    records = audit_records(world, patient_id)[before:]
    resource = f"cases/{case_id}"
    assert [(r["action"], r["resource"]) for r in records] == [("read", resource)] + [("write", resource)] * 3
    for record in records:
        assert record["actor_kind"] == "staff" and record["actor_id"] == nurse.hsa_id
        assert record["care_unit_hsa_id"] == UNIT["hsa_id"] and record["purpose"] == CARE
        assert record["commission_id"] == nurse.commission_ids[0]
    assert [r["relation"] for r in audit_records(world, patient_id)[:before]] == ["self"], (
        "the resident's send"
    )


# ---- local administrators (rules 17 and 19) ------------------------------------------------------------------
def test_configuring_case_types_needs_the_local_administrator_role(world, nurse, anna):
    status, problem = configure(world, nurse, "feedback", {"terms": TERMS})

    assert status == 403 and "local-administrator" in problem["detail"]
    assert "feedback" not in offered(world, anna)
    token = world.token(anna)
    assert (
        world.stack.call("PUT", "/v1/staff/case-types/feedback", token=token, body={"terms": TERMS})[0] == 401
    )


def test_a_unit_that_is_not_in_the_hsa_catalogue_cannot_offer_case_types(world, admin):
    unlisted = {
        "hsa_id": "SE2321000016-ZZ99",
        "name": "Demo Okänd mottagning",
        "care_provider_hsa_id": UNIT["care_provider_hsa_id"],
    }
    member = world.staff("Demo Lokaladmin", unit=unlisted, roles=["local-administrator"])

    status, problem = configure(world, member, "advice", {"terms": TERMS})

    assert status == 404 and problem["code"] == "not-found"
    listing = staff_call(world, "GET", "/v1/staff/case-types", member)[1]
    assert listing["configured"] == []


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            {
                "terms": {"sv": "Vi svarar inom 2 dagar."},
                "answer_days": 0,
                "service_area": {"region_code": "1"},
            },
            {"terms", "answer_days", "service_area.region_code"},
        ),
        (
            {"terms": {"sv": " ", "en": "x"}, "auto_close_days": 61, "active": "yes", "restricted": 1},
            {"terms.sv", "auto_close_days", "active", "restricted"},
        ),
        (
            {"terms": TERMS, "service_area": {"region_code": "01", "postcode": "11122"}},
            {"service_area"},
        ),
        (
            {"terms": TERMS, "service_area": {"sex": "other", "min_age": 30, "max_age": 20}},
            {"service_area.sex", "service_area.max_age"},
        ),
        ({"terms": TERMS, "answer_dayz": 5}, {"answer_dayz"}),
        ({"terms": TERMS, "form": LOCAL_FORM}, {"form"}),
        ({}, {"terms"}),
    ],
)
def test_bad_settings_are_refused_naming_each_field(world, admin, body, expected):
    status, problem = configure(world, admin, "feedback", body)

    assert status == 400 and names(problem) == expected, problem
    listing = staff_call(world, "GET", "/v1/staff/case-types", admin)[1]
    assert "feedback" not in [t["id"] for t in listing["configured"]]


def test_a_local_type_with_its_own_form_is_offered_and_answered(world, admin, anna):
    status, configured = configure(world, admin, "local-travel-vaccination", LOCAL_TYPE)
    assert status == 200, configured
    assert configured["standard"] is False and configured["form"]["version"] == 1
    assert configured["name"] == LOCAL_TYPE["name"] and configured["answer_days"] == 5

    assert "local-travel-vaccination" in offered(world, anna)
    answers = {"destination": "Thailand", "departure": "2027-01-10"}
    bad = send(world, anna, anna, case_body("advice", case_type_id="local-travel-vaccination", answers={}))
    assert bad[0] == 400 and names(bad[1]) == {"answers.destination", "answers.departure"}
    status, case = send(
        world, anna, anna, case_body("advice", case_type_id="local-travel-vaccination", answers=answers)
    )
    assert status == 201 and case["answers"] == answers and case["case_type"]["name"] == LOCAL_TYPE["name"]
    assert case["due_at"] == "2026-12-02T10:00:00Z"  # 5 working days


def test_a_bad_local_type_is_refused_naming_the_form_fields(world, admin):
    form = {
        "version": 1,
        "fields": [
            {"id": "Destination", "type": "text", "label": {"sv": "Vart?", "en": "Where?"}, "required": True},
            {"id": "when", "type": "calendar", "label": {"sv": "När?", "en": "When?"}, "required": True},
        ],
    }
    status, problem = configure(world, admin, "local-travel", LOCAL_TYPE | {"form": form})

    assert status == 400
    assert any(n.startswith("form.fields[0]") for n in names(problem)), problem
    assert any(n.startswith("form.fields[1]") for n in names(problem)), problem
    assert configure(world, admin, "local-travel", {k: v for k, v in LOCAL_TYPE.items() if k != "form"})[1][
        "invalid_params"
    ] == [{"name": "form", "reason": "is required for a local type: a form definition"}]
    assert names(configure(world, admin, "Resevaccin", LOCAL_TYPE)[1]) == {"typeId"}
    listing = staff_call(world, "GET", "/v1/staff/case-types", admin)[1]
    assert [t["id"] for t in listing["configured"]] == ["advice", "renew-prescription"]


def test_changing_a_local_form_bumps_its_version_and_old_answers_get_409(world, admin, anna):
    type_id = "local-travel-vaccination"
    assert configure(world, admin, type_id, LOCAL_TYPE)[1]["form"]["version"] == 1
    assert configure(world, admin, type_id, LOCAL_TYPE | {"answer_days": 3})[1]["form"]["version"] == 1
    extra = {
        "id": "vaccinated_before",
        "type": "boolean",
        "label": {"sv": "Vaccinerad tidigare?", "en": "Vaccinated before?"},
        "required": True,
    }
    changed = LOCAL_TYPE | {"form": {"version": 1, "fields": [*LOCAL_FORM["fields"], extra]}}

    status, configured = configure(world, admin, type_id, changed)

    assert status == 200 and configured["form"]["version"] == 2, "the server numbers versions"
    answers = {"destination": "Thailand", "departure": "2027-01-10"}
    body = case_body("advice", case_type_id=type_id, answers=answers)
    status, problem = send(world, anna, anna, body)
    assert (
        status == 409 and problem["code"] == "form-version-changed" and problem["current_form_version"] == 2
    )
    status, case = send(
        world, anna, anna, body | {"form_version": 2, "answers": answers | {"vaccinated_before": False}}
    )
    assert status == 201 and case["form_version"] == 2


def test_the_unit_lists_its_configured_types_and_the_standard_catalogue(world, admin, nurse):
    world.offer("certificate", restricted=True, active=False, service_area={"min_age": 18})

    status, body = staff_call(world, "GET", "/v1/staff/case-types", nurse)

    assert status == 200
    configured = {t["id"]: t for t in body["configured"]}
    assert set(configured) == {"advice", "renew-prescription", "certificate"}
    assert configured["certificate"]["active"] is False and configured["certificate"]["restricted"] is True
    assert configured["certificate"]["service_area"]["min_age"] == 18
    assert configured["advice"]["auto_close_days"] == 14 and configured["advice"]["terms"] == TERMS
    catalogue = {s["id"]: s["configured"] for s in body["standard_catalogue"]}
    assert list(catalogue) == list(standard_types()), "the whole national catalogue, in its order"
    assert {k for k, v in catalogue.items() if v} == {"advice", "renew-prescription", "certificate"}
    other_nurse = world.staff("Olle Demoannan", unit=OTHER_UNIT)
    assert staff_call(world, "GET", "/v1/staff/case-types", other_nurse)[1]["configured"] == []


# ---- statistics ----------------------------------------------------------------------------------------------
def test_statistics_count_incoming_closed_and_time_to_first_answer(world, nurse, anna, clock):
    ids = [open_case(world, anna) for _ in range(3)]
    first, second, third = (staff_case(world, anna, i) for i in ids)
    clock.advance(timedelta(minutes=10))
    staff_call(world, "POST", f"{first}/messages", nurse, body={"text": "Vi tittar på det."})
    clock.advance(timedelta(minutes=35))  # 45 minutes
    staff_call(world, "POST", f"{second}/information-requests", nurse, body={"text": "Vilken dos?"})
    clock.advance(timedelta(minutes=135))  # 3 hours
    staff_call(world, "POST", f"{third}/decision", nurse, body={"outcome": "denied", "reason": "Boka besök."})
    staff_call(world, "POST", f"{first}/messages", nurse, body={"text": "Ett svar till.", "close": True})

    status, body = staff_call(world, "GET", "/v1/staff/statistics", nurse)

    assert status == 200
    assert body["care_unit_hsa_id"] == UNIT["hsa_id"] and body["month"] == "2026-11"
    assert (body["incoming"], body["closed"], body["first_answers"]) == (3, 2, 3)
    assert body["first_answer_minutes"]["median"] == 60 and body["first_answer_minutes"]["p90"] == 240
    assert staff_call(world, "GET", "/v1/staff/statistics", nurse, query="month=2026-10")[1]["incoming"] == 0
    other_nurse = world.staff("Olle Demoannan", unit=OTHER_UNIT)
    other = staff_call(world, "GET", "/v1/staff/statistics", other_nurse)[1]
    assert other["incoming"] == 0 and other["first_answer_minutes"]["median"] is None
    for month in ("2026-13", "2026-12", "november", "2026-1"):
        status, problem = staff_call(world, "GET", "/v1/staff/statistics", nurse, query=f"month={month}")
        assert status == 400 and names(problem) == {"month"}, month


# ---- round trips (upper bounds of what was measured, so they cannot grow unnoticed) -------------------------
ACCESS_AND_AUDIT = 3  # the resident's patient id and profile (2 GetItem), the audit record (1 transaction)


def test_create_list_and_read_round_trips(world, nurse, anna):
    open_case(world, anna)  # warm
    path = cases_path(world, anna)
    with count_calls() as created:
        status, case = send(world, anna, anna, case_body())
    assert status == 201
    with count_calls() as listing:
        assert call(world, "GET", path, anna)[0] == 200
    with count_calls() as read:
        assert call(world, "GET", f"{path}/{case['case_id']}", anna)[0] == 200

    # measured: the unit's types (Query), the clinic (GetItem), the case with its event (transaction), the
    # month's counters, and the delivered event leaving the outbox (DeleteItem)
    assert len(created) - ACCESS_AND_AUDIT <= 5, created
    assert len(listing) - ACCESS_AND_AUDIT <= 1, listing  # one Query
    assert len(read) - ACCESS_AND_AUDIT <= 2, read  # the case, then its thread
    assert "Scan" not in created + listing + read
