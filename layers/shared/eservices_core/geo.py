"""Geohash cells and great-circle distances for "nearest first" searches.

The directory groups units by geohash cells of precision 4 (0.3516° of longitude by 0.1758° of latitude:
about 20 x 20 km in southern Sweden, 13 x 20 km at the Arctic Circle). A search reads every cell that
intersects the bounding box of its circle in one BatchGetItem, so the result is exact within the radius.
"""

from __future__ import annotations

import math

CELL_PRECISION = 4
_BASE32 = "0123456789bcdefghjkmnpqrstuvwxyz"
_LON_BITS = (CELL_PRECISION * 5 + 1) // 2
_LAT_BITS = CELL_PRECISION * 5 // 2
CELL_LON_DEGREES = 360.0 / (1 << _LON_BITS)
CELL_LAT_DEGREES = 180.0 / (1 << _LAT_BITS)
EARTH_RADIUS_KM = 6371.0088
KM_PER_DEGREE_LAT = math.pi * EARTH_RADIUS_KM / 180


def _cell_indices(lat: float, lon: float) -> tuple[int, int]:
    lat_index = min(int((lat + 90.0) / CELL_LAT_DEGREES), (1 << _LAT_BITS) - 1)
    lon_index = min(int((lon + 180.0) / CELL_LON_DEGREES), (1 << _LON_BITS) - 1)
    return lat_index, lon_index


def _encode_indices(lat_index: int, lon_index: int) -> str:
    """Interleave longitude and latitude bits (longitude first), five bits per base-32 character."""
    bits = 0
    for i in range(_LON_BITS + _LAT_BITS):
        if i % 2 == 0:
            bit = (lon_index >> (_LON_BITS - 1 - i // 2)) & 1
        else:
            bit = (lat_index >> (_LAT_BITS - 1 - i // 2)) & 1
        bits = (bits << 1) | bit
    return "".join(_BASE32[(bits >> shift) & 31] for shift in range(5 * (CELL_PRECISION - 1), -1, -5))


def cell_of(lat: float, lon: float) -> str:
    return _encode_indices(*_cell_indices(lat, lon))


def cells_covering(lat: float, lon: float, radius_km: float) -> list[str]:
    """Every cell that intersects the bounding box of the circle around (lat, lon)."""
    dlat = radius_km / KM_PER_DEGREE_LAT
    lat_min, lat_max = max(lat - dlat, -90.0), min(lat + dlat, 90.0)
    widest = max(abs(lat_min), abs(lat_max))
    lon_count = 1 << _LON_BITS
    # A circle that reaches a pole spans every longitude; so does a box (nearly) as wide as the globe.
    dlon = 180.0 if widest >= 90.0 else radius_km / (KM_PER_DEGREE_LAT * math.cos(math.radians(widest)))
    lat0, lon0 = _cell_indices(lat_min, _wrap(lon - dlon))
    lat1, lon1 = _cell_indices(lat_max, _wrap(lon + dlon))
    if 2 * dlon >= 360.0 - CELL_LON_DEGREES:
        lon0, lon_span = 0, lon_count - 1
    else:
        lon_span = (lon1 - lon0) % lon_count
    return [
        _encode_indices(la, (lon0 + step) % lon_count)
        for la in range(lat0, lat1 + 1)
        for step in range(lon_span + 1)
    ]


def _wrap(lon: float) -> float:
    return (lon + 180.0) % 360.0 - 180.0


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle (haversine) distance."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))
