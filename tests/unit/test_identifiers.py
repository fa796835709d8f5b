"""Personnummer, samordningsnummer (domain rules 1-2, 4) and HSA-ID (rule 3)."""

from __future__ import annotations

import logging
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eservices_core.errors import InvalidInput
from eservices_core.identifiers import (
    HSA_ID_FHIR_SYSTEM,
    IdentityKind,
    Sex,
    is_hsa_id,
    is_valid_personal_identity,
    parse_hsa_id,
    parse_personal_identity,
)

TODAY = date(2026, 6, 15)


def luhn(digits: str) -> str:
    """An independent Luhn: weights 2,1,2,1,... from the left, digit sums of the products."""
    total = sum(sum(divmod(int(d) * (2 - i % 2), 10)) for i, d in enumerate(digits))
    return str(-total % 10)


def with_check(nine_digits: str) -> str:
    return nine_digits + luhn(nine_digits)


def parse(text: str, today: date = TODAY):
    return parse_personal_identity(text, today=today)


def refused_reason(text: str, today: date = TODAY) -> str:
    with pytest.raises(InvalidInput) as caught:
        parse(text, today)
    [param] = caught.value.invalid_params
    assert param.name == "personnummer"
    return param.reason


# --- Domain-rule vectors -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "stored", "born"),
    [
        ("811218-9876", "198112189876", date(1981, 12, 18)),
        ("121212-1212", "201212121212", date(2012, 12, 12)),
        ("19811218-9876", "198112189876", date(1981, 12, 18)),
        ("8112189876", "198112189876", date(1981, 12, 18)),
        ("198112189876", "198112189876", date(1981, 12, 18)),
        ("  811218-9876 ", "198112189876", date(1981, 12, 18)),
    ],
)
def test_valid_personnummer_is_stored_as_twelve_digits_with_century(text, stored, born):
    identity = parse(text)

    assert identity.value == stored
    assert identity.kind is IdentityKind.PERSONNUMMER
    assert identity.birth_date == born
    assert is_valid_personal_identity(text, today=TODAY)


def test_personnummer_with_wrong_check_digit_is_refused():
    assert refused_reason("811218-9875") == "check digit does not match"
    assert not is_valid_personal_identity("811218-9875", today=TODAY)


def test_samordningsnummer_is_recognised_and_born_on_day_minus_sixty():
    identity = parse("701063-2391")

    assert identity.kind is IdentityKind.SAMORDNINGSNUMMER
    assert identity.value == "197010632391", "the number itself is stored as given, day + 60"
    assert identity.birth_date == date(1970, 10, 3)
    assert identity.fhir_system != parse("811218-9876").fhir_system


def test_samordningsnummer_age_and_birthday_come_from_day_minus_sixty():
    identity = parse("701063-2391")

    assert identity.age_on(date(2026, 10, 2)) == 55
    assert identity.age_on(date(2026, 10, 3)) == 56
    assert identity.birthday(13) == date(1983, 10, 3)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "811218",
        "811218-98765",
        "811218_9876",
        "81121-89876",
        "abcdef-ghij",
        "811218--9876",
        "1198112189876",
    ],
)
def test_text_that_is_not_shaped_like_a_personnummer_is_refused(text):
    assert refused_reason(text) == "must be YYMMDD-NNNC or YYYYMMDDNNNC"


def test_a_non_string_is_refused_as_invalid_input():
    with pytest.raises(InvalidInput):
        parse_personal_identity(8112189876, today=TODAY)  # type: ignore[arg-type]


# --- Century from the separator (rule 1: '+' from the year the person turns 100) ----------------


@pytest.mark.parametrize(
    ("nine", "sep", "born"),
    [
        ("150315123", "-", date(2015, 3, 15)),
        ("150315123", "+", date(1915, 3, 15)),
        ("260301123", "-", date(2026, 3, 1)),  # born earlier this year
        ("260101123", "+", date(1926, 1, 1)),  # turned 100 earlier this year
        ("261201123", "+", date(1926, 12, 1)),  # turns 100 later this year: '+' already from 1 January
    ],
    ids=["minus-child", "plus-111", "minus-baby", "plus-turned-100", "plus-turns-100-this-year"],
)
def test_the_separator_chooses_the_century_of_a_ten_digit_number(nine, sep, born):
    digits = with_check(nine)
    identity = parse(f"{digits[:6]}{sep}{digits[6:]}")

    assert identity.birth_date == born
    assert identity.value == f"{born.year // 100}{digits}"


