"""openapi.json is generated from the code (`make openapi`): it must be current, valid OpenAPI 3.1, cover every
template route, and say what the code does (authorizers, commission and idempotency headers, form answers)."""

from __future__ import annotations

import copy
import inspect
import json

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from openapi_spec_validator import validate
from schemathesis.core.result import Ok

from local_runtime.template import Template
from ops import openapi
from ops.openapi import Disagreement, build, render, template_routes

TEMPLATE = Template()
DOCUMENT = build(TEMPLATE)
OPERATIONS = [
    (method.upper(), path, operation)
    for path, methods in DOCUMENT["paths"].items()
    for method, operation in methods.items()
]


def test_the_committed_document_is_the_generated_one():
    committed = openapi.OUTPUT.read_text(encoding="utf-8")
    assert committed == render(DOCUMENT), "openapi.json is out of date: run `make openapi` and commit it"


def test_the_document_is_valid_openapi_3_1():
    assert DOCUMENT["openapi"] == "3.1.0"
    validate(copy.deepcopy(DOCUMENT))  # the OpenAPI 3.1 meta-schema, and every $ref resolves
    loaded = schemathesis.openapi.from_dict(copy.deepcopy(DOCUMENT))
    results = list(loaded.get_all_operations())
    assert [r for r in results if not isinstance(r, Ok)] == []  # every operation loads
    assert len(results) == len(OPERATIONS)


def test_every_template_route_is_in_the_document_with_its_authorizer():
    declared = {(r.method, r.path): r.authorizer for r in template_routes(TEMPLATE)}
    documented = {(m, p): op["security"] for m, p, op in OPERATIONS}
    assert documented.keys() == declared.keys()
    for key, authorizer in declared.items():
        assert documented[key] == ([{authorizer: []}] if authorizer else []), key
    assert set(DOCUMENT["components"]["securitySchemes"]) == {a for a in declared.values() if a}


def test_operation_ids_are_unique_and_every_operation_is_tagged_with_its_service():
    ids = [op["operationId"] for _, _, op in OPERATIONS]
    assert len(ids) == len(set(ids))
    tags = {t["name"] for t in DOCUMENT["tags"]}
    assert all(
        op["tags"][0] in tags and op["operationId"].startswith(op["tags"][0]) for _, _, op in OPERATIONS
    )


def _parameters(operation: dict) -> dict[tuple[str, str], dict]:
    return {(p["in"], p["name"]): p for p in operation.get("parameters", [])}


@pytest.mark.parametrize(
    ("method", "path", "operation"), OPERATIONS, ids=lambda v: v if isinstance(v, str) else ""
)
def test_each_operation_says_its_errors_and_headers_as_the_code_has_them(method, path, operation):
    parameters = _parameters(operation)
    responses = operation["responses"]
    problem = {k: v for k, v in responses.items() if k.startswith(("4", "5"))}
    assert all(v["$ref"].startswith("#/components/responses/") for v in problem.values())
    if "{patientId}" in path:
        policy = operation["x-access-policy"]
        assert policy["audience"] == ("staff" if path.startswith("/v1/staff/") else "resident")
        assert "404" in responses  # a patient the caller may not act for is answered as a missing one
    if operation["security"]:
        assert "401" in responses
    staff = path.startswith("/v1/staff/")
    if staff and path != "/v1/staff/me":
        assert parameters[("header", "X-Commission-Id")]["required"] is True
        assert {"400", "403"} <= responses.keys()
    else:
        assert ("header", "X-Commission-Id") not in parameters
    if "requestBody" in operation:
        assert "400" in responses
    assert "503" in responses or operation["operationId"] == "booking_booking_types"


def _handler_source(operation_id: str) -> str:
    service, name = operation_id.split("_", 1)
    module = __import__(f"{service}.api", fromlist=["app"])
    return inspect.getsource(getattr(module, name))


@pytest.mark.parametrize(
    ("method", "path", "operation"), OPERATIONS, ids=lambda v: v if isinstance(v, str) else ""
)
def test_the_idempotency_key_header_is_documented_exactly_where_the_code_reads_it(method, path, operation):
    reads = "idempotency-key" in _handler_source(operation["operationId"]).lower()
    assert (("header", "Idempotency-Key") in _parameters(operation)) == reads


def test_the_503_problem_carries_retry_after():
    unavailable = DOCUMENT["components"]["responses"]["ServiceUnavailable"]
    assert unavailable["headers"]["Retry-After"]["$ref"] == "#/components/headers/Retry-After"
    assert set(unavailable["content"]) == {"application/problem+json"}


def test_a_template_route_without_a_handler_fails_loudly():
    data = copy.deepcopy(TEMPLATE.data)
    events = data["Resources"]["InboxApiFunction"]["Properties"]["Events"]
    events["Forgotten"] = {
        "Type": "HttpApi",
        "Properties": {
            "ApiId": {"Ref": "HttpApi"},
            "Method": "GET",
            "Path": "/v1/patients/{patientId}/forgotten",
        },
    }
    with pytest.raises(Disagreement, match=r"GET /v1/patients/\{patientId\}/forgotten: in template.yaml"):
        build(Template(data))


def test_a_handler_route_the_template_does_not_expose_fails_loudly():
    data = copy.deepcopy(TEMPLATE.data)
    events = data["Resources"]["InboxApiFunction"]["Properties"]["Events"]
    name = next(k for k, e in events.items() if e["Properties"]["Method"].upper() == "DELETE")
    del events[name]
    with pytest.raises(
        Disagreement, match=r"DELETE /v1/patients/\{patientId\}/inbox/\{messageId\}: a route in"
    ):
        build(Template(data))


NEW_CASE = schemathesis.openapi.from_dict(copy.deepcopy(DOCUMENT))["/v1/patients/{patientId}/cases"]["POST"]


@settings(max_examples=300, derandomize=True, suppress_health_check=list(HealthCheck))
@given(case=NEW_CASE.as_strategy())
def test_answers_generated_from_the_document_are_accepted_by_the_case_type_s_form(case):
    """The document's answers for each standard case type come from its form in the national catalogue."""
    from cases.catalogue import standard_types
    from cases.forms import validate_answers

    body = case.body
    standard = standard_types().get(body["case_type_id"])
    if standard is None:
        assert body["case_type_id"].startswith("local-")
        return
    assert body["form_version"] == standard.form.version
    validate_answers(standard.form, json.loads(json.dumps(body["answers"])))  # raises InvalidInput if refused
