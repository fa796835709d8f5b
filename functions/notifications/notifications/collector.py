"""Events worth a notification, from the platform's bus (through `NotificationEventsQueue`), into one
pending notification per recipient: the first event of a recipient opens a window of about a minute, later
events in it only add to it (coalescing). The recipients are the patient and, for a child, the guardians
who may act for the child now (rules 6-10). Only ids pass through here; nothing is logged about a person.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

from eservices_core import aws
from eservices_core.clock import now_utc
from eservices_core.errors import ServiceUnavailable
from eservices_core.guardianship import GuardianAccess, guardian_access
from eservices_core.registry import Patient, Registry
from eservices_core.services import access_services  # not routing: no HTTP resolver here
from eservices_core.table import Table
from eservices_core.wiring import composition_root
from notifications.config import NotificationsConfig
from notifications.store import NotificationStore

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
    from aws_lambda_powertools.utilities.typing import LambdaContext

logger = Logger(service="notifications-collector")
WINDOW = timedelta(seconds=60)
KIND_OF = {
    ("eservices.inbox", "inbox.message-received"): "inbox",
    ("eservices.cases", "case.answered"): "cases",
    ("eservices.booking", "booking.reminder"): "booking",
}


@dataclass(frozen=True)
class Known:
    """What one SQS batch's lookups found: the profiles and notification settings of the batch's patients, read
    in two BatchGetItems instead of two calls per record. An id missing here is read by its own record."""

    patients: dict[str, Patient | None] = field(default_factory=dict)
    settings: dict[str, dict[str, Any]] = field(default_factory=dict)
    settings_read: frozenset[str] = frozenset()


class Collector:
    def __init__(self, store: NotificationStore, registry: Registry) -> None:
        self.store, self.registry = store, registry

    def known(self, events: list[dict[str, Any]]) -> Known:
        """The batch's lookups; if DynamoDB is busy, nothing (each record then reads, and fails, on its own)."""
        ids = list(dict.fromkeys(p for e in events if (p := _patient_of(e))))
        if not ids:
            return Known()
        try:
            return Known(self.registry.patients(ids), self.store.settings_of(ids), frozenset(ids))
        except ServiceUnavailable:
            logger.warning("batch lookups failed; each record reads its own", extra={"events": len(ids)})
            return Known()

    def collect(self, event: dict[str, Any], known: Known | None = None) -> int:
        """The event's pending notifications; how many recipients want it. Unknown events are ignored."""
        kind = KIND_OF.get((event.get("source", ""), event.get("detail-type", "")))
        patient_id = _patient_of(event)
        if kind is None or patient_id is None:
            logger.warning("event not for notifications", extra={"source": event.get("source")})
            return 0
        known = known or Known()
        recipients = [patient_id, *self.acting_guardians(patient_id, known)]
        unread = [r for r in recipients if r not in known.settings_read]
        settings = known.settings | (self.store.settings_of(unread) if unread else {})
        wanting = [r for r in recipients if _wants(settings.get(r), kind)]
        now = now_utc()
        for recipient in wanting:
            self.store.add_pending(recipient, kind, now, WINDOW)
        return len(wanting)

    def acting_guardians(self, patient_id: str, known: Known) -> list[str]:
        if patient_id in known.patients:
            patient = known.patients[patient_id]
        else:
            patient = self.registry.patient(patient_id)
        if patient is None or patient.age_on(now_utc().date()) >= 13:
            return []
        now, acting = now_utc(), []
        for guardian_id in self.registry.guardians(patient_id):
            guardian, view = self.registry.guardian_view(patient_id, guardian_id)
            if isinstance(guardian_access(guardian, view, now), GuardianAccess):
                acting.append(guardian_id)
        return acting


def _patient_of(event: dict[str, Any]) -> str | None:
    if (event.get("source", ""), event.get("detail-type", "")) not in KIND_OF:
        return None
    detail = event.get("detail")
    patient_id = detail.get("patient_id") if isinstance(detail, dict) else None
    return patient_id if isinstance(patient_id, str) and patient_id else None


def _parsed(body: str) -> dict[str, Any]:
    """A record's event for the batch's lookups; a body that is not one is left to its record to fail."""
    try:
        event = json.loads(body)
    except ValueError:
        return {}
    return event if isinstance(event, dict) else {}


def _wants(settings: dict[str, Any] | None, kind: str) -> bool:
    if settings is None or not (settings.get("events") or {}).get(kind):
        return False
    return bool(settings.get("email_verified") or settings.get("mobile_verified"))


@composition_root
def _collector() -> Collector:
    config = NotificationsConfig.from_env()
    return Collector(NotificationStore(Table(aws.dynamodb(), config.table_name)), access_services().registry)


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    collector = _collector()
    known = collector.known([_parsed(r["body"]) for r in event.get("Records", [])])

    def record_handler(record: SQSRecord) -> None:
        collector.collect(json.loads(record.body), known)

    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    return dict(
        process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )
    )
