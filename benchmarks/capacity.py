"""DynamoDB capacity units as AWS bills them, computed from item sizes, for `benchmarks/functions.py`.

moto answers `ReturnConsumedCapacity` with constants (0.5 per read call, 1.0 per write call, nothing for
`TransactWriteItems`), whatever the items' sizes, so the figures it reports are kept only for comparison.
The units here follow the rules of the DynamoDB Developer Guide ("Read/write capacity mode", "Item sizes",
"Transactions", "Global secondary indexes: provisioned throughput considerations"):

- an item's size is the sum of its attribute names and values (strings and binaries by length, a number about
  one byte per two significant digits plus one, booleans and nulls one byte, lists and maps 3 bytes plus one
  byte per element plus their contents);
- reads: one unit per 4 KB (rounded up), half for an eventually consistent read; a Query or Scan rounds up
  the sum of every item it evaluated (before any filter, whatever the projection); a BatchGetItem rounds each
  item; a read that finds nothing still costs the minimum; TransactGetItems doubles;
- writes: one unit per 1 KB of the larger of the item before and after (a delete: the item before; at least
  one), also when a condition fails; TransactWriteItems doubles every action (a ConditionCheck counted as a
  write of the item it checks);
- each secondary index (global or local) the write changes adds the index entry's writes (1 KB units of the projected
  entry): one to put or delete an entry, two when the index key changes (delete the old entry, put the new),
  one to update an entry whose projected attributes change. Index writes are not doubled for
  transactions.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

READ_UNIT_BYTES = 4096
WRITE_UNIT_BYTES = 1024
Item = Mapping[str, Any]  # DynamoDB's typed JSON: {"name": {"S": "..."}, ...}


def value_size(value: Mapping[str, Any]) -> int:
    ((kind, content),) = value.items()
    if kind == "S":
        return len(content.encode())
    if kind == "N":
        return number_size(content)
    if kind == "B":
        return len(content)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(s.encode()) for s in content)
    if kind == "NS":
        return sum(number_size(n) for n in content)
    if kind == "BS":
        return sum(len(b) for b in content)
    if kind == "L":
        return 3 + sum(1 + value_size(v) for v in content)
    if kind == "M":
        return 3 + sum(1 + len(k.encode()) + value_size(v) for k, v in content.items())
    raise ValueError(f"unknown DynamoDB type {kind}")


def number_size(text: str) -> int:
    digits = Decimal(text).normalize().as_tuple().digits
    significant = "".join(map(str, digits)).strip("0") or "0"
    return math.ceil(len(significant) / 2) + 1


def item_size(item: Item | None) -> int:
    if not item:
        return 0
    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


def read_units(size: int, *, consistent: bool, transactional: bool = False) -> float:
    units = max(1, math.ceil(size / READ_UNIT_BYTES))
    if transactional:
        return 2.0 * units
    return float(units) if consistent else units / 2


def write_units(size: int, *, transactional: bool = False) -> float:
    units = max(1, math.ceil(size / WRITE_UNIT_BYTES))
    return 2.0 * units if transactional else float(units)


@dataclass(frozen=True)
class Index:
    name: str
    keys: tuple[str, ...]
    projection: str  # ALL | KEYS_ONLY | INCLUDE
    included: tuple[str, ...] = ()


@dataclass(frozen=True)
class TableShape:
    name: str
    keys: tuple[str, ...]
    indexes: tuple[Index, ...] = ()

    @classmethod
    def from_description(cls, table: Mapping[str, Any]) -> TableShape:
        def keys(schema: list[dict[str, str]]) -> tuple[str, ...]:
            return tuple(k["AttributeName"] for k in schema)

        indexes = tuple(
            Index(
                g["IndexName"],
                keys(g["KeySchema"]),
                g.get("Projection", {}).get("ProjectionType", "ALL"),
                tuple(g.get("Projection", {}).get("NonKeyAttributes", [])),
            )
            for g in [*table.get("GlobalSecondaryIndexes", []), *table.get("LocalSecondaryIndexes", [])]
        )
        return cls(table["TableName"], keys(table["KeySchema"]), indexes)

    def key_of(self, item: Item) -> dict[str, Any]:
        return {k: item[k] for k in self.keys}

    def index(self, name: str | None) -> Index | None:
        return next((i for i in self.indexes if i.name == name), None)

    def projected(self, item: Item | None, index: Index) -> dict[str, Any] | None:
        """The index entry of `item` (None when the item lacks an index key: sparse)."""
        if not item or any(k not in item for k in index.keys):
            return None
        if index.projection == "ALL":
            return dict(item)
        wanted = (
            set(self.keys)
            | set(index.keys)
            | (set(index.included) if index.projection == "INCLUDE" else set())
        )
        return {k: v for k, v in item.items() if k in wanted}

    def index_write_units(self, before: Item | None, after: Item | None) -> float:
        units = 0.0
        for index in self.indexes:
            old, new = self.projected(before, index), self.projected(after, index)
            if old is None and new is None:
                continue
            if old is None or new is None:
                units += write_units(item_size(old or new))
            elif any(old[k] != new[k] for k in index.keys):
                units += write_units(item_size(old)) + write_units(item_size(new))
            elif old != new:
                units += write_units(max(item_size(old), item_size(new)))
        return units


@dataclass
class Units:
    read: float = 0.0
    write: float = 0.0
    index_write: float = 0.0  # part of `write`: the secondary indexes' share
    moto_reported: float = 0.0  # what moto's ConsumedCapacity said, for comparison only
    by_table: dict[str, dict[str, float]] = field(default_factory=dict)

    def add(self, table: str, *, read: float = 0.0, write: float = 0.0, index_write: float = 0.0) -> None:
        self.read += read
        self.write += write + index_write
        self.index_write += index_write
        entry = self.by_table.setdefault(table, {"read": 0.0, "write": 0.0})
        entry["read"] += read
        entry["write"] += write + index_write

    def merge(self, other: Units) -> None:
        for table, entry in other.by_table.items():
            self.add(table, read=entry["read"], write=entry["write"])
        self.index_write += other.index_write
        self.moto_reported += other.moto_reported


def moto_reported(parsed: Mapping[str, Any]) -> float:
    consumed = parsed.get("ConsumedCapacity")
    if isinstance(consumed, dict):
        consumed = [consumed]
    return float(sum(c.get("CapacityUnits", 0.0) for c in consumed or []))


_PLACEHOLDER = re.compile(r"[#:][A-Za-z0-9_]+")


def key_condition_only(params: Mapping[str, Any]) -> dict[str, Any]:
    """A Query or Scan that evaluates the same items but returns them whole: no filter, no projection."""
    kept = {
        k: params[k]
        for k in (
            "TableName",
            "IndexName",
            "KeyConditionExpression",
            "ScanIndexForward",
            "ExclusiveStartKey",
            "Limit",
            "ConsistentRead",
            "Segment",
            "TotalSegments",
        )
        if k in params
    }
    used = set(_PLACEHOLDER.findall(params.get("KeyConditionExpression", "")))
    for name in ("ExpressionAttributeNames", "ExpressionAttributeValues"):
        chosen = {k: v for k, v in params.get(name, {}).items() if k in used}
        if chosen:
            kept[name] = chosen
    return kept
