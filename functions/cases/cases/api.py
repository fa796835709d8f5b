"""Cases API: residents send cases and follow them; staff work their unit's queue; local administrators
configure the unit's case types. Patient data only through `patient_route` (policy + audit first)."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.typing import LambdaContext

from cases import admin, views
from cases import api_schemas as s
from cases.attachments import AttachmentStore
from cases.clinics import Clinics
from cases.config import ApiConfig
from cases.service import Cases
from cases.store import CaseStore
from cases.workflow_client import Workflow
from eservices_core import aws
from eservices_core.access import AccessGrant, Action, authorize
from eservices_core.apidoc import described, items_of, page_of
from eservices_core.audit import Verb
from eservices_core.cursor import decode_cursor, fingerprint
from eservices_core.errors import NotFound
from eservices_core.outbox import Outbox
from eservices_core.requests import json_object, limit_param, string_field
from eservices_core.routing import RESIDENT, STAFF, EServiceResolver, access_services
from eservices_core.table import Table
from eservices_core.wiring import composition_root

logger = Logger(service="cases")
app = EServiceResolver(logger)

READ_CASES = Action(Verb.READ, "cases")
WRITE_CASES = Action(Verb.WRITE, "cases")
READ_QUEUE = Action(Verb.READ, "work-queue")
ADMINISTER = Action(Verb.WRITE, "case-types", staff_role="local-administrator")
READ_SETTINGS = Action(Verb.READ, "case-types")
CASE = "/v1/patients/<patientId>/cases/<caseId>"
STAFF_CASE = "/v1/staff/patients/<patientId>/cases/<caseId>"


@composition_root
def _cases() -> Cases:
    config = ApiConfig.from_env()
    client = aws.dynamodb()
    table = Table(client, config.table_name, busy_message="The cases service is busy")
    # Clients only writes and attachments use are made on first use: reads start colder without them.
    workflow = Workflow(
        aws.Lazy(aws.stepfunctions), aws.Lazy(aws.events), config.event_bus_name, config.state_machine_arn
    )
    return Cases(
        store=CaseStore(table),
        clinics=Clinics(Table(client, config.directory_table_name)),
        workflow=workflow,
        attachments=AttachmentStore(aws.Lazy(aws.s3), config.attachments_bucket),
        outbox=Outbox(table, workflow.put),
    )


def _body() -> dict[str, Any]:
    return json_object(app.current_event.body)


def _query() -> dict[str, str]:
    return dict(app.current_event.query_string_parameters or {})


def _json(status: int, body: Any, location: str | None = None) -> Response[str]:
    headers = {"Location": location} if location else {}
    return Response(
        status_code=status, content_type="application/json", body=json.dumps(body), headers=headers
    )


# ---- residents ----------------------------------------------------------------------------------------------
@app.get("/v1/clinics/<clinicId>/case-types")
@described({200: items_of(s.CASE_TYPE)}, query=(s.PATIENT_ID,))
def case_types(clinicId: str) -> dict[str, Any]:
    """The types this clinic offers the caller, or the patient given as `patient_id` they act for."""
    resident = app.resident()
    services = access_services()
    patient_id = _query().get("patient_id") or services.registry.patient_id_of(resident.identity)
    if patient_id is None:
        raise NotFound("You are not registered yet")
    grant = authorize(services.registry, resident, patient_id, READ_CASES)
    return {"items": [t.summary() for t in _cases().offered(clinicId, grant.patient)]}


@app.patient_route("POST", "/v1/patients/<patientId>/cases", action=WRITE_CASES, audience=RESIDENT)
@described(
    {201: s.CASE, 200: s.CASE},
    body=s.NEW_CASE,
    idempotency_key=True,
    problems=(409,),
    headers={201: {"Location": "the case"}, 200: {"Location": "the case"}},
    links={201: s.CREATED, 200: s.CREATED},
)
def create_case(grant: AccessGrant) -> Response[str]:
    """Send a case: answers checked against the case type's form; 200 for a retry with the same key.

    A changed form is 409 `form-version-changed` (with `current_form_version`)."""
    key = app.current_event.headers.get("idempotency-key")
    case, created = _cases().create(grant, _body(), key)
    location = f"/v1/patients/{grant.patient_id}/cases/{case['case_id']}"
    return _json(201 if created else 200, views.case(case), location)


@app.patient_route("GET", "/v1/patients/<patientId>/cases", action=READ_CASES, audience=RESIDENT)
@described({200: page_of(s.CASE_SUMMARY)}, query=(s.STATUS_FILTER, s.LIMIT, s.CURSOR), links={200: s.LISTED})
def list_cases(grant: AccessGrant) -> dict[str, Any]:
    """The patient's cases, newest first."""
    query = _query()
    status = query.get("status")
    position = fingerprint("cases", grant.patient_id, status)
    start = decode_cursor(query["cursor"], position) if query.get("cursor") else None
    page = _cases().cases_of(grant, status, limit_param(query), start)
    return views.page(page, position, views.case_summary)


