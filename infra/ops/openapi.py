"""Generate openapi.json, the OpenAPI 3.1 description of the whole HTTP API, from the code.

    PYTHONPATH=layers/shared:infra .venv/bin/python -m ops.openapi            (or: make openapi)
    PYTHONPATH=layers/shared:infra .venv/bin/python -m ops.openapi --check    (exit 1 when out of date)

Nothing here is written by hand about an operation. The routes are template.yaml's HttpApi events (method,
path, function, authorizer); each function's handler module is imported and its Powertools resolver's
registered routes are read: the function's docstring gives the summary and description, the access policy
of a patient route (`EServiceResolver.patient_route`) gives the audience, the action and the problems the
policy answers, and the `@described` metadata next to the route (`eservices_core.apidoc`) gives the query
parameters, the request and response bodies, the headers and the other problems. The template and the code
must agree route for route, and every route must be described; otherwise this fails (exit 2) naming each
difference. The output is deterministic: sorted keys, 2-space indent.
"""

from __future__ import annotations

import argparse
import copy
import importlib
import inspect
import json
import re
import sys
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import ApiGatewayResolver

from eservices_core import apidoc
from eservices_core.apidoc import RouteDoc, Schema, route_doc
from eservices_core.routing import RESIDENT, STAFF, PatientRoute, template_path
from local_runtime.template import REPO_ROOT, Template

OUTPUT = REPO_ROOT / "openapi.json"
LOCAL_SERVER = "http://127.0.0.1:3000"
COMMISSION_HEADER = "X-Commission-Id"
IDEMPOTENCY_HEADER = "Idempotency-Key"
SUMMARY_LENGTH = 80
HTTP_STATUS_TEXT = {200: "OK", 201: "Created", 204: "No content"}
PROBLEM_RESPONSES = {
    400: ("BadRequest", "The request has invalid input: `invalid_params` names every offending input."),
    401: (
        "Unauthorized",
        'No valid token (the gateway\'s JWT authorizer answers `{"message": "Unauthorized"}`), or a token '
        "the code refuses (e.g. below the required assurance level: a problem).",
    ),
    403: ("Forbidden", "Not allowed: e.g. a commission without the purpose or role, a guardian for a child."),
    404: (
        "NotFound",
        "No such resource, or one the caller may not see (a patient they may not act for is answered "
        'exactly as a missing one). A path no route matches gets the gateway\'s `{"message": "Not Found"}`.',
    ),
    409: ("Conflict", "Conflicts with the current state; `code` says how (e.g. `idempotency-key-reused`)."),
    503: ("ServiceUnavailable", "A dependency is busy or failed; retry after `Retry-After` seconds."),
}
GATEWAY_MESSAGE = {"type": "object", "required": ["message"], "properties": {"message": {"type": "string"}}}


class Disagreement(Exception):
    """The template and the code do not describe the same routes (or a route is not described)."""


@dataclass(frozen=True)
class TemplateRoute:
    method: str
    path: str
    function: str
    authorizer: str | None


@dataclass(frozen=True)
class CodeRoute:
    method: str
    path: str  # as the template writes it
    func: Callable[..., Any]
    doc: RouteDoc | None
    patient: PatientRoute | None


def template_routes(template: Template) -> list[TemplateRoute]:
    """Every HttpApi event of every function, with its authorizer (as infra/local_runtime/gateway.py)."""
    apis = template.of_type("AWS::Serverless::HttpApi")
    routes = []
    for method, path, function, props in template.http_routes():
        api_id = props.get("ApiId", {}).get("Ref")
        default = apis.get(api_id, {}).get("Auth", {}).get("DefaultAuthorizer")
        authorizer = props.get("Auth", {}).get("Authorizer", default)
        routes.append(
            TemplateRoute(method, path, function, None if authorizer in (None, "NONE") else authorizer)
        )
    return routes


def handler_module(template: Template, function: str) -> ModuleType:
    """Import the function's handler module as Lambda would (its CodeUri is the import root)."""
    fn = template.functions[function]
    if str(fn.code_uri) not in sys.path:
        sys.path.insert(0, str(fn.code_uri))
    return importlib.import_module(fn.handler.rsplit(".", 1)[0])


def resolver_of(module: ModuleType) -> ApiGatewayResolver:
    found = [v for v in vars(module).values() if isinstance(v, ApiGatewayResolver)]
    if len(found) != 1:
        raise Disagreement(f"{module.__name__} must hold exactly one API resolver, found {len(found)}")
    return found[0]


def code_routes(app: ApiGatewayResolver) -> list[CodeRoute]:
    patient = {(p.method, p.path): p for p in getattr(app, "patient_routes", [])}
    routes = []
    for route in app._static_routes + app._dynamic_routes:
        path = template_path(route.path)
        routes.append(
            CodeRoute(
                route.method, path, route.func, route_doc(route.func), patient.get((route.method, path))
            )
        )
    return routes


