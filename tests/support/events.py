"""Canonical Lambda events: HTTP API payload 2.0 and SQS, as AWS delivers them."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode


@dataclass
class LambdaContext:
    function_name: str = "test-function"
    memory_limit_in_mb: int = 1024
    invoked_function_arn: str = "arn:aws:lambda:eu-north-1:123456789012:function:test-function"
    aws_request_id: str = "00000000-0000-0000-0000-000000000000"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


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
    raw_query = query if isinstance(query, str) else urlencode(query or {})
    single: dict[str, str] = {}
    for part in filter(None, raw_query.split("&")):
        key, _, value = part.partition("=")
        from urllib.parse import unquote_plus

        key, value = unquote_plus(key), unquote_plus(value)
        single[key] = f"{single[key]},{value}" if key in single else value
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key or f"{method} {path}",
        "rawPath": path,
        "rawQueryString": raw_query,
        "headers": {"host": "localhost", **(headers or {})},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": "localhost",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": "pytest",
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": route_key or f"{method} {path}",
            "stage": "$default",
            "time": "25/Nov/2026:20:00:00 +0000",
            "timeEpoch": 1795636800000,
        },
        "isBase64Encoded": False,
    }
    if single:
        event["queryStringParameters"] = single
    if path_parameters:
        event["pathParameters"] = path_parameters
    if body is not None:
        event["body"] = body if isinstance(body, str) else json.dumps(body)
    if claims is not None:
        event["requestContext"]["authorizer"] = {"jwt": {"claims": claims, "scopes": None}}
    return event


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


def json_body(response: dict[str, Any]) -> Any:
    return json.loads(response["body"])
