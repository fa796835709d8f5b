"""A clinic's local administrator shapes its case types (rules 17-19): activate standard types, create local
ones, write the terms, set the service area, restrict a type to residents it was handed to."""

from __future__ import annotations

import re
from typing import Any

from cases.catalogue import standard_types
from cases.forms import parse_form
from cases.model import DEFAULT_AUTO_CLOSE_DAYS, ServiceArea
from cases.service import Cases, iso
from eservices_core.clock import now_utc
from eservices_core.errors import InvalidInput, InvalidParam, NotFound
from eservices_core.identifiers import Sex
from eservices_core.registry import Commission, StaffMember

LOCAL_TYPE = re.compile(r"^local-[a-z0-9-]{1,40}\Z")
REGION = re.compile(r"^\d{2}\Z", re.ASCII)
MUNICIPALITY = re.compile(r"^\d{4}\Z", re.ASCII)
CATEGORIES = ("contact", "advice", "prescription", "records", "certificate", "booking", "feedback")
MAX_TERMS = 1000
SETTINGS = frozenset({"active", "terms", "answer_days", "auto_close_days", "service_area", "restricted"})
LOCAL_SETTINGS = frozenset({"name", "description", "category", "form"})


def listing(cases: Cases, unit_hsa_id: str) -> dict[str, Any]:
    configured = {i["type_id"]: cases.case_type(i) for i in cases.store.unit_types(unit_hsa_id)}
    return {
        "configured": [t.admin_view() for t in configured.values()],
        "standard_catalogue": [
            {"id": s.id, "name": s.name, "category": s.category, "configured": s.id in configured}
            for s in standard_types().values()
        ],
    }


def configure(
    cases: Cases, commission: Commission, member: StaffMember, type_id: str, body: dict[str, Any]
) -> dict[str, Any]:
    """Create or replace the unit's configuration of one type (PUT semantics: the whole configuration)."""
    unit = commission.care_unit_hsa_id
    if cases.clinics.get(unit) is None:
        raise NotFound("Your care unit is not in the HSA catalogue; it cannot offer e-services (rule 19)")
    standard = type_id in standard_types()
    if not standard and not LOCAL_TYPE.match(type_id):
        raise InvalidInput.for_param("typeId", "must be a standard type id or local-<lower-case-words>")
    known = SETTINGS | (LOCAL_SETTINGS if not standard else {"name", "form"})  # a standard's: refused below
    problems = [InvalidParam(k, "is not a setting of a case type") for k in sorted(set(body) - known)]
    item: dict[str, Any] = {
        "unit_hsa_id": unit,
        "type_id": type_id,
        "standard": standard,
        "active": _bool(body, "active", problems, default=True),
        "terms": _texts(body.get("terms"), "terms", problems, MAX_TERMS, required=True),
        "answer_days": _int(
            body,
            "answer_days",
            1,
            30,
            problems,
            default=None if not standard else standard_types()[type_id].default_answer_days,
        ),
        "auto_close_days": _int(body, "auto_close_days", 1, 60, problems, default=DEFAULT_AUTO_CLOSE_DAYS),
        "service_area": _service_area(body.get("service_area"), problems),
        "restricted": _bool(body, "restricted", problems, default=False),
        "changed_by": member.hsa_id,
        "changed_at": iso(now_utc()),
    }
    if not standard:
        item["name"] = _texts(body.get("name"), "name", problems, 120, required=True)
        item["description"] = _texts(body.get("description"), "description", problems, 500, required=False)
        category = body.get("category", "contact")
        if category not in CATEGORIES:
            problems.append(InvalidParam("category", f"must be one of {', '.join(CATEGORIES)}"))
        item["category"] = category
        previous = cases.store.unit_type(unit, type_id)
        definition = body.get("form")
        if isinstance(definition, dict):
            definition = {
                k: v for k, v in definition.items() if k != "version"
            }  # the server numbers versions
        if not isinstance(definition, dict):
            problems.append(InvalidParam("form", "is required for a local type: a form definition"))
        else:
            version = 1
            if previous and previous.get("form"):
                old = {k: v for k, v in previous["form"].items() if k != "version"}
                version = int(previous["form"].get("version", 1)) + (old != definition)
            item["form"] = {**definition, "version": version}
    elif "form" in body or "name" in body:
        problems.append(
            InvalidParam("form", "a standard type's name and form come from the national catalogue")
        )
    if problems:
        raise InvalidInput("The case type configuration has invalid fields", problems)
    if not standard:
        parse_form(item["form"])  # 400 naming the form's problems
    cases.store.put_unit_type(item)
    return cases.case_type(item).admin_view()