# ---- the document -------------------------------------------------------------------------------------------
def build(template: Template | None = None) -> dict[str, Any]:
    template = template or Template()
    by_function: dict[str, list[TemplateRoute]] = {}
    for declared_route in template_routes(template):
        by_function.setdefault(declared_route.function, []).append(declared_route)
    differences: list[str] = []
    paths: dict[str, dict[str, Any]] = {}
    tags: dict[str, str] = {}
    for function, declared in sorted(by_function.items()):
        module = handler_module(template, function)
        service = module.__name__.split(".")[0]
        tags[service] = _first_paragraph(module.__doc__)
        handled = {(r.method, r.path): r for r in code_routes(resolver_of(module))}
        wanted = {(r.method, r.path): r for r in declared}
        differences += [
            f"{m} {p}: in template.yaml ({function}) but no route in {module.__name__}"
            for m, p in sorted(wanted.keys() - handled.keys())
        ]
        differences += [
            f"{m} {p}: a route in {module.__name__} but no HttpApi event of {function} in template.yaml"
            for m, p in sorted(handled.keys() - wanted.keys())
        ]
        for key in sorted(wanted.keys() & handled.keys()):
            route = handled[key]
            if route.doc is None:
                differences.append(
                    f"{key[0]} {key[1]}: {module.__name__}.{route.func.__name__} is not @described"
                )
                continue
            operation = _operation(service, route, route.doc, wanted[key])
            paths.setdefault(route.path, {})[route.method.lower()] = operation
    operation_ids = {op["operationId"] for ops in paths.values() for op in ops.values()}
    differences += [
        f"{method.upper()} {path}: link {name} leads to {link['operationId']}, which is no operation"
        for path, ops in paths.items()
        for method, op in ops.items()
        for response in op["responses"].values()
        for name, link in response.get("links", {}).items()
        if link["operationId"] not in operation_ids
    ]
    if differences:
        raise Disagreement("template.yaml and the code disagree:\n  " + "\n  ".join(differences))
    # A copy that shares nothing with the modules' schema constants: whoever changes the document (a fuzzer
    # resolving its references in place) cannot change the next one built.
    return copy.deepcopy(_document(template, tags, paths))


def _document(template: Template, tags: dict[str, str], paths: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
        "info": _info(),
        "servers": _servers(template),
        "tags": [{"name": name, "description": text} for name, text in sorted(tags.items())],
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": _schemas(),
            "responses": _problem_responses(),
            "securitySchemes": _security_schemes(template),
            "headers": {
                "Retry-After": {
                    "description": "Seconds to wait before retrying.",
                    "required": True,
                    "schema": {"type": "string", "pattern": "^[0-9]+$"},
                }
            },
        },
    }


def _servers(template: Template) -> list[dict[str, Any]]:
    stage = template.data["Parameters"]["Stage"]
    return [
        {"url": LOCAL_SERVER, "description": "the local runtime (`make run`)"},
        {
            "url": "https://{apiId}.execute-api.{region}.amazonaws.com/{stage}",
            "description": "a deployed stack (the HttpApi of template.yaml, its stage named by `Stage`)",
            "variables": {
                "apiId": {"default": "api-id"},
                "region": {"default": "eu-north-1"},
                "stage": {"default": stage["Default"], "enum": stage["AllowedValues"]},
            },
        },
    ]


def _operation(service: str, route: CodeRoute, doc: RouteDoc, declared: TemplateRoute) -> dict[str, Any]:
    summary, description = _docstring(route.func)
    staff = declared.authorizer is not None and route.path.startswith("/v1/staff")
    operation: dict[str, Any] = {
        "operationId": f"{service}_{route.func.__name__}",
        "summary": summary,
        "tags": [service],
        "security": [{declared.authorizer: []}] if declared.authorizer else [],
    }
    if description:
        operation["description"] = description
    parameters = _path_parameters(route.path, doc)
    parameters += [
        {
            "name": q.name,
            "in": "query",
            "required": q.required,
            "description": q.description,
            "schema": q.schema,
        }
        for q in doc.query
    ]
    if staff and doc.commission:
        parameters.append(
            {
                "name": COMMISSION_HEADER,
                "in": "header",
                "required": True,
                "description": "The commission (medarbetaruppdrag) the caller acts under: one of the ids "
                "GET /v1/staff/me lists. Checked against the HSA data on every request (rule 14).",
                "schema": {"type": "string", "minLength": 1},
            }
        )
    if doc.idempotency_key:
        parameters.append(
            {
                "name": IDEMPOTENCY_HEADER,
                "in": "header",
                "required": False,
                "description": "Makes a retry safe: the same key and body answer what the first request "
                "made (200); the same key with another body is 409 `idempotency-key-reused`.",
                "schema": {"type": "string", "pattern": "^[A-Za-z0-9._-]{1,128}$"},
            }
        )
    if parameters:
        operation["parameters"] = parameters
    if doc.body is not None:
        operation["requestBody"] = {
            "required": doc.body_required,
            "content": {"application/json": {"schema": doc.body}},
        }
    if route.patient is not None:
        operation["x-access-policy"] = _policy(route.patient)
    operation["responses"] = _responses(route, doc, declared, staff)
    return operation


