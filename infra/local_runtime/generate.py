"""Generated, clearly fictional catalogue data: care providers and units with valid HSA-IDs.

Deterministic for a seed, so tests, benchmarks and the demo data see the same catalogue every time.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

# (county code, region, a few municipalities with a rough centre)
GEOGRAPHY: dict[str, list[tuple[str, str, float, float]]] = {
    "01": [
        ("0180", "Stockholm", 59.3293, 18.0686),
        ("0182", "Nacka", 59.3105, 18.1637),
        ("0186", "Lidingö", 59.3667, 18.1500),
    ],
    "03": [("0380", "Uppsala", 59.8586, 17.6389), ("0381", "Enköping", 59.6361, 17.0777)],
    "05": [("0580", "Linköping", 58.4108, 15.6214), ("0581", "Norrköping", 58.5877, 16.1924)],
    "12": [
        ("1280", "Malmö", 55.6050, 13.0038),
        ("1281", "Lund", 55.7047, 13.1910),
        ("1283", "Helsingborg", 56.0465, 12.6945),
    ],
    "14": [("1480", "Göteborg", 57.7089, 11.9746), ("1490", "Borås", 57.7210, 12.9401)],
    "20": [("2080", "Falun", 60.6065, 15.6355), ("2021", "Vansbro", 60.5106, 14.2268)],
    "23": [("2380", "Östersund", 63.1792, 14.6357), ("2321", "Åre", 63.3990, 13.0815)],
    "25": [("2584", "Kiruna", 67.8558, 20.2253), ("2580", "Luleå", 65.5848, 22.1567)],
}
KINDS = [
    "primary_care",
    "primary_care",
    "primary_care",
    "dental_care",
    "dental_care",
    "specialist_care",
    "vaccination_centre",
    "child_health",
    "maternity_care",
    "youth_clinic",
    "psychiatry",
    "rehabilitation",
]
KIND_WORDS = {
    "primary_care": "Vårdcentral",
    "dental_care": "Tandvård",
    "specialist_care": "Specialistmottagning",
    "vaccination_centre": "Vaccinationscentral",
    "child_health": "BVC",
    "maternity_care": "Barnmorskemottagning",
    "youth_clinic": "Ungdomsmottagning",
    "psychiatry": "Psykiatrimottagning",
    "rehabilitation": "Rehabenheten",
}
# Made-up place-like words, so no generated clinic is mistaken for a real one.
FICTIONAL = [
    "Lindbacka",
    "Ekskogen",
    "Björkudden",
    "Solvik",
    "Granåsen",
    "Älvnäs",
    "Hagaberg",
    "Strandliden",
    "Tallmora",
    "Rönnholm",
    "Kvarnby",
    "Sjöängen",
    "Fjällsta",
    "Ljungdal",
    "Myrbacken",
    "Öjevik",
]
PROVIDERS = [
    ("2321000016", "Testregionens Hälso- och sjukvård (fiktiv)"),
    ("5599000001", "Exempelvården AB (fiktiv)"),
]


def hsa_id(organisation_number: str, suffix: str) -> str:
    return f"SE{organisation_number}-{suffix}"


@dataclass(frozen=True)
class Catalogue:
    providers: list[dict[str, Any]]
    units: list[dict[str, Any]]


def catalogue(count: int, seed: int = 1177) -> Catalogue:
    rng = random.Random(seed)
    providers = [
        {"hsa_id": hsa_id(org, "P0"), "name": name, "organisation_number": org} for org, name in PROVIDERS
    ]
    units = []
    regions = sorted(GEOGRAPHY)
    for i in range(count):
        region = regions[i % len(regions)]
        code, muni, lat, lon = rng.choice(GEOGRAPHY[region])
        kind = rng.choice(KINDS)
        provider = providers[0] if rng.random() < 0.7 else providers[1]
        place = rng.choice(FICTIONAL)
        units.append(
            {
                "hsa_id": hsa_id(provider["organisation_number"], f"U{i:05d}"),
                "name": f"{KIND_WORDS[kind]} {place} {muni} {i}",
                "care_provider_hsa_id": provider["hsa_id"],
                "region_code": region,
                "municipality": {"code": code, "name": muni},
                "address": {
                    "street": f"{place}vägen {rng.randint(1, 99)}",
                    "postal_code": f"{rng.randint(100, 989)} {rng.randint(10, 99)}",
                    "city": muni,
                },
                "location": {
                    "lat": round(lat + rng.uniform(-0.25, 0.25), 5),
                    "lon": round(lon + rng.uniform(-0.4, 0.4), 5),
                },
                "phone": f"0{rng.randint(10, 99)}-{rng.randint(100000, 999999)}",
                "kind": kind,
                "active": rng.random() > 0.03,
                "opening_hours": [
                    {"day": d, "opens": "08:00", "closes": "17:00"}
                    for d in ("monday", "tuesday", "wednesday", "thursday", "friday")
                ],
            }
        )
    return Catalogue(providers, units)


_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


def changed_at(seconds: int) -> str:
    """`seconds` after a fixed instant: the order of changes of one object in the simulated sources."""
    return (_EPOCH + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


def message(kind: str, seconds: int = 0, **fields: Any) -> dict[str, Any]:
    """A feed message of any of the simulated sources (HSA catalogue, population register)."""
    return {"message_id": str(uuid.uuid4()), "type": kind, "changed_at": changed_at(seconds), **fields}


def feed_message(kind: str, payload: dict[str, Any] | str, *, seconds: int = 0) -> dict[str, Any]:
    """An HSA feed message; `seconds` after a fixed instant orders changes of the same object."""
    message: dict[str, Any] = {
        "message_id": str(uuid.uuid4()),
        "type": kind,
        "changed_at": changed_at(seconds),
    }
    if isinstance(payload, str):
        message["hsa_id"] = payload
    else:
        message[kind.split(".")[0]] = payload
    return message


def feed(cat: Catalogue) -> list[dict[str, Any]]:
    return [feed_message("care_provider.upserted", p) for p in cat.providers] + [
        feed_message("care_unit.upserted", u) for u in cat.units
    ]
