"""Properties of the identifier parsers (eservices_core.identifiers): every valid personnummer and
samordningsnummer, in each way it may be written, parses to the same twelve digits and round-trips; a changed
check digit, an impossible or future date, or digits of another script are refused with InvalidInput naming
the field; HSA-IDs likewise; and no text whatever raises anything but InvalidInput."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from eservices_core.errors import InvalidInput
from eservices_core.identifiers import (
    HSA_ID_MAX_LENGTH,
    IdentityKind,
    PersonalIdentity,
    Sex,
    is_hsa_id,
    is_valid_personal_identity,
    parse_hsa_id,
    parse_personal_identity,
)

TODAY = date(2026, 6, 15)
PROPERTY = settings(max_examples=200, deadline=None, derandomize=True)
DIGITS = "0123456789"
# Decimal digits of other scripts, which a regular expression's \d would also take: Arabic-Indic, Persian,
# Devanagari, fullwidth and mathematical bold.
OTHER_DIGITS = ["".join(chr(zero + d) for d in range(10)) for zero in (0x660, 0x6F0, 0x966, 0xFF10, 0x1D7CE)]


def luhn(digits: str) -> str:
    """Written independently of the code: weights 2,1,2,... from the left, digit sums of the products."""
    total = sum(sum(divmod(int(d) * (2 - i % 2), 10)) for i, d in enumerate(digits))
    return str(-total % 10)


def refused(parse: Any, text: Any, field: str) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        parse(text)
    assert [p.name for p in caught.value.invalid_params] == [field]
    assert caught.value.status == 400
    return caught.value


def outcome(parse: Any, text: Any) -> tuple[Any, InvalidInput | None]:
    """(what the parser returned, None), or (None, the InvalidInput it raised); anything else propagates."""
    try:
        return parse(text), None
    except InvalidInput as error:
        return None, error


def personal(text: object, today: date = TODAY) -> PersonalIdentity:
    return parse_personal_identity(text, today=today)  # type: ignore[arg-type]


# ---- personnummer and samordningsnummer -------------------------------------------------------------------------------
BIRTH_DATES = st.dates(min_value=date(1900, 1, 1), max_value=TODAY)


@st.composite
def numbers(draw: st.DrawFn, *, samordning: bool | None = None) -> tuple[str, date, IdentityKind]:
    """(twelve digits, birth date, kind) of a valid number."""
    born = draw(BIRTH_DATES)
    kind = draw(st.sampled_from(IdentityKind)) if samordning is None else (
        IdentityKind.SAMORDNINGSNUMMER if samordning else IdentityKind.PERSONNUMMER
    )  # fmt: skip
    day = born.day + (60 if kind is IdentityKind.SAMORDNINGSNUMMER else 0)
    nine = f"{born:%y%m}{day:02d}{draw(st.integers(0, 999)):03d}"
    return f"{born.year // 100:02d}{nine}{luhn(nine)}", born, kind


def written(twelve: str, born: date, today: date = TODAY) -> list[str]:
    """Every way the number may be written: with century (with or without '-'), and ten digits with the
    separator of its age ('+' from the year the person turns 100, rule 1), with '-' also without one."""
    ten = twelve[2:]
    short = [f"{ten[:6]}+{ten[6:]}"] if today.year - born.year >= 100 else [f"{ten[:6]}-{ten[6:]}", ten]
    return [twelve, f"{twelve[:8]}-{twelve[8:]}", *short, f"  {twelve}\n"]


@PROPERTY
@given(numbers())
def test_a_valid_number_parses_the_same_however_it_is_written_and_round_trips(number):
    twelve, born, kind = number
    for text in written(twelve, born):
        identity = personal(text)
        assert (identity.value, identity.birth_date, identity.kind) == (twelve, born, kind), text
        assert personal(identity.value) == identity  # round trip
        assert is_valid_personal_identity(text, today=TODAY)
    identity = personal(twelve)
    assert identity.sex is (Sex.MALE if int(twelve[10]) % 2 else Sex.FEMALE)
    assert twelve not in repr(identity) and twelve not in str(identity), "never in a log line"
    assert identity.age_on(TODAY) == TODAY.year - born.year - (
        (TODAY.month, TODAY.day) < (born.month, born.day)
    )


@PROPERTY
@given(numbers(), st.integers(1, 9))
def test_a_changed_check_digit_is_refused(number, change):
    twelve, born, _ = number
    wrong = twelve[:-1] + str((int(twelve[-1]) + change) % 10)
    for text in written(wrong, born):
        error = refused(personal, text, "personnummer")
        assert "check digit" in error.invalid_params[0].reason
        assert not is_valid_personal_identity(text, today=TODAY)


IMPOSSIBLE_DAYS = st.sampled_from(
    [(2, 30), (2, 31), (4, 31), (6, 31), (9, 31), (11, 31), (1, 0), (1, 32), (0, 10), (13, 1), (99, 99)]
)


@PROPERTY
@given(st.integers(1900, 2025), IMPOSSIBLE_DAYS, st.integers(0, 999), st.booleans())
def test_an_impossible_date_with_a_correct_check_digit_is_refused(year, month_day, serial, samordning):
    month, day = month_day
    day += 60 if samordning and day else 0
    nine = f"{year % 100:02d}{month:02d}{day:02d}{serial:03d}"
    text = f"{year // 100:02d}{nine}{luhn(nine)}"
    refused(personal, text, "personnummer")


@PROPERTY
@given(st.integers(1901, 2099).filter(lambda y: y % 4 != 0), st.integers(0, 999))
def test_29_february_of_a_common_year_is_refused(year, serial):
    nine = f"{year % 100:02d}0229{serial:03d}"
    refused(personal, f"{year // 100:02d}{nine}{luhn(nine)}", "personnummer")


@PROPERTY
@given(st.dates(min_value=TODAY + timedelta(days=1), max_value=date(2099, 12, 31)), st.integers(0, 999))
def test_a_date_of_birth_after_today_is_refused(born, serial):
    nine = f"{born:%y%m%d}{serial:03d}"
    refused(personal, f"{born.year // 100:02d}{nine}{luhn(nine)}", "personnummer")


@PROPERTY
@given(numbers(), st.sampled_from(OTHER_DIGITS), st.data())
def test_digits_of_another_script_are_refused(number, script, data):
    twelve, born, _ = number
    text = data.draw(st.sampled_from(written(twelve, born)))
    positions = data.draw(
        st.sets(st.sampled_from([i for i, c in enumerate(text) if c in DIGITS]), min_size=1)
    )
    foreign = "".join(script[int(c)] if i in positions else c for i, c in enumerate(text))
    refused(personal, foreign, "personnummer")


@PROPERTY
@given(st.one_of(st.text(), st.text(DIGITS + "-+ \n", max_size=16), st.binary(), st.integers(), st.none()))
def test_any_input_is_either_a_valid_identity_or_invalid_input(text):
    identity, error = outcome(personal, text)
    if error is not None:
        assert [p.name for p in error.invalid_params] == ["personnummer"]
        return
    assert identity is not None
    assert len(identity.value) == 12 and all(c in DIGITS for c in identity.value)
    assert identity.birth_date <= TODAY
    assert personal(identity.value) == identity


# ---- HSA-ID -----------------------------------------------------------------------------------------------------------
ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
HSA_IDS = st.builds(
    lambda org, suffix: f"SE{org}-{suffix}",
    st.text(DIGITS, min_size=10, max_size=10),
    st.text(ALNUM, min_size=1, max_size=HSA_ID_MAX_LENGTH - 13),
)


@PROPERTY
@given(HSA_IDS)
def test_a_valid_hsa_id_parses_in_upper_case_and_round_trips(text):
    hsa_id = parse_hsa_id(text)
    assert hsa_id.value == text.upper() and hsa_id.organisation_number == text[2:12]
    assert parse_hsa_id(str(hsa_id)) == hsa_id and is_hsa_id(text)


@PROPERTY
@given(HSA_IDS, st.text(min_size=1))
@example("SE2321000016-ABC", "\n")  # a regular expression's $ matches before a final newline
def test_an_hsa_id_with_anything_after_it_is_refused_unless_it_is_more_letters_and_digits(text, extra):
    assume(not all(c in ALNUM for c in extra))
    refused(lambda t: parse_hsa_id(t, field_name="assignee_hsa_id"), text + extra, "assignee_hsa_id")
    assert not is_hsa_id(text + extra)


@PROPERTY
@given(HSA_IDS, st.sampled_from(OTHER_DIGITS), st.integers(2, 11))
def test_an_hsa_id_with_digits_of_another_script_is_refused(text, script, position):
    foreign = text[:position] + script[int(text[position])] + text[position + 1 :]
    refused(parse_hsa_id, foreign, "hsa_id")
    assert not is_hsa_id(foreign)


@PROPERTY
@given(
    st.text(ALNUM, min_size=HSA_ID_MAX_LENGTH - 12, max_size=40), st.text(DIGITS, min_size=10, max_size=10)
)
def test_an_hsa_id_longer_than_31_characters_is_refused(suffix, org):
    refused(parse_hsa_id, f"SE{org}-{suffix}", "hsa_id")


@PROPERTY
@given(st.one_of(st.text(), st.text("SE0123456789-aZ\n ", max_size=34), st.integers(), st.none()))
def test_any_input_is_either_an_hsa_id_or_invalid_input(text):
    hsa_id, error = outcome(parse_hsa_id, text)
    if error is not None:
        assert [p.name for p in error.invalid_params] == ["hsa_id"]
        assert not is_hsa_id(text)
        return
    assert hsa_id is not None
    assert is_hsa_id(text) and len(hsa_id.value) <= HSA_ID_MAX_LENGTH
    assert hsa_id.value.isascii() and hsa_id.value.isprintable() and " " not in hsa_id.value
