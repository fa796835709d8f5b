"""The local runtime resolves the template's intrinsic functions as CloudFormation would, conditions included."""

from __future__ import annotations

import pytest

from local_runtime.template import resolve

CONDITIONS = {
    "HasDomain": {"Fn::Not": [{"Fn::Equals": [{"Ref": "Domain"}, ""]}]},
    "HasBoth": {"Fn::And": [{"Condition": "HasDomain"}, {"Fn::Equals": [{"Ref": "Stage"}, "prod"]}]},
    "HasEither": {"Fn::Or": [{"Condition": "HasDomain"}, {"Fn::Equals": [{"Ref": "Stage"}, "prod"]}]},
}


def origin(parameters: dict[str, str], condition: str = "HasDomain") -> object:
    value = {"Fn::If": [condition, {"Fn::Sub": "https://${Domain}"}, "*"]}
    return resolve(value, lambda *_: pytest.fail("no resource is looked up"), parameters, CONDITIONS)


@pytest.mark.parametrize(
    ("domain", "stage", "has_domain", "has_both", "has_either"),
    [
        ("", "dev", "*", "*", "*"),
        ("e.example.se", "dev", "https://e.example.se", "*", "https://e.example.se"),
        ("", "prod", "*", "*", "https://"),
        ("e.example.se", "prod", "https://e.example.se", "https://e.example.se", "https://e.example.se"),
    ],
)
def test_fn_if_follows_its_condition(domain, stage, has_domain, has_both, has_either):
    parameters = {"Domain": domain, "Stage": stage}
    assert origin(parameters) == has_domain
    assert origin(parameters, "HasBoth") == has_both
    assert origin(parameters, "HasEither") == has_either


def test_an_unknown_condition_fails_loudly():
    with pytest.raises(KeyError):
        origin({"Domain": ""}, "Nowhere")
