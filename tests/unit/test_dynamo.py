"""Plain-JSON values to DynamoDB items and back."""

from __future__ import annotations

from decimal import Decimal

import pytest

from eservices_core.dynamo import from_attr, from_item, to_attr, to_item

UNIT = {
    "pk": "UNIT#SE2321000016-A1B2",
    "name": "Vårdcentralen Åre",
    "active": True,
    "closed": False,
    "version": 17,
    "lat": 63.3986,
    "lon": 13.0812,
    "address": {"street": "Kyrkvägen 1", "postcode": "83752", "floors": [1, 2], "note": None},
    "opening_hours": [{"day": "mon", "opens": "08:00"}, {"day": "tue", "opens": "08:00"}],
    "tags": [],
    "extra": {},
}


def test_a_nested_item_round_trips_unchanged():
    assert from_item(to_item(UNIT)) == UNIT


def test_types_survive_the_round_trip():
    back = from_item(to_item(UNIT))

    assert type(back["active"]) is bool
    assert type(back["closed"]) is bool
    assert type(back["version"]) is int
    assert type(back["lat"]) is float
    assert type(back["address"]["floors"][0]) is int


def test_none_is_left_out_at_top_level_but_kept_when_nested():
    item = to_item({"pk": "x", "phone": None, "address": {"note": None}, "list": [None]})

    assert "phone" not in item
    assert item["address"] == {"M": {"note": {"NULL": True}}}
    assert from_item(item) == {"pk": "x", "address": {"note": None}, "list": [None]}


def test_marshalled_shapes_are_what_dynamodb_expects():
    assert to_attr("a") == {"S": "a"}
    assert to_attr(True) == {"BOOL": True}
    assert to_attr(0) == {"N": "0"}
    assert to_attr(-12) == {"N": "-12"}
    assert to_attr(1.5) == {"N": "1.5"}
    assert to_attr(None) == {"NULL": True}
    assert to_attr([1, "a"]) == {"L": [{"N": "1"}, {"S": "a"}]}
    assert to_attr({"k": False}) == {"M": {"k": {"BOOL": False}}}


def test_booleans_are_not_stored_as_numbers():
    assert to_attr(False) == {"BOOL": False}
    assert from_attr({"BOOL": False}) is False


@pytest.mark.parametrize("value", [0.1, 1e-7, 59.329323, -18.068581, 123456.789, 3.0e15])
def test_floats_round_trip_without_scientific_notation_in_the_stored_number(value):
    attr = to_attr(value)

    assert "e" not in attr["N"].lower()
    assert from_attr(attr) == value


def test_an_integral_float_comes_back_as_an_int_of_the_same_value():
    back = from_attr(to_attr(2.0))

    assert back == 2
    assert type(back) is int


def test_large_ints_keep_every_digit():
    assert from_attr(to_attr(12345678901234567890123)) == 12345678901234567890123


def test_decimals_are_stored_as_numbers():
    assert from_attr(to_attr(Decimal("12.50"))) == 12.5


def test_tuples_are_stored_as_lists():
    assert from_item(to_item({"near": (59.33, 18.07)})) == {"near": [59.33, 18.07]}


def test_keys_are_stored_as_strings():
    assert from_item(to_item({"m": {1: "one"}})) == {"m": {"1": "one"}}


def test_a_string_set_from_dynamodb_becomes_a_set():
    assert from_attr({"SS": ["a", "b"]}) == {"a", "b"}


@pytest.mark.parametrize("value", [{1, 2}, b"bytes", object()], ids=["set", "bytes", "object"])
def test_values_that_are_not_plain_json_are_refused(value):
    with pytest.raises(TypeError, match="cannot store"):
        to_attr(value)


def test_unknown_attribute_types_are_refused():
    with pytest.raises(TypeError, match="unsupported"):
        from_attr({"B": b"x"})
