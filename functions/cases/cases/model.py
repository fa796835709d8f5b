"""Cases and the case types a clinic offers: plain values, no storage or HTTP."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from cases.forms import Form
from eservices_core.identifiers import Sex
from eservices_core.registry import Patient

DEFAULT_AUTO_CLOSE_DAYS = 14
REOPEN_WITHIN_DAYS = 14


class Status(StrEnum):
    WAITING_FOR_STAFF = "waiting_for_staff"
    WAITING_FOR_RESIDENT = "waiting_for_resident"
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"

    @property
    def open(self) -> bool:
        return self in (Status.WAITING_FOR_STAFF, Status.WAITING_FOR_RESIDENT)


class Next(StrEnum):
    """What the workflow does after a person acted (the output of a `.waitForTaskToken` task)."""

    STAFF = "staff"  # wait for staff (again)
    RESIDENT = "resident"  # wait for the resident's reply
    PRESCRIPTION = "prescription"  # send the renewed prescription, then close
    CLOSE = "close"


@dataclass(frozen=True, slots=True)
class ServiceArea:
    """Rule 18: who a clinic offers a case type to. Empty means everyone."""

    region_code: str | None = None
    municipality_code: str | None = None
    sex: Sex | None = None
    min_age: int | None = None
    max_age: int | None = None

    def admits(self, patient: Patient, today: date) -> bool:
        if self.region_code and patient.region_code != self.region_code:
            return False
        if self.municipality_code and patient.municipality_code != self.municipality_code:
            return False
        if self.sex and patient.sex != self.sex:
            return False
        age = patient.age_on(today)
        if self.min_age is not None and age < self.min_age:
            return False
        return self.max_age is None or age <= self.max_age

    def as_json(self) -> dict[str, Any]:
        return {
            "region_code": self.region_code,
            "municipality_code": self.municipality_code,
            "sex": self.sex.value if self.sex else None,
            "min_age": self.min_age,
            "max_age": self.max_age,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> ServiceArea:
        data = data or {}
        return cls(
            region_code=data.get("region_code"),
            municipality_code=data.get("municipality_code"),
            sex=Sex(data["sex"]) if data.get("sex") else None,
            min_age=data.get("min_age"),
            max_age=data.get("max_age"),
        )


@dataclass(frozen=True, slots=True)
class CaseType:
    """A case type as one clinic offers it: a standard type it activated, or a local type it created."""

    unit_hsa_id: str
    type_id: str
    standard: bool
    active: bool
    name: dict[str, str]
    description: dict[str, str]
    category: str
    decision: str | None  # "prescription-renewal" for renew prescription
    form: Form
    terms: dict[str, str]  # shown before sending (rule 17): answer time, cancellation deadline
    answer_days: int
    auto_close_days: int
    service_area: ServiceArea
    restricted: bool  # only residents the clinic handed it to

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.type_id,
            "standard": self.standard,
            "name": self.name,
            "description": self.description,
            "category": self.category,
            "terms": self.terms,
            "answer_days": self.answer_days,
            "form": self.form.as_json(),
        }

    def admin_view(self) -> dict[str, Any]:
        return self.summary() | {
            "active": self.active,
            "auto_close_days": self.auto_close_days,
            "service_area": self.service_area.as_json(),
            "restricted": self.restricted,
        }
