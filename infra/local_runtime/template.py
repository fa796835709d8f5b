"""Reads template.yaml (with its CloudFormation short-form tags) and answers what the local runtime needs.

Only the intrinsic functions the template uses are resolved; anything else fails loudly, so a template
change that the local runtime cannot follow is noticed at once instead of half-working.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = REPO_ROOT / "template.yaml"


class _Loader(yaml.SafeLoader):
    """SafeLoader that turns `!Ref X` into `{"Ref": "X"}` and `!Fn x` into `{"Fn::Fn": x}`."""


def _tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{suffix}": value}


_Loader.add_multi_constructor("!", _tag)


def load(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    data: dict[str, Any] = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)  # noqa: S506 - SafeLoader subclass
    return data


@dataclass(frozen=True)
class Function:
    logical_id: str
    handler: str
    code_uri: Path
    environment: dict[str, Any]
    events: dict[str, dict[str, Any]]
    timeout: int
    properties: dict[str, Any] = field(repr=False)


class Template:
    def __init__(
        self, data: dict[str, Any] | None = None, parameters: Mapping[str, str] | None = None
    ) -> None:
        self.data = data if data is not None else load()
        self.parameters = {
            name: str(spec.get("Default", "")) for name, spec in self.data.get("Parameters", {}).items()
        } | dict(parameters or {})

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        resources: dict[str, dict[str, Any]] = self.data["Resources"]
        return resources

    def of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {k: v.get("Properties", {}) for k, v in self.resources.items() if v["Type"] == resource_type}

    @cached_property
    def functions(self) -> dict[str, Function]:
        globals_ = self.data.get("Globals", {}).get("Function", {})
        result = {}
        for logical_id, props in self.of_type("AWS::Serverless::Function").items():
            env = dict(globals_.get("Environment", {}).get("Variables", {}))
            env.update(props.get("Environment", {}).get("Variables", {}))
            result[logical_id] = Function(
                logical_id=logical_id,
                handler=props["Handler"],
                code_uri=REPO_ROOT / props["CodeUri"],
                environment=env,
                events=props.get("Events", {}),
                timeout=int(props.get("Timeout", globals_.get("Timeout", 3))),
                properties=props,
            )
        return result

    def http_routes(self) -> list[tuple[str, str, str, dict[str, Any]]]:
        """(method, path, function logical id, event properties) for every HttpApi event."""
        routes = []
        for fn in self.functions.values():
            for event in fn.events.values():
                if event["Type"] == "HttpApi":
                    props = event.get("Properties", {})
                    routes.append((props["Method"].upper(), props["Path"], fn.logical_id, props))
        return routes

    def sqs_event_sources(self) -> list[tuple[str, dict[str, Any]]]:
        """(function logical id, event properties) for every SQS event source."""
        return [
            (fn.logical_id, event["Properties"])
            for fn in self.functions.values()
            for event in fn.events.values()
            if event["Type"] == "SQS"
        ]


Resolver = Callable[[str, str | None], Any]
_SUB = re.compile(r"\$\{([^}]+)\}")


def resolve(
    value: Any, lookup: Resolver, parameters: Mapping[str, str], conditions: Mapping[str, Any] | None = None
) -> Any:
    """Resolve Ref, Fn::GetAtt, Fn::Sub, Fn::Join and Fn::If (with the template's `conditions`: Fn::Equals,
    Fn::Not, Fn::And, Fn::Or, Condition); any other function fails loudly.

    `lookup(logical_id, attribute)` answers a resource's Ref (attribute None) or one of its attributes.
    """
    conditions = conditions or {}

    def again(inner: Any) -> Any:
        return resolve(inner, lookup, parameters, conditions)

    if isinstance(value, list):
        return [again(v) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) != 1:
        return {k: again(v) for k, v in value.items()}
    ((key, arg),) = value.items()
    if key == "Condition" and isinstance(arg, str):
        return bool(again(conditions[arg]))
    if key == "Fn::If":
        name, if_true, if_false = arg
        return again(if_true if again({"Condition": name}) else if_false)
    if key == "Fn::Equals":
        left, right = again(arg)
        return str(left) == str(right)
    if key == "Fn::Not":
        return not again(arg[0])
    if key in ("Fn::And", "Fn::Or"):
        values = [bool(again(a)) for a in arg]
        return all(values) if key == "Fn::And" else any(values)
    if key == "Ref":
        return _ref(arg, lookup, parameters)
    if key == "Fn::GetAtt":
        return lookup(arg[0], arg[1])
    if key == "Fn::Sub":
        text = arg if isinstance(arg, str) else arg[0]

        def sub(match: re.Match[str]) -> str:
            name = match.group(1)
            if "." in name:
                logical_id, attribute = name.split(".", 1)
                return str(lookup(logical_id, attribute))
            return str(_ref(name, lookup, parameters))

        return _SUB.sub(sub, text)
    if key == "Fn::Join":
        separator, parts = arg
        return separator.join(str(p) for p in again(parts))
    if key.startswith("Fn::"):
        raise NotImplementedError(
            f"the local runtime does not resolve {key}; extend infra/local_runtime/template.py"
        )
    return {key: again(arg)}


PSEUDO_PARAMETERS = {
    "AWS::Region": "eu-north-1",
    "AWS::AccountId": "123456789012",
    "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::StackName": "eservices-local",
}


def _ref(name: str, lookup: Resolver, parameters: Mapping[str, str]) -> Any:
    if name in parameters:
        return parameters[name]
    if name in PSEUDO_PARAMETERS:
        return PSEUDO_PARAMETERS[name]
    return lookup(name, None)
