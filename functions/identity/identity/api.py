"""Identity and access API: who is calling, whom they may act for, staff commissions, lookups, guardian blocks,
and the resident's access log. Patient-scoped routes are gated by the access policy (`patient_route`)."""

from __future__ import annotations

from datetime import date
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.typing import LambdaContext

from eservices_core import aws
from eservices_core.access import AccessGrant, Action, authorize
from eservices_core.apidoc import CURSOR, LIMIT, described, items_of, page_of
from eservices_core.audit import Verb
from eservices_core.clock import today_stockholm
from eservices_core.requests import json_object, limit_param, string_field
from eservices_core.routing import RESIDENT, STAFF, EServiceResolver, access_services
from eservices_core.table import Table
from eservices_core.wiring import composition_root
from identity import api_schemas as s
from identity import views
from identity.store import IdentityStore

logger = Logger(service="identity")
app = EServiceResolver(logger)

BLOCK_GUARDIANS_ROLE = "block-guardians"
READ_PATIENT = Action(Verb.READ, "patient")
READ_ACCESS_LOG = Action(Verb.READ, "access-log")
LOOKUP = Action(Verb.LOOKUP, "patient-lookup")
READ_GUARDIANS = Action(Verb.READ, "guardians")
CHANGE_GUARDIAN_BLOCK = Action(Verb.WRITE, "guardian-block", guardians=False, staff_role=BLOCK_GUARDIANS_ROLE)


@composition_root
def _store() -> IdentityStore:
    table = access_services().registry.table
    return IdentityStore(Table(aws.dynamodb(), table.name, busy_message="The identity store is busy"))


# ---- residents ----------------------------------------------------------------------------------------------
@app.get("/v1/me")
@described({200: s.ME})
def me() -> dict[str, Any]:
    """The caller and the patients they may act for now (themselves first, then children under 13)."""
    resident = app.resident()
    registry = access_services().registry
    patient_id = registry.patient_id_of(resident.identity) or _store().ensure_patient(resident.identity)
    _seen(patient_id)
    return views.me(registry, resident, patient_id)


_seen_today: set[tuple[str, date]] = set()


def _seen(patient_id: str) -> None:
    """A login counts once a day (active users, rule 26); a warm container remembers whom it recorded."""
    key = (patient_id, today_stockholm())
    if key not in _seen_today:
        if len(_seen_today) > 100_000:
            _seen_today.clear()
        _store().record_seen(*key)
        _seen_today.add(key)


@app.patient_route("GET", "/v1/patients/<patientId>", action=READ_PATIENT, audience=RESIDENT)
@described({200: s.PATIENT})
def patient(grant: AccessGrant) -> dict[str, Any]:
    """One patient the caller may act for, and in what capacity."""
    return views.patient(grant)


@app.patient_route("GET", "/v1/patients/<patientId>/access-log", action=READ_ACCESS_LOG, audience=RESIDENT)
@described({200: page_of(s.ACCESS_ENTRY)}, query=(LIMIT, CURSOR))
def access_log(grant: AccessGrant) -> dict[str, Any]:
    """Staff accesses to the patient's data, newest first (rule 16)."""
    query = app.current_event.query_string_parameters or {}
    return views.access_log(
        access_services().audit, grant.patient_id, limit_param(query), query.get("cursor")
    )


# ---- staff --------------------------------------------------------------------------------------------------
@app.get("/v1/staff/me")
@described({200: s.STAFF_ME}, commission=False)
def staff_me() -> dict[str, Any]:
    """The caller's active commissions; one of their ids goes in X-Commission-Id on every staff request."""
    return views.staff_me(access_services().registry, app.staff())


@app.post("/v1/staff/patient-lookups")
@described({200: s.LOOKED_UP}, body=s.LOOKUP_REQUEST, problems=(404,))
def patient_lookup() -> dict[str, Any]:
    """Find a patient by personal identity number (in the body, never the URL); the lookup is audited."""
    staff = app.staff()
    body = json_object(app.current_event.body)
    identity = views.identity_param(string_field(body, "personal_identity_number"))
    registry = access_services().registry
    patient_id = registry.patient_id_of(identity)
    if patient_id is None:
        app.commission(LOOKUP)  # no probing without a commission
        raise views.no_such_patient()
    grant = authorize(registry, staff, patient_id, LOOKUP)
    app.audit(grant)
    return views.patient(grant) | {"protected_identity": grant.patient.protected_identity}


@app.patient_route("GET", "/v1/staff/patients/<patientId>/guardians", action=READ_GUARDIANS, audience=STAFF)
@described({200: items_of(s.GUARDIAN)}, links={200: s.GUARDIAN_LINKS})
def guardians(grant: AccessGrant) -> dict[str, Any]:
    """The register's guardians of the patient (current and former), with their blocks."""
    return {"items": _store().guardians(grant.patient_id)}


@app.patient_route(
    "POST", "/v1/staff/patients/<patientId>/guardian-blocks", action=CHANGE_GUARDIAN_BLOCK, audience=STAFF
)
@described(
    {201: s.BLOCK, 200: s.BLOCK},
    body=s.BLOCK_REQUEST,
    headers={201: {"Location": "the block"}, 200: {"Location": "the block"}},
    links={201: s.BLOCK_LINKS, 200: s.BLOCK_LINKS},
)
def block_guardian(grant: AccessGrant) -> Response[str]:
    """Block a guardian from acting for the patient (rule 9); 200 when already blocked."""
    body = json_object(app.current_event.body)
    guardian_id = string_field(body, "guardian_patient_id")
    assert grant.commission is not None
    created = _store().block_guardian(
        grant.patient_id,
        guardian_id,
        by_hsa_id=grant.commission.hsa_id,
        care_unit_hsa_id=grant.commission.care_unit_hsa_id,
    )
    return views.created_or_existing(created, grant.patient_id, guardian_id)


@app.patient_route(
    "DELETE",
    "/v1/staff/patients/<patientId>/guardian-blocks/<guardianPatientId>",
    action=CHANGE_GUARDIAN_BLOCK,
    audience=STAFF,
)
@described({204: None})
def lift_guardian_block(grant: AccessGrant, guardianPatientId: str) -> Response[str]:
    """Lift a block; 404 when the guardian is not blocked."""
    _store().lift_block(grant.patient_id, guardianPatientId)
    return Response(status_code=204, body="")


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
