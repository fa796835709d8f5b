"""The cases e-service's operations: what residents, staff and the workflow do to a case.

Every operation receives an `AccessGrant` already decided by the access policy (and audited); staff
operations on a case also check the case belongs to the commission's care unit. Each change is one
optimistic-locked write of the case (with its new message in the same transaction), then the workflow is
told what comes next. Errors are domain errors; the API maps them.
"""

from __future__ import annotations

import copy
import hashlib
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger

from cases.catalogue import standard_types
from cases.clinics import Clinic, Clinics
from cases.forms import parse_form, validate_answers
from cases.model import DEFAULT_AUTO_CLOSE_DAYS, REOPEN_WITHIN_DAYS, CaseType, Next, ServiceArea, Status
from cases.stats import bucket_of, month_of
from cases.store import IDEMPOTENCY_HOURS, CaseStore, DuplicateRequest, StaleCase
from eservices_core.clock import STOCKHOLM, now_utc, today_stockholm
from eservices_core.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    InvalidParam,
    NotFound,
    ServiceUnavailable,
)
from eservices_core.outbox import Outbox, outbox_item
from eservices_core.registry import Patient
from eservices_core.requests import string_field
from eservices_core.table import Page

if TYPE_CHECKING:
    from cases.attachments import AttachmentStore
    from cases.workflow_client import Workflow
    from eservices_core.access import AccessGrant


class FormVersionChanged(Conflict):
    code = "form-version-changed"
    title = "The form has changed"


class IdempotencyKeyReused(Conflict):
    code = "idempotency-key-reused"
    title = "The Idempotency-Key was used for another request"


class CaseNotOpen(Conflict):
    code = "case-not-open"
    title = "The case is not open for this"


logger = Logger(child=True)
MAX_ATTACHMENTS = 5
MAX_MESSAGE_LENGTH = 4000
SAVE_ATTEMPTS = 3


def iso(instant: datetime) -> str:
    return instant.isoformat(timespec="seconds").replace("+00:00", "Z")


def working_days_after(instant: datetime, days: int) -> datetime:
    """The same Stockholm clock time `days` weekdays later (the terms promise working days). Public
    holidays are not yet taken out: a region's holiday calendar would."""
    local = instant.astimezone(STOCKHOLM)
    day, counted = local.date(), 0
    while counted < days:
        day += timedelta(days=1)
        counted += day.weekday() < 5
    return datetime.combine(day, local.time(), tzinfo=STOCKHOLM).astimezone(UTC)


def new_case_id(now: datetime) -> str:
    """Sorts by creation time (12 hex digits of milliseconds), then 12 random hex digits."""
    return f"{int(now.timestamp() * 1000):012x}{uuid.uuid4().hex[:12]}"


