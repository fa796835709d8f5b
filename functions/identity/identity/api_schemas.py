"""The shapes of what the identity API reads and answers, for its routes' `described` (openapi.json)."""

from __future__ import annotations

from eservices_core.apidoc import DATE, DATE_TIME, STRING, TEXT, Link, component, nullable, obj

PATIENT_ID = {"type": "string", "minLength": 1, "description": "an opaque patient id"}
RELATION = {"enum": ["self", "guardian", "staff"]}

PATIENT = component(
    "Patient",
    obj(
        {
            "patient_id": STRING,
            "name": STRING,
            "birth_date": DATE,
            "relation": RELATION,
            "until": {**nullable(DATE_TIME), "description": "guardian access ends at this instant"},
        }
    ),
)
LOOKED_UP = component(
    "LookedUpPatient",
    {"allOf": [PATIENT, obj({"protected_identity": {"type": "boolean"}})]},
)
ME = component(
    "Me",
    obj(
        {
            "kind": {"const": "resident"},
            "subject": STRING,
            "patient_id": STRING,
            "name": STRING,
            "birth_date": DATE,
            "assurance_level": {"type": "integer", "minimum": 1, "maximum": 4},
            "patients": {
                "type": "array",
                "description": "The caller first, then the children they may act for now.",
                "items": obj(
                    {
                        "patient_id": STRING,
                        "name": STRING,
                        "birth_date": DATE,
                        "relation": {"enum": ["self", "guardian"]},
                        "until": nullable(DATE_TIME),
                    },
                    optional=("birth_date",),
                ),
            },
        }
    ),
)
ACCESS_ENTRY = component(
    "AccessLogEntry",
    obj(
        {
            "time": DATE_TIME,
            "care_unit": obj({"hsa_id": nullable(STRING), "name": nullable(STRING)}),
            "purpose": nullable(STRING),
            "action": STRING,
            "resource": STRING,
            "staff_name": {**nullable(STRING), "description": "only for a public care provider's staff"},
        }
    ),
)
COMMISSION = component(
    "Commission",
    obj(
        {
            "id": STRING,
            "care_unit_hsa_id": STRING,
            "care_unit_name": STRING,
            "care_provider_hsa_id": STRING,
            "purpose": STRING,
            "roles": {"type": "array", "items": STRING},
            "valid_from": DATE,
            "valid_to": nullable(DATE),
        }
    ),
)
STAFF_ME = component(
    "StaffMe",
    obj(
        {
            "kind": {"const": "staff"},
            "hsa_id": STRING,
            "name": STRING,
            "title": nullable(STRING),
            "commissions": {"type": "array", "items": COMMISSION},
        }
    ),
)
GUARDIAN = component(
    "Guardian",
    obj(
        {
            "patient_id": STRING,
            "name": STRING,
            "guardian_now": {"type": "boolean"},
            "blocked": {"type": "boolean"},
            "blocked_at": nullable(DATE_TIME),
            "blocked_by_care_unit": nullable(STRING),
        }
    ),
)
LOOKUP_REQUEST = obj(
    {
        "personal_identity_number": {
            **TEXT,
            "maxLength": 200,
            "description": "personnummer or samordningsnummer, 10 or 12 digits, with or without separator",
        }
    }
)
BLOCK_REQUEST = obj({"guardian_patient_id": {**TEXT, "maxLength": 200}})
BLOCK = component(
    "GuardianBlock", obj({"patient_id": STRING, "guardian_patient_id": STRING, "blocked": {"const": True}})
)
PATIENT_ID_OF_REQUEST = "$request.path.patientId"
GUARDIAN_LINKS = (
    Link(
        "Block",
        "identity_block_guardian",
        {"patientId": PATIENT_ID_OF_REQUEST},
        body={"guardian_patient_id": "$response.body#/items/0/patient_id"},
    ),
)
BLOCK_LINKS = (
    Link(
        "Lift",
        "identity_lift_guardian_block",
        {"patientId": PATIENT_ID_OF_REQUEST, "guardianPatientId": "$response.body#/guardian_patient_id"},
    ),
)
