"""Properties of case form answers (cases.forms) over the national catalogue's forms (cases/catalogue) and forms
generated from the definition format: an answer of the wrong type is refused with an error naming exactly that
field, and no JSON whatever, as answers or as a definition, raises anything but the typed 400 error.

Answers drawn from a form's definition being accepted, and a single mistake (a missing required answer, a text
over its limit, an option not offered...) being refused naming exactly that field, are properties in
test_case_forms; the strategies are in tests.support.forms."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from cases.forms import ID_PATTERN, Field, FieldType, Form, parse_form, validate_answers
from eservices_core.errors import InvalidInput
from tests.support.forms import FORMS, answers_for, form_definitions, refusal

PROPERTY = settings(max_examples=200, deadline=None, derandomize=True)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)


def outcome(call: Any, *args: Any) -> tuple[Any, InvalidInput | None]:
    """(what the call returned, None), or (None, the InvalidInput it raised); anything else propagates."""
    try:
        return call(*args), None
    except InvalidInput as error:
        return None, error


def names(error: InvalidInput) -> list[str]:
    return [p.name for p in error.invalid_params]


# ---- answers ----------------------------------------------------------------------------------------------------------
@st.composite
def answered_independent_field(draw: st.DrawFn) -> tuple[Form, dict[str, Any], Field]:
    """A form, answers that satisfy it, and an answered field no other question depends on (changing its answer
    changes nothing else)."""
    form = draw(FORMS)
    answers = draw(answers_for(form))
    depended_on = {f.when.field for f in form.fields if f.when is not None}
    fields = [f for f in form.fields if f.id in answers and f.id not in depended_on]
    assume(fields)
    return form, answers, draw(st.sampled_from(fields))


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
    form, answers, field = data.draw(answered_independent_field())
    wrong = data.draw(st.sampled_from(WRONG_TYPES[field.type]))
    error = refusal(validate_answers, form, answers | {field.id: wrong})
    assert names(error) == [f"answers.{field.id}"]
    assert error.invalid_params[0].reason.startswith("must ")


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
@given(answered_independent_field(), JSON)
def test_any_json_in_place_of_one_answer_is_accepted_or_refused_naming_that_field(answered, value):
    form, answers, field = answered
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
@given(form_definitions(), st.data(), JSON | st.sampled_from(["abc\n", "a\n", "x" * 41, "Å", -1, 0, 10**20]))
def test_a_definition_with_any_part_replaced_is_a_form_or_invalid_input(definition, data, value):
    at = data.draw(st.sampled_from(paths(definition)))
    check_definition(replaced(definition, at, value))
