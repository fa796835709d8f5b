"""Case-type question forms: reading an administrator's definition, and validating a resident's answers.

The shape of a definition is contracts/form-definition.v1.schema.json (the one source of truth for it);
the rules that span fields (unique ids, conditions on earlier questions, item counts against options) are
checked here. A reason given for a refused answer never repeats the answer: it may carry personal data.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

from eservices_core.errors import InvalidInput, InvalidParam

SCHEMA_PATH = Path(__file__).parent / "contracts" / "form-definition.v1.schema.json"
ID_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,39}")
PHONE_DIGITS = (7, 15)

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # C0 and C1 controls but tab and newline
_SURROGATE = re.compile(r"[\ud800-\udfff]")  # lone halves that json.loads lets through; not storable
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_PHONE = re.compile(r"(?:\+46|0)[0-9 -]*[0-9]")


class FieldType(StrEnum):
    TEXT = "text"
    TEXTAREA = "textarea"
    CHOICE = "choice"
    MULTICHOICE = "multichoice"
    BOOLEAN = "boolean"
    DATE = "date"
    NUMBER = "number"
    PHONE = "phone"


class TextLimit(NamedTuple):
    default: int
    most: int


TEXT_LIMITS = {FieldType.TEXT: TextLimit(200, 500), FieldType.TEXTAREA: TextLimit(2000, 4000)}
CHOICE_TYPES = frozenset({FieldType.CHOICE, FieldType.MULTICHOICE})
CONDITION_TYPES = CHOICE_TYPES | {FieldType.BOOLEAN}


@dataclass(frozen=True, slots=True)
class Bilingual:
    sv: str
    en: str

    def as_json(self) -> dict[str, str]:
        return {"sv": self.sv, "en": self.en}


@dataclass(frozen=True, slots=True)
class Option:
    value: str
    label: Bilingual


@dataclass(frozen=True, slots=True)
class Condition:
    """Ask a question only when an earlier choice, multichoice or boolean answer matches one of `values`.

    A multichoice answer matches when it includes one of them; an unanswered question matches nothing.
    `any_of` records whether the definition said `in` (a list) or `equals` (one value).
    """

    field: str
    values: tuple[str | bool, ...]
    any_of: bool = False

    def matches(self, answer: object) -> bool:
        if isinstance(answer, list):
            return any(value in answer for value in self.values)
        return answer is not None and answer in self.values

    def as_json(self) -> dict[str, Any]:
        if self.any_of:
            return {"field": self.field, "in": list(self.values)}
        return {"field": self.field, "equals": self.values[0]}


@dataclass(frozen=True, slots=True)
class Field:
    id: str
    type: FieldType
    label: Bilingual
    required: bool
    help: Bilingual | None = None
    options: tuple[Option, ...] = ()
    max_length: int | None = None  # text and textarea; parse_form fills in the default
    min: int | float | None = None
    max: int | float | None = None
    min_items: int | None = None
    max_items: int | None = None
    when: Condition | None = None

    @property
    def option_values(self) -> tuple[str, ...]:
        return tuple(option.value for option in self.options)

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "type": self.type.value,
            "label": self.label.as_json(),
            "required": self.required,
        }
        if self.help is not None:
            data["help"] = self.help.as_json()
        if self.options:
            data["options"] = [{"value": o.value, "label": o.label.as_json()} for o in self.options]
        for key in ("max_length", "min", "max", "min_items", "max_items"):
            if (value := getattr(self, key)) is not None:
                data[key] = value
        if self.when is not None:
            data["when"] = self.when.as_json()
        return data


@dataclass(frozen=True, slots=True)
class Form:
    """A versioned question form; build it with `parse_form`, which checks what the fields promise."""

    version: int
    fields: tuple[Field, ...]

    def field(self, field_id: str) -> Field | None:
        return next((f for f in self.fields if f.id == field_id), None)

    def as_json(self) -> dict[str, Any]:
        """The definition as served to clients (text lengths with their defaults filled in)."""
        return {"version": self.version, "fields": [field.as_json() for field in self.fields]}


# ---- definitions ------------------------------------------------------------------------------------------


def parse_form(definition: object) -> Form:
    """A form from its definition, or `InvalidInput` naming each problem by path (`form.fields[2].options`)."""
    form_shape, field_shape = _shape_validators()
    problems = _shape_problems(form_shape, definition, "form")
    raw_fields = definition.get("fields") if isinstance(definition, dict) else None
    if not isinstance(raw_fields, list):
        raise _invalid("The form definition is invalid", problems)
    fields: list[Field | None] = []
    for index, raw in enumerate(raw_fields):
        found = _shape_problems(field_shape, raw, f"form.fields[{index}]")
        problems += found
        fields.append(None if found else _field(raw))
    problems += _rule_problems(raw_fields, fields)
    if problems:
        raise _invalid("The form definition is invalid", problems)
    assert isinstance(definition, dict)
    return Form(int(definition["version"]), tuple(f for f in fields if f is not None))


@cache
def _shape_validators() -> tuple[Callable[[Any], Any], Callable[[Any], Any]]:
    """(the form around its fields, one field), compiled on first use from the schema file.

    Fields are checked one by one so that every broken field is named, not only the first."""
    import fastjsonschema

    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    fields = schema["properties"]["fields"]
    outline = schema | {"properties": schema["properties"] | {"fields": fields | {"items": True}}}
    field = {
        "$schema": schema["$schema"],
        "$ref": "#/definitions/field",
        "definitions": schema["definitions"],
    }
    return fastjsonschema.compile(outline), fastjsonschema.compile(field)


def _shape_problems(validate: Callable[[Any], Any], value: object, path: str) -> list[InvalidParam]:
    import fastjsonschema

    try:
        validate(value)
    except fastjsonschema.JsonSchemaValueException as error:
        at = error.name or "data"
        name = path + at.removeprefix("data")
        if error.rule == "additionalProperties" and isinstance(error.value, dict):
            known = error.definition.get("properties", {})
            unknown = sorted(str(key) for key in error.value if key not in known)
            return [InvalidParam(f"{name}.{key}", "is not a known property") for key in unknown]
        if error.rule == "required" and isinstance(error.value, dict):
            missing = [key for key in error.definition["required"] if key not in error.value]
            return [InvalidParam(f"{name}.{key}", "is required") for key in missing]
        return [InvalidParam(name, error.message.removeprefix(at).strip())]
    return []


def _field(raw: dict[str, Any]) -> Field:
    """A field from a definition that has the schema's shape (the rules across fields come after)."""
    kind = FieldType(raw["type"])
    max_length = raw.get("max_length")
    if kind in TEXT_LIMITS and max_length is None:
        max_length = TEXT_LIMITS[kind].default
    return Field(
        id=raw["id"],
        type=kind,
        label=_bilingual(raw["label"]),
        required=raw["required"],
        help=_bilingual(raw["help"]) if "help" in raw else None,
        options=tuple(Option(o["value"], _bilingual(o["label"])) for o in raw.get("options", ())),
        max_length=int(max_length) if max_length is not None else None,
        min=_plain_number(raw.get("min")),
        max=_plain_number(raw.get("max")),
        min_items=int(raw["min_items"]) if "min_items" in raw else None,
        max_items=int(raw["max_items"]) if "max_items" in raw else None,
        when=_condition(raw["when"]) if "when" in raw else None,
    )


