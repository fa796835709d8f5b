"""The national catalogue of standard case types, which every clinic may offer (rule 17).

The catalogue ships with the code (catalogue/standard-case-types.v1.json) and is read once, on first use.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any

from cases.forms import Form, parse_form
from eservices_core.errors import ConfigurationError, InvalidInput

CATALOGUE_PATH = Path(__file__).parent / "catalogue" / "standard-case-types.v1.json"
TYPE_ID_PATTERN = re.compile(r"[a-z][a-z0-9-]{0,39}")
_KEYS = {"id", "name", "description", "category", "default_answer_days", "decision", "form"}


class Category(StrEnum):
    CONTACT = "contact"
    ADVICE = "advice"
    PRESCRIPTION = "prescription"
    RECORDS = "records"
    CERTIFICATE = "certificate"
    BOOKING = "booking"
    FEEDBACK = "feedback"


class Decision(StrEnum):
    """A staff decision a case type ends in, beyond an answer: the workflow acts on it."""

    PRESCRIPTION_RENEWAL = "prescription-renewal"


@dataclass(frozen=True, slots=True)
class StandardCaseType:
    """`name` and `description` are {"sv", "en"}; `default_answer_days` is in working days."""

    id: str
    name: dict[str, str]
    description: dict[str, str]
    category: Category
    default_answer_days: int
    decision: Decision | None
    form: Form


def standard_types() -> dict[str, StandardCaseType]:
    """The standard case types by id, in catalogue order."""
    return dict(_load())


@cache
def _load() -> tuple[tuple[str, StandardCaseType], ...]:
    document = json.loads(CATALOGUE_PATH.read_text(encoding="utf-8"))
    types = [_case_type(raw) for raw in document["case_types"]]
    ids = [t.id for t in types]
    if len(set(ids)) != len(ids):
        raise ConfigurationError(f"{CATALOGUE_PATH.name}: case type ids are not unique")
    return tuple((t.id, t) for t in types)


def _case_type(raw: dict[str, Any]) -> StandardCaseType:
    where = f"{CATALOGUE_PATH.name}: case type {raw.get('id')!r}"
    if set(raw) != _KEYS:
        raise ConfigurationError(f"{where} must have exactly the keys {sorted(_KEYS)}")
    if not isinstance(raw["id"], str) or not TYPE_ID_PATTERN.fullmatch(raw["id"]):
        raise ConfigurationError(f"{where}: the id must be kebab-case")
    days = raw["default_answer_days"]
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise ConfigurationError(f"{where}: default_answer_days must be a positive integer")
    try:
        form = parse_form(raw["form"])
        return StandardCaseType(
            id=raw["id"],
            name=_bilingual(raw["name"]),
            description=_bilingual(raw["description"]),
            category=Category(raw["category"]),
            default_answer_days=days,
            decision=Decision(raw["decision"]) if raw["decision"] is not None else None,
            form=form,
        )
    except (InvalidInput, ValueError) as error:
        raise ConfigurationError(f"{where}: {error}") from error


def _bilingual(raw: object) -> dict[str, str]:
    if (
        not isinstance(raw, dict)
        or set(raw) != {"sv", "en"}
        or not all(isinstance(text, str) and text.strip() for text in raw.values())
    ):
        raise ValueError("name and description must be {sv, en} texts")
    return {"sv": raw["sv"], "en": raw["en"]}
