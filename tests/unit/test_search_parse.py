"""Clinic search query strings: every parameter validated, all problems reported in one 400."""

from __future__ import annotations

import pytest

from directory.model import Kind
from directory.search import (
    DEFAULT_LIMIT,
    DEFAULT_RADIUS_KM,
    MAX_LIMIT,
    MAX_QUERY_LENGTH,
    MAX_RADIUS_KM,
    ClinicSearch,
    parse_search,
)
from eservices_core.errors import InvalidInput


def bad_params(raw_query: str) -> dict[str, str]:
    with pytest.raises(InvalidInput) as caught:
        parse_search(raw_query)
    params = {p.name: p.reason for p in caught.value.invalid_params}
    assert len(params) == len(caught.value.invalid_params), "each parameter is reported once"
    for name in params:
        assert name in caught.value.detail
    return params


# --- Good queries ------------------------------------------------------------------------------


def test_an_empty_query_lists_with_the_defaults():
    assert parse_search("") == ClinicSearch()
    assert parse_search(None) == ClinicSearch()  # type: ignore[arg-type]
    assert ClinicSearch().limit == DEFAULT_LIMIT
    assert ClinicSearch().radius_km == DEFAULT_RADIUS_KM


@pytest.mark.parametrize(
    ("raw_query", "expected"),
    [
        ("q=V%C3%A5rdcentralen+%C3%85re", ClinicSearch(terms=("vardcentralen", "are"))),
        ("q=are+Are+%C3%85RE+i", ClinicSearch(terms=("are",))),
        ("q=++bvc++", ClinicSearch(terms=("bvc",))),
        ("region=01", ClinicSearch(region="01")),
        ("municipality=0180", ClinicSearch(municipality="0180")),
        ("region=14&municipality=1480", ClinicSearch(region="14", municipality="1480")),
        ("kind=dental_care", ClinicSearch(kind=Kind.DENTAL_CARE)),
        ("near=59.3293,18.0686", ClinicSearch(near=(59.3293, 18.0686))),
        ("near=-90,180", ClinicSearch(near=(-90.0, 180.0))),
        ("near=59.3293,18.0686&radius_km=5.5", ClinicSearch(near=(59.3293, 18.0686), radius_km=5.5)),
        ("near=59.3293,18.0686&radius_km=50", ClinicSearch(near=(59.3293, 18.0686), radius_km=MAX_RADIUS_KM)),
        ("limit=1", ClinicSearch(limit=1)),
        (f"limit={MAX_LIMIT}", ClinicSearch(limit=MAX_LIMIT)),
        ("cursor=abc-_123", ClinicSearch(cursor="abc-_123")),
        (
            "q=tandv%C3%A5rd&region=01&kind=dental_care&limit=5",
            ClinicSearch(terms=("tandvard",), region="01", kind=Kind.DENTAL_CARE, limit=5),
        ),
    ],
)
def test_a_good_query_becomes_the_expected_search(raw_query, expected):
    assert parse_search(raw_query) == expected


def test_values_are_trimmed():
    assert parse_search("region=+01+&limit=+7+") == ClinicSearch(region="01", limit=7)


def test_a_query_of_exactly_the_maximum_length_is_accepted():
    text = ("ab " * MAX_QUERY_LENGTH)[: MAX_QUERY_LENGTH - 2] + "cd"
    assert len(text) == MAX_QUERY_LENGTH

    assert parse_search("q=" + text.replace(" ", "+")).terms == ("ab", "abcd")


def test_an_unknown_parameter_is_refused_without_echoing_its_value():
    with pytest.raises(InvalidInput) as caught:
        parse_search("personnummer=191212121212")

    assert "121212" not in caught.value.detail
    assert all("121212" not in p.reason for p in caught.value.invalid_params)


