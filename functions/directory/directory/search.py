"""Clinic search: parsing the query string into a `ClinicSearch`, and running it in at most two round trips."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from directory import keys
from directory.model import Kind, fold
from directory.regions import REGIONS
from directory.store import DirectoryStore
from eservices_core.cursor import decode_cursor, encode_cursor, fingerprint
from eservices_core.errors import InvalidInput, InvalidParam
from eservices_core.geo import cells_covering, distance_km

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
DEFAULT_RADIUS_KM = 20.0
MAX_RADIUS_KM = 50.0
MAX_QUERY_LENGTH = 100
MAX_QUERY_ROUNDS = 2
PARAMETERS = ("q", "region", "municipality", "kind", "near", "radius_km", "limit", "cursor")


@dataclass(frozen=True, slots=True)
class ClinicSearch:
    terms: tuple[str, ...] = ()
    region: str | None = None
    municipality: str | None = None
    kind: Kind | None = None
    near: tuple[float, float] | None = None
    radius_km: float = DEFAULT_RADIUS_KM
    limit: int = DEFAULT_LIMIT
    cursor: str | None = None

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.terms, self.region, self.municipality, self.kind, self.near, self.radius_km)


def parse_search(raw_query: str) -> ClinicSearch:
    """Validate every parameter and report all offending ones in one 400 (`invalid_params`)."""
    values = parse_qs(raw_query or "", keep_blank_values=True)
    problems: list[InvalidParam] = []
    fields: dict[str, Any] = {}

    def bad(name: str, reason: str) -> None:
        problems.append(InvalidParam(name, reason))

    for name in sorted(set(values) - set(PARAMETERS)):
        bad(name, "is not a parameter of this search; use " + ", ".join(PARAMETERS))
    single: dict[str, str] = {}
    for name in PARAMETERS:
        given = values.get(name)
        if given is None:
            continue
        if len(given) > 1:
            bad(name, "may be given only once")
        elif not given[0].strip():
            bad(name, "must not be empty")
        else:
            single[name] = given[0].strip()

    if "q" in single:
        text = single["q"]
        terms = tuple(dict.fromkeys(w for w in fold(text).split() if len(w) >= 2))
        if len(text) > MAX_QUERY_LENGTH:
            bad("q", f"must be at most {MAX_QUERY_LENGTH} characters")
        elif not terms:
            bad("q", "must contain a word of at least two letters or digits")
        else:
            fields["terms"] = terms
    if "region" in single:
        if single["region"] in REGIONS:
            fields["region"] = single["region"]
        else:
            bad("region", "must be a county code (länskod) such as 01 or 14")
    if "municipality" in single:
        code = single["municipality"]
        if len(code) != 4 or not code.isascii() or not code.isdigit() or code[:2] not in REGIONS:
            bad("municipality", "must be a four-digit municipality code (kommunkod) such as 0180")
        elif fields.get("region", code[:2]) != code[:2]:
            bad("municipality", f"{code} is not in region {fields['region']}")
        else:
            fields["municipality"] = code
    if "kind" in single:
        try:
            fields["kind"] = Kind(single["kind"])
        except ValueError:
            bad("kind", "must be one of " + ", ".join(k.value for k in Kind))
    if "near" in single:
        near = _parse_near(single["near"])
        if near is None:
            bad("near", "must be lat,lon in decimal degrees, such as 59.3293,18.0686")
        else:
            fields["near"] = near
    if "radius_km" in single:
        radius = _parse_float(single["radius_km"])
        if "near" not in single:
            bad("radius_km", "needs near")
        elif radius is None or not 0 < radius <= MAX_RADIUS_KM:
            bad("radius_km", f"must be a number above 0 and at most {MAX_RADIUS_KM:g}")
        else:
            fields["radius_km"] = radius
    if "limit" in single:
        limit = single["limit"]
        if not limit.isascii() or not limit.isdigit() or not 1 <= int(limit) <= MAX_LIMIT:
            bad("limit", f"must be an integer from 1 to {MAX_LIMIT}")
        else:
            fields["limit"] = int(limit)
    if "cursor" in single:
        fields["cursor"] = single["cursor"]
    if problems:
        raise InvalidInput("; ".join(f"{p.name} {p.reason}" for p in problems), problems)
    return ClinicSearch(**fields)


def _parse_float(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _parse_near(text: str) -> tuple[float, float] | None:
    parts = text.split(",")
    if len(parts) != 2:
        return None
    lat, lon = _parse_float(parts[0]), _parse_float(parts[1])
    if lat is None or lon is None or not -90 <= lat <= 90 or not -180 <= lon <= 180:
        return None
    return lat, lon


@dataclass(frozen=True, slots=True)
class SearchResult:
    items: list[dict[str, Any]]
    next_cursor: str | None


def run_search(store: DirectoryStore, search: ClinicSearch) -> SearchResult:
    if search.near is not None:
        return _nearest(store, search, search.near)
    if search.terms:
        return _by_terms(store, search)
    partition = keys.facet_partition(search.region, search.municipality, search.kind)
    return _walk_partition(store, search, partition, prefix=None, required_terms=[], fetch=search.limit + 1)


def _by_terms(store: DirectoryStore, search: ClinicSearch) -> SearchResult:
    """Key on the longest word (the most selective); the others, and the facets, filter."""
    key_term = max(search.terms, key=len)
    others = [t for t in search.terms if t != key_term]
    filtered = bool(others or search.region or search.municipality or search.kind)
    # Filters drop entries after they are read, so read ahead; without them one entry more than a page will do.
    fetch = min(1000, max(100, 10 * search.limit)) if filtered else search.limit + 1
    return _walk_partition(
        store, search, keys.term_partition(key_term), prefix=key_term, required_terms=others, fetch=fetch
    )


def _walk_partition(
    store: DirectoryStore,
    search: ClinicSearch,
    partition: str,
    *,
    prefix: str | None,
    required_terms: list[str],
    fetch: int,
) -> SearchResult:
    after = decode_cursor(search.cursor, search.fingerprint).get("after") if search.cursor else None
    if after is not None and (not isinstance(after, str) or (prefix and not after.startswith(prefix))):
        raise InvalidInput.for_param("cursor", "is not a cursor this API returned")
    found: list[dict[str, Any]] = []
    for _round in range(MAX_QUERY_ROUNDS):
        page = store.query_entries(
            partition, prefix=prefix, after=after, limit=fetch, required_terms=required_terms
        )
        for entry in page.items:
            if _matches(entry, search, prefix):
                found.append(entry)
                if len(found) == search.limit:
                    break
        if len(found) == search.limit:
            more = entry is not page.items[-1] or page.last_key is not None
            after = found[-1]["sk"] if more else None
            break
        after = page.last_key
        if after is None:
            break
    next_cursor = encode_cursor({"after": after}, search.fingerprint) if after is not None else None
    return SearchResult([_result(entry) for entry in found], next_cursor)


def _matches(entry: dict[str, Any], search: ClinicSearch, key_prefix: str | None) -> bool:
    """Facet filters of a term search, and one entry per unit: skip a unit's later words that also match."""
    if key_prefix is not None:
        term = entry["sk"].rsplit("#", 1)[0]
        if any(t < term and t.startswith(key_prefix) for t in entry["terms"].split()):
            return False
        return _facets_match(entry, search)
    return True


