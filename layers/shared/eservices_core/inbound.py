"""Inbound queues from external systems: validate against a JSON Schema contract, apply, dead-letter poison.

Every consumer follows the same at-least-once rules:
- a message that can never be processed (not JSON, breaks the contract, refused by the domain) is sent to
  the queue's DLQ at once with its reason in message attributes, then removed from the source queue;
- any other failure is reported as a partial batch failure, so SQS retries it and, after maxReceiveCount,
  redrives it to the DLQ: nothing is dropped silently;
- handlers must be idempotent, since SQS delivers at least once.
Message bodies are never logged: feeds carry personal data.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

from eservices_core import aws

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
    from aws_lambda_powertools.utilities.typing import LambdaContext
    from mypy_boto3_sqs import SQSClient

logger = Logger(child=True)
MAX_REASON_LENGTH = 1000


class RejectedMessage(Exception):
    """The message can never be processed as sent; `reason` is a stable code, `detail` says why."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail[:MAX_REASON_LENGTH]


class Contract:
    """A JSON Schema message contract kept in the repository, compiled on first use."""

    def __init__(self, schema_path: Path) -> None:
        self.schema_path = schema_path

    @cached_property
    def _validate(self) -> Callable[[Any], Any]:
        import fastjsonschema

        schema = json.loads(self.schema_path.read_text(encoding="utf-8"))
        validate: Callable[[Any], Any] = fastjsonschema.compile(schema)
        return validate

    def parse(self, body: str) -> dict[str, Any]:
        """The message as a dict, or `RejectedMessage` saying where it breaks the contract."""
        import fastjsonschema

        try:
            message = json.loads(body)
        except ValueError as error:
            raise RejectedMessage("malformed-json", str(error)) from None
        try:
            self._validate(message)
        except fastjsonschema.JsonSchemaValueException as error:
            raise RejectedMessage("contract-violation", f"{error.name}: {error.message}") from None
        result: dict[str, Any] = message
        return result


def process_inbound(
    event: dict[str, Any],
    context: LambdaContext,
    *,
    contract: Contract,
    apply: Callable[[dict[str, Any]], None],
    dead_letter_queue_url: str,
    sqs_client: SQSClient | None = None,
) -> dict[str, Any]:
    """Process one SQS batch; returns the `batchItemFailures` response Lambda expects."""

    def record_handler(record: SQSRecord) -> None:
        try:
            apply(contract.parse(record.body))
        except RejectedMessage as rejection:
            dead_letter(record, rejection, dead_letter_queue_url, sqs_client or aws.sqs())

    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    response = process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
    return dict(response)


def dead_letter(record: SQSRecord, rejection: RejectedMessage, queue_url: str, sqs_client: SQSClient) -> None:
    """Move a poison message to the DLQ with its reason. If this send fails, the record fails and is retried."""
    logger.warning(
        "message rejected",
        extra={"message_id": record.message_id, "reason": rejection.reason, "detail": rejection.detail},
    )
    attributes = {
        "rejection_reason": rejection.reason,
        "rejection_detail": rejection.detail,
        "source_message_id": record.message_id,
        "source_queue_arn": record.event_source_arn,
    }
    sqs_client.send_message(
        QueueUrl=queue_url,
        MessageBody=record.body,
        MessageAttributes={k: {"DataType": "String", "StringValue": v or "-"} for k, v in attributes.items()},
    )