def test_plus_is_refused_with_a_twelve_digit_number():
    digits = with_check("811218987")

    assert refused_reason(f"19{digits[:6]}+{digits[6:]}") == "'+' is only used with ten digits"


# --- Sex from the third birth digit ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "sex"),
    [
        ("811218-9876", Sex.MALE),
        ("811218-9868", Sex.FEMALE),
        ("121212-1212", Sex.MALE),
        ("701063-2391", Sex.MALE),
    ],
)
def test_sex_follows_the_third_birth_digit(text, sex):
    assert parse(text).sex is sex


# --- Age and birthdays -------------------------------------------------------------------------


def test_age_increases_on_the_birthday_and_not_the_day_before():
    identity = parse("811218-9876")

    assert identity.age_on(date(2026, 12, 17)) == 44
    assert identity.age_on(date(2026, 12, 18)) == 45
    assert identity.birthday(13) == date(1994, 12, 18)


def test_a_29_february_birthday_falls_on_1_march_in_common_years():
    identity = parse("120229-1231")
    assert identity.birth_date == date(2012, 2, 29)

    assert identity.birthday(13) == date(2025, 3, 1)
    assert identity.birthday(16) == date(2028, 2, 29)
    assert identity.age_on(date(2025, 2, 28)) == 12
    assert identity.age_on(date(2025, 3, 1)) == 13
    assert identity.age_on(date(2028, 2, 28)) == 15
    assert identity.age_on(date(2028, 2, 29)) == 16


# --- Dates that cannot be birth dates ----------------------------------------------------------


def test_a_future_date_of_birth_is_refused():
    digits = with_check("261201123")

    assert refused_reason(f"20{digits}") == "date of birth is in the future"
    assert parse(f"20{digits}", today=date(2026, 12, 1)).birth_date == date(2026, 12, 1)


@pytest.mark.parametrize(
    "nine",
    ["810230123", "811318123", "811200123", "810292123", "811260123"],
    ids=["30-feb", "month-13", "day-00", "samordning-day-32", "day-60"],
)
def test_an_impossible_date_with_a_correct_check_digit_is_refused(nine):
    assert refused_reason(with_check(nine)) == "is not a valid date of birth"


def test_error_for_a_refused_personnummer_does_not_echo_the_digits():
    with pytest.raises(InvalidInput) as caught:
        parse("811218-9875")

    assert "811218" not in str(caught.value)
    assert "9875" not in str(caught.value)


# --- Rule 4: the digits never reach a log line --------------------------------------------------


def test_str_repr_and_formatting_never_show_the_digits(caplog):
    identity = parse("811218-9876")

    with caplog.at_level(logging.INFO):
        logging.getLogger("test").info("resident %s / %r / %s", identity, identity, f"{identity}")

    for shown in (str(identity), repr(identity), f"{identity}", caplog.text):
        for secret in ("811218", "9876", "19811218", "1981-12-18"):
            assert secret not in shown
    assert "personnummer" in str(identity)


def test_repr_of_a_samordningsnummer_hides_the_digits_too():
    identity = parse("701063-2391")

    for secret in ("701063", "2391", "1970-10-03", "1970, 10, 3"):
        assert secret not in repr(identity)
        assert secret not in str(identity)


# --- Properties over generated numbers ---------------------------------------------------------

todays = st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31))
serials = st.integers(min_value=0, max_value=999).map(lambda n: f"{n:03d}")


@st.composite
def birth_and_today(draw):
    today = draw(todays)
    born = draw(st.dates(min_value=date(today.year - 199, 1, 1), max_value=today))
    return born, today


def ten_digit_form(yymmdd: str, serial: str, born: date, today: date) -> str:
    digits = with_check(yymmdd + serial)
    separator = "+" if today.year >= born.year + 100 else "-"
    return f"{digits[:6]}{separator}{digits[6:]}"


