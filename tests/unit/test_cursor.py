"""Opaque pagination cursors: they round-trip, and anything else is a 400 naming `cursor`."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eservices_core.cursor import MAX_CURSOR_LENGTH, decode_cursor, encode_cursor, fingerprint
from eservices_core.errors import InvalidInput

QUERY = fingerprint(("vardcentral",), "01", None, "primary_care", None, 20.0)
OTHER_QUERY = fingerprint(("vardcentral",), "14", None, "primary_care", None, 20.0)


def refused(cursor: str, query: str = QUERY) -> str:
    with pytest.raises(InvalidInput) as caught:
        decode_cursor(cursor, query)
    [param] = caught.value.invalid_params
    assert param.name == "cursor"
    assert caught.value.status == 400
    return param.reason


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def test_a_cursor_decodes_to_the_position_it_was_made_from():
    position = {"after": "vardcentral#Vårdcentralen Åre#SE2321000016-A1B2", "d": 3.25, "n": 7}

    cursor = encode_cursor(position, QUERY)

    assert decode_cursor(cursor, QUERY) == position


def test_a_cursor_is_safe_in_a_query_string():
    cursor = encode_cursor({"after": "Åre?&=/+ #"}, QUERY)

    assert set(cursor) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=8,
)


@given(st.dictionaries(st.text(max_size=10), json_values, max_size=4))
def test_any_json_position_round_trips(position):
    assert decode_cursor(encode_cursor(position, QUERY), QUERY) == position


def test_a_cursor_from_a_search_with_other_filters_is_refused():
    cursor = encode_cursor({"after": "x"}, OTHER_QUERY)

    assert refused(cursor) == "belongs to a search with other parameters"


def test_a_cursor_with_its_fingerprint_edited_is_refused():
    cursor = encode_cursor({"after": "x"}, QUERY)
    data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    data["f"] = "0" * 16

    assert refused(b64(json.dumps(data).encode())) == "belongs to a search with other parameters"


@pytest.mark.parametrize(
    "cursor",
    [
        "not a cursor!",
        "%%%%",
        "A",  # one base64 character cannot be decoded
        "Zm9v",  # base64 of b"foo": not JSON
        b64(b"\xff\xfe\x00"),  # not UTF-8
        b64(b"[1, 2]"),  # JSON, not an object
        b64(b'"text"'),
        b64(b'{"f": "x"}'),  # no position
        b64(b'{"f": "x", "p": [1]}'),  # position not an object
        b64(b"[" * 1500),  # deeply nested garbage within the length limit
        "Åre",
        "",
    ],
    ids=[
        "spaces",
        "percent",
        "one-char",
        "not-json",
        "not-utf8",
        "array",
        "string",
        "no-position",
        "position-array",
        "deep-nesting",
        "non-ascii",
        "empty",
    ],
)
def test_garbage_is_refused_as_not_a_cursor(cursor):
    assert refused(cursor) == "is not a cursor this API returned"


def test_a_truncated_cursor_is_refused():
    cursor = encode_cursor({"after": "vardcentral#Vårdcentralen Åre#SE2321000016-A1B2"}, QUERY)

    refused(cursor[:-5])


def test_a_cursor_longer_than_the_limit_is_refused_before_decoding():
    assert refused("A" * (MAX_CURSOR_LENGTH + 1)) == "is too long"


def test_a_long_cursor_within_the_limit_is_decoded():
    position = {"after": "x" * 1480}
    cursor = encode_cursor(position, QUERY)
    assert MAX_CURSOR_LENGTH - 100 < len(cursor) <= MAX_CURSOR_LENGTH

    assert decode_cursor(cursor, QUERY) == position


def test_fingerprint_is_stable_and_depends_on_every_part():
    assert fingerprint("a", 1, None) == fingerprint("a", 1, None)
    assert fingerprint("a", 1, None) != fingerprint("a", 2, None)
    assert fingerprint("a", 1, None) != fingerprint("a", None, 1)
    assert len(fingerprint("a")) == 16
