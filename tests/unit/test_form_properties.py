"""Properties of case form answers (cases.forms) over the national catalogue's forms (cases/catalogue) and forms
generated from the definition format: answers drawn from a form's own definition are accepted; a missing
required answer, an answer of the wrong type, a text over its limit and an option not offered are refused with
an error naming exactly that field; and no JSON whatever, as answers or as a definition, raises anything but
the typed 400 error."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from cases.catalogue import standard_types
from cases.forms import (
    CHOICE_TYPES,
    ID_PATTERN,
    TEXT_LIMITS,
    Field,
    FieldType,
    Form,
    parse_form,
    validate_answers,
)
from eservices_core.errors import InvalidInput

PROPERTY = settings(max_examples=200, deadline=None, derandomize=True)
CATALOGUE = standard_types()
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)


def refused(call: Any, *args: Any) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        call(*args)
    assert caught.value.status == 400 and caught.value.invalid_params
    return caught.value


def outcome(call: Any, *args: Any) -> tuple[Any, InvalidInput | None]:
    """(what the call returned, None), or (None, the InvalidInput it raised); anything else propagates."""
    try:
        return call(*args), None
    except InvalidInput as error:
        return None, error


def names(error: InvalidInput) -> list[str]:
    return [p.name for p in error.invalid_params]


# ---- forms: the catalogue's, and generated ones -------------------------------------------------------------------------
IDS = st.from_regex(r"[a-z][a-z0-9_]{0,9}", fullmatch=True)
LABEL = st.text("abcåäöÅÄÖ ?", min_size=1, max_size=12).filter(str.strip).map(lambda t: {"sv": t, "en": t})


@st.composite
def definitions(draw: st.DrawFn) -> dict[str, Any]:
    """A form definition in the format of contracts/form-definition.v1.schema.json."""
    fields: list[dict[str, Any]] = []
    for field_id in draw(st.lists(IDS, min_size=1, max_size=6, unique=True)):
        kind = draw(st.sampled_from(FieldType))
        field: dict[str, Any] = {"id": field_id, "type": kind.value, "label": draw(LABEL)}
        field["required"] = draw(st.booleans())
        if kind in TEXT_LIMITS and draw(st.booleans()):
            field["max_length"] = draw(st.integers(1, TEXT_LIMITS[kind].most))
        if kind in CHOICE_TYPES:
            values = draw(st.lists(IDS, min_size=2, max_size=5, unique=True))
            field["options"] = [{"value": v, "label": draw(LABEL)} for v in values]
        if kind is FieldType.NUMBER and draw(st.booleans()):
            field["min"], field["max"] = sorted(
                draw(st.lists(st.integers(-500, 500), min_size=2, max_size=2))
            )
        earlier = [f for f in fields if f["type"] in ("boolean", "choice")]
        conditional = draw(st.booleans())
        if earlier and conditional:
            target = draw(st.sampled_from(earlier))
            value = True if target["type"] == "boolean" else target["options"][0]["value"]
            field["when"] = {"field": target["id"], "equals": value}
        fields.append(field)
    return {"version": draw(st.integers(1, 50)), "fields": fields}


FORMS = st.sampled_from([CATALOGUE[t].form for t in sorted(CATALOGUE)]) | definitions().map(parse_form)


def asked(field: Field, answers: dict[str, Any]) -> bool:
    if field.when is None:
        return True
    answer = answers.get(field.when.field)
    if isinstance(answer, list):
        return any(v in answer for v in field.when.values)
    return any(answer is v or (isinstance(v, str) and answer == v) for v in field.when.values)


def valid_value(field: Field) -> st.SearchStrategy[Any]:
    """An answer the field's definition allows."""
    if field.type in TEXT_LIMITS:
        limit = field.max_length or TEXT_LIMITS[field.type].default
        return st.text("abc åäö,.!-", min_size=1, max_size=min(limit, 60)).filter(str.strip)
    if field.type is FieldType.CHOICE:
        return st.sampled_from(field.option_values)
    if field.type is FieldType.MULTICHOICE:
        least, most = field.min_items or 1, field.max_items or len(field.options)
        return st.lists(st.sampled_from(field.option_values), min_size=least, max_size=most, unique=True)
    if field.type is FieldType.BOOLEAN:
        return st.booleans()
    if field.type is FieldType.DATE:
        return st.dates().map(date_text)
    if field.type is FieldType.PHONE:
        return st.builds(
            lambda p, n: p + n, st.sampled_from(["0", "+46"]), st.text("0123456789", min_size=8, max_size=9)
        )
    low = None if field.min is None else math.ceil(field.min)
    high = None if field.max is None else math.floor(field.max)
    return st.integers(low, high)


