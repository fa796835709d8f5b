"""Consumer of the HSA catalogue feed queue: care providers and care units, changed or removed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from directory.config import FeedConfig
from directory.service import apply_change, changed_objects
from directory.store import DirectoryStore
from eservices_core import aws
from eservices_core.inbound import Contract, process_inbound
from eservices_core.wiring import composition_root

logger = Logger(service="directory-feed")
CONTRACT = Contract(Path(__file__).parent / "contracts" / "hsa-feed.v1.schema.json")


@composition_root
def _wiring() -> tuple[DirectoryStore, FeedConfig]:
    config = FeedConfig.from_env()
    return DirectoryStore(aws.dynamodb(), config.table_name), config


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    store, config = _wiring()
    known = store.read_ahead(changed_objects([record.get("body", "") for record in event.get("Records", [])]))
    return process_inbound(
        event,
        context,
        contract=CONTRACT,
        apply=lambda message: apply_change(store, message, known),
        dead_letter_queue_url=config.dead_letter_queue_url,
    )