def _path_parameters(path: str, doc: RouteDoc) -> list[dict[str, Any]]:
    parameters = []
    for name in re.findall(r"\{(\w+)\}", path):
        schema = doc.path.get(name, {"type": "string", "minLength": 1})
        parameter = {"name": name, "in": "path", "required": True, "schema": schema}
        if name == "patientId":
            parameter["description"] = (
                "The patient's opaque id (GET /v1/me, or a staff lookup); never a personal identity number."
            )
        parameters.append(parameter)
    return parameters


def _policy(patient: PatientRoute) -> dict[str, Any]:
    action = patient.action
    policy: dict[str, Any] = {
        "audience": patient.audience,
        "verb": action.verb.value,
        "resource": action.resource,
        "audited": True,
    }
    if patient.audience == RESIDENT:
        policy["guardians"] = action.guardians
    else:
        policy["purposes"] = sorted(action.purposes)
        if action.staff_role:
            policy["staff_role"] = action.staff_role
    return policy


def _problem_statuses(route: CodeRoute, doc: RouteDoc, declared: TemplateRoute, staff: bool) -> set[int]:
    statuses = set(doc.problems)
    if doc.body is not None or doc.query or doc.idempotency_key:
        statuses.add(400)
    if "{" in route.path:
        statuses.add(404)
    if declared.authorizer:
        statuses.add(401)
    if staff and doc.commission:
        statuses |= {400, 403}  # X-Commission-Id missing; a commission that does not allow the action
    if route.patient is not None:
        statuses.add(404)  # no such patient, or not one the caller may act for
        if route.patient.audience == RESIDENT and not route.patient.action.guardians:
            statuses.add(403)  # a guardian, for an action guardians may not take
        if route.patient.audience == STAFF:
            statuses.add(403)
    if doc.storage:
        statuses.add(503)
    return statuses


def _responses(route: CodeRoute, doc: RouteDoc, declared: TemplateRoute, staff: bool) -> dict[str, Any]:
    responses: dict[str, Any] = {}
    for status, schema in doc.responses.items():
        response: dict[str, Any] = {"description": HTTP_STATUS_TEXT.get(status, str(status))}
        if schema is not None:
            response["content"] = {"application/json": {"schema": schema}}
        links = doc.links.get(status)
        if links:
            response["links"] = {link.name: _link(link) for link in links}
        headers = doc.headers.get(status)
        if headers:
            response["headers"] = {
                name: {"description": text, "required": True, "schema": {"type": "string"}}
                for name, text in headers.items()
            }
        responses[str(status)] = response
    for status in sorted(_problem_statuses(route, doc, declared, staff)):
        responses[str(status)] = {"$ref": f"#/components/responses/{PROBLEM_RESPONSES[status][0]}"}
    return responses


def _link(link: apidoc.Link) -> dict[str, Any]:
    spec: dict[str, Any] = {"operationId": link.operation}
    if link.parameters:
        spec["parameters"] = dict(link.parameters)
    if link.body is not None:
        spec["requestBody"] = dict(link.body)
    return spec


def _problem_responses() -> dict[str, Any]:
    responses: dict[str, Any] = {}
    for status, (name, text) in PROBLEM_RESPONSES.items():
        content: dict[str, Any] = {"application/problem+json": {"schema": apidoc.PROBLEM}}
        if status in (401, 404):  # the gateway's own answers
            content["application/json"] = {"schema": GATEWAY_MESSAGE}
        response: dict[str, Any] = {"description": text, "content": content}
        if status == 503:
            response["headers"] = {"Retry-After": {"$ref": "#/components/headers/Retry-After"}}
        responses[name] = response
    return responses