def hand(cases: Cases, commission: Commission, type_id: str, patient_id: str) -> None:
    configured = cases.store.unit_type(commission.care_unit_hsa_id, type_id)
    if configured is None:
        raise NotFound("Your unit has no such case type")
    cases.store.hand(commission.care_unit_hsa_id, type_id, patient_id, commission.hsa_id, iso(now_utc()))


def _bool(body: dict[str, Any], name: str, problems: list[InvalidParam], *, default: bool) -> bool:
    value = body.get(name, default)
    if not isinstance(value, bool):
        problems.append(InvalidParam(name, "must be true or false"))
        return default
    return value


def _int(
    body: dict[str, Any], name: str, low: int, high: int, problems: list[InvalidParam], *, default: int | None
) -> int:
    value = body.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        problems.append(InvalidParam(name, f"must be an integer from {low} to {high}"))
        return low
    return value


def _texts(
    value: Any, name: str, problems: list[InvalidParam], max_length: int, *, required: bool
) -> dict[str, str]:
    if value is None and not required:
        return {"sv": "", "en": ""}
    if not isinstance(value, dict) or set(value) != {"sv", "en"}:
        problems.append(InvalidParam(name, 'must be {"sv": ..., "en": ...}'))
        return {"sv": "", "en": ""}
    for language, text in value.items():
        if not isinstance(text, str) or not text.strip() or len(text) > max_length:
            problems.append(
                InvalidParam(f"{name}.{language}", f"must be a text of 1-{max_length} characters")
            )
    return {k: str(v) for k, v in value.items()}


def _service_area(value: Any, problems: list[InvalidParam]) -> dict[str, Any]:
    if value is None:
        return ServiceArea().as_json()
    if not isinstance(value, dict) or set(value) - {
        "region_code",
        "municipality_code",
        "sex",
        "min_age",
        "max_age",
    }:
        problems.append(InvalidParam("service_area", "has unknown fields"))
        return ServiceArea().as_json()
    region, municipality = value.get("region_code"), value.get("municipality_code")
    if region is not None and not (isinstance(region, str) and REGION.match(region)):
        problems.append(InvalidParam("service_area.region_code", "must be a county code such as 01"))
    if municipality is not None and not (isinstance(municipality, str) and MUNICIPALITY.match(municipality)):
        problems.append(InvalidParam("service_area.municipality_code", "must be a kommunkod such as 0180"))
    if value.get("sex") is not None and value["sex"] not in {s.value for s in Sex}:
        problems.append(InvalidParam("service_area.sex", "must be female or male"))
    ages = [value.get("min_age"), value.get("max_age")]
    for name, age in zip(("min_age", "max_age"), ages, strict=True):
        if age is not None and (isinstance(age, bool) or not isinstance(age, int) or not 0 <= age <= 130):
            problems.append(InvalidParam(f"service_area.{name}", "must be an age from 0 to 130"))
    if all(isinstance(a, int) for a in ages) and ages[0] > ages[1]:  # type: ignore[operator]
        problems.append(InvalidParam("service_area.max_age", "must not be below min_age"))
    return ServiceArea.from_json(value).as_json() if not problems else ServiceArea().as_json()
