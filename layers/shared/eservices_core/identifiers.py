"""Swedish identifiers: personnummer, samordningsnummer (rules 1-2) and HSA-ID (rule 3).

A `PersonalIdentity` never shows its digits in `repr`/`str`, so it cannot leak into a log line by accident
(rule 4); code that needs the digits asks for `.value` explicitly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from eservices_core.errors import InvalidInput

HSA_ID_FHIR_SYSTEM = "urn:oid:1.2.752.29.4.19"
PERSONNUMMER_FHIR_SYSTEM = "http://electronichealth.se/identifier/personnummer"
SAMORDNINGSNUMMER_FHIR_SYSTEM = "http://electronichealth.se/identifier/samordningsnummer"

# ASCII digits only (a plain \d also takes other scripts' digits, e.g. "٨"), matched whole (a plain $ also
# matches before a final newline).
_PERSONAL = re.compile(
    r"(?P<century>\d{2})?(?P<yymmdd>\d{6})(?P<sep>[-+]?)(?P<serial>\d{3})(?P<check>\d)", re.ASCII
)
_HSA_ID = re.compile(r"SE\d{10}-[A-Za-z0-9]+", re.ASCII)
HSA_ID_MAX_LENGTH = 31
SAMORDNING_DAY_OFFSET = 60


class IdentityKind(StrEnum):
    PERSONNUMMER = "personnummer"
    SAMORDNINGSNUMMER = "samordningsnummer"


class Sex(StrEnum):
    MALE = "male"
    FEMALE = "female"


def luhn_check_digit(digits: str) -> int:
    """The Luhn check digit over `digits` with weights 2,1,2,1,... from the left."""
    total = 0
    for i, ch in enumerate(digits):
        product = int(ch) * (2 if i % 2 == 0 else 1)
        total += product // 10 + product % 10
    return (10 - total % 10) % 10


def sex_of(twelve_digits: str) -> Sex:
    """Rule 1: the third birth digit (last digit of the serial) is odd for men, even for women."""
    return Sex.MALE if int(twelve_digits[10]) % 2 else Sex.FEMALE


@dataclass(frozen=True, slots=True)
class PersonalIdentity:
    """A valid personnummer or samordningsnummer, always held as 12 digits with century."""

    value: str = field(repr=False)
    kind: IdentityKind
    birth_date: date = field(repr=False)

    @property
    def sex(self) -> Sex:
        return sex_of(self.value)

    @property
    def fhir_system(self) -> str:
        if self.kind is IdentityKind.SAMORDNINGSNUMMER:
            return SAMORDNINGSNUMMER_FHIR_SYSTEM
        return PERSONNUMMER_FHIR_SYSTEM

    def age_on(self, day: date) -> int:
        years = day.year - self.birth_date.year
        return years - ((day.month, day.day) < (self.birth_date.month, self.birth_date.day))

    def birthday(self, age: int) -> date:
        """The date this person turns `age`; a 29 February birthday falls on 1 March in common years."""
        try:
            return self.birth_date.replace(year=self.birth_date.year + age)
        except ValueError:
            return date(self.birth_date.year + age, 3, 1)

    def __str__(self) -> str:
        return f"<{self.kind.value} ****>"


def parse_personal_identity(text: str, *, today: date) -> PersonalIdentity:
    """Parse `YYMMDD-NNNC`, `YYMMDD+NNNC`, `YYMMDDNNNC`, `YYYYMMDDNNNC` or `YYYYMMDD-NNNC`.

    With ten digits and `-` (or no separator) the birth date is the latest one on or before `today`. `+` is
    used from the year the person turns 100 (rule 1), before or after the birthday: the birth year is then
    100 years before the latest year ending in YY. Raises `InvalidInput` naming the field `personnummer`.
    """
    match = _PERSONAL.fullmatch(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise _invalid("must be YYMMDD-NNNC or YYYYMMDDNNNC")
    yymmdd, sep, serial, check = match["yymmdd"], match["sep"], match["serial"], match["check"]
    if luhn_check_digit(yymmdd + serial) != int(check):
        raise _invalid("check digit does not match")
    yy, mm, dd = int(yymmdd[:2]), int(yymmdd[2:4]), int(yymmdd[4:6])
    kind = IdentityKind.PERSONNUMMER
    if dd > SAMORDNING_DAY_OFFSET:
        kind, dd = IdentityKind.SAMORDNINGSNUMMER, dd - SAMORDNING_DAY_OFFSET
    if match["century"] is not None:
        if sep == "+":
            raise _invalid("'+' is only used with ten digits")
        year = int(match["century"]) * 100 + yy
    else:
        year = _year_from_two_digits(yy, mm, dd, plus=sep == "+", today=today)
    try:
        born = date(year, mm, dd)
    except ValueError:
        raise _invalid("is not a valid date of birth") from None
    if born > today:
        raise _invalid("date of birth is in the future")
    return PersonalIdentity(value=f"{year:04d}{yymmdd[2:]}{serial}{check}", kind=kind, birth_date=born)


def is_valid_personal_identity(text: str, *, today: date) -> bool:
    try:
        parse_personal_identity(text, today=today)
    except InvalidInput:
        return False
    return True


def _year_from_two_digits(yy: int, mm: int, dd: int, *, plus: bool, today: date) -> int:
    year = today.year - (today.year - yy) % 100  # the latest year ending in `yy`, not after this year
    if plus:
        # Rule 1: '+' from the year the person turns 100, so also before the birthday in that year.
        return year - 100
    if (mm, dd) > (today.month, today.day) and year == today.year:
        year -= 100
    return year


def _invalid(reason: str) -> InvalidInput:
    return InvalidInput.for_param("personnummer", reason)


@dataclass(frozen=True, slots=True)
class HsaId:
    """An HSA-ID: `SE` + 10-digit organisation number + `-` + letters/digits, at most 31 characters."""

    value: str

    @property
    def organisation_number(self) -> str:
        return self.value[2:12]

    def __str__(self) -> str:
        return self.value


def parse_hsa_id(text: str, *, field_name: str = "hsa_id") -> HsaId:
    if not isinstance(text, str) or len(text) > HSA_ID_MAX_LENGTH or not _HSA_ID.fullmatch(text):
        raise InvalidInput.for_param(
            field_name, "must be SE + 10 digits + '-' + letters/digits, max 31 chars"
        )
    return HsaId(text.upper())


def is_hsa_id(text: str) -> bool:
    return isinstance(text, str) and len(text) <= HSA_ID_MAX_LENGTH and bool(_HSA_ID.fullmatch(text))