@dataclass
class Cases:
    store: CaseStore
    clinics: Clinics
    workflow: Workflow
    attachments: AttachmentStore
    outbox: Outbox

    # ---- case types ---------------------------------------------------------------------------------------
    def case_type(self, item: dict[str, Any]) -> CaseType:
        if item.get("standard"):
            standard = standard_types()[item["type_id"]]
            form, name, description = standard.form, standard.name, standard.description
            category, decision = standard.category, standard.decision
        else:
            form = parse_form(item["form"])
            name, description = item["name"], item.get("description") or {"sv": "", "en": ""}
            category, decision = item.get("category", "contact"), None
        return CaseType(
            unit_hsa_id=item["unit_hsa_id"],
            type_id=item["type_id"],
            standard=bool(item.get("standard")),
            active=bool(item.get("active")),
            name=name,
            description=description,
            category=category,
            decision=decision,
            form=form,
            terms=item.get("terms") or {"sv": "", "en": ""},
            answer_days=int(item["answer_days"]),
            auto_close_days=int(item.get("auto_close_days", DEFAULT_AUTO_CLOSE_DAYS)),
            service_area=ServiceArea.from_json(item.get("service_area")),
            restricted=bool(item.get("restricted")),
        )

    def offered(self, unit_hsa_id: str, patient: Patient) -> list[CaseType]:
        """The active types the unit offers this patient (rule 18): in the service area and not restricted,
        or handed to the patient; none from a unit no longer in the HSA catalogue (rule 19).
        1 GetItem and 1 Query, +1 BatchGetItem when the unit has restricted types."""
        return self._offered(unit_hsa_id, patient)[1]

    def _offered(self, unit_hsa_id: str, patient: Patient) -> tuple[Clinic | None, list[CaseType]]:
        clinic = self.clinics.get(unit_hsa_id)
        if clinic is None:
            return None, []
        types = [self.case_type(i) for i in self.store.unit_types(unit_hsa_id) if i.get("active")]
        restricted = [t.type_id for t in types if t.restricted]
        handed = self.store.handed_to(unit_hsa_id, restricted, patient.patient_id) if restricted else set()
        today = today_stockholm()
        return clinic, [
            t
            for t in types
            if t.type_id in handed or (not t.restricted and t.service_area.admits(patient, today))
        ]

    # ---- resident -----------------------------------------------------------------------------------------
    def create(
        self, grant: AccessGrant, body: dict[str, Any], idempotency_key: str | None
    ) -> tuple[dict[str, Any], bool]:
        """Validate against the type's form and store the case and start its workflow: (case, created).

        With an Idempotency-Key, a retry of the same request answers the case it created (created False);
        the same key with another request is a conflict."""
        unit_hsa_id = string_field(body, "clinic_id", max_length=64)
        type_id = string_field(body, "case_type_id", max_length=64)
        clinic, types = self._offered(unit_hsa_id, grant.patient)
        offered = {t.type_id: t for t in types}
        case_type = offered.get(type_id)
        if case_type is None:
            raise InvalidInput.for_param("case_type_id", "is not offered to this patient by this clinic")
        version = body.get("form_version")
        if version != case_type.form.version:
            raise FormVersionChanged(
                "The form of this case type has changed; reload it and answer again",
                current_form_version=case_type.form.version,
            )
        answers = validate_answers(case_type.form, body.get("answers"))
        attachments = self._attachments(grant.patient_id, body.get("attachments"))
        now = now_utc()
        fingerprint = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
        idempotency = (
            (
                _idempotency_key(idempotency_key),
                fingerprint,
                int((now + timedelta(hours=IDEMPOTENCY_HOURS)).timestamp()),
            )
            if idempotency_key is not None
            else None
        )
        assert clinic is not None  # a unit not in the catalogue offers nothing
        case = {
            "case_id": new_case_id(now),
            "patient_id": grant.patient_id,
            "patient_name": grant.patient.name,
            "unit_hsa_id": unit_hsa_id,
            "unit_name": clinic.name,
            "type_id": type_id,
            "type_name": case_type.name,
            "decision_kind": case_type.decision,
            "form_version": case_type.form.version,
            "answers": answers,
            "attachments": attachments,
            "status": Status.WAITING_FOR_STAFF.value,
            "created_at": iso(now),
            "updated_at": iso(now),
            "due_at": iso(working_days_after(now, case_type.answer_days)),
            "auto_close_days": case_type.auto_close_days,
            "answer_days": case_type.answer_days,
            "created_by": _author(grant),
            "message_count": 0,
            "version": 1,
            "runs": 1,
        }
        counts = (unit_hsa_id, month_of(now), {"incoming": 1})
        try:
            events = [outbox_item(self.workflow.entry("case.created", case))]
            self.store.create(case, None, idempotency, events, counts)
        except DuplicateRequest as duplicate:
            if duplicate.existing["fingerprint"] != fingerprint:
                raise IdempotencyKeyReused("This Idempotency-Key was used for another request") from None
            existing = self.store.get(grant.patient_id, duplicate.existing["case_id"])
            if existing is None:
                raise ServiceUnavailable("The case is being created; try again") from None
            self.workflow.start(existing)  # in case the first attempt stored the case but could not start it
            return existing, False
        try:
            self.workflow.start(case)
        except ServiceUnavailable:
            # Without its run the case would wait for nobody: take it back, so a retry starts afresh.
            _undo(lambda: self.store.undo_create(case, idempotency, events, counts))
            raise
        self.outbox.deliver(events)
        return case, True

    def read(self, grant: AccessGrant, case_id: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        case, messages = self.store.with_messages(grant.patient_id, case_id)
        if case is None:
            raise NotFound("No such case")
        _require_unit(grant, case)
        return case, messages

    def resident_message(self, grant: AccessGrant, case_id: str, body: dict[str, Any]) -> dict[str, Any]:
        text = _text(body, "text")
        attachments = self._attachments(grant.patient_id, body.get("attachments"))

        def change(case: dict[str, Any]) -> tuple[dict[str, Any], Next | None]:
            if not Status(case["status"]).open:
                raise CaseNotOpen("The case is closed; send a new case instead")
            waiting = case["status"] == Status.WAITING_FOR_RESIDENT.value
            case["status"] = Status.WAITING_FOR_STAFF.value
            case["attachments"] = case.get("attachments", []) + attachments
            return _message(grant, "message", text, attachments=attachments), Next.STAFF if waiting else None

        return self._change(grant, case_id, change)

    def withdraw(self, grant: AccessGrant, case_id: str) -> dict[str, Any]:
        def change(case: dict[str, Any]) -> tuple[dict[str, Any], Next | None]:
            if not Status(case["status"]).open:
                raise CaseNotOpen("Only an open case can be withdrawn")
            case["status"] = Status.WITHDRAWN.value
            case["closed_at"] = iso(now_utc())
            return _message(grant, "withdrawn", "The case was withdrawn."), Next.CLOSE

        return self._change(grant, case_id, change, counts={"withdrawn": 1})

    def cases_of(
        self, grant: AccessGrant, status: str | None, limit: int, start: dict[str, Any] | None
    ) -> Page:
        if status is not None and status not in {s.value for s in Status}:
            raise InvalidInput.for_param("status", f"must be one of {', '.join(s.value for s in Status)}")
        return self.store.list_for_patient(grant.patient_id, status=status, limit=limit, start=start)

    # ---- staff ---------------------------------------------------------------------------------------------
    def assign(self, grant: AccessGrant, case_id: str, assignee: str | None) -> dict[str, Any]:
        def change(case: dict[str, Any]) -> tuple[dict[str, Any] | None, Next | None]:
            case["assignee_hsa_id"] = assignee
            return None, None

        return self._change(grant, case_id, change)

    def reply(self, grant: AccessGrant, case_id: str, text: str, close: bool) -> dict[str, Any]:
        def change(case: dict[str, Any]) -> tuple[dict[str, Any], Next | None]:
            _require_open(case)
            if close:
                _close(case)
                return _message(grant, "reply", text), Next.CLOSE
            return _message(grant, "reply", text), None

        return self._change(grant, case_id, change, counts={"closed": 1} if close else None, answer=True)

    def request_information(self, grant: AccessGrant, case_id: str, text: str) -> dict[str, Any]:
        def change(case: dict[str, Any]) -> tuple[dict[str, Any], Next | None]:
            _require_open(case)
            case["status"] = Status.WAITING_FOR_RESIDENT.value
            return _message(grant, "information_request", text), Next.RESIDENT

        return self._change(grant, case_id, change, answer=True)

    def decide(self, grant: AccessGrant, case_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """A prescription renewal: approved with what was renewed (sent on to the prescription system), or
        denied with a reason (the case closes)."""
        outcome = body.get("outcome")
        if outcome not in ("approved", "denied"):
            raise InvalidInput.for_param("outcome", "must be approved or denied")
        renewed = body.get("renewed")
        if outcome == "approved":
            if not isinstance(renewed, list) or not 1 <= len(renewed) <= 20:
                raise InvalidInput.for_param("renewed", "must list 1-20 renewed medicines")
            bad = [
                i for i, r in enumerate(renewed) if not isinstance(r, str) or not 1 <= len(r.strip()) <= 200
            ]
            if bad:
                raise InvalidInput(
                    "renewed has invalid entries",
                    [InvalidParam(f"renewed[{i}]", "must be a text of 1-200 characters") for i in bad],
                )
            text = "Renewed: " + "; ".join(r.strip() for r in renewed)
        else:
            text = _text(body, "reason")

        def change(case: dict[str, Any]) -> tuple[dict[str, Any], Next | None]:
            _require_open(case)
            if case.get("decision_kind") != "prescription-renewal":
                raise CaseNotOpen("Only a prescription renewal is decided")
            case["decision"] = {
                "outcome": outcome,
                "renewed": renewed,
                "decided_at": iso(now_utc()),
                "decided_by": _author(grant),
            }
            if outcome == "approved":
                case["prescription"] = {"status": "pending"}
                return _message(grant, "decision", text), Next.PRESCRIPTION
            _close(case)
            return _message(grant, "decision", text), Next.CLOSE

        return self._change(
            grant, case_id, change, counts={"closed": 1} if outcome == "denied" else None, answer=True
        )

    def forward(self, grant: AccessGrant, case_id: str, unit_hsa_id: str) -> dict[str, Any]:
        """To another unit of the same care provider; the case leaves this unit's queue."""
        assert grant.commission is not None
        target = self.clinics.get(unit_hsa_id)
        if target is None or target.hsa_id == grant.commission.care_unit_hsa_id:
            raise InvalidInput.for_param("care_unit_hsa_id", "is not another care unit in the catalogue")
        if target.care_provider_hsa_id != grant.commission.care_provider_hsa_id:
            raise Forbidden("A case can only be forwarded within the same care provider")

        def change(case: dict[str, Any]) -> tuple[dict[str, Any], Next | None]:
            _require_open(case)
            case["unit_hsa_id"], case["unit_name"] = target.hsa_id, target.name
            case.pop("assignee_hsa_id", None)
            return _message(grant, "forwarded", f"Forwarded to {target.name}."), None

        return self._change(grant, case_id, change)

    def close(self, grant: AccessGrant, case_id: str, text: str | None) -> dict[str, Any]:
        def change(case: dict[str, Any]) -> tuple[dict[str, Any], Next | None]:
            _require_open(case)
            _close(case)
            return _message(grant, "closed", text or "The case was closed."), Next.CLOSE

        return self._change(grant, case_id, change, counts={"closed": 1})

    def reopen(self, grant: AccessGrant, case_id: str) -> dict[str, Any]:
        def change(case: dict[str, Any]) -> tuple[dict[str, Any], Next | None]:
            if case["status"] != Status.CLOSED.value:
                raise CaseNotOpen("Only a closed case can be reopened")
            closed_at = datetime.fromisoformat(case["closed_at"].replace("Z", "+00:00"))
            if now_utc() > closed_at + timedelta(days=REOPEN_WITHIN_DAYS):
                raise CaseNotOpen(f"A case can be reopened within {REOPEN_WITHIN_DAYS} days of closing")
            case["status"] = Status.WAITING_FOR_STAFF.value
            case.pop("closed_at", None)
            case["runs"] = case.get("runs", 1) + 1
            case["due_at"] = iso(working_days_after(now_utc(), int(case.get("answer_days", 1))))
            case.pop("task_token", None)
            case.pop("pending_next", None)
            return _message(grant, "reopened", "The case was reopened."), None

        return self._change(grant, case_id, change, restart=True)

    # ---- shared --------------------------------------------------------------------------------------------
    def _change(
        self,
        grant: AccessGrant,
        case_id: str,
        change: Callable[[dict[str, Any]], tuple[dict[str, Any] | None, Next | None]],
        *,
        counts: dict[str, int] | None = None,
        answer: bool = False,
        restart: bool = False,
    ) -> dict[str, Any]:
        """Read, change, write (retrying a lost optimistic-lock race), then move the workflow on (or start a new
        run: `restart`). If the workflow cannot be told, the change is taken back and the caller gets 503, so
        a retry does it once: a case never changes without its workflow knowing."""
        for _ in range(SAVE_ATTEMPTS):
            case = self.store.get(grant.patient_id, case_id)
            if case is None:
                raise NotFound("No such case")
            _require_unit(grant, case)
            original = copy.deepcopy(case)
            now = now_utc()
            first_answer = answer and "first_answer_at" not in case
            message, next_step = change(case)
            case["updated_at"] = iso(now)
            if first_answer:
                case["first_answer_at"] = iso(now)
            token = case.pop("task_token", None) if next_step else None
            if next_step and not token:
                case["pending_next"] = next_step.value  # the workflow has not reached its wait yet
            events = [
                outbox_item(self.workflow.entry(kind, case))
                for kind, happened in (
                    ("case.answered", first_answer),
                    ("case.closed", next_step is Next.CLOSE),
                )
                if happened
            ]
            counted = dict(counts or {})
            if first_answer:
                created = datetime.fromisoformat(case["created_at"].replace("Z", "+00:00"))
                counted[bucket_of((now - created).total_seconds() / 60)] = 1
            moved = (case["unit_hsa_id"], month_of(now), counted) if counted else None
            try:
                saved = self.store.save(case, message, events, moved)
            except StaleCase:
                continue
            break
        else:
            raise ServiceUnavailable("The case is being changed by someone else; try again")
        try:
            if token and next_step:
                self.workflow.advance(token, next_step)
            if restart:
                self.workflow.start(saved)
        except ServiceUnavailable:
            _undo(lambda: self.store.undo_save(original, saved, events, moved))
            raise
        self.outbox.deliver(events)
        return saved

    def _attachments(self, patient_id: str, ids: Any) -> list[dict[str, Any]]:
        if ids is None:
            return []
        if not isinstance(ids, list) or len(ids) > MAX_ATTACHMENTS:
            raise InvalidInput.for_param("attachments", f"must be a list of at most {MAX_ATTACHMENTS} ids")
        verified = []
        for i, attachment_id in enumerate(ids):
            attachment = self.attachments.verify(patient_id, str(attachment_id), field=f"attachments[{i}]")
            verified.append(
                {
                    "attachment_id": attachment.attachment_id,
                    "content_type": attachment.content_type,
                    "size": attachment.size,
                    "filename": attachment.filename,
                }
            )
        return verified


def _undo(undo: Callable[[], None]) -> None:
    """Take back a stored change whose follow-up failed. If that fails too, the change stays (logged)."""
    try:
        undo()
    except Exception as error:  # the caller raises the first failure; this one is only logged
        logger.error("a change could not be taken back", extra={"error": type(error).__name__})


def _require_unit(grant: AccessGrant, case: dict[str, Any]) -> None:
    """Staff act only on their commission's unit's cases; another unit's case is answered exactly as a missing
    one, in the same words, so the answer shows nothing of what the patient has at another unit (rule 14)."""
    if grant.commission is None:
        return
    try:
        grant.require_care_unit(case["unit_hsa_id"])
    except NotFound:
        raise NotFound("No such case") from None


def _require_open(case: dict[str, Any]) -> None:
    if not Status(case["status"]).open:
        raise CaseNotOpen("The case is not open")


def _close(case: dict[str, Any]) -> None:
    case["status"] = Status.CLOSED.value
    case["closed_at"] = iso(now_utc())


def _author(grant: AccessGrant) -> dict[str, Any]:
    if grant.commission is not None:
        return {
            "kind": "staff",
            "hsa_id": grant.commission.hsa_id,
            "name": grant.staff_member.name if grant.staff_member else "",
            "care_unit_hsa_id": grant.commission.care_unit_hsa_id,
        }
    return {"kind": "resident", "relation": grant.relation, "name": grant.actor.name}


def _message(
    grant: AccessGrant, kind: str, text: str, *, attachments: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    return {
        "kind": kind,
        "text": text,
        "attachments": attachments or [],
        "author": _author(grant),
        "sent_at": iso(now_utc()),
    }


def _text(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput.for_param(name, "is required and must be a non-empty text")
    if len(value) > MAX_MESSAGE_LENGTH:
        raise InvalidInput.for_param(name, f"must be at most {MAX_MESSAGE_LENGTH} characters")
    return value.strip()


def _idempotency_key(value: str) -> str:
    if not 1 <= len(value) <= 128 or not all(c.isascii() and (c.isalnum() or c in "-_.") for c in value):
        raise InvalidInput.for_param("Idempotency-Key", "must be 1-128 letters, digits, '-', '_' or '.'")
    return value
