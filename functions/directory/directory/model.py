"""Care units and providers as the directory holds them, and the search terms derived from names."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

MAX_TERMS_PER_NAME = 12
_NON_ALNUM = re.compile(r"[^0-9a-z]+")


class Kind(StrEnum):
    PRIMARY_CARE = "primary_care"
    SPECIALIST_CARE = "specialist_care"
    DENTAL_CARE = "dental_care"
    VACCINATION_CENTRE = "vaccination_centre"
    CHILD_HEALTH = "child_health"
    MATERNITY_CARE = "maternity_care"
    YOUTH_CLINIC = "youth_clinic"
    PSYCHIATRY = "psychiatry"
    REHABILITATION = "rehabilitation"
    EMERGENCY_CARE = "emergency_care"


def fold(text: str) -> str:
    """Lower-case ASCII letters and digits separated by single spaces: `Vårdcentralen Åre` -> `vardcentralen are`.

    Residents type names with and without Swedish letters; both must find the clinic.
    """
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    ascii_only = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _NON_ALNUM.sub(" ", ascii_only).strip()


def search_terms(text: str) -> list[str]:
    """The distinct words of at least two characters, in order of first appearance."""
    seen: dict[str, None] = {}
    for word in fold(text).split():
        if len(word) >= 2:
            seen.setdefault(word)
    return list(seen)[:MAX_TERMS_PER_NAME]


@dataclass(frozen=True, slots=True)
class Municipality:
    code: str
    name: str


@dataclass(frozen=True, slots=True)
class CareUnit:
    hsa_id: str
    name: str
    care_provider_hsa_id: str
    region_code: str
    municipality: Municipality
    kind: Kind
    active: bool
    lat: float
    lon: float
    address: dict[str, str]
    phone: str | None
    opening_hours: list[dict[str, str]]
    opening_hours_note: str | None

    @classmethod
    def from_message(cls, data: dict[str, Any]) -> CareUnit:
        return cls(
            hsa_id=data["hsa_id"],
            name=data["name"].strip(),
            care_provider_hsa_id=data["care_provider_hsa_id"],
            region_code=data["region_code"],
            municipality=Municipality(data["municipality"]["code"], data["municipality"]["name"]),
            kind=Kind(data["kind"]),
            active=data["active"],
            lat=float(data["location"]["lat"]),
            lon=float(data["location"]["lon"]),
            address=dict(data["address"]),
            phone=data.get("phone"),
            opening_hours=[dict(h) for h in data.get("opening_hours", [])],
            opening_hours_note=data.get("opening_hours_note"),
        )

    @property
    def sort_name(self) -> str:
        return fold(self.name)

    @property
    def terms(self) -> list[str]:
        return search_terms(self.name)


@dataclass(frozen=True, slots=True)
class CareProvider:
    hsa_id: str
    name: str
    organisation_number: str
