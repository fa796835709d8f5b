"""The work queue reads the `UnitQueue` index, which projects only what the queue shows and filters on
(`cases.store.QUEUE_FIELDS`): a queue entry says the same as the case itself, and the template projects
exactly those fields (make bench: a case write then costs the index one write unit, not two)."""

from __future__ import annotations

from datetime import date
from typing import Any

from cases.store import QUEUE_FIELDS, QUEUE_INDEX
from tests.support.people import World


def staff_get(world: World, member: Any, path: str, query: str = "") -> Any:
    headers = {"X-Commission-Id": member.commission_ids[0]}
    status, body = world.stack.call(
        "GET", path, token=world.staff_token(member), headers=headers, query=query
    )
    assert status == 200, body
    return body


def test_the_template_projects_exactly_the_queue_fields(template):
    [index] = [
        i
        for i in template.resources["CasesTable"]["Properties"]["GlobalSecondaryIndexes"]
        if i["IndexName"] == QUEUE_INDEX
    ]
    assert index["Projection"]["ProjectionType"] == "INCLUDE"
    assert sorted(index["Projection"]["NonKeyAttributes"]) == sorted(QUEUE_FIELDS)


def test_a_queue_entry_shows_what_the_case_says(stack):
    world = World(stack, date.today())
    world.offer("renew-prescription")
    nurse = world.staff("Sara Demokö")
    anna = world.resident("Anna Demokö")
    case_id = world.send_case(anna, anna)
    path = f"/v1/staff/patients/{world.patient_id(anna)}/cases/{case_id}"
    headers = {"X-Commission-Id": nurse.commission_ids[0]}
    status, _ = world.stack.call(
        "POST",
        f"{path}/assignment",
        token=world.staff_token(nurse),
        headers=headers,
        body={"assignee_hsa_id": "me"},
    )
    assert status == 200

    [entry] = staff_get(world, nurse, "/v1/staff/cases", f"assignee_hsa_id={nurse.hsa_id}")["items"]
    case = staff_get(world, nurse, path)

    assert entry["case_id"] == case_id and entry["patient_name"] == "Anna Demokö"
    assert entry["assignee_hsa_id"] == nurse.hsa_id
    shown = {k: v for k, v in entry.items() if k not in ("patient_name", "assignee_hsa_id")}
    assert shown == {k: case[k] for k in shown}, "every summary field as the case itself has it"
    assert {"clinic", "case_type", "status", "created_at", "updated_at", "due_at"} <= set(shown)
