"""The shapes of what the inbox API reads and answers, for its routes' `described` (openapi.json)."""

from __future__ import annotations

from pathlib import Path

from eservices_core.apidoc import (
    CURSOR,
    DATE_TIME,
    LIMIT,
    STRING,
    Link,
    Query,
    Schema,
    component,
    contract,
    nullable,
    obj,
)

contract("InboxMessage", Path(__file__).parent / "contracts" / "inbox-message.v1.schema.json")
DELIVERED = "#/components/schemas/InboxMessage/properties"  # what the sending system delivered

SPANS: Schema = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["text"],
        "properties": {
            "text": STRING,
            "strong": {"const": True},
            "href": {"type": "string", "pattern": "^https://"},
        },
    },
}
BLOCK = component(
    "TextBlock",
    {
        "description": "A paragraph of spans, or a list whose items are spans: render as text, never as HTML.",
        "oneOf": [
            obj({"type": {"const": "paragraph"}, "spans": SPANS}),
            obj({"type": {"const": "list"}, "items": {"type": "array", "items": SPANS}}),
        ],
    },
)
SUMMARY_FIELDS: dict[str, Schema] = {
    "message_id": STRING,
    "category": {"$ref": f"{DELIVERED}/category"},
    "subject": STRING,
    "sender": {"$ref": f"{DELIVERED}/sender"},
    "sent_at": DATE_TIME,
    "read": {"type": "boolean"},
    "archived": {"type": "boolean"},
    "replyable": {"type": "boolean"},
    "expires_at": nullable(DATE_TIME),
}
SUMMARY = component("InboxMessageSummary", obj(SUMMARY_FIELDS))
MESSAGE = component(
    "InboxMessageRead",
    obj(
        SUMMARY_FIELDS
        | {
            "body": {"type": "string", "description": "as delivered, with its small markup"},
            "body_blocks": {"type": "array", "items": BLOCK},
            "read_at": nullable(DATE_TIME),
        }
    ),
)
CHANGE = {
    "type": "object",
    "additionalProperties": False,
    "minProperties": 1,
    "properties": {
        "archived": {"type": "boolean", "description": "true: to the archive; false: back to the inbox"},
        "read": {"type": "boolean", "description": "false: mark unread"},
    },
}
MESSAGE_ID = {"type": "string", "pattern": "^[A-Za-z0-9]+$"}
LISTED = tuple(
    Link(
        name,
        f"inbox_{operation}",
        {"patientId": "$request.path.patientId", "messageId": "$response.body#/items/0/message_id"},
    )
    for name, operation in (("Read", "read"), ("Change", "update"), ("Delete", "delete"))
)
LISTING = (
    Query(
        "order", {"enum": ["newest", "unread-first"], "default": "newest"}, "Newest first, or unread first."
    ),
    Query("category", {"$ref": f"{DELIVERED}/category"}, "Only this category."),
    Query(
        "archived", {"enum": ["true", "false"], "default": "false"}, "false: the inbox; true: the archive."
    ),
    LIMIT,
    CURSOR,
)