@app.patient_route("GET", CASE, action=READ_CASES, audience=RESIDENT)
@described({200: s.CASE_WITH_THREAD})
def read_case(grant: AccessGrant, caseId: str) -> dict[str, Any]:
    """One case with its messages."""
    return views.case_with_thread(*_cases().read(grant, caseId))


@app.patient_route("POST", f"{CASE}/messages", action=WRITE_CASES, audience=RESIDENT)
@described({201: s.CASE}, body=s.RESIDENT_MESSAGE, problems=(409,))
def resident_message(grant: AccessGrant, caseId: str) -> Response[str]:
    """Add a message to an open case (it goes back to the clinic)."""
    return _json(201, views.case(_cases().resident_message(grant, caseId, _body())))


@app.patient_route("POST", f"{CASE}/withdrawal", action=WRITE_CASES, audience=RESIDENT)
@described({200: s.CASE}, problems=(409,))
def withdraw(grant: AccessGrant, caseId: str) -> dict[str, Any]:
    """Withdraw an open case."""
    return views.case(_cases().withdraw(grant, caseId))


@app.patient_route("POST", "/v1/patients/<patientId>/attachments", action=WRITE_CASES, audience=RESIDENT)
@described({201: s.UPLOAD}, body=s.NEW_ATTACHMENT)
def upload_attachment(grant: AccessGrant) -> Response[str]:
    """A presigned S3 POST for one attachment (JPEG, PNG or PDF, up to 10 MB).

    The uploaded file's id then goes in a case's or a message's `attachments`; its bytes are checked
    against its declared type when it is attached."""
    body = _body()
    size = body.get("size")
    upload = _cases().attachments.presign_upload(
        grant.patient_id,
        content_type=string_field(body, "content_type"),
        size=size if isinstance(size, int) and not isinstance(size, bool) else -1,
        filename=string_field(body, "filename", max_length=120),
    )
    return _json(201, upload)


@app.patient_route("GET", f"{CASE}/attachments/<attachmentId>", action=READ_CASES, audience=RESIDENT)
@described({200: s.DOWNLOAD})
def resident_attachment(grant: AccessGrant, caseId: str, attachmentId: str) -> dict[str, Any]:
    """A short-lived download URL of one of the case's attachments."""
    return _attachment_url(grant, caseId, attachmentId)


# ---- staff: one case ----------------------------------------------------------------------------------------
@app.patient_route("GET", STAFF_CASE, action=READ_CASES, audience=STAFF)
@described({200: s.STAFF_CASE_WITH_THREAD})
def staff_read_case(grant: AccessGrant, caseId: str) -> dict[str, Any]:
    """One case of the commission's unit, with its messages."""
    return views.case_with_thread(*_cases().read(grant, caseId), staff=True)


@app.patient_route("GET", f"{STAFF_CASE}/attachments/<attachmentId>", action=READ_CASES, audience=STAFF)
@described({200: s.DOWNLOAD})
def staff_attachment(grant: AccessGrant, caseId: str, attachmentId: str) -> dict[str, Any]:
    """A short-lived download URL of one of the case's attachments."""
    return _attachment_url(grant, caseId, attachmentId)


@app.patient_route("POST", f"{STAFF_CASE}/assignment", action=WRITE_CASES, audience=STAFF)
@described({200: s.STAFF_CASE}, body=s.ASSIGNMENT)
def assign(grant: AccessGrant, caseId: str) -> dict[str, Any]:
    """Assign the case to a staff member (`"me"`: the caller), or unassign it (null)."""
    assignee = _body().get("assignee_hsa_id")
    if assignee == "me" and grant.commission is not None:
        assignee = grant.commission.hsa_id
    return views.case(_cases().assign(grant, caseId, views.assignee(assignee)), staff=True)


@app.patient_route("POST", f"{STAFF_CASE}/messages", action=WRITE_CASES, audience=STAFF)
@described({201: s.STAFF_CASE}, body=s.STAFF_REPLY, problems=(409,))
def staff_reply(grant: AccessGrant, caseId: str) -> Response[str]:
    """Answer the resident, and with `close` close the case."""
    body = _body()
    text = views.reply_text(body)
    return _json(201, views.case(_cases().reply(grant, caseId, text, bool(body.get("close"))), staff=True))


@app.patient_route("POST", f"{STAFF_CASE}/information-requests", action=WRITE_CASES, audience=STAFF)
@described({201: s.STAFF_CASE}, body=s.REPLY, problems=(409,))
def request_information(grant: AccessGrant, caseId: str) -> Response[str]:
    """Ask the resident for more information (the case waits for them)."""
    text = views.reply_text(_body())
    return _json(201, views.case(_cases().request_information(grant, caseId, text), staff=True))


