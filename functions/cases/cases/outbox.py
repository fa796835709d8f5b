"""The cases outbox sweeper: delivers the case events a request could not (see `eservices_core.outbox`)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from cases.config import OutboxConfig
from cases.workflow_client import Workflow
from eservices_core import aws
from eservices_core.outbox import Outbox
from eservices_core.table import Table
from eservices_core.wiring import composition_root

logger = Logger(service="cases-outbox")


@composition_root
def _outbox() -> Outbox:
    config = OutboxConfig.from_env()
    workflow = Workflow(aws.stepfunctions(), aws.events(), config.event_bus_name)
    return Outbox(Table(aws.dynamodb(), config.table_name), workflow.put)


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    found, left = _outbox().sweep()
    if found:
        logger.info("outbox swept", extra={"found": found, "left": left})
    return {"found": found, "left": left}