def _condition(raw: dict[str, Any]) -> Condition:
    if "in" in raw:
        return Condition(raw["field"], tuple(raw["in"]), any_of=True)
    return Condition(raw["field"], (raw["equals"],))


def _bilingual(raw: dict[str, str]) -> Bilingual:
    return Bilingual(sv=raw["sv"], en=raw["en"])


def _plain_number(value: object) -> int | float | None:
    if value is None:
        return None
    number = float(value) if isinstance(value, Decimal) else value
    assert isinstance(number, int | float)
    return int(number) if isinstance(number, float) and number.is_integer() else number


def _rule_problems(raw_fields: list[Any], fields: list[Field | None]) -> list[InvalidParam]:
    """The rules across fields, for the fields whose own shape is right."""
    first_at: dict[str, int] = {}
    for index, raw in enumerate(raw_fields):
        if isinstance(raw, dict) and isinstance(raw.get("id"), str):
            first_at.setdefault(raw["id"], index)
    problems: list[InvalidParam] = []
    for index, field in enumerate(fields):
        if field is None:
            continue
        path = f"form.fields[{index}]"
        if first_at[field.id] != index:
            problems.append(
                InvalidParam(
                    f"{path}.id", f"must be unique: form.fields[{first_at[field.id]}] is {field.id} too"
                )
            )
        problems += _own_problems(field, path)
        if field.when is not None:
            problems += _condition_problems(field.when, index, path, fields, first_at)
    return problems


