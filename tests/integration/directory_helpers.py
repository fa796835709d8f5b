"""Feeding the directory and calling its API, as the queue and the HTTP API would."""

from __future__ import annotations

from typing import Any

from tests.support.aws import Stack
from tests.support.events import http_event, json_body, sqs_event

FEED = "DirectoryFeedFunction"
API = "DirectoryApiFunction"


def feed(stack: Stack, *messages: dict[str, Any] | str) -> dict[str, Any]:
    """Deliver messages to the feed consumer in batches of 10; returns the combined batch response."""
    failures: list[dict[str, str]] = []
    for start in range(0, len(messages), 10):
        event = sqs_event(list(messages[start : start + 10]), stack.arn("HsaFeedQueue"))
        failures += stack.invoke(FEED, event)["batchItemFailures"]
    return {"batchItemFailures": failures}


def search(stack: Stack, query: dict[str, str] | str) -> dict[str, Any]:
    return stack.invoke(API, http_event("GET", "/v1/clinics", query))


def read(stack: Stack, clinic_id: str) -> dict[str, Any]:
    return stack.invoke(
        API,
        http_event(
            "GET",
            f"/v1/clinics/{clinic_id}",
            route_key="GET /v1/clinics/{clinicId}",
            path_parameters={"clinicId": clinic_id},
        ),
    )


def search_all(stack: Stack, query: dict[str, str]) -> list[dict[str, Any]]:
    """Follow next_cursor to the end."""
    items: list[dict[str, Any]] = []
    cursor = None
    for _ in range(1000):
        response = search(stack, {**query, **({"cursor": cursor} if cursor else {})})
        assert response["statusCode"] == 200, response["body"]
        body = json_body(response)
        items += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError("pagination did not end")