@app.patient_route("POST", f"{STAFF_CASE}/decision", action=WRITE_CASES, audience=STAFF)
@described({200: s.STAFF_CASE}, body=s.DECISION, problems=(409,))
def decide(grant: AccessGrant, caseId: str) -> dict[str, Any]:
    """Decide a prescription renewal: approved with what was renewed, or denied with a reason."""
    return views.case(_cases().decide(grant, caseId, _body()), staff=True)


@app.patient_route("POST", f"{STAFF_CASE}/forwarding", action=WRITE_CASES, audience=STAFF)
@described({200: s.STAFF_CASE}, body=s.FORWARDING, problems=(409,))
def forward(grant: AccessGrant, caseId: str) -> dict[str, Any]:
    """Forward the case to another unit of the same care provider."""
    unit = string_field(_body(), "care_unit_hsa_id", max_length=31)
    return views.case(_cases().forward(grant, caseId, unit), staff=True)


@app.patient_route("POST", f"{STAFF_CASE}/closure", action=WRITE_CASES, audience=STAFF)
@described({200: s.STAFF_CASE}, body=s.CLOSURE, body_required=False, problems=(409,))
def close(grant: AccessGrant, caseId: str) -> dict[str, Any]:
    """Close the case, optionally with a last message."""
    body = json_object(app.current_event.body) if app.current_event.body else {}
    text = views.reply_text(body) if body.get("text") or body.get("standard_answer_id") else None
    return views.case(_cases().close(grant, caseId, text), staff=True)


@app.patient_route("POST", f"{STAFF_CASE}/reopening", action=WRITE_CASES, audience=STAFF)
@described({200: s.STAFF_CASE}, problems=(409,))
def reopen(grant: AccessGrant, caseId: str) -> dict[str, Any]:
    """Reopen a case closed within the last days."""
    return views.case(_cases().reopen(grant, caseId), staff=True)


# ---- staff: the unit ----------------------------------------------------------------------------------------
@app.get("/v1/staff/cases")
@described({200: page_of(s.QUEUE_ITEM)}, query=s.QUEUE, links={200: s.QUEUED})
def work_queue() -> dict[str, Any]:
    """The commission's unit's cases: filter by status, case_type_id, assignee_hsa_id, overdue=true."""
    _, commission, _ = app.commission(READ_QUEUE)
    return views.work_queue(_cases().store, commission.care_unit_hsa_id, _query())


@app.get("/v1/staff/standard-answers")
@described({200: items_of(s.STANDARD_ANSWER)})
def standard_answers() -> dict[str, Any]:
    """The standard answers staff can send (`standard_answer_id`), in Swedish and English."""
    app.commission(READ_QUEUE)
    return views.standard_answers()


@app.get("/v1/staff/statistics")
@described({200: s.STATISTICS}, query=(s.MONTH,))
def statistics() -> dict[str, Any]:
    """The unit's cases of a month: incoming, closed, and time to first answer."""
    _, commission, _ = app.commission(READ_QUEUE)
    return views.statistics(_cases().store, commission.care_unit_hsa_id, _query())


@app.get("/v1/staff/case-types")
@described({200: s.UNIT_CASE_TYPES})
def unit_case_types() -> dict[str, Any]:
    """The unit's configured types and the standard catalogue it can activate."""
    _, commission, _ = app.commission(READ_SETTINGS)
    return admin.listing(_cases(), commission.care_unit_hsa_id)


@app.put("/v1/staff/case-types/<typeId>")
@described({200: s.CASE_TYPE_SETTINGS}, body=s.CASE_TYPE_CONFIGURATION, path={"typeId": s.TYPE_ID})
def configure_case_type(typeId: str) -> dict[str, Any]:
    """Activate a standard type or create a local one, with the unit's terms and service area.

    For a commission with the `local-administrator` role. A unit not in the HSA catalogue cannot offer
    e-services (404)."""
    _, commission, member = app.commission(ADMINISTER)
    return admin.configure(_cases(), commission, member, typeId, _body())


@app.post("/v1/staff/case-types/<typeId>/handed-to")
@described({201: s.HANDED}, body=s.HAND, path={"typeId": s.TYPE_ID})
def hand_case_type(typeId: str) -> Response[str]:
    """Offer a restricted type to one patient (the patient's data is touched: policy and audit)."""
    staff, commission, _ = app.commission(ADMINISTER)
    patient_id = string_field(_body(), "patient_id", max_length=64)
    grant = authorize(access_services().registry, staff, patient_id, ADMINISTER)
    app.audit(grant)
    admin.hand(_cases(), commission, typeId, grant.patient_id)
    return _json(201, {"case_type_id": typeId, "patient_id": grant.patient_id})


def _attachment_url(grant: AccessGrant, case_id: str, attachment_id: str) -> dict[str, Any]:
    case, _ = _cases().read(grant, case_id)
    attachments = {a["attachment_id"] for a in case.get("attachments", [])}
    if attachment_id not in attachments:  # only what the case refers to (its messages' are listed on it too)
        raise NotFound("No such attachment on this case")
    return {"url": _cases().attachments.download_url(grant.patient_id, attachment_id), "expires_in": 300}


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