def _own_problems(field: Field, path: str) -> list[InvalidParam]:
    problems: list[InvalidParam] = []
    values = field.option_values
    repeated = sorted({v for v in values if values.count(v) > 1})
    if repeated:
        problems.append(
            InvalidParam(f"{path}.options", "must have distinct values; repeated: " + ", ".join(repeated))
        )
    if field.type is FieldType.MULTICHOICE:
        over = [key for key in ("min_items", "max_items") if (getattr(field, key) or 0) > len(values)]
        problems += [
            InvalidParam(f"{path}.{key}", f"must be at most the number of options ({len(values)})")
            for key in over
        ]
        if not over and (field.min_items or 0) > (field.max_items or len(values)):
            problems.append(InvalidParam(f"{path}.min_items", "must not be more than max_items"))
    infinite = [key for key in ("min", "max") if not _finite(getattr(field, key))]
    problems += [InvalidParam(f"{path}.{key}", "must be a finite number") for key in infinite]
    if not infinite and field.min is not None and field.max is not None and field.min > field.max:
        problems.append(InvalidParam(f"{path}.min", "must not be more than max"))
    return problems


def _finite(number: object) -> bool:
    """False for infinity and NaN, which json.loads reads. An int is finite (and may be too big for a float)."""
    return not isinstance(number, float) or math.isfinite(number)


def _condition_problems(
    condition: Condition, index: int, path: str, fields: list[Field | None], first_at: dict[str, int]
) -> list[InvalidParam]:
    target_at = first_at.get(condition.field)
    if target_at is None:
        return [InvalidParam(f"{path}.when.field", "refers to no question of this form")]
    if target_at >= index:
        return [InvalidParam(f"{path}.when.field", "must refer to an earlier question")]
    target = fields[target_at]
    if target is None:
        return []  # the target's own problems are reported
    name = f"{path}.when.{'in' if condition.any_of else 'equals'}"
    if target.type in CHOICE_TYPES:
        options = target.option_values
        if not all(isinstance(v, str) and v in options for v in condition.values):
            return [InvalidParam(name, f"must be among the options of {target.id}: " + ", ".join(options))]
    elif target.type is FieldType.BOOLEAN:
        if not all(isinstance(v, bool) for v in condition.values):
            return [InvalidParam(name, f"must be true or false, as {target.id} is a yes/no question")]
    else:
        return [InvalidParam(f"{path}.when.field", "must refer to a choice, multichoice or boolean question")]
    return []


def _invalid(detail: str, problems: list[InvalidParam]) -> InvalidInput:
    return InvalidInput(detail + ": " + "; ".join(f"{p.name} {p.reason}" for p in problems), problems)


# ---- answers ----------------------------------------------------------------------------------------------


def validate_answers(form: Form, answers: object) -> dict[str, Any]:
    """The answers normalised, or `InvalidInput` naming every refused answer as `answers.<field id>`.

    Normalised: text trimmed (CRLF as LF), phone numbers without spaces and hyphens, integral numbers as
    int, multichoice in the form's option order; blank and null answers are left out. A conditional
    question is asked (and, if required, must be answered) only when its condition matches. Where the
    answer a condition depends on is refused, whether the question is asked is undecided: its answer is
    checked for itself only, so one mistake is reported once.
    """
    if not isinstance(answers, dict):
        raise InvalidInput.for_param("answers", "must be an object")
    problems: list[InvalidParam] = []
    normalised: dict[str, Any] = {}
    undecided: set[str] = set()  # questions refused, or not known to be asked
    for field in form.fields:
        name = f"answers.{field.id}"
        raw = answers.get(field.id)
        given = not _blank(raw)
        asked = _asked(field, normalised, undecided)
        if asked is False:
            if given:
                assert field.when is not None
                problems.append(InvalidParam(name, _not_asked_reason(field.when, form)))
            continue
        if asked is None:
            undecided.add(field.id)
        if not given:
            if field.required and asked:
                problems.append(InvalidParam(name, "is required"))
                undecided.add(field.id)
            continue
        try:
            value = _CHECKS[field.type](field, raw)
        except _Refused as refused:
            problems.append(InvalidParam(name, refused.reason))
            undecided.add(field.id)
        else:
            normalised[field.id] = value
    problems += _stray_key_problems(form, answers)
    if problems:
        raise _invalid("The answers are invalid", problems)
    return normalised


def _asked(field: Field, normalised: dict[str, Any], undecided: set[str]) -> bool | None:
    if field.when is None:
        return True
    if field.when.field in undecided:
        return None
    return field.when.matches(normalised.get(field.when.field))


