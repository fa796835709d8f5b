"""The shapes of what the directory API reads and answers, for its routes' `described` (openapi.json)."""

from __future__ import annotations

from pathlib import Path

from directory.model import Kind
from directory.regions import REGIONS
from directory.search import DEFAULT_RADIUS_KM, MAX_QUERY_LENGTH, MAX_RADIUS_KM
from eservices_core.apidoc import HSA_ID, LIMIT, STRING, Query, component, contract, nullable, obj

HSA_FEED = Path(__file__).parent / "contracts" / "hsa-feed.v1.schema.json"
contract("HsaFeed", HSA_FEED)  # its care unit's address and opening hours are what a clinic shows
UNIT = "#/components/schemas/HsaFeed_care_unit/properties"

KIND = {"enum": [k.value for k in Kind]}
REGION = {"enum": sorted(REGIONS)}
CODE_AND_NAME = obj({"code": STRING, "name": STRING})
LOCATION = obj({"lat": {"type": "number"}, "lon": {"type": "number"}})

CLINIC_SUMMARY = component(
    "ClinicSummary",
    obj(
        {
            "id": STRING,
            "name": STRING,
            "kind": KIND,
            "region": CODE_AND_NAME,
            "municipality": CODE_AND_NAME,
            "location": LOCATION,
            "distance_km": {"type": "number", "description": "only when searching `near` a point"},
        },
        optional=("distance_km",),
    ),
)
CLINIC = component(
    "Clinic",
    obj(
        {
            "id": STRING,
            "name": STRING,
            "kind": KIND,
            "active": {"type": "boolean"},
            "care_provider": obj({"id": STRING, "name": nullable(STRING)}),
            "region": CODE_AND_NAME,
            "municipality": CODE_AND_NAME,
            "address": {"$ref": f"{UNIT}/address"},
            "location": LOCATION,
            "phone": nullable(STRING),
            "opening_hours": {"$ref": f"{UNIT}/opening_hours"},
            "opening_hours_note": nullable(STRING),
        }
    ),
)
# Every parameter given must be non-empty and given once; an unknown one is refused too.
SEARCH = (
    Query(
        "q",
        {"type": "string", "minLength": 2, "maxLength": MAX_QUERY_LENGTH, "pattern": "[A-Za-z0-9ÅÄÖåäö]{2}"},
        "Words of the name (prefix match, with or without å/ä/ö).",
    ),
    Query("region", REGION, "County code (länskod)."),
    Query(
        "municipality",
        {"type": "string", "pattern": "^[0-9]{4}$"},
        "Municipality code (kommunkod), in `region` when both are given.",
    ),
    Query("kind", KIND, "Kind of care unit."),
    Query(
        "near",
        {"type": "string", "pattern": r"^-?[0-9]{1,2}(\.[0-9]+)?,-?[0-9]{1,3}(\.[0-9]+)?$"},
        "`lat,lon` in decimal degrees: nearest first, with `distance_km`.",
    ),
    Query(
        "radius_km",
        {"type": "number", "exclusiveMinimum": 0, "maximum": MAX_RADIUS_KM, "default": DEFAULT_RADIUS_KM},
        "With `near`: the search radius.",
    ),
    LIMIT,
    Query(
        "cursor", {"type": "string", "minLength": 1}, "The `next_cursor` of the previous page, same filters."
    ),
)
CLINIC_ID = HSA_ID
