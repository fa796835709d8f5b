"""Reading request input: JSON bodies, fields and common query parameters, with 400s that name the field."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from eservices_core.errors import InvalidInput

MAX_BODY_BYTES = 64 * 1024
DEFAULT_LIMIT = 20
MAX_LIMIT = 100


def json_object(body: str | None) -> dict[str, Any]:
    """The request body as a JSON object; 400 when absent, too large, not JSON or not an object."""
    if not body:
        raise InvalidInput.for_param("body", "is required: a JSON object")
    if len(body) > MAX_BODY_BYTES:
        raise InvalidInput.for_param("body", f"must be at most {MAX_BODY_BYTES} bytes")
    try:
        value = json.loads(body)
    except ValueError:
        raise InvalidInput.for_param("body", "is not valid JSON") from None
    if not isinstance(value, dict):
        raise InvalidInput.for_param("body", "must be a JSON object")
    return value


def string_field(body: Mapping[str, Any], name: str, *, max_length: int = 200) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput.for_param(name, "is required and must be a non-empty string")
    if len(value) > max_length:
        raise InvalidInput.for_param(name, f"must be at most {max_length} characters")
    return value


def limit_param(query: Mapping[str, str], *, default: int = DEFAULT_LIMIT, maximum: int = MAX_LIMIT) -> int:
    raw = query.get("limit")
    if raw is None:
        return default
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= maximum:
        raise InvalidInput.for_param("limit", f"must be an integer from 1 to {maximum}")
    return int(raw)
