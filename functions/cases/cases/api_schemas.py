"""The shapes of what the cases API reads and answers, for its routes' `described` (openapi.json).

A new case's `answers` are described per standard case type from the type's own form in the national
catalogue (`answers_schema`), built only when the document is generated.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cases.admin import CATEGORIES, MAX_TERMS
from cases.attachments import ALLOWED_CONTENT_TYPES, MAX_FILENAME_LENGTH, MAX_SIZE
from cases.model import Status
from cases.service import MAX_ATTACHMENTS, MAX_MESSAGE_LENGTH
from eservices_core.apidoc import (
    BILINGUAL,
    CURSOR,
    DATE,
    DATE_TIME,
    HSA_ID,
    LIMIT,
    STRING,
    TEXT,
    Link,
    Query,
    Schema,
    component,
    contract,
    deferred,
    nullable,
    obj,
    ref,
)

FORM_DEFINITION = contract(
    "FormDefinition", Path(__file__).parent / "contracts" / "form-definition.v1.schema.json"
)
STATUS = {"enum": [s.value for s in Status]}
MESSAGE_TEXT = {**TEXT, "maxLength": MAX_MESSAGE_LENGTH}
INTEGER = {"type": "integer"}

CASE_TYPE = component(
    "CaseType",
    obj(
        {
            "id": STRING,
            "standard": {"type": "boolean"},
            "name": BILINGUAL,
            "description": BILINGUAL,
            "category": STRING,
            "terms": BILINGUAL,
            "answer_days": INTEGER,
            "form": FORM_DEFINITION,
        }
    ),
)
SERVICE_AREA = obj(
    {
        "region_code": nullable(STRING),
        "municipality_code": nullable(STRING),
        "sex": nullable({"enum": ["female", "male"]}),
        "min_age": nullable(INTEGER),
        "max_age": nullable(INTEGER),
    }
)
CASE_TYPE_SETTINGS = component(
    "CaseTypeSettings",
    {
        "allOf": [
            CASE_TYPE,
            obj(
                {
                    "active": {"type": "boolean"},
                    "auto_close_days": INTEGER,
                    "service_area": SERVICE_AREA,
                    "restricted": {"type": "boolean"},
                }
            ),
        ]
    },
)
UNIT_CASE_TYPES = component(
    "UnitCaseTypes",
    obj(
        {
            "configured": {"type": "array", "items": CASE_TYPE_SETTINGS},
            "standard_catalogue": {
                "type": "array",
                "items": obj(
                    {"id": STRING, "name": BILINGUAL, "category": STRING, "configured": {"type": "boolean"}}
                ),
            },
        }
    ),
)
ATTACHMENT = component(
    "Attachment",
    obj({"attachment_id": STRING, "content_type": STRING, "size": INTEGER, "filename": STRING}),
)
AUTHOR = component(
    "Author",
    {
        "type": "object",
        "required": ["kind", "name"],
        "properties": {
            "kind": {"enum": ["resident", "staff"]},
            "name": STRING,
            "relation": {"enum": ["self", "guardian"]},
            "hsa_id": STRING,
            "care_unit_hsa_id": STRING,
        },
    },
)
CASE_SUMMARY_FIELDS: dict[str, Schema] = {
    "case_id": STRING,
    "patient_id": STRING,
    "clinic": obj({"hsa_id": STRING, "name": nullable(STRING)}),
    "case_type": obj({"id": STRING, "name": nullable(BILINGUAL)}),
    "status": STATUS,
    "created_at": DATE_TIME,
    "updated_at": DATE_TIME,
    "due_at": nullable(DATE_TIME),
    "closed_at": nullable(DATE_TIME),
}
CASE_SUMMARY = component("CaseSummary", obj(CASE_SUMMARY_FIELDS))
CASE_FIELDS: dict[str, Schema] = CASE_SUMMARY_FIELDS | {
    "form_version": INTEGER,
    "answers": {"type": "object", "description": "the answers as normalised when the case was sent"},
    "attachments": {"type": "array", "items": ATTACHMENT},
    "created_by": AUTHOR,
    "decision": nullable(
        {
            "type": "object",
            "required": ["outcome", "decided_at"],
            "properties": {
                "outcome": {"enum": ["approved", "denied"]},
                "renewed": nullable({"type": "array", "items": STRING}),
                "decided_at": DATE_TIME,
                "decided_by": AUTHOR,
            },
        }
    ),
    "prescription": nullable({"type": "object", "properties": {"status": STRING}}),
}
STAFF_FIELDS: dict[str, Schema] = {"patient_name": nullable(STRING), "assignee_hsa_id": nullable(STRING)}
MESSAGE = component(
    "CaseMessage",
    obj(
        {
            "kind": {
                "enum": [
                    "message",
                    "withdrawn",
                    "reply",
                    "information_request",
                    "decision",
                    "forwarded",
                    "closed",
                    "reopened",
                ]
            },
            "text": STRING,
            "attachments": {"type": "array", "items": ATTACHMENT},
            "author": AUTHOR,
            "sent_at": DATE_TIME,
        }
    ),
)
THREAD = {"messages": {"type": "array", "items": MESSAGE}}
CASE = component("Case", obj(CASE_FIELDS))
CASE_WITH_THREAD = component("CaseWithThread", obj(CASE_FIELDS | THREAD))
STAFF_CASE = component("StaffCase", obj(CASE_FIELDS | STAFF_FIELDS))
STAFF_CASE_WITH_THREAD = component("StaffCaseWithThread", obj(CASE_FIELDS | STAFF_FIELDS | THREAD))
QUEUE_ITEM = component("WorkQueueItem", obj(CASE_SUMMARY_FIELDS | STAFF_FIELDS))
DOWNLOAD = component(
    "AttachmentDownload",
    obj({"url": {"type": "string", "format": "uri"}, "expires_in": INTEGER}),
)
UPLOAD = component(
    "AttachmentUpload",
    obj(
        {
            "attachment_id": STRING,
            "upload": obj(
                {
                    "url": {"type": "string", "format": "uri"},
                    "fields": {"type": "object", "additionalProperties": STRING},
                }
            ),
            "expires_in": INTEGER,
        }
    ),
)
STANDARD_ANSWER = obj({"id": STRING, "text": BILINGUAL})
STATISTICS = component(
    "CaseStatistics",
    obj(
        {
            "care_unit_hsa_id": STRING,
            "month": STRING,
            "incoming": INTEGER,
            "closed": INTEGER,
            "first_answers": INTEGER,
            "first_answer_minutes": obj(
                {
                    "median": nullable({"type": "number"}),
                    "p90": nullable({"type": "number"}),
                    "resolution": STRING,
                }
            ),
        }
    ),
)
HANDED = obj({"case_type_id": STRING, "patient_id": STRING})

# ---- requests -------------------------------------------------------------------------------------------------
ATTACHMENT_IDS = {
    "type": "array",
    "maxItems": MAX_ATTACHMENTS,
    "items": {"type": "string", "format": "uuid"},
    "description": "ids of uploaded attachments (POST /v1/patients/{patientId}/attachments)",
}
NEW_CASE = deferred("NewCase", lambda: _new_case())
RESIDENT_MESSAGE = obj({"text": MESSAGE_TEXT, "attachments": ATTACHMENT_IDS}, optional=("attachments",))
NEW_ATTACHMENT = obj(
    {
        "content_type": {"enum": list(ALLOWED_CONTENT_TYPES)},
        "size": {"type": "integer", "minimum": 1, "maximum": MAX_SIZE},
        "filename": {
            "type": "string",
            "minLength": 1,
            "maxLength": MAX_FILENAME_LENGTH,
            "pattern": r"^[^/\\\x00-\x1f\x7f]*\S[^/\\\x00-\x1f\x7f]*$",
        },
    }
)
REPLY = component(
    "StaffText",
    {
        "type": "object",
        "description": "Free `text`, a standard answer (`standard_answer_id` in `language`), or both.",
        "properties": {
            "text": MESSAGE_TEXT,
            "standard_answer_id": STRING,
            "language": {"enum": ["sv", "en"], "default": "sv"},
        },
        "anyOf": [{"required": ["text"]}, {"required": ["standard_answer_id"]}],
    },
)
STAFF_REPLY = {"allOf": [REPLY, {"properties": {"close": {"type": "boolean", "default": False}}}]}
CLOSURE = {
    "type": "object",
    "description": "Optionally a last message: `text` and/or `standard_answer_id` (in `language`).",
    "properties": {
        "text": MESSAGE_TEXT,
        "standard_answer_id": STRING,
        "language": {"enum": ["sv", "en"], "default": "sv"},
    },
}
ASSIGNMENT = obj(
    {
        "assignee_hsa_id": {
            "anyOf": [HSA_ID, {"const": "me"}, {"type": "null"}],
            "description": "null: unassign",
        }
    },
    optional=("assignee_hsa_id",),
)
DECISION = {
    "oneOf": [
        obj(
            {
                "outcome": {"const": "approved"},
                "renewed": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": 20,
                    "items": {"type": "string", "minLength": 1, "maxLength": 200, "pattern": r"\S"},
                },
            }
        ),
        obj({"outcome": {"const": "denied"}, "reason": MESSAGE_TEXT}),
    ]
}
FORWARDING = obj({"care_unit_hsa_id": {**HSA_ID, "description": "another unit of the same care provider"}})
HAND = obj({"patient_id": {**TEXT, "maxLength": 64}})


def _texts(max_length: int) -> Schema:
    text = {**TEXT, "maxLength": max_length}
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["sv", "en"],
        "properties": {"sv": text, "en": text},
    }


CASE_TYPE_CONFIGURATION = component(
    "CaseTypeConfiguration",
    {
        "type": "object",
        "additionalProperties": False,
        "required": ["terms"],
        "description": "The whole configuration (PUT). `name`, `description`, `category` and `form` only for a "
        "local type (`local-…`), where `name` and `form` are required; a standard type's come from the "
        "national catalogue. The server numbers form versions.",
        "properties": {
            "active": {"type": "boolean", "default": True},
            "terms": _texts(MAX_TERMS),
            "answer_days": {"type": "integer", "minimum": 1, "maximum": 30},
            "auto_close_days": {"type": "integer", "minimum": 1, "maximum": 60},
            "service_area": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "region_code": nullable({"type": "string", "pattern": "^[0-9]{2}$"}),
                    "municipality_code": nullable({"type": "string", "pattern": "^[0-9]{4}$"}),
                    "sex": nullable({"enum": ["female", "male"]}),
                    "min_age": nullable({"type": "integer", "minimum": 0, "maximum": 130}),
                    "max_age": nullable({"type": "integer", "minimum": 0, "maximum": 130}),
                },
            },
            "restricted": {"type": "boolean", "default": False},
            "name": _texts(120),
            "description": _texts(500),
            "category": {"enum": list(CATEGORIES), "default": "contact"},
            "form": {
                "type": "object",
                "additionalProperties": False,
                "required": ["fields"],
                "properties": {
                    "version": {"type": "integer", "description": "ignored: the server numbers versions"},
                    "fields": {
                        "type": "array",
                        "minItems": 1,
                        "maxItems": 40,
                        "items": ref("FormDefinition_field"),
                    },
                },
            },
        },
    },
)
TYPE_ID = deferred("CaseTypeId", lambda: _case_type_id())
PATIENT = "$request.path.patientId"
CREATED = tuple(
    Link(name, f"cases_{operation}", {"patientId": PATIENT, "caseId": "$response.body#/case_id"})
    for name, operation in (("Read", "read_case"), ("Message", "resident_message"), ("Withdraw", "withdraw"))
) + tuple(
    Link(
        name,
        f"cases_{operation}",
        {"patientId": "$response.body#/patient_id", "caseId": "$response.body#/case_id"},
    )
    for name, operation in (
        ("StaffRead", "staff_read_case"),
        ("Assign", "assign"),
        ("Reply", "staff_reply"),
        ("RequestInformation", "request_information"),
        ("Decide", "decide"),
        ("Close", "close"),
        ("Reopen", "reopen"),
    )
)
LISTED = (
    Link("Read", "cases_read_case", {"patientId": PATIENT, "caseId": "$response.body#/items/0/case_id"}),
)
QUEUED = tuple(
    Link(
        name,
        f"cases_{operation}",
        {"patientId": "$response.body#/items/0/patient_id", "caseId": "$response.body#/items/0/case_id"},
    )
    for name, operation in (("StaffRead", "staff_read_case"), ("Assign", "assign"), ("Close", "close"))
)

# ---- query parameters -------------------------------------------------------------------------------------------
STATUS_FILTER = Query("status", STATUS, "Only cases in this status.")
QUEUE = (
    STATUS_FILTER,
    Query("case_type_id", STRING, "Only cases of this type (empty: any)."),
    Query("assignee_hsa_id", {"anyOf": [HSA_ID, {"const": ""}]}, "Only cases assigned to them (empty: any)."),
    Query(
        "overdue",
        {"enum": ["true", "false"]},
        "Only cases past (true) or within (false) their promised time.",
    ),
    LIMIT,
    CURSOR,
)
MONTH = Query(
    "month",
    {"type": "string", "pattern": "^((?!0000)[0-9]{4}-(0[1-9]|1[0-2]))?$"},
    "The month, YYYY-MM, not in the future (empty or left out: this month).",
)
PATIENT_ID = Query(
    "patient_id",
    {"type": "string"},
    "The patient the caller acts for (empty or left out: the caller): only the types offered to them.",
)


def _case_type_id() -> Schema:
    from cases.admin import LOCAL_TYPE
    from cases.catalogue import standard_types

    return {
        "description": "a standard case type of the national catalogue, or a unit's local type",
        "anyOf": [{"enum": list(standard_types())}, {"type": "string", "pattern": LOCAL_TYPE.pattern}],
    }


# ---- a new case's answers, from the catalogue's forms ---------------------------------------------------------------
def _new_case() -> Schema:
    from cases.catalogue import standard_types

    common: dict[str, Schema] = {
        "clinic_id": {**TEXT, "maxLength": 64, "description": "the clinic's HSA-ID"},
        "attachments": ATTACHMENT_IDS,
    }
    variants = [
        obj(
            common
            | {
                "case_type_id": {"const": type_id},
                "form_version": {"const": standard.form.version},
                "answers": answers_schema(standard.form),
            },
            optional=("attachments",),
        )
        for type_id, standard in standard_types().items()
    ]
    variants.append(
        obj(
            common
            | {
                "case_type_id": {"type": "string", "pattern": "^local-[a-z0-9-]{1,40}$"},
                "form_version": {"type": "integer", "minimum": 1},
                "answers": {"type": "object", "description": "answers to the local type's form"},
            },
            optional=("attachments",),
        )
    )
    return {
        "description": "A case of a type the clinic offers the patient (GET /v1/clinics/{clinicId}/case-types), "
        "answered on the type's current form: a standard type's answers are described here from the national "
        "catalogue, a local type's by its form.",
        "oneOf": variants,
    }


TEXTAREA_CHAR = r"[^\u0000-\u0008\u000b-\u001f\u007f-\u009f]"


def answers_schema(form: Any) -> Schema:
    """A form's answers as JSON Schema: each question's type and limits, required unconditional questions,
    and a conditional question answered only when its condition holds (else absent or null)."""
    from cases.forms import TEXT_LIMITS, FieldType

    properties: dict[str, Schema] = {}
    required: list[str] = []
    conditions: list[Schema] = []
    types: dict[str, FieldType] = {}
    for field in form.fields:
        types[field.id] = field.type
        if field.type in TEXT_LIMITS:
            # No control characters but tab (and newline in a textarea), and something visible.
            allowed = (
                r"[^\u0000-\u0008\u000a-\u001f\u007f-\u009f]"
                if field.type is FieldType.TEXT
                else TEXTAREA_CHAR
            )
            visible = r"[^\s\u0000-\u001f\u007f-\u009f]"
            limit = field.max_length or TEXT_LIMITS[field.type].default
            answer: Schema = {
                "type": "string",
                "maxLength": limit,
                "pattern": f"^{allowed}*{visible}{allowed}*$",
            }
        elif field.type is FieldType.CHOICE:
            answer = {"enum": list(field.option_values)}
        elif field.type is FieldType.MULTICHOICE:
            answer = {
                "type": "array",
                "uniqueItems": True,
                "minItems": field.min_items or 1,
                "maxItems": field.max_items or len(field.options),
                "items": {"enum": list(field.option_values)},
            }
        elif field.type is FieldType.BOOLEAN:
            answer = {"type": "boolean"}
        elif field.type is FieldType.DATE:
            answer = dict(DATE)  # a copy: a description is added below
        elif field.type is FieldType.NUMBER:
            answer = {"type": "number"}
            if field.min is not None:
                answer["minimum"] = field.min
            if field.max is not None:
                answer["maximum"] = field.max
        else:
            answer = {"type": "string", "pattern": r"^(\+46[0-9]{5,13}|0[0-9]{6,14})$"}  # 7-15 digits
        answer["description"] = field.label.en
        if field.when is None:
            properties[field.id] = answer
            if field.required:
                required.append(field.id)
            continue
        properties[field.id] = nullable(answer)
        target = field.when.field
        values = list(field.when.values)
        matches: Schema = (
            {"enum": values}
            if types.get(target) is not FieldType.MULTICHOICE
            else {
                "type": "array",
                "contains": {"enum": values},
            }
        )
        conditions.append(
            {
                "if": {"required": [target], "properties": {target: matches}},
                "then": {"required": [field.id], "properties": {field.id: answer}} if field.required else {},
                "else": {"properties": {field.id: {"type": "null"}}},
            }
        )
    schema: Schema = {
        "type": "object",
        "additionalProperties": False,
        "properties": properties,
        "required": required,
    }
    if conditions:
        schema["allOf"] = conditions
    return schema
