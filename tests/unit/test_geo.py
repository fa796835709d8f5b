"""Geohash cells and distances behind "nearest first": a search must read every cell its circle touches."""

from __future__ import annotations

import math

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from eservices_core.geo import CELL_PRECISION, EARTH_RADIUS_KM, cell_of, cells_covering, distance_km

STOCKHOLM = (59.3293, 18.0686)
GOTEBORG = (57.7089, 11.9746)
KIRUNA = (67.8558, 20.2253)


def destination(lat: float, lon: float, bearing_deg: float, km: float) -> tuple[float, float]:
    """The point `km` from (lat, lon) along `bearing_deg`, on the same sphere as `distance_km`."""
    phi1, lam1, theta = math.radians(lat), math.radians(lon), math.radians(bearing_deg)
    delta = km / EARTH_RADIUS_KM
    phi2 = math.asin(math.sin(phi1) * math.cos(delta) + math.cos(phi1) * math.sin(delta) * math.cos(theta))
    lam2 = lam1 + math.atan2(
        math.sin(theta) * math.sin(delta) * math.cos(phi1), math.cos(delta) - math.sin(phi1) * math.sin(phi2)
    )
    lon2 = (math.degrees(lam2) + 180.0) % 360.0 - 180.0
    return math.degrees(phi2), lon2


@pytest.mark.parametrize(
    ("lat", "lon", "geohash"),
    [
        (57.64911, 10.40744, "u4pruydqqvj"),  # the classic geohash example
        (59.3293, 18.0686, "u6sckn8h"),  # Stockholm
        (0.0, 0.0, "s0000000"),
        (-90.0, -180.0, "00000000"),
    ],
)
def test_cell_of_is_the_standard_geohash_prefix(lat, lon, geohash):
    assert cell_of(lat, lon) == geohash[:CELL_PRECISION]


def test_stockholm_is_in_cell_u6sc_and_goteborg_is_not():
    assert cell_of(*STOCKHOLM).startswith("u6sc")
    assert cell_of(*GOTEBORG) != cell_of(*STOCKHOLM)


def test_the_north_pole_and_the_antimeridian_have_a_cell():
    assert cell_of(90.0, 180.0) == "zzzz"[:CELL_PRECISION]
    assert len(cell_of(89.999, 179.999)) == CELL_PRECISION


def test_distance_stockholm_goteborg_is_about_398_km():
    assert distance_km(*STOCKHOLM, *GOTEBORG) == pytest.approx(398, abs=5)


def test_distance_is_symmetric_and_zero_to_itself():
    assert distance_km(*STOCKHOLM, *STOCKHOLM) == 0
    assert distance_km(*STOCKHOLM, *KIRUNA) == pytest.approx(distance_km(*KIRUNA, *STOCKHOLM))


def test_distance_across_the_antimeridian_is_short():
    assert distance_km(0.0, 179.9, 0.0, -179.9) == pytest.approx(22.2, abs=0.1)


def test_one_degree_of_latitude_is_about_111_km():
    assert distance_km(59.0, 18.0, 60.0, 18.0) == pytest.approx(111.2, abs=0.1)


def test_covering_cells_are_distinct_and_include_the_centre_cell():
    cells = cells_covering(*STOCKHOLM, 20.0)

    assert cell_of(*STOCKHOLM) in cells
    assert len(cells) == len(set(cells))
    assert cell_of(*GOTEBORG) not in cells


def test_a_small_circle_reads_only_a_few_cells():
    assert len(cells_covering(*STOCKHOLM, 0.1)) <= 4
    assert len(cells_covering(*KIRUNA, 50.0)) <= 50


@given(
    lat=st.floats(min_value=-70, max_value=70),
    lon=st.floats(min_value=-180, max_value=180, exclude_max=True),
    radius=st.floats(min_value=0.1, max_value=50),
    bearing=st.floats(min_value=0, max_value=360),
    fraction=st.floats(min_value=0, max_value=0.9999),
)
def test_every_point_within_the_radius_lies_in_a_covering_cell(lat, lon, radius, bearing, fraction):
    point = destination(lat, lon, bearing, radius * fraction)
    assume(distance_km(lat, lon, *point) <= radius)

    assert cell_of(*point) in cells_covering(lat, lon, radius)


@given(
    lat=st.floats(min_value=-89.999, max_value=89.999),
    lon=st.floats(min_value=-180, max_value=180, exclude_max=True),
    radius=st.floats(min_value=0.1, max_value=50),
    bearing=st.floats(min_value=0, max_value=360),
    fraction=st.floats(min_value=0, max_value=0.9999),
)
def test_every_point_within_the_radius_lies_in_a_covering_cell_at_any_latitude(
    lat, lon, radius, bearing, fraction
):
    point = destination(lat, lon, bearing, radius * fraction)
    assume(distance_km(lat, lon, *point) <= radius)

    assert cell_of(*point) in cells_covering(lat, lon, radius)


@pytest.mark.parametrize("lon", [179.9, -179.9])
def test_cells_covering_wraps_around_the_antimeridian(lon):
    cells = cells_covering(0.0, lon, 20.0)

    assert cell_of(0.0, 179.95) in cells
    assert cell_of(0.0, -179.95) in cells
    assert len(cells) <= 12, "wrapping must not sweep the whole globe"


def test_a_circle_around_the_north_pole_reads_every_longitude():
    lat = 89.95
    cells = cells_covering(lat, 0.0, 12.0)

    for lon in range(-180, 180, 10):
        point = (89.96, float(lon))
        assert distance_km(lat, 0.0, *point) <= 12.0
        assert cell_of(*point) in cells
