"""Canonical Lambda events: HTTP API payload 2.0 and SQS, as AWS delivers them."""

from __future__ import annotations

import json
import uuid
from typing import Any
from urllib.parse import urlencode

from local_runtime.gateway import http_api_event


def http_event(
    method: str,
    path: str,
    query: dict[str, str] | str | None = None,
    *,
    route_key: str | None = None,
    path_parameters: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    body: Any = None,
    claims: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The event the local gateway (and API Gateway) would build for this request."""
    raw_query = query if isinstance(query, str) else urlencode(query or {})
    raw_body = b"" if body is None else (body if isinstance(body, str) else json.dumps(body)).encode()
    return http_api_event(
        route_key or f"{method} {path}",
        method,
        path,
        raw_query,
        {"host": "localhost", "user-agent": "pytest", **(headers or {})},
        raw_body,
        path_parameters or {},
        {k: str(v) for k, v in claims.items()} if claims is not None else None,
        "127.0.0.1",
    )


def sqs_event(bodies: list[str | dict[str, Any]], queue_arn: str) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": str(uuid.uuid4()),
                "receiptHandle": f"handle-{i}",
                "body": body if isinstance(body, str) else json.dumps(body),
                "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1795636800000"},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": "eu-north-1",
            }
            for i, body in enumerate(bodies)
        ]
    }


DEMO_REGISTRY = {"care_unit_hsa_id": "SE2321000016-R001", "care_unit_name": "Demoregistret"}


def inbox_message(system_id: str, message_id: str, recipient: str, **fields: Any) -> dict[str, Any]:
    """A message as an external system puts it on InboxDeliveryQueue (contracts/inbox-message.v1), a call-up
    from the demo registry unless `fields` say otherwise."""
    return {
        "message_id": message_id,
        "system_id": system_id,
        "sender": DEMO_REGISTRY,
        "recipient": recipient,
        "category": "call-up",
        "subject": "Kallelse",
        "body": "Du kallas till **screening**.",
        "replyable": False,
        "sent_at": "2026-11-25T09:00:00+01:00",
    } | fields


def json_body(response: dict[str, Any]) -> Any:
    return json.loads(response["body"])


def subscribe(stack: Any, source: str) -> Any:
    """Every event `source` puts on the platform's bus from now on, through a rule to a test queue (as
    notifications subscribe); returns a function answering all received so far, as EventBridge delivers them."""
    sqs, bridge = stack.session.client("sqs"), stack.session.client("events")
    name = f"test-{source.replace('.', '-')}-{uuid.uuid4().hex[:6]}"
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    bus = stack.ref("EventBus")
    bridge.put_rule(Name=name, EventBusName=bus, EventPattern=json.dumps({"source": [source]}))
    bridge.put_targets(Rule=name, EventBusName=bus, Targets=[{"Id": "q", "Arn": arn}])
    seen: list[dict[str, Any]] = []

    def received() -> list[dict[str, Any]]:
        while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
            for message in messages:
                seen.append(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        return seen

    return received