def _facets_match(summary: dict[str, Any], search: ClinicSearch) -> bool:
    return (
        (search.region is None or summary["region"] == search.region)
        and (search.municipality is None or summary["municipality"] == search.municipality)
        and (search.kind is None or summary["kind"] == search.kind)
    )


def _nearest(store: DirectoryStore, search: ClinicSearch, near: tuple[float, float]) -> SearchResult:
    lat, lon = near
    position = decode_cursor(search.cursor, search.fingerprint) if search.cursor else None
    if position is not None and not (
        isinstance(position.get("d"), int | float) and isinstance(position.get("id"), str)
    ):
        raise InvalidInput.for_param("cursor", "is not a cursor this API returned")
    ranked = []
    for summary in store.units_in_cells(cells_covering(lat, lon, search.radius_km)):
        distance = distance_km(lat, lon, summary["lat"], summary["lon"])
        if distance > search.radius_km or not _facets_match(summary, search):
            continue
        if not all(f" {t}" in summary["terms"] for t in search.terms):
            continue
        ranked.append((distance, summary["id"], summary))
    ranked.sort(key=lambda r: (r[0], r[1]))
    if position is not None:
        ranked = [r for r in ranked if (r[0], r[1]) > (position["d"], position["id"])]
    page = ranked[: search.limit]
    next_cursor = None
    if len(ranked) > search.limit:
        last_distance, last_id, _ = page[-1]
        next_cursor = encode_cursor({"d": last_distance, "id": last_id}, search.fingerprint)
    return SearchResult([_result(s, distance=d) for d, _, s in page], next_cursor)


def _result(summary: dict[str, Any], distance: float | None = None) -> dict[str, Any]:
    result: dict[str, Any] = {
        "id": summary["id"],
        "name": summary["name"],
        "kind": summary["kind"],
        "region": {"code": summary["region"], "name": REGIONS[summary["region"]]},
        "municipality": {"code": summary["municipality"], "name": summary["municipality_name"]},
        "location": {"lat": summary["lat"], "lon": summary["lon"]},
    }
    if distance is not None:
        result["distance_km"] = round(distance, 2)
    return result