def _security_schemes(template: Template) -> dict[str, Any]:
    schemes = {}
    parameters = template.data.get("Parameters", {})
    for api in template.of_type("AWS::Serverless::HttpApi").values():
        for name, spec in api.get("Auth", {}).get("Authorizers", {}).items():
            config = spec["JwtConfiguration"]
            issuer = config["issuer"].get("Ref", "")
            audience = [a.get("Ref", a) if isinstance(a, dict) else a for a in config["audience"]]
            about = parameters.get(issuer, {}).get("Description", issuer)
            text = (
                f"A JWT access token from the {about}: the HTTP API checks issuer (parameter `{issuer}`), "
                f"audience (parameter {', '.join(f'`{a}`' for a in audience)}), expiry and RS256 signature "
                "before any handler runs."
            )
            if "e-ID" in about:
                level = template.data.get("Globals", {}).get("Function", {}).get("Environment", {})
                minimum = level.get("Variables", {}).get("MINIMUM_RESIDENT_ASSURANCE")
                text += f" The code requires e-ID assurance level {minimum} or higher (rule 5)."
            else:
                text += (
                    " The code requires an HSA-ID and assurance level 3; staff routes name the commission "
                    f"in `{COMMISSION_HEADER}`."
                )
            schemes[name] = {"type": "http", "scheme": "bearer", "bearerFormat": "JWT", "description": text}
    return schemes


def _schemas() -> dict[str, Any]:
    schemas = copy.deepcopy(apidoc.COMPONENTS)
    for name, path in apidoc.CONTRACTS.items():
        schemas |= _hoisted(name, json.loads(path.read_text(encoding="utf-8")))
    for name, build_schema in apidoc.DEFERRED.items():
        schemas[name] = build_schema()
    return dict(sorted(schemas.items()))


def _hoisted(name: str, contract: Schema) -> dict[str, Schema]:
    """A draft-07 contract as components: its `definitions` become `<name>_<definition>`."""
    definitions = contract.pop("definitions", {})
    contract.pop("$schema", None)
    contract.pop("$id", None)

    def rewrite(value: Any) -> Any:
        if isinstance(value, dict):
            return {
                k: (
                    f"#/components/schemas/{name}_{v.removeprefix('#/definitions/')}"
                    if k == "$ref" and isinstance(v, str) and v.startswith("#/definitions/")
                    else rewrite(v)
                )
                for k, v in value.items()
            }
        if isinstance(value, list):
            return [rewrite(v) for v in value]
        return value

    hoisted = {name: rewrite(contract)}
    hoisted |= {f"{name}_{key}": rewrite(schema) for key, schema in definitions.items()}
    return hoisted


def _info() -> dict[str, Any]:
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return {
        "title": "Open patient e-services API",
        "version": project["version"],
        "license": {"name": project["license"], "identifier": project["license"]},
        "description": (
            "The HTTP API of the open patient e-services platform, generated from the code by "
            "`make openapi` (infra/ops/openapi.py): routes and authorizers from template.yaml, everything "
            "else from the handlers. Residents use an e-ID token, staff a SITHS token and a commission. "
            "A patient is addressed by an opaque id (GET /v1/me); every `/v1/patients/{patientId}/…` and "
            "`/v1/staff/patients/{patientId}/…` route is decided by one access policy and written to the "
            "PDL audit log (`x-access-policy`). Errors are RFC 9457 problems (`application/problem+json`)."
        ),
    }


def _docstring(func: Callable[..., Any]) -> tuple[str, str]:
    """The summary (the docstring's first sentence) and the description (the whole docstring, when longer)."""
    text = inspect.getdoc(func)
    if not text:
        return func.__name__.replace("_", " ").capitalize(), ""
    paragraphs = [" ".join(p.split()) for p in text.split("\n\n")]
    summary = re.split(r"(?<=\.)\s", paragraphs[0], maxsplit=1)[0].rstrip(".")
    if len(summary) > SUMMARY_LENGTH:  # a long first sentence: up to its first colon or semicolon
        head = re.split(r"(?<=[;:])\s", summary, maxsplit=1)[0].rstrip(";:")
        summary = head if head.count("(") == head.count(")") else summary
    whole = "\n\n".join(paragraphs)
    return summary, "" if whole.rstrip(".") == summary else whole


def _first_paragraph(text: str | None) -> str:
    return " ".join((text or "").split("\n\n")[0].split())


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


# ---- command ------------------------------------------------------------------------------------------------
def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ops.openapi",
        description="Write openapi.json from template.yaml and the handlers. Exit 0 written (or current), "
        "1 --check found it out of date, 2 the template and the code disagree.",
    )
    parser.add_argument("--check", action="store_true", help="only compare with the committed file")
    parser.add_argument(
        "--output", type=Path, default=OUTPUT, help=f"default: {OUTPUT.name} at the repo root"
    )
    args = parser.parse_args(argv)
    try:
        text = render(build())
    except Disagreement as error:
        print(error, file=sys.stderr)
        return 2
    current = args.output.read_text(encoding="utf-8") if args.output.exists() else None
    if args.check:
        if current != text:
            print(f"{args.output} is out of date: run `make openapi`", file=sys.stderr)
            return 1
        print(f"{args.output} is current")
        return 0
    if current == text:
        print(f"{args.output} is current")
        return 0
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output} ({text.count(chr(10))} lines, {len(json.loads(text)['paths'])} paths)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
