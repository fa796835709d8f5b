"""Messages from external systems, from `InboxDeliveryQueue` into residents' inboxes.

A message is refused to the DLQ with its reason when it breaks the contract (`contract-violation`, which
includes a missing sender HSA-ID: rule 24), comes from a system that is not registered
(`unknown-sending-system`), or names a recipient who is not a valid or known resident
(`invalid-recipient`, `unknown-recipient`). A redelivery of the same (system, message id) is acknowledged
and stores nothing. Any other failure is a partial batch failure, retried by SQS. Neither the recipient's
number nor the subject or body is ever logged (rule 4): the DLQ keeps the message, the log its reason.
"""

from __future__ import annotations

import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from eservices_core import aws
from eservices_core.clock import now_utc, today_stockholm
from eservices_core.errors import InvalidInput, ServiceUnavailable
from eservices_core.identifiers import parse_personal_identity
from eservices_core.inbound import Contract, RejectedMessage, process_inbound
from eservices_core.outbox import Outbox, event_entry, outbox_item
from eservices_core.registry import Registry
from eservices_core.services import access_services  # not routing: no HTTP resolver here
from eservices_core.table import Table
from eservices_core.wiring import composition_root
from inbox.config import DeliveryConfig
from inbox.store import AlreadyDelivered, InboxStore, iso, view_sk

logger = Logger(service="inbox-delivery")
metrics = Metrics(namespace="OpenEServices", service="inbox-delivery")
CONTRACT = Contract(Path(__file__).parent / "contracts" / "inbox-message.v1.schema.json")
EVENT_SOURCE = "eservices.inbox"
NEVER = "9999-12-31T23:59:59Z"
SYSTEM_CACHE_SECONDS = 60


def instant(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


class Delivery:
    def __init__(
        self, store: InboxStore, registry: Registry, outbox: Outbox, event_bus_name: str, retention_days: int
    ) -> None:
        self.store, self.registry, self.outbox = store, registry, outbox
        self.event_bus_name, self.retention = event_bus_name, timedelta(days=retention_days)
        self._systems: dict[str, tuple[float, dict[str, Any] | None]] = {}
        self._undelivered: list[dict[str, Any]] = []

    def apply(self, message: dict[str, Any]) -> None:
        try:
            self._apply(message)
        except RejectedMessage:
            metrics.add_metric(name="InboxMessagesRejected", unit=MetricUnit.Count, value=1)
            raise

    def _apply(self, message: dict[str, Any]) -> None:
        system = self._system(message["system_id"])
        if system is None or not system.get("active"):
            raise RejectedMessage(
                "unknown-sending-system", f"system {message['system_id']} is not registered"
            )
        try:
            identity = parse_personal_identity(message["recipient"], today=today_stockholm())
        except InvalidInput:
            raise RejectedMessage(
                "invalid-recipient", "the recipient is not a valid identity number"
            ) from None
        patient_id = self.registry.patient_id_of(identity)
        if patient_id is None:
            raise RejectedMessage("unknown-recipient", "the recipient is not known to the e-services")
        now = now_utc()
        message_id = f"{int(now.timestamp() * 1000):012x}{uuid.uuid4().hex[:12]}"
        item = {
            "message_id": message_id,
            "patient_id": patient_id,
            "system_id": message["system_id"],
            "system_name": system["name"],
            "external_id": message["message_id"],
            "sender": message["sender"],
            "category": message["category"],
            "subject": message["subject"],
            "body": message["body"],
            "replyable": message["replyable"],
            "sent_at": iso(instant(message["sent_at"])),
            "expires_at": iso(instant(message["expires_at"])) if message.get("expires_at") else NEVER,
            "received_at": iso(now),
            "shown": True,
            "archived": False,
            "view_sk": view_sk(message_id, unread=True),
            "purge_at": int((now + self.retention).timestamp()),
        }
        detail = {"message_id": message_id, "patient_id": patient_id, "category": message["category"]}
        events = [
            outbox_item(event_entry(EVENT_SOURCE, "inbox.message-received", detail, self.event_bus_name))
        ]
        try:
            self.store.deliver(item, events)
        except AlreadyDelivered:
            metrics.add_metric(name="InboxDuplicates", unit=MetricUnit.Count, value=1)
            return
        metrics.add_metric(name="InboxMessagesDelivered", unit=MetricUnit.Count, value=1)
        self._undelivered += events

    def publish(self) -> None:
        """The batch's events in one PutEvents per ten and one delete per 25, not a call each. A failure here
        leaves them in the outbox for the sweeper: the messages are stored, so the batch is not failed."""
        events, self._undelivered = self._undelivered, []
        try:
            self.outbox.deliver(events)
        except ServiceUnavailable:
            logger.warning("events left in the outbox for the sweeper", extra={"events": len(events)})

    def _system(self, system_id: str) -> dict[str, Any] | None:
        """Registered systems change rarely: a container asks again after a minute."""
        cached = self._systems.get(system_id)
        if cached is None or time.monotonic() - cached[0] > SYSTEM_CACHE_SECONDS:
            cached = (time.monotonic(), self.store.system(system_id))
            self._systems[system_id] = cached
        return cached[1]


@composition_root
def _delivery() -> tuple[Delivery, DeliveryConfig]:
    config = DeliveryConfig.from_env()
    client = aws.dynamodb()
    table = Table(client, config.table_name, busy_message="The inbox is busy")
    outbox = Outbox.to_event_bus(table, aws.events())
    registry = access_services().registry
    return Delivery(InboxStore(table), registry, outbox, config.event_bus_name, config.retention_days), config


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    delivery, config = _delivery()
    try:
        return process_inbound(
            event,
            context,
            contract=CONTRACT,
            apply=delivery.apply,
            dead_letter_queue_url=config.dead_letter_queue_url,
        )
    finally:
        delivery.publish()
