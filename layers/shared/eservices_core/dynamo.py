"""Small DynamoDB helpers shared by the e-services: plain-JSON items and round-trip friendly batching."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

AttributeValue = dict[str, Any]
Item = dict[str, AttributeValue]


def to_attr(value: Any) -> AttributeValue:
    """Marshal a plain JSON-like value (str, bool, int, float, None, list, dict) to a DynamoDB attribute."""
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, int | float | Decimal):
        return {"N": format(Decimal(str(value)), "f") if isinstance(value, float) else str(value)}
    if isinstance(value, dict):
        return {"M": {str(k): to_attr(v) for k, v in value.items()}}
    if isinstance(value, list | tuple):
        return {"L": [to_attr(v) for v in value]}
    raise TypeError(f"cannot store a {type(value).__name__} in DynamoDB")


def from_attr(attr: AttributeValue) -> Any:
    """Unmarshal an attribute; numbers become int when integral, else float."""
    (kind, value), *_ = attr.items()
    if kind == "S":
        return value
    if kind == "N":
        number = Decimal(value)
        return int(number) if number == number.to_integral_value() else float(number)
    if kind == "BOOL":
        return bool(value)
    if kind == "NULL":
        return None
    if kind == "M":
        return {k: from_attr(v) for k, v in value.items()}
    if kind == "L":
        return [from_attr(v) for v in value]
    if kind == "SS":
        return set(value)
    raise TypeError(f"unsupported DynamoDB attribute type {kind}")


def to_item(values: dict[str, Any]) -> Item:
    return {k: to_attr(v) for k, v in values.items() if v is not None}


def from_item(item: Item) -> dict[str, Any]:
    return {k: from_attr(v) for k, v in item.items()}