@given(birth_and_today(), serials)
def test_any_valid_personnummer_parses_back_to_its_twelve_digits(born_today, serial):
    born, today = born_today
    yymmdd = born.strftime("%y%m%d")
    twelve = f"{born.year // 100:02d}{with_check(yymmdd + serial)}"

    assert parse(twelve, today).value == twelve
    assert parse(ten_digit_form(yymmdd, serial, born, today), today).value == twelve
    assert parse(ten_digit_form(yymmdd, serial, born, today), today).birth_date == born


@given(birth_and_today(), serials, st.integers(min_value=1, max_value=9))
def test_changing_the_check_digit_always_makes_it_invalid(born_today, serial, delta):
    born, today = born_today
    valid = f"{born.year // 100:02d}{with_check(born.strftime('%y%m%d') + serial)}"
    tampered = valid[:-1] + str((int(valid[-1]) + delta) % 10)

    assert is_valid_personal_identity(valid, today=today)
    assert not is_valid_personal_identity(tampered, today=today)


@given(birth_and_today(), serials)
def test_samordningsnummer_day_plus_sixty_gives_the_same_birth_date(born_today, serial):
    born, today = born_today
    coordination = f"{born:%y%m}{born.day + 60:02d}"
    personal = parse(ten_digit_form(born.strftime("%y%m%d"), serial, born, today), today)
    samordning = parse(ten_digit_form(coordination, serial, born, today), today)

    assert samordning.kind is IdentityKind.SAMORDNINGSNUMMER
    assert samordning.birth_date == personal.birth_date == born
    assert samordning.value[6:8] == f"{born.day + 60}"


@given(birth_and_today(), serials)
def test_sex_is_male_exactly_when_the_third_birth_digit_is_odd(born_today, serial):
    born, today = born_today
    identity = parse(f"{born.year // 100:02d}{with_check(born.strftime('%y%m%d') + serial)}", today)

    assert (identity.sex is Sex.MALE) == (int(serial[2]) % 2 == 1)


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2020, 12, 31)), st.integers(1, 105))
def test_the_age_changes_exactly_on_the_birthday(born, age):
    identity = parse(f"{born.year // 100:02d}{with_check(born.strftime('%y%m%d') + '123')}", date(2099, 1, 1))
    birthday = identity.birthday(age)

    assert identity.age_on(birthday) == age
    assert identity.age_on(birthday - timedelta(days=1)) == age - 1


# --- HSA-ID ------------------------------------------------------------------------------------


def test_a_valid_hsa_id_keeps_its_value_and_organisation_number():
    hsa = parse_hsa_id("SE2321000016-A1B2")

    assert hsa.value == "SE2321000016-A1B2"
    assert str(hsa) == "SE2321000016-A1B2"
    assert hsa.organisation_number == "2321000016"
    assert is_hsa_id("SE2321000016-A1B2")
    assert HSA_ID_FHIR_SYSTEM == "urn:oid:1.2.752.29.4.19"


def test_hsa_id_letters_are_normalised_to_upper_case():
    assert parse_hsa_id("SE2321000016-a1b2").value == "SE2321000016-A1B2"
    assert parse_hsa_id("SE2321000016-a1b2") == parse_hsa_id("SE2321000016-A1B2")


def test_hsa_id_of_exactly_31_characters_is_accepted_and_32_refused():
    longest = "SE2321000016-" + "A" * 18
    assert len(longest) == 31
    assert parse_hsa_id(longest).value == longest

    with pytest.raises(InvalidInput) as caught:
        parse_hsa_id(longest + "B")
    assert [p.name for p in caught.value.invalid_params] == ["hsa_id"]
    assert not is_hsa_id(longest + "B")


@pytest.mark.parametrize(
    "text",
    [
        "SE2321000016A1B2",  # missing dash
        "SE232100001-A1B2",  # nine digits
        "SE23210000160-A1B2",  # eleven digits
        "NO2321000016-A1B2",
        "SE2321000016-",
        "SE2321000016-A1 B2",
        "SE2321000016-Å1",
        "",
    ],
    ids=["no-dash", "short-orgnr", "long-orgnr", "not-SE", "empty-suffix", "space", "non-ascii", "empty"],
)
def test_malformed_hsa_id_is_refused_naming_the_field(text):
    with pytest.raises(InvalidInput) as caught:
        parse_hsa_id(text, field_name="care_unit")

    assert [p.name for p in caught.value.invalid_params] == ["care_unit"]
    assert not is_hsa_id(text)
