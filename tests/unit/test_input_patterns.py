"""Codes and ids typed by people or systems match ASCII only and the whole string: `\\d` alone admits the
digits of every script and `$` a trailing newline, and either would be stored as a different value."""

from __future__ import annotations

import re

import pytest

from booking.model import REGION_CODE, TIME_ID, TYPE_ID, UNIT_ID
from cases.admin import LOCAL_TYPE, MUNICIPALITY, REGION
from notifications.api import E164, EMAIL

ARABIC = "\u0660\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669"  # 0-9 in Arabic-Indic


def arabic(digits: str) -> str:
    return "".join(ARABIC[int(d)] if d.isdigit() else d for d in digits)


CASES = [
    (REGION_CODE, "01", ["01\n", arabic("01"), "\uff10\uff11"]),  # the last: full-width digits
    (REGION, "12", ["12\n", arabic("12")]),
    (MUNICIPALITY, "0180", ["0180\n", arabic("0180")]),
    (LOCAL_TYPE, "local-hudmottagning", ["local-hudmottagning\n"]),
    (TIME_ID, "20261201T0800Z-abc", ["20261201T0800Z-abc\n", arabic("20261201") + "T0800Z-abc"]),
    (UNIT_ID, "SE2321000016-U00016", ["SE2321000016-U00016\n"]),
    (TYPE_ID, "nurse-visit-15", ["nurse-visit-15\n"]),
    (E164, "+46701234567", ["+46701234567\n", "+" + arabic("46701234567")]),
    (EMAIL, "demo@example.se", ["demo@example.se\n"]),
]


@pytest.mark.parametrize(("pattern", "good", "bad"), CASES, ids=lambda v: getattr(v, "pattern", None))
def test_only_the_plain_value_matches(pattern: re.Pattern[str], good: str, bad: list[str]) -> None:
    assert pattern.match(good)
    for value in bad:
        assert pattern.match(value) is None, value
