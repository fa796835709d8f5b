"""The shapes of what the notification settings API reads and answers, for `described` (openapi.json)."""

from __future__ import annotations

from eservices_core.apidoc import STRING, Schema, component, nullable, obj
from notifications.store import KINDS

ADDRESS = nullable(obj({"address": STRING, "verified": {"type": "boolean"}}))
EVENTS: Schema = {
    "type": "object",
    "additionalProperties": False,
    "properties": {kind: {"type": "boolean"} for kind in KINDS},
}
SETTINGS = component(
    "NotificationSettings",
    obj({"email": ADDRESS, "mobile": ADDRESS, "events": {**EVENTS, "required": list(KINDS)}}),
)
CHANGE = {
    "type": "object",
    "additionalProperties": False,
    "description": "A new address is unverified until the six-digit code sent to it comes back "
    "(POST …/verification); null removes an address. Left out: unchanged.",
    "properties": {
        "email": nullable(
            {"type": "string", "maxLength": 254, "pattern": r"^[^@\s]{1,64}@[^@\s]+\.[^@\s.]{2,}$"}
        ),
        "mobile": nullable(
            {
                "type": "string",
                "pattern": r"^(\+|0)[0-9 -]{7,20}$",
                "description": "a Swedish mobile number (e.g. 070-123 45 67 or +46701234567)",
            }
        ),
        "events": {**EVENTS, "description": "which events notify (default: all)"},
    },
}
VERIFICATION = obj(
    {"channel": {"enum": ["email", "mobile"]}, "code": {"type": "string", "pattern": "^[0-9]{6}$"}}
)
