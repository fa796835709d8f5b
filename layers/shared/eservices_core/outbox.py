"""Events are never lost: each is written with the change it reports, in the same transaction, to an outbox;
delivered to EventBridge right after the change and deleted; whatever could not be delivered then is
delivered by a sweeper, a scheduled function, a minute later (at least once: consumers deduplicate on the
event's ids and state).

Keys: OUTBOX#<shard 0-3> / <recorded at>#<event id>. Shards spread a busy minute over four partitions.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from aws_lambda_powertools import Logger

from eservices_core.aws import error_code
from eservices_core.clock import now_utc
from eservices_core.errors import ServiceUnavailable
from eservices_core.table import Table

logger = Logger(child=True)
SHARDS = 4
GRACE = timedelta(minutes=1)  # what the request itself is still delivering is left to it


def event_entry(source: str, detail_type: str, detail: dict[str, Any], bus_name: str) -> dict[str, Any]:
    """One PutEvents entry. Details carry ids and states only, never content (rule 4)."""
    return {
        "Source": source,
        "DetailType": detail_type,
        "Detail": json.dumps(detail),
        "EventBusName": bus_name,
    }


def outbox_item(entry: dict[str, Any]) -> dict[str, Any]:
    """The outbox item of one EventBridge entry, to put in the same transaction as the change."""
    now = now_utc().isoformat(timespec="microseconds").replace("+00:00", "Z")
    return {
        "pk": f"OUTBOX#{random.randrange(SHARDS)}",  # noqa: S311 - spreading load, not security
        "sk": f"{now}#{uuid.uuid4().hex}",
        "entry": json.dumps(entry),
    }


def put_events(events_client: Any, entries: list[dict[str, Any]]) -> list[bool]:
    """PutEvents (up to 10 per call); which entries EventBridge accepted. Never raises: the caller keeps
    what was not accepted (the outbox) and tries again later."""
    accepted: list[bool] = []
    for start in range(0, len(entries), 10):
        batch = entries[start : start + 10]
        try:
            results = events_client.put_events(Entries=batch).get("Entries", [])
            accepted += [bool(r.get("EventId")) and not r.get("ErrorCode") for r in results]
        except Exception as error:
            logger.warning("events not published yet", extra={"error": error_code(error)})
            accepted += [False] * len(batch)
    return accepted


class Outbox:
    def __init__(self, table: Table, publish: Callable[[list[dict[str, Any]]], list[bool]]) -> None:
        self.table = table
        self.publish = publish

    @classmethod
    def to_event_bus(cls, table: Table, events_client: Any) -> Outbox:
        """The usual outbox: its events go straight to EventBridge."""
        return cls(table, lambda entries: put_events(events_client, entries))

    def deliver(self, items: list[dict[str, Any]]) -> int:
        """Publish the items' events and delete those EventBridge accepted; how many are left for later.

        Never raises: it runs after the change it reports is committed, so a failure here must not fail the
        request (a retry would repeat the change). What could not be deleted is delivered again by the sweeper
        (at least once)."""
        if not items:
            return 0
        accepted = self.publish([json.loads(item["entry"]) for item in items])
        delivered = [(i["pk"], i["sk"]) for i, ok in zip(items, accepted, strict=True) if ok]
        try:
            self.table.delete_many(delivered)
        except ServiceUnavailable:
            logger.warning("delivered events left in the outbox", extra={"events": len(delivered)})
            return len(items)
        return accepted.count(False)

    def sweep(self) -> tuple[int, int]:
        """Deliver every event older than GRACE still in the outbox: (found, left)."""
        cutoff = (now_utc() - GRACE).isoformat(timespec="microseconds").replace("+00:00", "Z")
        found = left = 0
        for shard in range(SHARDS):
            stale = [i for i in self.table.query_all(f"OUTBOX#{shard}") if i["sk"] < cutoff]
            found += len(stale)
            left += self.deliver(stale)
        return found, left
