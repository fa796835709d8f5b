"""Tasks of the case workflow (statemachines/case.asl.json), one Lambda function for all of them.

The state machine passes ids only (never answers or identities: execution history is a log). Each task
reads the case, acts, and writes it back with the same optimistic lock the API uses.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from cases.config import WorkflowConfig
from cases.model import Next, Status
from cases.service import iso
from cases.stats import month_of
from cases.store import CaseStore, StaleCase
from cases.workflow_client import Workflow
from eservices_core import aws
from eservices_core.clock import now_utc
from eservices_core.outbox import Outbox, outbox_item
from eservices_core.registry import profile_key
from eservices_core.table import Table
from eservices_core.wiring import composition_root

logger = Logger(service="cases-workflow")
ATTEMPTS = 3


class EventNotPublished(Exception):
    """EventBridge did not take an event that has no outbox (a reminder): the state machine retries."""


class CaseGone(Exception):
    """The case the workflow runs for does not exist (a bug or a deletion): fail the execution loudly."""


class Tasks:
    def __init__(
        self,
        store: CaseStore,
        workflow: Workflow,
        outbox: Outbox,
        identities: Table,
        sqs: Any,
        queue_url: str,
    ) -> None:
        self.store, self.workflow, self.outbox, self.identities = store, workflow, outbox, identities
        self.sqs, self.queue_url = sqs, queue_url

    def await_person(self, patient_id: str, case_id: str, waiting_for: str, token: str) -> None:
        """Keep the task token on the case; if someone already acted before the workflow got here, go on."""
        for _ in range(ATTEMPTS):
            case = self._case(patient_id, case_id)
            pending = case.pop("pending_next", None)
            if pending is None:
                case["task_token"] = token
                case["waiting_for"] = waiting_for
            try:
                self.store.save(case)
            except StaleCase:
                continue
            if pending is not None:
                self.workflow.advance(token, Next(pending))
            return
        raise StaleCase("the case kept changing")

    def remind(self, patient_id: str, case_id: str) -> None:
        """The promised answer time passed: the unit is reminded (an event the notifications follow)."""
        case = self._case(patient_id, case_id)
        if Status(case["status"]) is Status.WAITING_FOR_STAFF:
            [accepted] = self.workflow.put([self.workflow.entry("case.answer-overdue", case)])
            if not accepted:  # the state machine retries this task
                raise EventNotPublished(case_id)

    def auto_close(self, patient_id: str, case_id: str) -> None:
        """No reply from the resident within the clinic's time: the case closes."""
        for _ in range(ATTEMPTS):
            case = self._case(patient_id, case_id)
            if case["status"] != Status.WAITING_FOR_RESIDENT.value:
                return
            now = now_utc()
            case.update(status=Status.CLOSED.value, closed_at=iso(now), updated_at=iso(now))
            case.pop("task_token", None)
            message = {
                "kind": "closed",
                "text": "The case was closed because no reply arrived in time.",
                "attachments": [],
                "author": {"kind": "system"},
                "sent_at": iso(now),
            }
            events = [outbox_item(self.workflow.entry("case.closed", case))]
            try:
                self.store.save(case, message, events, (case["unit_hsa_id"], month_of(now), {"closed": 1}))
            except StaleCase:
                continue
            self.outbox.deliver(events)
            return

    def send_prescription(self, patient_id: str, case_id: str) -> None:
        """The renewal to the prescription system's queue; a failure raises, and the state machine retries
        and finally records it on the case (`prescription_failed`)."""
        case = self._case(patient_id, case_id)
        decision = case.get("decision") or {}
        profile = self.identities.get(profile_key(patient_id)) or {}
        message = {
            "message_id": str(
                uuid.uuid5(uuid.NAMESPACE_URL, f"prescription:{case_id}:{decision.get('decided_at')}")
            ),
            "case_id": case_id,
            "patient": {"personal_identity_number": profile.get("identity"), "name": profile.get("name")},
            "prescriber": decision.get("decided_by"),
            "renewed": decision.get("renewed") or [],
            "decided_at": decision.get("decided_at"),
        }
        self.sqs.send_message(QueueUrl=self.queue_url, MessageBody=json.dumps(message, ensure_ascii=False))
        self._finish_prescription(patient_id, case_id, "sent", None)

    def prescription_failed(self, patient_id: str, case_id: str, error: str) -> None:
        self._finish_prescription(patient_id, case_id, "failed", error)

    def _finish_prescription(self, patient_id: str, case_id: str, status: str, error: str | None) -> None:
        for _ in range(ATTEMPTS):
            case = self._case(patient_id, case_id)
            now = now_utc()
            case["prescription"] = {"status": status, "at": iso(now)} | ({"error": error} if error else {})
            case["updated_at"] = iso(now)
            if status == "sent":
                case.update(status=Status.CLOSED.value, closed_at=iso(now))
            else:  # back to staff, who see the failure on the case and can decide again
                case.update(status=Status.WAITING_FOR_STAFF.value)
            events = [outbox_item(self.workflow.entry("case.closed", case))] if status == "sent" else []
            closed = (case["unit_hsa_id"], month_of(now), {"closed": 1}) if status == "sent" else None
            try:
                self.store.save(case, None, events, closed)
            except StaleCase:
                continue
            self.outbox.deliver(events)
            return

    def _case(self, patient_id: str, case_id: str) -> dict[str, Any]:
        case = self.store.get(patient_id, case_id)
        if case is None:
            raise CaseGone(case_id)
        return case


@composition_root
def _tasks() -> Tasks:
    config = WorkflowConfig.from_env()
    client = aws.dynamodb()
    workflow = Workflow(aws.stepfunctions(), aws.events(), config.event_bus_name)
    table = Table(client, config.table_name)
    return Tasks(
        CaseStore(table),
        workflow,
        Outbox(table, workflow.put),
        Table(client, config.identity_table_name),
        aws.sqs(),
        config.prescription_queue_url,
    )


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    tasks = _tasks()
    action, patient_id, case_id = event["action"], event["patient_id"], event["case_id"]
    logger.append_keys(case_id=case_id, action=action)
    if action == "await":
        tasks.await_person(patient_id, case_id, event["waiting_for"], event["token"])
    elif action == "remind":
        tasks.remind(patient_id, case_id)
    elif action == "auto_close":
        tasks.auto_close(patient_id, case_id)
    elif action == "send_prescription":
        tasks.send_prescription(patient_id, case_id)
    elif action == "prescription_failed":
        tasks.prescription_failed(patient_id, case_id, str(event.get("error", {}).get("Error", "unknown")))
    else:
        raise ValueError(f"unknown workflow action {action!r}")
    return {"ok": True}
