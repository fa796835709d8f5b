"""Opaque pagination cursors, bound to the query that produced them.

A cursor is base64url JSON carrying a fingerprint of the query's filters: a cursor replayed with other
filters, or edited by hand, is refused with a 400 naming the `cursor` parameter instead of reaching the
database as a malformed key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from typing import Any

from eservices_core.errors import InvalidInput

MAX_CURSOR_LENGTH = 2048


def fingerprint(*parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


def encode_cursor(position: dict[str, Any], query_fingerprint: str) -> str:
    raw = json.dumps({"f": query_fingerprint, "p": position}, separators=(",", ":"), ensure_ascii=False)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, query_fingerprint: str) -> dict[str, Any]:
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise InvalidInput.for_param("cursor", "is too long")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
    except (binascii.Error, ValueError):
        raise InvalidInput.for_param("cursor", "is not a cursor this API returned") from None
    if not isinstance(data, dict) or not isinstance(data.get("p"), dict):
        raise InvalidInput.for_param("cursor", "is not a cursor this API returned")
    if data.get("f") != query_fingerprint:
        raise InvalidInput.for_param("cursor", "belongs to a search with other parameters")
    position: dict[str, Any] = data["p"]
    return position
