"""Hypothesis strategies over case forms (cases.forms), shared by the example and property tests of forms:
definitions in the format of contracts/form-definition.v1.schema.json, the national catalogue's forms and
generated ones, and answers that satisfy a form."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import strategies as st

from cases.catalogue import standard_types
from cases.forms import CHOICE_TYPES, CONDITION_TYPES, TEXT_LIMITS, Field, FieldType, Form, parse_form
from eservices_core.errors import InvalidInput


def refusal(call: Any, *args: Any) -> InvalidInput:
    """The 400 InvalidInput the call raises, after checking that it names each refused part once, in its detail
    too."""
    with pytest.raises(InvalidInput) as caught:
        call(*args)
    error = caught.value
    names = [p.name for p in error.invalid_params]
    assert error.status == 400 and names
    assert len(names) == len(set(names)), "each name is reported once"
    assert all(name in error.detail for name in names)
    return error


# ---- form definitions ---------------------------------------------------------------------------------------------
IDS = st.from_regex(r"[a-z][a-z0-9_]{0,11}", fullmatch=True)
LABEL_TEXT = st.text("abcåäö ÅÄÖ-?", min_size=1, max_size=20).filter(str.strip)
LABELS = st.builds(lambda sv, en: {"sv": sv, "en": en}, LABEL_TEXT, LABEL_TEXT)
BOUNDS = st.integers(-1000, 1000) | st.floats(-1e6, 1e6, allow_nan=False)


@st.composite
def form_definitions(draw: st.DrawFn) -> dict[str, Any]:
    """A valid definition: every field type, optional limits and bounds, conditions on earlier questions."""
    ids = draw(st.lists(IDS, min_size=1, max_size=8, unique=True))
    fields: list[dict[str, Any]] = []
    for field_id in ids:
        kind = draw(st.sampled_from(FieldType))
        field: dict[str, Any] = {
            "id": field_id,
            "type": kind.value,
            "label": draw(LABELS),
            "required": draw(st.booleans()),
        }
        if draw(st.booleans()):
            field["help"] = draw(LABELS)
        if kind in TEXT_LIMITS and draw(st.booleans()):
            field["max_length"] = draw(st.integers(1, TEXT_LIMITS[kind].most))
        if kind in CHOICE_TYPES:
            values = draw(st.lists(IDS, min_size=1, max_size=6, unique=True))
            field["options"] = [{"value": v, "label": draw(LABELS)} for v in values]
            if kind is FieldType.MULTICHOICE and draw(st.booleans()):
                field["min_items"] = draw(st.integers(1, len(values)))
            if kind is FieldType.MULTICHOICE and draw(st.booleans()):
                field["max_items"] = draw(st.integers(field.get("min_items", 1), len(values)))
        if kind is FieldType.NUMBER:
            low, high = sorted(draw(st.lists(BOUNDS, min_size=2, max_size=2)))
            field |= {"min": low} if draw(st.booleans()) else {}
            field |= {"max": high} if draw(st.booleans()) else {}
        targets = [f for f in fields if FieldType(f["type"]) in CONDITION_TYPES]
        conditional = draw(st.booleans())
        if targets and conditional:
            target = draw(st.sampled_from(targets))
            possible = [o["value"] for o in target["options"]] if "options" in target else [True, False]
            chosen = draw(st.lists(st.sampled_from(possible), min_size=1, unique=True))
            if len(chosen) > 1 or draw(st.booleans()):
                field["when"] = {"field": target["id"], "in": chosen}
            else:
                field["when"] = {"field": target["id"], "equals": chosen[0]}
        fields.append(field)
    return {"version": draw(st.integers(1, 1000)), "fields": fields}


FORMS = st.sampled_from([t.form for t in standard_types().values()]) | form_definitions().map(parse_form)


# ---- answers ------------------------------------------------------------------------------------------------------
def asked(field: Field, answers: dict[str, Any]) -> bool:
    """An independent reading of `when` over valid answers."""
    if field.when is None:
        return True
    answer = answers.get(field.when.field)
    if isinstance(answer, list):
        return bool(set(answer) & set(field.when.values))
    return any(answer == value and type(answer) is type(value) for value in field.when.values)


PADDING = st.sampled_from(["", " ", "\n", " \t "])


@st.composite
def phone_numbers(draw: st.DrawFn) -> str:
    prefix = draw(st.sampled_from(["+46", "0"]))
    count = draw(st.integers(7, 15)) - sum(c.isdigit() for c in prefix)
    digits = draw(st.text("0123456789", min_size=count, max_size=count))
    return prefix + "".join(draw(st.sampled_from(["", "", " ", "-"])) + d for d in digits)


def values_for(field: Field) -> st.SearchStrategy[Any]:
    """Answers that satisfy the field, raw: with padding, CRLF, any option order."""
    if field.type in TEXT_LIMITS:
        limit = field.max_length or TEXT_LIMITS[field.type].default
        piece = st.characters(exclude_categories=("Cc", "Cs")) | st.just("\t")
        if field.type is FieldType.TEXTAREA:
            piece |= st.sampled_from(["\n", "\r\n"])
        core = st.lists(piece, min_size=1, max_size=min(limit, 40)).map("".join).filter(str.strip)
        full = st.integers(1, limit).map(lambda n: "å" * n)
        return st.builds(lambda a, text, b: a + text + b, PADDING, core | full, PADDING)
    if field.type is FieldType.CHOICE:
        return st.sampled_from(field.option_values)
    if field.type is FieldType.MULTICHOICE:
        least = field.min_items or 1
        return st.lists(
            st.sampled_from(field.option_values),
            min_size=least,
            max_size=field.max_items or len(field.options),
            unique=True,
        )
    if field.type is FieldType.BOOLEAN:
        return st.booleans()
    if field.type is FieldType.DATE:
        return st.dates().map(lambda d: d.isoformat())
    if field.type is FieldType.PHONE:
        return st.builds(lambda a, number, b: a + number + b, PADDING, phone_numbers(), PADDING)
    floats = st.floats(min_value=field.min, max_value=field.max, allow_nan=False, allow_infinity=False)
    low = None if field.min is None else math.ceil(field.min)
    high = None if field.max is None else math.floor(field.max)
    if low is not None and high is not None and low > high:
        return floats
    return st.integers(low, high) | floats


@st.composite
def answers_for(draw: st.DrawFn, form: Form) -> dict[str, Any]:
    """Answers to the form that satisfy it: every required question asked, some optional ones."""
    answers: dict[str, Any] = {}
    for field in form.fields:
        if asked(field, answers) and (field.required or draw(st.booleans())):
            answers[field.id] = draw(values_for(field))
    return answers
