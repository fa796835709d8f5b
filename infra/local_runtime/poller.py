"""Lambda's SQS event source, locally: receive a batch, invoke the function, delete what succeeded.

Failed records (the function's `batchItemFailures`, or the whole batch if the function raised) are left on
the queue; they become visible again after the visibility timeout and SQS redrives them to the DLQ after
maxReceiveCount, exactly as with the managed event source mapping.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from local_runtime.provision import Deployment

logger = logging.getLogger(__name__)
Invoke = Callable[[dict[str, Any]], dict[str, Any] | None]


@dataclass
class SqsEventSource:
    sqs: Any
    queue_url: str
    queue_arn: str
    batch_size: int
    invoke: Invoke
    report_batch_item_failures: bool = True

    def poll_once(self, wait_seconds: int = 0) -> int:
        """Deliver one batch; returns how many messages were received."""
        messages = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=min(self.batch_size, 10),
            WaitTimeSeconds=wait_seconds,
            MessageAttributeNames=["All"],
            AttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            return 0
        failed = self._deliver(messages)
        done = [m for m in messages if m["MessageId"] not in failed]
        for start in range(0, len(done), 10):
            self.sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                    for i, m in enumerate(done[start : start + 10])
                ],
            )
        return len(messages)

    def drain(self, max_batches: int = 100_000) -> int:
        """Poll until the queue answers empty; returns the number of messages received."""
        total = 0
        for _ in range(max_batches):
            received = self.poll_once()
            if not received:
                return total
            total += received
        return total

    def deliver(self, bodies: list[dict[str, Any]], wave: int = 500) -> int:
        """Send `bodies` to the queue in waves, draining after each, as a feed arrives; returns messages received.

        Waves keep the queue short: moto's SQS send walks the whole queue per message.
        """
        received = 0
        for start in range(0, len(bodies), wave):
            send_all(self.sqs, self.queue_url, bodies[start : start + wave])
            received += self.drain()
        return received

    def _deliver(self, messages: list[dict[str, Any]]) -> set[str]:
        event = {"Records": [self._record(m) for m in messages]}
        try:
            result = self.invoke(event) or {}
        except Exception:
            logger.exception("function failed; the whole batch will be retried")
            return {m["MessageId"] for m in messages}
        if not self.report_batch_item_failures:
            return set()
        return {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}

    def _record(self, message: dict[str, Any]) -> dict[str, Any]:
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": message.get("Attributes", {}),
            "messageAttributes": {
                name: {
                    "stringValue": attr.get("StringValue"),
                    "binaryValue": attr.get("BinaryValue"),
                    "stringListValues": [],
                    "binaryListValues": [],
                    "dataType": attr["DataType"],
                }
                for name, attr in message.get("MessageAttributes", {}).items()
            },
            "md5OfBody": message["MD5OfBody"],
            "eventSource": "aws:sqs",
            "eventSourceARN": self.queue_arn,
            "awsRegion": self.queue_arn.split(":")[3],
        }


def send_all(sqs: Any, queue_url: str, bodies: list[dict[str, Any]]) -> None:
    """Send JSON messages in batches of ten, failing loudly if SQS refuses any."""
    for start in range(0, len(bodies), 10):
        chunk = bodies[start : start + 10]
        result = sqs.send_message_batch(
            QueueUrl=queue_url,
            Entries=[
                {"Id": str(i), "MessageBody": json.dumps(b, ensure_ascii=False)} for i, b in enumerate(chunk)
            ],
        )
        if result.get("Failed"):
            raise RuntimeError(f"SQS refused messages: {result['Failed']}")


def event_sources(
    deployment: Deployment, invoke: Callable[[str, dict[str, Any]], Any]
) -> list[tuple[str, SqsEventSource]]:
    """(function logical id, its event source) for every SQS event of the template, with its batch settings."""
    sqs = deployment.session.client("sqs")
    sources = []
    for function, props in deployment.template.sqs_event_sources():
        arn = deployment.resolve(props["Queue"])
        sources.append(
            (
                function,
                SqsEventSource(
                    sqs=sqs,
                    queue_url=sqs.get_queue_url(QueueName=arn.rsplit(":", 1)[1])["QueueUrl"],
                    queue_arn=arn,
                    batch_size=int(props.get("BatchSize", 10)),
                    invoke=functools.partial(invoke, function),
                    report_batch_item_failures="ReportBatchItemFailures"
                    in props.get("FunctionResponseTypes", []),
                ),
            )
        )
    return sources
