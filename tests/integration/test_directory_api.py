"""The public directory API against moto: search by text, facets and distance, pagination, errors."""

from __future__ import annotations

import pytest

from directory.model import fold, search_terms
from eservices_core.geo import distance_km
from local_runtime.generate import catalogue, feed
from tests.integration.directory_helpers import feed as deliver
from tests.integration.directory_helpers import read, search, search_all
from tests.support.aws import count_calls, fail_calls
from tests.support.events import json_body

CAT = catalogue(240, seed=11)
ACTIVE = [u for u in CAT.units if u["active"]]
STOCKHOLM = (59.3293, 18.0686)


@pytest.fixture(scope="module")
def directory(module_stack):
    assert deliver(module_stack, *feed(CAT)) == {"batchItemFailures": []}
    return module_stack


def ids(items):
    return [i["id"] for i in items]


def test_listing_without_filters_pages_through_every_active_unit_in_name_order(directory):
    items = search_all(directory, {"limit": "17"})

    assert sorted(ids(items)) == sorted(u["hsa_id"] for u in ACTIVE)
    assert len(set(ids(items))) == len(items), "no unit twice across pages"
    names = [i["name"] for i in items]
    assert names == sorted(names, key=fold)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"region": "12"}, lambda u: u["region_code"] == "12"),
        ({"municipality": "2321"}, lambda u: u["municipality"]["code"] == "2321"),
        ({"kind": "dental_care"}, lambda u: u["kind"] == "dental_care"),
        (
            {"region": "01", "kind": "primary_care"},
            lambda u: u["region_code"] == "01" and u["kind"] == "primary_care",
        ),
        (
            {"municipality": "1280", "kind": "primary_care"},
            lambda u: u["municipality"]["code"] == "1280" and u["kind"] == "primary_care",
        ),
    ],
    ids=["region", "municipality", "kind", "region+kind", "municipality+kind"],
)
def test_facet_searches_return_exactly_the_matching_units(directory, query, expected):
    items = search_all(directory, {**query, "limit": "7"})
    assert sorted(ids(items)) == sorted(u["hsa_id"] for u in ACTIVE if expected(u))
    assert items, "the generated catalogue has units for every case"


def test_free_text_finds_names_by_word_prefix_with_or_without_swedish_letters(directory):
    def expected(*words):
        return sorted(
            u["hsa_id"]
            for u in ACTIVE
            if all(any(t.startswith(w) for t in search_terms(u["name"])) for w in words)
        )

    dental_place = search_terms(next(u["name"] for u in ACTIVE if u["kind"] == "dental_care"))[1]
    assert sorted(ids(search_all(directory, {"q": "vårdcentral"}))) == expected("vardcentral")
    assert sorted(ids(search_all(directory, {"q": "VARDCENTRAL", "limit": "5"}))) == expected("vardcentral")
    assert sorted(ids(search_all(directory, {"q": f"tandv {dental_place[:4]}", "limit": "3"}))) == expected(
        "tandv", dental_place[:4]
    )
    assert sorted(ids(search_all(directory, {"q": "Öjevik"}))) == expected("ojevik")
    assert expected("vardcentral") and expected("tandv", dental_place[:4]) and expected("ojevik")


def test_free_text_combines_with_facets(directory):
    items = search_all(directory, {"q": "vårdcentral", "region": "12"})
    assert items and all(i["region"]["code"] == "12" and "Vårdcentral" in i["name"] for i in items)
    assert len(items) == sum(
        1 for u in ACTIVE if u["region_code"] == "12" and u["name"].startswith("Vårdcentral")
    )


def test_near_returns_units_within_the_radius_nearest_first_with_the_distance(directory):
    items = search_all(directory, {"near": "59.3293,18.0686", "radius_km": "15", "limit": "6"})

    expected = sorted(
        (distance_km(*STOCKHOLM, u["location"]["lat"], u["location"]["lon"]), u["hsa_id"]) for u in ACTIVE
    )
    expected = [(d, i) for d, i in expected if d <= 15]
    assert ids(items) == [i for _, i in expected]
    assert [i["distance_km"] for i in items] == [round(d, 2) for d, _ in expected]
    assert expected, "the catalogue has units near Stockholm"


def test_near_combines_with_text_and_kind(directory):
    items = search_all(
        directory, {"near": "55.6050,13.0038", "radius_km": "50", "kind": "primary_care", "q": "vård"}
    )
    assert items and all(i["kind"] == "primary_care" and i["distance_km"] <= 50 for i in items)
    distances = [i["distance_km"] for i in items]
    assert distances == sorted(distances)


