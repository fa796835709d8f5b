"""National scale: 12,000 generated care units through the real queue, then searches checked exhaustively."""

from __future__ import annotations

import pytest

from directory.model import search_terms
from eservices_core.geo import distance_km
from local_runtime.generate import catalogue, feed
from tests.integration.directory_helpers import search, search_all
from tests.support.aws import count_calls
from tests.support.events import json_body

pytestmark = pytest.mark.slow
UNITS = 12_000
CAT = catalogue(UNITS, seed=2026)
ACTIVE = [u for u in CAT.units if u["active"]]


@pytest.fixture(scope="module")
def nation(module_stack):
    """The catalogue arrives as a feed does, in waves, each sent to the queue and consumed by the poller."""
    received = module_stack.event_source("DirectoryFeedFunction").deliver(feed(CAT))
    assert received == UNITS + len(CAT.providers)
    assert module_stack.drain("HsaFeedDeadLetterQueue") == []
    return module_stack


def test_search_by_name_finds_exactly_the_units_with_that_word(nation):
    place = "björkudden"
    expected = {
        u["hsa_id"] for u in ACTIVE if any(t.startswith("bjorkudden") for t in search_terms(u["name"]))
    }
    found = search_all(nation, {"q": place, "limit": "100"})
    assert {i["id"] for i in found} == expected
    assert len(found) == len(expected) > 100


def test_search_by_name_and_region(nation):
    expected = {u["hsa_id"] for u in ACTIVE if u["region_code"] == "25" and u["name"].startswith("Tandvård")}
    found = search_all(nation, {"q": "tandvard", "region": "25", "limit": "50"})
    assert {i["id"] for i in found} == expected and expected


def test_search_by_region_lists_every_active_unit_of_the_region(nation):
    expected = {u["hsa_id"] for u in ACTIVE if u["region_code"] == "14"}
    found = search_all(nation, {"region": "14", "limit": "100"})
    assert [i["id"] for i in found].__len__() == len(expected)
    assert {i["id"] for i in found} == expected


def test_search_by_distance_is_exact_and_nearest_first(nation):
    lat, lon = 59.3293, 18.0686
    ranked = sorted(
        (distance_km(lat, lon, u["location"]["lat"], u["location"]["lon"]), u["hsa_id"]) for u in ACTIVE
    )
    expected = [hsa for d, hsa in ranked if d <= 10]
    found = search_all(nation, {"near": f"{lat},{lon}", "radius_km": "10", "limit": "100"})
    assert [i["id"] for i in found] == expected
    assert len(expected) > 100


@pytest.mark.parametrize(
    "query",
    [
        {"q": "vardcentral"},
        {"q": "bvc ekskogen", "region": "01"},
        {"region": "12"},
        {"municipality": "0180", "kind": "primary_care"},
        {"near": "59.3293,18.0686", "radius_km": "50"},
        {"near": "55.605,13.0038", "q": "tandv"},
    ],
)
def test_each_search_costs_at_most_two_round_trips_at_national_size(nation, query):
    with count_calls() as calls:
        response = search(nation, {**query, "limit": "20"})
    assert response["statusCode"] == 200
    assert json_body(response)["items"]
    assert 1 <= len(calls) <= 2, calls
