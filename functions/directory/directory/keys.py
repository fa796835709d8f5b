"""The directory table's key design (see the README section "Directory: key design").

One table, no GSIs; every search is a Query on one partition or one BatchGetItem:
- `UNIT#<hsa>` / `UNIT`: the care unit as published, with the keys of its index entries.
- `PROVIDER#<hsa>` / `PROVIDER`: the care provider.
- `IDX#<facet>` / `<folded name>#<hsa>`: one entry per active unit and facet (all, region, region+kind,
  municipality, municipality+kind, kind), sorted by name; a filtered listing is one Query.
- `TERM#<first two letters>` / `<term>#<hsa>`: one entry per word of an active unit's name; a free-text search
  is a Query with `begins_with` on its most selective word.
- `CELL#<geohash4>` / `CELL`: one item per geohash cell holding a summary of each active unit in it, one
  attribute per unit; a "near" search is one BatchGetItem of the cells that cover its circle.
"""

from __future__ import annotations

from directory.model import CareUnit, Kind

UNIT_SK = "UNIT"
PROVIDER_SK = "PROVIDER"
CELL_SK = "CELL"
TERM_PARTITION_PREFIX_LENGTH = 2


def unit_key(hsa_id: str) -> tuple[str, str]:
    return f"UNIT#{hsa_id}", UNIT_SK


def provider_key(hsa_id: str) -> tuple[str, str]:
    return f"PROVIDER#{hsa_id}", PROVIDER_SK


def cell_key(cell: str) -> tuple[str, str]:
    return f"CELL#{cell}", CELL_SK


def facet_partition(region: str | None, municipality: str | None, kind: Kind | str | None) -> str:
    """The one listing partition that answers exactly this combination of filters."""
    kind_part = f"#K#{kind}" if kind else ""
    if municipality:
        return f"IDX#M#{municipality}{kind_part}"
    if region:
        return f"IDX#R#{region}{kind_part}"
    if kind:
        return f"IDX#K#{kind}"
    return "IDX#ALL"


def term_partition(term: str) -> str:
    return f"TERM#{term[:TERM_PARTITION_PREFIX_LENGTH]}"


def index_keys(unit: CareUnit) -> list[tuple[str, str]]:
    """Every listing and term entry an active unit has."""
    if not unit.active:
        return []
    name_sk = f"{unit.sort_name}#{unit.hsa_id}"
    muni = unit.municipality.code
    facets = [
        facet_partition(None, None, None),
        facet_partition(unit.region_code, None, None),
        facet_partition(unit.region_code, None, unit.kind),
        facet_partition(None, muni, None),
        facet_partition(None, muni, unit.kind),
        facet_partition(None, None, unit.kind),
    ]
    return [(pk, name_sk) for pk in facets] + [(term_partition(t), f"{t}#{unit.hsa_id}") for t in unit.terms]