def test_search_results_show_what_a_resident_needs_to_choose(directory):
    [item] = json_body(search(directory, {"municipality": "2321", "limit": "1"}))["items"]
    assert set(item) == {"id", "name", "kind", "region", "municipality", "location"}
    assert item["region"] == {"code": "23", "name": "Region Jämtland Härjedalen"}
    assert item["municipality"] == {"code": "2321", "name": "Åre"}


def test_responses_are_publicly_cacheable_json(directory):
    response = search(directory, {"region": "01"})
    assert response["headers"]["Content-Type"] == "application/json"
    assert response["headers"]["Cache-Control"] == "public, max-age=60"


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"region": "14"},
        {"q": "vårdcentral"},
        {"q": "tandvård ekskogen", "region": "01", "kind": "dental_care"},
        {"near": "59.3293,18.0686", "radius_km": "50"},
        {"near": "63.18,14.64", "q": "bvc"},
    ],
    ids=["all", "region", "text", "text+filters", "near", "near+text"],
)
def test_a_search_costs_at_most_two_dynamodb_round_trips(directory, query):
    with count_calls() as calls:
        response = search(directory, {**query, "limit": "20"})
    assert response["statusCode"] == 200
    assert 1 <= len(calls) <= 2, calls


def test_reading_a_clinic_costs_at_most_two_round_trips(directory):
    with count_calls() as calls:
        assert read(directory, ACTIVE[0]["hsa_id"])["statusCode"] == 200
    assert calls == ["GetItem", "GetItem"]


@pytest.mark.parametrize("clinic_id", ["SE2321000016-NOPE", "not-an-hsa-id"])
def test_an_unknown_clinic_is_a_404_problem(directory, clinic_id):
    response = read(directory, clinic_id)
    assert response["statusCode"] == 404
    assert response["headers"]["Content-Type"] == "application/problem+json"
    body = json_body(response)
    assert body["status"] == 404 and body["code"] == "not-found" and body["type"].endswith("not-found")


@pytest.mark.parametrize(
    ("query", "param"),
    [
        ("region=99", "region"),
        ("region=", "region"),
        ("municipality=018", "municipality"),
        ("municipality=1280&region=01", "municipality"),
        ("kind=spa", "kind"),
        ("near=59.3", "near"),
        ("near=91,18", "near"),
        ("near=nan,18", "near"),
        ("near=59,18&radius_km=0", "radius_km"),
        ("near=59,18&radius_km=51", "radius_km"),
        ("radius_km=5", "radius_km"),
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=ten", "limit"),
        ("q=a", "q"),
        ("q=" + "x" * 101, "q"),
        ("region=01&region=03", "region"),
        ("cursor=%%%", "cursor"),
        ("cursor=eyJmIjoxfQ", "cursor"),
        ("regoin=01", "regoin"),
    ],
)
def test_bad_query_values_are_a_400_naming_the_parameter(directory, query, param):
    response = search(directory, query)
    assert response["statusCode"] == 400, response["body"]
    body = json_body(response)
    assert response["headers"]["Content-Type"] == "application/problem+json"
    assert body["code"] == "invalid-input"
    assert param in [p["name"] for p in body["invalid_params"]]


def test_all_bad_parameters_are_reported_at_once(directory):
    body = json_body(search(directory, "region=99&kind=spa&limit=0"))
    assert {p["name"] for p in body["invalid_params"]} == {"region", "kind", "limit"}


def test_a_cursor_cannot_be_reused_with_other_filters(directory):
    cursor = json_body(search(directory, {"region": "01", "limit": "2"}))["next_cursor"]
    assert cursor
    response = search(directory, {"region": "03", "limit": "2", "cursor": cursor})
    assert response["statusCode"] == 400
    assert json_body(response)["invalid_params"][0]["name"] == "cursor"


def test_an_unknown_route_is_a_404_problem(directory):
    from tests.support.events import http_event

    response = directory.invoke("DirectoryApiFunction", http_event("GET", "/v1/nowhere"))
    assert response["statusCode"] == 404
    assert json_body(response)["code"] == "route-not-found"


def test_a_dynamodb_outage_is_a_503_with_retry_after(directory):
    with fail_calls("dynamodb", "InternalServerError"):
        response = search(directory, {"region": "01"})
    assert response["statusCode"] == 503
    assert response["headers"]["Retry-After"] == "1"
    assert json_body(response)["code"] == "service-unavailable"