def date_text(day: Any) -> str:
    return str(day.isoformat())


@st.composite
def answers_for(draw: st.DrawFn, form: Form) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    for field in form.fields:
        if asked(field, answers) and (field.required or draw(st.booleans())):
            answers[field.id] = draw(valid_value(field))
    return answers


def independent(form: Form, answers: dict[str, Any]) -> list[Field]:
    """Answered fields no other question depends on: changing one changes nothing else."""
    depended_on = {f.when.field for f in form.fields if f.when is not None}
    return [f for f in form.fields if f.id in answers and f.id not in depended_on]


# ---- answers ----------------------------------------------------------------------------------------------------------
@PROPERTY
@given(st.data())
def test_answers_drawn_from_the_form_definition_are_accepted(data):
    form = data.draw(FORMS)
    answers = data.draw(answers_for(form))
    normalised = validate_answers(form, answers)
    assert set(normalised) == set(answers)
    assert validate_answers(form, normalised) == normalised
    assert json.loads(json.dumps(normalised)) == normalised


@PROPERTY
@given(st.data())
def test_a_missing_required_answer_is_refused_naming_the_field(data):
    form = data.draw(FORMS)
    answers = data.draw(answers_for(form))
    required = [f for f in independent(form, answers) if f.required]
    assume(required)
    field = data.draw(st.sampled_from(required))
    missing = {k: v for k, v in answers.items() if k != field.id}
    if data.draw(st.booleans()):
        missing[field.id] = data.draw(st.sampled_from([None, "", "  ", []]))
    error = refused(validate_answers, form, missing)
    assert names(error) == [f"answers.{field.id}"] and error.invalid_params[0].reason == "is required"


WRONG_TYPES: dict[FieldType, list[Any]] = {
    FieldType.TEXT: [42, True, ["text"], {"sv": "text"}],
    FieldType.TEXTAREA: [42.5, False, ["text"], {"text": "x"}],
    FieldType.CHOICE: [1, True, ["a"], {"value": "a"}],
    FieldType.MULTICHOICE: ["a", 1, True, {"a": True}, [1, 2]],
    FieldType.BOOLEAN: ["true", "ja", 1, 0, ["true"]],
    FieldType.DATE: [20260101, True, ["2026-01-01"], "1 januari 2026", "2026-1-1"],
    FieldType.NUMBER: ["12", True, [12], {"value": 12}],
    FieldType.PHONE: [701234567, True, ["0701234567"], "phone"],
}


@PROPERTY
@given(st.data())
def test_an_answer_of_the_wrong_type_is_refused_naming_the_field(data):
    form = data.draw(FORMS)
    answers = data.draw(answers_for(form))
    fields = independent(form, answers)
    assume(fields)
    field = data.draw(st.sampled_from(fields))
    wrong = data.draw(st.sampled_from(WRONG_TYPES[field.type]))
    error = refused(validate_answers, form, answers | {field.id: wrong})
    assert names(error) == [f"answers.{field.id}"]
    assert error.invalid_params[0].reason.startswith("must ")


