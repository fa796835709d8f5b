"""Every minute: the booking events a request could not deliver (the outbox), and the reminders now due.

A reminder is due 24 h before the visit. Each active appointment waits in the sparse `Reminders` index
under the hour its reminder falls in; the sweeper reads the last 24 hours' buckets (a reminder late
because the sweeper was down is still sent while the visit is ahead), and takes each appointment out of
the index in the same transaction as its `booking.reminder` event. Cancelling or moving an appointment
changes its index entry, so a cancelled appointment gets no reminder and a moved one gets it for its new
time. EventBridge Scheduler was the alternative: one schedule per appointment means another call on the
booking path and schedules to delete on every cancellation; this needs neither.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from booking.config import SweeperConfig
from booking.model import iso
from booking.service import EVENT_SOURCE, event_detail
from booking.store import BookingStore
from eservices_core import aws
from eservices_core.clock import now_utc
from eservices_core.outbox import Outbox, event_entry, outbox_item
from eservices_core.table import Table
from eservices_core.wiring import composition_root

logger = Logger(service="booking-sweeper")
LOOKBACK_HOURS = 24


class Sweeper:
    def __init__(self, store: BookingStore, outbox: Outbox, event_bus_name: str) -> None:
        self.store, self.outbox, self.event_bus_name = store, outbox, event_bus_name

    def remind(self) -> int:
        """Send every due reminder: one Query per hour bucket, one transaction and one PutEvents each."""
        now = now_utc()
        sent = 0
        for hours_ago in range(LOOKBACK_HOURS, -1, -1):
            for appointment in self.store.due_reminders(now - timedelta(hours=hours_ago), now):
                if appointment["start"] <= iso(now):
                    continue  # the visit has begun; a reminder now would only confuse
                detail = event_detail(appointment)
                events = [
                    outbox_item(event_entry(EVENT_SOURCE, "booking.reminder", detail, self.event_bus_name))
                ]
                if self.store.mark_reminded(appointment, iso(now), events):
                    self.outbox.deliver(events)
                    sent += 1
        return sent


@composition_root
def _sweeper() -> Sweeper:
    config = SweeperConfig.from_env()
    table = Table(aws.dynamodb(), config.table_name)
    outbox = Outbox.to_event_bus(table, aws.events())
    return Sweeper(BookingStore(table), outbox, config.event_bus_name)


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    sweeper = _sweeper()
    reminded = sweeper.remind()
    found, left = sweeper.outbox.sweep()
    if reminded or found:
        logger.info("booking sweep", extra={"reminded": reminded, "found": found, "left": left})
    return {"reminded": reminded, "found": found, "left": left}
