"""Case events are never lost: each is written with the change it reports, in the same transaction, to an
outbox; delivered to EventBridge right after the change and deleted; whatever could not be delivered then is
delivered by the sweeper, a scheduled function, a minute later (at least once: consumers deduplicate on
the event's case id, type and status).

Keys: OUTBOX#<shard 0-3> / <recorded at>#<event id>. Shards spread a busy minute over four partitions.
"""

from __future__ import annotations

import json
import random
import uuid
from datetime import timedelta
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from cases.config import OutboxConfig
from cases.workflow_client import Workflow
from eservices_core import aws
from eservices_core.clock import now_utc
from eservices_core.table import Table
from eservices_core.wiring import composition_root

logger = Logger(service="cases-outbox")
SHARDS = 4
GRACE = timedelta(minutes=1)  # what the request itself is still delivering is left to it


def outbox_item(entry: dict[str, Any]) -> dict[str, Any]:
    """The outbox item of one EventBridge entry, to put in the same transaction as the change."""
    now = now_utc().isoformat(timespec="microseconds").replace("+00:00", "Z")
    return {
        "pk": f"OUTBOX#{random.randrange(SHARDS)}",  # noqa: S311 - spreading load, not security
        "sk": f"{now}#{uuid.uuid4().hex}",
        "entry": json.dumps(entry),
    }


class Outbox:
    def __init__(self, table: Table, workflow: Workflow) -> None:
        self.table = table
        self.workflow = workflow

    def deliver(self, items: list[dict[str, Any]]) -> int:
        """Publish the items' events and delete those EventBridge accepted; how many are left for later."""
        if not items:
            return 0
        accepted = self.workflow.put([json.loads(item["entry"]) for item in items])
        for item, ok in zip(items, accepted, strict=True):
            if ok:
                self.table.delete_item((item["pk"], item["sk"]))
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


@composition_root
def _outbox() -> Outbox:
    config = OutboxConfig.from_env()
    return Outbox(
        Table(aws.dynamodb(), config.table_name),
        Workflow(aws.stepfunctions(), aws.events(), config.event_bus_name),
    )


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    found, left = _outbox().sweep()
    if found:
        logger.info("outbox swept", extra={"found": found, "left": left})
    return {"found": found, "left": left}