@PROPERTY
@given(st.data())
def test_a_text_longer_than_its_limit_is_refused_naming_the_field(data):
    form = data.draw(FORMS)
    answers = data.draw(answers_for(form))
    texts = [f for f in independent(form, answers) if f.type in TEXT_LIMITS]
    assume(texts)
    field = data.draw(st.sampled_from(texts))
    limit = field.max_length or TEXT_LIMITS[field.type].default
    over = data.draw(st.integers(limit + 1, limit + 50))
    error = refused(validate_answers, form, answers | {field.id: "å" * over})
    assert names(error) == [f"answers.{field.id}"]
    assert error.invalid_params[0].reason == f"must be at most {limit} characters"


@PROPERTY
@given(st.data())
def test_an_option_not_offered_is_refused_naming_the_field(data):
    form = data.draw(FORMS)
    answers = data.draw(answers_for(form))
    choices = [f for f in independent(form, answers) if f.type in CHOICE_TYPES]
    assume(choices)
    field = data.draw(st.sampled_from(choices))
    other = data.draw(IDS.map(lambda v: f"kanarie_{v}"))  # never an option here
    answer = other if field.type is FieldType.CHOICE else [*answers[field.id][:-1], other]
    error = refused(validate_answers, form, answers | {field.id: answer})
    assert names(error) == [f"answers.{field.id}"]
    assert other not in error.detail, "a reason never repeats the answer"


@PROPERTY
@given(FORMS, JSON)
def test_any_json_as_the_answers_is_accepted_or_refused_with_invalid_input(form, answers):
    normalised, error = outcome(validate_answers, form, answers)
    if error is not None:
        assert error.status == 400
        assert all(n == "answers" or n.startswith("answers.") for n in names(error))
    else:
        assert isinstance(answers, dict) and set(normalised) <= set(answers)


@PROPERTY
@given(st.data(), JSON)
def test_any_json_in_place_of_one_answer_is_accepted_or_refused_naming_that_field(data, value):
    form = data.draw(FORMS)
    answers = data.draw(answers_for(form))
    fields = independent(form, answers)
    assume(fields)
    field = data.draw(st.sampled_from(fields))
    _, error = outcome(validate_answers, form, answers | {field.id: value})
    assert error is None or names(error) == [f"answers.{field.id}"]


# ---- definitions ------------------------------------------------------------------------------------------------------
def paths(value: Any, at: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a JSON value (the root too)."""
    found = [at]
    if isinstance(value, dict):
        for key, inner in value.items():
            found += paths(inner, (*at, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            found += paths(inner, (*at, index))
    return found


def replaced(value: Any, at: tuple[Any, ...], new: Any) -> Any:
    if not at:
        return new
    copy = json.loads(json.dumps(value))
    inner = copy
    for step in at[:-1]:
        inner = inner[step]
    inner[at[-1]] = new
    return copy


def check_definition(definition: Any) -> None:
    form, error = outcome(parse_form, definition)
    if error is not None:
        assert error.status == 400
        assert all(n.startswith("form") for n in names(error)), names(error)
        return
    for field in form.fields:
        assert ID_PATTERN.fullmatch(field.id), f"accepted field id {field.id!r}"
        assert all(ID_PATTERN.fullmatch(v) for v in field.option_values), (
            f"accepted options {field.option_values}"
        )
    assert parse_form(form.as_json()) == form


@PROPERTY
@given(JSON)
def test_any_json_as_a_definition_is_a_form_or_invalid_input(definition):
    check_definition(definition)


@PROPERTY
@given(definitions(), st.data(), JSON | st.sampled_from(["abc\n", "a\n", "x" * 41, "Å", -1, 0, 10**20]))
def test_a_definition_with_any_part_replaced_is_a_form_or_invalid_input(definition, data, value):
    at = data.draw(st.sampled_from(paths(definition)))
    check_definition(replaced(definition, at, value))
