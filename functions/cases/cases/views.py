"""What the cases API answers, and the small request readers its routes share."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from cases.model import Status
from cases.service import MAX_MESSAGE_LENGTH, iso
from cases.stats import report
from cases.store import CaseStore
from eservices_core.clock import now_utc
from eservices_core.cursor import decode_cursor, encode_cursor, fingerprint
from eservices_core.errors import InvalidInput
from eservices_core.identifiers import is_hsa_id
from eservices_core.requests import limit_param
from eservices_core.table import Page

STANDARD_ANSWERS = Path(__file__).parent / "catalogue" / "standard-answers.v1.json"
HIDDEN = {"pk", "sk", "queue_pk", "queue_sk", "task_token", "pending_next", "version", "runs", "fingerprint"}


def case_summary(case: dict[str, Any]) -> dict[str, Any]:
    return {
        "case_id": case["case_id"],
        "patient_id": case["patient_id"],
        "clinic": {"hsa_id": case["unit_hsa_id"], "name": case.get("unit_name")},
        "case_type": {"id": case["type_id"], "name": case.get("type_name")},
        "status": case["status"],
        "created_at": case["created_at"],
        "updated_at": case["updated_at"],
        "due_at": case.get("due_at"),
        "closed_at": case.get("closed_at"),
    }


def case(item: dict[str, Any], *, staff: bool = False) -> dict[str, Any]:
    body = case_summary(item) | {
        "form_version": item["form_version"],
        "answers": item["answers"],
        "attachments": item.get("attachments", []),
        "created_by": {
            k: v for k, v in item.get("created_by", {}).items() if staff or k != "care_unit_hsa_id"
        },
        "decision": _decision(item.get("decision"), staff),
        "prescription": item.get("prescription"),
    }
    if staff:
        body |= {"patient_name": item.get("patient_name"), "assignee_hsa_id": item.get("assignee_hsa_id")}
    return body


def case_with_thread(
    item: dict[str, Any], messages: list[dict[str, Any]], *, staff: bool = False
) -> dict[str, Any]:
    return case(item, staff=staff) | {"messages": [_message(m) for m in messages]}


def _message(message: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in message.items() if k not in HIDDEN}


def _decision(decision: dict[str, Any] | None, staff: bool) -> dict[str, Any] | None:
    if decision is None:
        return None
    shown = {k: v for k, v in decision.items() if k != "decided_by"}
    if staff:
        shown["decided_by"] = decision.get("decided_by")
    return shown


def page(result: Page, position: str, shape: Callable[[dict[str, Any]], dict[str, Any]]) -> dict[str, Any]:
    return {
        "items": [shape(i) for i in result.items],
        "next_cursor": encode_cursor(result.last_key, position) if result.last_key else None,
    }


def work_queue(store: CaseStore, unit_hsa_id: str, query: dict[str, str]) -> dict[str, Any]:
    status = query.get("status")
    if status is not None and status not in {s.value for s in Status}:
        raise InvalidInput.for_param("status", f"must be one of {', '.join(s.value for s in Status)}")
    where: list[tuple[str, str, Any]] = []
    if query.get("case_type_id"):
        where.append(("type_id", "=", query["case_type_id"]))
    if query.get("assignee_hsa_id"):
        where.append(("assignee_hsa_id", "=", assignee(query["assignee_hsa_id"])))
    if "overdue" in query:
        if query["overdue"] not in ("true", "false"):
            raise InvalidInput.for_param("overdue", "must be true or false")
        where.append(("due_at", "<" if query["overdue"] == "true" else ">=", iso(now_utc())))
    position = fingerprint("queue", unit_hsa_id, sorted(query.items() - {("cursor", query.get("cursor"))}))
    start = decode_cursor(query["cursor"], position) if query.get("cursor") else None
    result = store.queue(unit_hsa_id, status=status, where=where, limit=limit_param(query), start=start)
    return page(
        result,
        position,
        lambda c: (
            case_summary(c)
            | {"patient_name": c.get("patient_name"), "assignee_hsa_id": c.get("assignee_hsa_id")}
        ),
    )


def assignee(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not is_hsa_id(value):
        raise InvalidInput.for_param("assignee_hsa_id", 'must be an HSA-ID, "me" or null')
    return value


@cache
def _standard_answers() -> dict[str, dict[str, str]]:
    return {a["id"]: a["text"] for a in json.loads(STANDARD_ANSWERS.read_text(encoding="utf-8"))}


def standard_answers() -> dict[str, Any]:
    return {"items": [{"id": k, "text": v} for k, v in _standard_answers().items()]}


def reply_text(body: dict[str, Any]) -> str:
    """Free text, a standard answer (`standard_answer_id`, in `language` sv or en), or both (answer first)."""
    answer_id = body.get("standard_answer_id")
    parts = []
    if answer_id is not None:
        texts = _standard_answers().get(answer_id) if isinstance(answer_id, str) else None
        if texts is None:
            raise InvalidInput.for_param("standard_answer_id", "is not a standard answer")
        language = body.get("language", "sv")
        if language not in ("sv", "en"):
            raise InvalidInput.for_param("language", "must be sv or en")
        parts.append(texts[language])
    text = body.get("text")
    if text is not None:
        if not isinstance(text, str) or not text.strip():
            raise InvalidInput.for_param("text", "must be a non-empty text")
        parts.append(text.strip())
    if not parts:
        raise InvalidInput.for_param("text", "is required unless a standard_answer_id is given")
    joined = "\n\n".join(parts)
    if len(joined) > MAX_MESSAGE_LENGTH:
        raise InvalidInput.for_param("text", f"must be at most {MAX_MESSAGE_LENGTH} characters")
    return joined


MONTH = re.compile(r"^(?!0000)[0-9]{4}-(0[1-9]|1[0-2])$")  # year 0000 is no date


def statistics(store: CaseStore, unit_hsa_id: str, query: dict[str, str]) -> dict[str, Any]:
    month = query.get("month") or now_utc().strftime("%Y-%m")
    if not MONTH.match(month) or date(int(month[:4]), int(month[5:]), 1) > now_utc().date():
        raise InvalidInput.for_param("month", "must be a month YYYY-MM, not in the future")
    return report(unit_hsa_id, month, store.stats(unit_hsa_id, month))
