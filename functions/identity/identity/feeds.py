"""Consumers of the population register feed and the HSA staff feed (one Lambda function each)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from eservices_core import aws
from eservices_core.inbound import Contract, process_inbound
from eservices_core.table import Table
from eservices_core.wiring import composition_root
from identity.changes import apply_register_change, apply_staff_change
from identity.config import FeedConfig
from identity.store import IdentityStore

logger = Logger(service="identity-feeds")
CONTRACTS = Path(__file__).parent / "contracts"
REGISTER_CONTRACT = Contract(CONTRACTS / "population-register.v1.schema.json")
STAFF_CONTRACT = Contract(CONTRACTS / "hsa-staff-feed.v1.schema.json")


@composition_root
def _wiring() -> tuple[IdentityStore, FeedConfig]:
    config = FeedConfig.from_env()
    return IdentityStore(
        Table(aws.dynamodb(), config.table_name, busy_message="The identity store is busy")
    ), config


def _consume(
    event: dict[str, Any],
    context: LambdaContext,
    contract: Contract,
    apply: Callable[[IdentityStore, dict[str, Any]], None],
) -> dict[str, Any]:
    store, config = _wiring()
    return process_inbound(
        event,
        context,
        contract=contract,
        apply=lambda message: apply(store, message),
        dead_letter_queue_url=config.dead_letter_queue_url,
    )


@logger.inject_lambda_context(clear_state=True)
def register_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return _consume(event, context, REGISTER_CONTRACT, apply_register_change)


@logger.inject_lambda_context(clear_state=True)
def staff_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return _consume(event, context, STAFF_CONTRACT, apply_staff_change)