# --- Bad parameters, one at a time -------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw_query", "name"),
    [
        ("q=" + "a" * (MAX_QUERY_LENGTH + 1), "q"),
        ("q=a+b+-", "q"),
        ("q=", "q"),
        ("q=+++", "q"),
        ("region=02", "region"),
        ("region=1", "region"),
        ("region=Stockholm", "region"),
        ("municipality=180", "municipality"),
        ("municipality=01800", "municipality"),
        ("municipality=0280", "municipality"),
        ("municipality=01a0", "municipality"),
        ("municipality=%D9%A0%D9%A1%D9%A8%D9%A0", "municipality"),  # Arabic-Indic digits
        ("region=01&municipality=1480", "municipality"),
        ("kind=hospital", "kind"),
        ("kind=PRIMARY_CARE", "kind"),
        ("near=59.3293", "near"),
        ("near=59.3293,18.0686,3", "near"),
        ("near=91,18", "near"),
        ("near=59,181", "near"),
        ("near=nan,18", "near"),
        ("near=59,inf", "near"),
        ("near=north,east", "near"),
        ("radius_km=5", "radius_km"),
        ("near=59,18&radius_km=0", "radius_km"),
        ("near=59,18&radius_km=-1", "radius_km"),
        ("near=59,18&radius_km=50.01", "radius_km"),
        ("near=59,18&radius_km=nan", "radius_km"),
        ("near=59,18&radius_km=inf", "radius_km"),
        ("near=59,18&radius_km=far", "radius_km"),
        ("limit=0", "limit"),
        (f"limit={MAX_LIMIT + 1}", "limit"),
        ("limit=-5", "limit"),
        ("limit=%2B5", "limit"),
        ("limit=2.5", "limit"),
        ("limit=ten", "limit"),
        ("limit=%D9%A5", "limit"),  # Arabic-Indic five
        ("cursor=", "cursor"),
        ("limit=5&limit=6", "limit"),
        ("region=01&region=01", "region"),
        ("sort=name", "sort"),
        ("personnummer=191212121212", "personnummer"),
    ],
)
def test_each_bad_parameter_is_refused_naming_it(raw_query, name):
    assert list(bad_params(raw_query)) == [name]


def test_the_reasons_tell_the_caller_what_is_allowed():
    reasons = bad_params(
        "kind=hospital&limit=0&region=02&municipality=9999&near=x&sort=name&q=" + "a" * (MAX_QUERY_LENGTH + 1)
    )

    assert "primary_care" in reasons["kind"]
    assert str(MAX_LIMIT) in reasons["limit"]
    assert "01" in reasons["region"]
    assert "0180" in reasons["municipality"]
    assert "59.3293,18.0686" in reasons["near"]
    assert "q, region" in reasons["sort"]
    assert str(MAX_QUERY_LENGTH) in reasons["q"]


def test_radius_without_near_says_it_needs_near():
    assert bad_params("radius_km=5") == {"radius_km": "needs near"}


def test_a_repeated_parameter_says_it_may_be_given_only_once():
    assert bad_params("kind=dental_care&kind=primary_care") == {"kind": "may be given only once"}


def test_a_municipality_outside_the_region_names_both():
    reason = bad_params("region=01&municipality=1480")["municipality"]

    assert "1480" in reason
    assert "01" in reason


# --- Several bad parameters together -----------------------------------------------------------


def test_every_bad_parameter_is_reported_in_one_error():
    params = bad_params("q=x&region=99&kind=spa&near=0,999&limit=1000&colour=blue")

    assert set(params) == {"q", "region", "kind", "near", "limit", "colour"}


def test_good_parameters_next_to_bad_ones_are_not_reported():
    params = bad_params("q=are&region=23&kind=spa&limit=5")

    assert set(params) == {"kind"}


def test_the_error_is_a_400():
    with pytest.raises(InvalidInput) as caught:
        parse_search("limit=0")

    assert caught.value.status == 400


# --- Fingerprints bind cursors to their filters ------------------------------------------------


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("q=are", "q=ostersund"),
        ("q=are", "q=are+vardcentral"),
        ("region=01", "region=14"),
        ("region=01", ""),
        ("municipality=0180", "municipality=0181"),
        ("kind=dental_care", "kind=primary_care"),
        ("near=59.33,18.07", "near=59.33,18.08"),
        ("near=59.33,18.07", "near=59.33,18.07&radius_km=10"),
    ],
)
def test_fingerprint_differs_when_the_filters_differ(first, second):
    assert parse_search(first).fingerprint != parse_search(second).fingerprint


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("q=are&region=23", "q=are&region=23&limit=5"),
        ("q=are&region=23&limit=5", "q=are&region=23&limit=50&cursor=abc"),
        ("kind=dental_care", "kind=dental_care&cursor=xyz"),
        ("near=59.33,18.07&radius_km=20", "near=59.33,18.07"),
        ("q=%C3%85re", "q=are"),
    ],
)
def test_fingerprint_is_equal_when_only_paging_or_spelling_differs(first, second):
    assert parse_search(first).fingerprint == parse_search(second).fingerprint
