"""Inbox API: residents (and guardians, for a child) read, archive and delete from view the messages external
systems sent them. Patient data only through `patient_route` (policy + audit first)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.typing import LambdaContext

from eservices_core import aws
from eservices_core.access import AccessGrant, Action
from eservices_core.apidoc import described, page_of
from eservices_core.audit import Verb
from eservices_core.clock import now_utc
from eservices_core.cursor import decode_cursor, encode_cursor, fingerprint
from eservices_core.errors import InvalidInput, NotFound, ServiceUnavailable
from eservices_core.requests import json_object, limit_param
from eservices_core.routing import RESIDENT, EServiceResolver
from eservices_core.table import ConditionFailed, Table
from eservices_core.wiring import composition_root
from inbox import api_schemas as s
from inbox.config import ApiConfig
from inbox.markup import blocks
from inbox.store import InboxStore, iso, view_sk  # not inbox.delivery: its batch machinery slows cold starts

logger = Logger(service="inbox")
app = EServiceResolver(logger)

READ_INBOX = Action(Verb.READ, "inbox")
WRITE_INBOX = Action(Verb.WRITE, "inbox")
INBOX = "/v1/patients/<patientId>/inbox"
CATEGORIES = ("call-up", "result", "information", "vaccination", "reminder", "questionnaire")


@composition_root
def _store() -> InboxStore:
    config = ApiConfig.from_env()
    return InboxStore(Table(aws.dynamodb(), config.table_name, busy_message="The inbox is busy"))


def summary(message: dict[str, Any]) -> dict[str, Any]:
    return {
        "message_id": message["message_id"],
        "category": message["category"],
        "subject": message["subject"],
        "sender": message["sender"],
        "sent_at": message["sent_at"],
        "read": "read_at" in message,
        "archived": bool(message.get("archived")),
        "replyable": bool(message.get("replyable")),
        "expires_at": None if message["expires_at"].startswith("9999") else message["expires_at"],
    }


def full(message: dict[str, Any]) -> dict[str, Any]:
    return summary(message) | {
        "body": message["body"],
        "body_blocks": blocks(message["body"]),
        "read_at": message.get("read_at"),
    }


@app.patient_route("GET", INBOX, action=READ_INBOX, audience=RESIDENT)
@described({200: page_of(s.SUMMARY)}, query=s.LISTING, links={200: s.LISTED})
def inbox(grant: AccessGrant) -> dict[str, Any]:
    """The patient's messages: `order` newest (default) or unread-first, `category`, `archived` (false: the
    inbox, true: the archive), cursor pagination. Expired and deleted messages are not shown."""
    query = dict(app.current_event.query_string_parameters or {})
    order = query.get("order", "newest")
    if order not in ("newest", "unread-first"):
        raise InvalidInput.for_param("order", "must be newest or unread-first")
    archived = query.get("archived", "false")
    if archived not in ("true", "false"):
        raise InvalidInput.for_param("archived", "must be true or false")
    category = query.get("category")
    if category is not None and category not in CATEGORIES:
        raise InvalidInput.for_param("category", f"must be one of {', '.join(CATEGORIES)}")
    where: list[tuple[str, str, Any]] = [
        ("shown", "=", True),
        ("archived", "=", archived == "true"),
        ("expires_at", ">", iso(now_utc())),
    ]
    if category:
        where.append(("category", "=", category))
    position = fingerprint("inbox", grant.patient_id, order, archived, category)
    start = decode_cursor(query["cursor"], position) if query.get("cursor") else None
    page = _store().page(
        grant.patient_id,
        unread_first=order == "unread-first",
        where=where,
        limit=limit_param(query),
        start=start,
    )
    return {
        "items": [summary(m) for m in page.items],
        "next_cursor": encode_cursor(page.last_key, position) if page.last_key else None,
    }


@app.patient_route("GET", f"{INBOX}/<messageId>", action=READ_INBOX, audience=RESIDENT)
@described({200: s.MESSAGE}, path={"messageId": s.MESSAGE_ID})
def read(grant: AccessGrant, messageId: str) -> dict[str, Any]:
    """One message, with its body as blocks to render; reading it marks it read. If DynamoDB is too busy to
    mark it, the message is still shown, unread: the next reading marks it."""
    message = _shown(grant, messageId)
    if "read_at" not in message:
        changes = {"read_at": iso(now_utc()), "view_sk": view_sk(messageId, unread=False)}
        try:
            _change(message, changes)
        except ServiceUnavailable:
            logger.warning("message shown but not marked read", extra={"message_id": messageId})
        else:
            message |= changes
    return full(message)


@app.patient_route("PATCH", f"{INBOX}/<messageId>", action=WRITE_INBOX, audience=RESIDENT)
@described({200: s.MESSAGE}, body=s.CHANGE, path={"messageId": s.MESSAGE_ID})
def update(grant: AccessGrant, messageId: str) -> dict[str, Any]:
    """Archive a message or move it back, mark it read or unread: `archived` and `read` (true or false)."""
    body = json_object(app.current_event.body)
    unknown = set(body) - {"archived", "read"}
    if unknown or not body:
        raise InvalidInput.for_param(
            sorted(unknown)[0] if unknown else "body", "only archived and read can change"
        )
    for name, value in body.items():
        if not isinstance(value, bool):
            raise InvalidInput.for_param(name, "must be true or false")
    message = _shown(grant, messageId)
    changes: dict[str, Any] = {}
    removed: list[str] = []
    if "archived" in body:
        changes["archived"] = body["archived"]
    if body.get("read") is True and "read_at" not in message:
        changes |= {"read_at": iso(now_utc()), "view_sk": view_sk(messageId, unread=False)}
    if body.get("read") is False:
        changes["view_sk"] = view_sk(messageId, unread=True)
        removed.append("read_at")
        message.pop("read_at", None)
    if changes or removed:
        _change(message, changes or {"archived": message["archived"]}, removed)
    return full(message | changes)


@app.patient_route("DELETE", f"{INBOX}/<messageId>", action=WRITE_INBOX, audience=RESIDENT)
@described({204: None}, path={"messageId": s.MESSAGE_ID})
def delete(grant: AccessGrant, messageId: str) -> Response[str]:
    """Deleted from view: no longer shown, kept until the retention period ends."""
    message = _shown(grant, messageId)
    _change(message, {"shown": False, "deleted_at": iso(now_utc())})
    return Response(status_code=204, body="")


def _change(message: dict[str, Any], changes: dict[str, Any], removed: Sequence[str] = ()) -> None:
    """A message deleted from view by another request since it was read is gone: 404 (was a 500)."""
    try:
        _store().change(message, changes, removed)
    except ConditionFailed:
        raise NotFound("No such message") from None


def _shown(grant: AccessGrant, message_id: str) -> dict[str, Any]:
    message = _store().message(grant.patient_id, message_id) if message_id.isalnum() else None
    if message is None or not message.get("shown") or message["expires_at"] <= iso(now_utc()):
        raise NotFound("No such message")
    return message


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
