"""The benchmark's DynamoDB capacity arithmetic (benchmarks/capacity.py), checked against the Developer Guide's
rules for item sizes, read and write units, transactions and secondary indexes."""

from __future__ import annotations

import pytest

from benchmarks.capacity import (
    Index,
    TableShape,
    item_size,
    key_condition_only,
    number_size,
    read_units,
    write_units,
)


def test_an_item_is_the_sum_of_its_names_and_values():
    assert item_size({"pk": {"S": "PATIENT#1"}}) == 2 + 9
    assert item_size({"namn": {"S": "Åsa"}}) == 4 + 4, "strings count UTF-8 bytes"
    assert item_size({"ok": {"BOOL": True}, "x": {"NULL": True}}) == 3 + 2
    assert item_size({"m": {"M": {"a": {"S": "b"}}}}) == 1 + 3 + 1 + 1 + 1, "map: 3 bytes + 1 per element"
    assert item_size({"l": {"L": [{"S": "ab"}, {"N": "1"}]}}) == 1 + 3 + (1 + 2) + (1 + 2)
    assert item_size(None) == 0


@pytest.mark.parametrize(
    ("number", "size"), [("1", 2), ("12", 2), ("123", 3), ("1000", 2), ("0.0012", 2), ("123456.5", 5)]
)
def test_a_number_is_a_byte_per_two_significant_digits_plus_one(number, size):
    assert number_size(number) == size


def test_read_units_are_4_kb_halved_when_eventually_consistent_and_doubled_in_transactions():
    assert read_units(0, consistent=True) == 1.0, "a read that finds nothing still costs the minimum"
    assert read_units(4096, consistent=True) == 1.0
    assert read_units(4097, consistent=True) == 2.0
    assert read_units(4097, consistent=False) == 1.0
    assert read_units(100, consistent=False) == 0.5
    assert read_units(100, consistent=True, transactional=True) == 2.0


def test_write_units_are_1_kb_and_doubled_in_transactions():
    assert write_units(0) == 1.0
    assert write_units(1024) == 1.0
    assert write_units(1025) == 2.0
    assert write_units(1025, transactional=True) == 4.0


SHAPE = TableShape(
    "Table",
    ("pk", "sk"),
    (
        Index("ByUnit", ("unit_pk", "unit_sk"), "ALL"),
        Index("Thin", ("thin_pk",), "KEYS_ONLY"),
        Index("Some", ("some_pk",), "INCLUDE", ("status",)),
    ),
)
KEYS = {"pk": {"S": "P"}, "sk": {"S": "S"}}


def test_an_index_write_follows_what_the_write_does_to_the_entry():
    old = KEYS | {"unit_pk": {"S": "U"}, "unit_sk": {"S": "1"}, "note": {"S": "x"}}
    assert SHAPE.index_write_units(None, old) == 1.0, "a new entry: one put"
    assert SHAPE.index_write_units(old, old | {"unit_sk": {"S": "2"}}) == 2.0, "a key change: delete and put"
    assert SHAPE.index_write_units(old, old | {"note": {"S": "y"}}) == 1.0, "a projected attribute changed"
    assert SHAPE.index_write_units(old, old) == 0.0, "nothing changed"
    assert SHAPE.index_write_units(old, None) == 1.0, "the item deleted: its entry deleted"
    big = "x" * 1500
    thin = KEYS | {"thin_pk": {"S": "T"}, "body": {"S": big}}
    assert SHAPE.index_write_units(None, thin) == 1.0, "KEYS_ONLY: the keys, not the 1.5 KB body"
    some = KEYS | {"some_pk": {"S": "T"}, "status": {"S": "a"}, "body": {"S": big}}
    assert SHAPE.index_write_units(some, some | {"body": {"S": big + "y"}}) == 0.0, "body is not projected"


def test_the_evaluated_items_of_a_query_are_read_without_its_filter_and_projection():
    params = {
        "TableName": "T",
        "IndexName": "ByUnit",
        "KeyConditionExpression": "unit_pk = :pk AND begins_with(unit_sk, :prefix)",
        "FilterExpression": "#f0 = :f0",
        "ProjectionExpression": "#p",
        "ExpressionAttributeNames": {"#f0": "status", "#p": "note"},
        "ExpressionAttributeValues": {":pk": {"S": "U"}, ":prefix": {"S": "2026"}, ":f0": {"S": "open"}},
        "Limit": 20,
        "ConsistentRead": False,
        "ReturnConsumedCapacity": "TOTAL",
    }
    assert key_condition_only(params) == {
        "TableName": "T",
        "IndexName": "ByUnit",
        "KeyConditionExpression": "unit_pk = :pk AND begins_with(unit_sk, :prefix)",
        "ExpressionAttributeValues": {":pk": {"S": "U"}, ":prefix": {"S": "2026"}},
        "Limit": 20,
        "ConsistentRead": False,
    }
