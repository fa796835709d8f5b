"""The inbox outbox sweeper: delivers the inbox events delivery could not (see `eservices_core.outbox`)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from eservices_core import aws
from eservices_core.outbox import Outbox
from eservices_core.table import Table
from eservices_core.wiring import composition_root
from inbox.config import ApiConfig

logger = Logger(service="inbox-outbox")


@composition_root
def _outbox() -> Outbox:
    config = ApiConfig.from_env()
    return Outbox.to_event_bus(Table(aws.dynamodb(), config.table_name), aws.events())


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    found, left = _outbox().sweep()
    if found:
        logger.info("outbox swept", extra={"found": found, "left": left})
    return {"found": found, "left": left}
