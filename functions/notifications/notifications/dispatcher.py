"""Every minute: pending notifications now due become one message per verified channel on
`NotificationSendQueue`, within the per-recipient rate limit (at most one every 15 minutes and four a
day; a limited one waits, its events still covered). The queue is written before the pending item is
removed, so a crash sends twice rather than never.
"""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from eservices_core import aws
from eservices_core.clock import now_utc
from eservices_core.table import Table
from eservices_core.wiring import composition_root
from notifications.config import NotificationsConfig
from notifications.store import KINDS, NotificationStore

logger = Logger(service="notifications-dispatcher")
metrics = Metrics(namespace="OpenEServices", service="notifications")
LOOKBACK_MINUTES = 60
MIN_INTERVAL = timedelta(minutes=15)
PER_DAY = 4
CHANNELS = ("mobile", "email")


class Dispatcher:
    def __init__(self, store: NotificationStore, sqs: Any, send_queue_url: str) -> None:
        self.store, self.sqs, self.queue_url = store, sqs, send_queue_url

    def dispatch(self) -> dict[str, int]:
        now = now_utc()
        counts = {"sent": 0, "postponed": 0, "dropped": 0}
        for minutes_ago in range(LOOKBACK_MINUTES, -1, -1):
            for pending in self.store.due(now - timedelta(minutes=minutes_ago), now):
                counts[self._one(pending)] += 1
        return counts

    def _one(self, pending: dict[str, Any]) -> str:
        now = now_utc()
        patient_id = pending["patient_id"]
        settings = self.store.settings(patient_id) or {}
        kinds = [k for k in KINDS if int(pending.get(k, 0)) > 0 and (settings.get("events") or {}).get(k)]
        channels = [c for c in CHANNELS if settings.get(f"{c}_verified")]
        if not kinds or not channels:
            self.store.drop(pending)
            return "dropped"
        sent = sorted(self.store.sent(patient_id, now - timedelta(days=1)))
        allowed_at = now
        if sent:
            allowed_at = max(allowed_at, _instant(sent[-1]) + MIN_INTERVAL)
        if len(sent) >= PER_DAY:
            allowed_at = max(allowed_at, _instant(sent[-PER_DAY]) + timedelta(days=1))
        if allowed_at > now:
            self.store.postpone(pending, allowed_at)
            return "postponed"
        notification_id = uuid.uuid4().hex
        self.sqs.send_message_batch(
            QueueUrl=self.queue_url,
            Entries=[
                {
                    "Id": channel,
                    "MessageBody": json.dumps(
                        {
                            "notification_id": notification_id,
                            "patient_id": patient_id,
                            "channel": channel,
                            "kind": "notice",
                        }
                    ),
                }
                for channel in channels
            ],
        )
        self.store.mark_sent(pending, notification_id, now)
        metrics.add_metric(name="NotificationsDispatched", unit=MetricUnit.Count, value=len(channels))
        return "sent"


def _instant(value: str) -> Any:
    from datetime import datetime

    return datetime.fromisoformat(value.replace("Z", "+00:00"))


@composition_root
def _dispatcher() -> Dispatcher:
    config = NotificationsConfig.from_env()
    return Dispatcher(
        NotificationStore(Table(aws.dynamodb(), config.table_name)), aws.sqs(), config.send_queue_url
    )


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    counts = _dispatcher().dispatch()
    if any(counts.values()):
        logger.info("notifications dispatched", extra=counts)
    return counts
