"""What the identity API answers: resident and staff views, the access log extract, lookups."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.event_handler import Response

from eservices_core.access import AccessGrant
from eservices_core.actors import Resident, Staff
from eservices_core.audit import AuditLog
from eservices_core.clock import now_utc, today_stockholm
from eservices_core.cursor import decode_cursor, encode_cursor, fingerprint
from eservices_core.errors import InvalidInput, NotFound
from eservices_core.guardianship import GuardianAccess, guardian_access
from eservices_core.identifiers import PersonalIdentity, parse_personal_identity
from eservices_core.registry import Registry


def utc_text(instant: Any) -> str | None:
    return instant.isoformat(timespec="seconds").replace("+00:00", "Z") if instant else None


def me(registry: Registry, resident: Resident, patient_id: str) -> dict[str, Any]:
    """3 round trips: the caller's partition (profile and children), then every child's link, in one batch."""
    profile, children = registry.household(patient_id)
    name = profile.name if profile and profile.registered else resident.name
    patients = [{"patient_id": patient_id, "name": name, "relation": "self", "until": None}]
    now = now_utc()
    views = registry.guardian_views(patient_id, children)
    for child_id, view in sorted(views.items(), key=lambda kv: kv[1].child.name if kv[1].child else ""):
        decision = guardian_access(profile, view, now)
        if isinstance(decision, GuardianAccess) and view.child:
            patients.append(
                {
                    "patient_id": child_id,
                    "name": view.child.name,
                    "birth_date": view.child.birth_date.isoformat(),
                    "relation": "guardian",
                    "until": utc_text(decision.until),
                }
            )
    return {
        "kind": "resident",
        "subject": resident.subject,
        "patient_id": patient_id,
        "name": name,
        "birth_date": resident.identity.birth_date.isoformat(),
        "assurance_level": resident.assurance_level,
        "patients": patients,
    }


def patient(grant: AccessGrant) -> dict[str, Any]:
    return {
        "patient_id": grant.patient_id,
        "name": grant.patient.name,
        "birth_date": grant.patient.birth_date.isoformat(),
        "relation": grant.relation,
        "until": utc_text(grant.until),
    }


def access_log(audit: AuditLog, patient_id: str, limit: int, cursor: str | None) -> dict[str, Any]:
    """Staff accesses to the patient's data, newest first (rule 16); staff names only of public providers.

    One Query of the audit log's sparse staff-access index."""
    query = fingerprint("access-log", patient_id)
    page = audit.staff_accesses(
        patient_id, limit=limit, start=decode_cursor(cursor, query) if cursor else None
    )
    return {
        "items": [_access_entry(record) for record in page.items],
        "next_cursor": encode_cursor(page.last_key, query) if page.last_key else None,
    }


def _access_entry(record: dict[str, Any]) -> dict[str, Any]:
    return {
        "time": record["recorded_at"],
        "care_unit": {"hsa_id": record.get("care_unit_hsa_id"), "name": record.get("care_unit_name")},
        "purpose": record.get("purpose"),
        "action": record["action"],
        "resource": record["resource"],
        "staff_name": record.get("actor_name") if record.get("care_provider_public") else None,
    }


def staff_me(registry: Registry, staff: Staff) -> dict[str, Any]:
    member, commissions = registry.staff_member(staff.hsa_id)
    today = today_stockholm()
    active = [] if member is None or member.removed else [c for c in commissions if c.active_on(today)]
    return {
        "kind": "staff",
        "hsa_id": staff.hsa_id,
        "name": member.name if member else staff.name,
        "title": member.title if member else None,
        "commissions": [c.as_json() for c in sorted(active, key=lambda c: c.commission_id)],
    }


def identity_param(text: str) -> PersonalIdentity:
    try:
        return parse_personal_identity(text, today=today_stockholm())
    except InvalidInput as error:
        reason = error.invalid_params[0].reason if error.invalid_params else "is not valid"
        raise InvalidInput.for_param("personal_identity_number", reason) from None


def no_such_patient() -> NotFound:
    return NotFound("No patient with this personal identity number")


def created_or_existing(created: bool, child_id: str, guardian_id: str) -> Response[str]:
    body = {"patient_id": child_id, "guardian_patient_id": guardian_id, "blocked": True}
    return Response(
        status_code=201 if created else 200,
        content_type="application/json",
        body=json.dumps(body),
        headers={"Location": f"/v1/staff/patients/{child_id}/guardian-blocks/{guardian_id}"},
    )