def _not_asked_reason(condition: Condition, form: Form) -> str:
    """Says what the condition needs, from the form's own words: never the resident's answer."""
    target = form.field(condition.field)
    verb = "includes" if target is not None and target.type is FieldType.MULTICHOICE else "is"
    values = ", ".join(json.dumps(v) if isinstance(v, bool) else v for v in condition.values)
    which = f"one of: {values}" if len(condition.values) > 1 else values
    return f"is not asked unless {condition.field} {verb} {which}"


def _stray_key_problems(form: Form, answers: dict[Any, Any]) -> list[InvalidParam]:
    """A key shaped like a field id is named; any other is not repeated, as it could be anything."""
    ids = {field.id for field in form.fields}
    strays = [key for key in answers if key not in ids]
    problems = [
        InvalidParam(f"answers.{key}", "is not a question of this form")
        for key in strays
        if isinstance(key, str) and ID_PATTERN.fullmatch(key)
    ]
    if len(problems) < len(strays):
        problems.append(InvalidParam("answers", "has a key that is not a question of this form"))
    return problems


def _blank(raw: object) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip()) or (isinstance(raw, list) and not raw)


class _Refused(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _text(field: Field, raw: object) -> str:
    if not isinstance(raw, str):
        raise _Refused("must be a string")
    text = raw.replace("\r\n", "\n").strip()
    if _SURROGATE.search(text):
        raise _Refused("must be valid Unicode text")
    if _CONTROL.search(text):
        raise _Refused("must not contain control characters")
    if field.type is FieldType.TEXT and "\n" in text:
        raise _Refused("must be a single line")
    limit = field.max_length if field.max_length is not None else TEXT_LIMITS[field.type].default
    if len(text) > limit:
        raise _Refused(f"must be at most {limit} characters")
    return text


def _choice(field: Field, raw: object) -> str:
    options = field.option_values
    if not isinstance(raw, str) or raw.strip() not in options:
        raise _Refused("must be one of: " + ", ".join(options))
    return raw.strip()


def _multichoice(field: Field, raw: object) -> list[str]:
    options = field.option_values
    if not isinstance(raw, list) or not all(isinstance(v, str) and v in options for v in raw):
        raise _Refused("must be a list of options from: " + ", ".join(options))
    if len(set(raw)) != len(raw):
        raise _Refused("must not name an option more than once")
    if field.min_items is not None and len(raw) < field.min_items:
        raise _Refused(f"must have at least {field.min_items} choices")
    if field.max_items is not None and len(raw) > field.max_items:
        raise _Refused(f"must have at most {field.max_items} choices")
    return [value for value in options if value in raw]


def _boolean(field: Field, raw: object) -> bool:
    if not isinstance(raw, bool):
        raise _Refused("must be true or false")
    return raw


def _date(field: Field, raw: object) -> str:
    text = raw.strip() if isinstance(raw, str) else ""
    try:
        if not _DATE.fullmatch(text):
            raise ValueError
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise _Refused("must be a date as YYYY-MM-DD") from None


def _number(field: Field, raw: object) -> int | float:
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise _Refused("must be a number")
    if not _finite(raw):
        raise _Refused("must be a finite number")
    value = int(raw) if isinstance(raw, float) and raw.is_integer() else raw
    if field.min is not None and value < field.min:
        raise _Refused(f"must be at least {field.min}")
    if field.max is not None and value > field.max:
        raise _Refused(f"must be at most {field.max}")
    return value


def _phone(field: Field, raw: object) -> str:
    text = raw.strip() if isinstance(raw, str) else ""
    digits = sum(c in "0123456789" for c in text)
    if not _PHONE.fullmatch(text) or not PHONE_DIGITS[0] <= digits <= PHONE_DIGITS[1]:
        raise _Refused(
            "must be a Swedish phone number: +46 or 0 and then digits, "
            f"{PHONE_DIGITS[0]} to {PHONE_DIGITS[1]} digits in all (spaces and hyphens allowed)"
        )
    return text.replace(" ", "").replace("-", "")


_CHECKS: dict[FieldType, Callable[[Field, object], Any]] = {
    FieldType.TEXT: _text,
    FieldType.TEXTAREA: _text,
    FieldType.CHOICE: _choice,
    FieldType.MULTICHOICE: _multichoice,
    FieldType.BOOLEAN: _boolean,
    FieldType.DATE: _date,
    FieldType.NUMBER: _number,
    FieldType.PHONE: _phone,
}
