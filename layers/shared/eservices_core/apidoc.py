"""What a route's code alone cannot tell the API description, declared next to the route.

`@described(...)` attaches a `RouteDoc` to a route's function: the query parameters it reads, the JSON body
it accepts, what it answers, and the problems it can answer beyond those its kind of route always can.
`infra/ops/openapi.py` reads it together with the resolver's own routes, the access policy of patient
routes and the template's routes and authorizers, and writes `openapi.json`. Plain data: importing this
module loads nothing, so it costs a function's cold start nothing.

Schemas are JSON Schema 2020-12 (OpenAPI 3.1). A schema used in several places is named once with
`component`, `contract` for a JSON Schema contract file kept in the repository, or `deferred` for one built
from the code's own definitions (contracts and deferred schemas are built by the generator, never at
runtime).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

Schema = dict[str, Any]
F = TypeVar("F", bound=Callable[..., Any])

ATTRIBUTE = "__route_doc__"
COMPONENTS: dict[str, Schema] = {}
CONTRACTS: dict[str, Path] = {}
DEFERRED: dict[str, Callable[[], Schema]] = {}


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def component(name: str, schema: Schema) -> Schema:
    """Name `schema` for the document; the reference to use in other schemas."""
    if COMPONENTS.setdefault(name, schema) != schema:
        raise ValueError(f"the schema {name} is defined twice, differently")
    return ref(name)


def contract(name: str, path: Path) -> Schema:
    """A JSON Schema contract file as a named schema (draft-07 `definitions` are hoisted by the generator)."""
    if CONTRACTS.setdefault(name, path) != path:
        raise ValueError(f"the contract {name} is defined twice, differently")
    return ref(name)


def deferred(name: str, build: Callable[[], Schema]) -> Schema:
    """A named schema built only when the document is generated (e.g. from a catalogue file)."""
    if DEFERRED.setdefault(name, build) is not build:
        raise ValueError(f"the schema {name} is defined twice")
    return ref(name)


@dataclass(frozen=True, slots=True)
class Query:
    """One query parameter a handler reads."""

    name: str
    schema: Schema
    description: str
    required: bool = False


@dataclass(frozen=True, slots=True)
class Link:
    """An OpenAPI link: how a value this route answers feeds another route (`operation` is its
    operationId, `<service>_<function name>`). Values are runtime expressions, e.g.
    `$response.body#/items/0/message_id` or `$request.path.patientId`."""

    name: str
    operation: str
    parameters: Mapping[str, str] = field(default_factory=dict)
    body: Mapping[str, str] | None = None


@dataclass(frozen=True, slots=True)
class RouteDoc:
    """`responses` maps each success status to its JSON body's schema (None: no body)."""

    responses: Mapping[int, Schema | None]
    query: tuple[Query, ...] = ()
    body: Schema | None = None
    body_required: bool = True
    path: Mapping[str, Schema] = field(default_factory=dict)  # path parameters narrower than a string
    problems: tuple[int, ...] = ()  # beyond 400 (input), 401, 403/404 (policy), 503 the generator adds
    idempotency_key: bool = False  # reads an Idempotency-Key header
    commission: bool = True  # a staff route that needs X-Commission-Id (False: who-am-I)
    storage: bool = True  # reads or writes a table or a bucket, so it can answer 503
    headers: Mapping[int, Mapping[str, str]] = field(default_factory=dict)  # status -> header -> description
    links: Mapping[int, tuple[Link, ...]] = field(default_factory=dict)  # status -> where its values lead


def described(
    responses: Mapping[int, Schema | None],
    *,
    query: tuple[Query, ...] = (),
    body: Schema | None = None,
    body_required: bool = True,
    path: Mapping[str, Schema] | None = None,
    problems: tuple[int, ...] = (),
    idempotency_key: bool = False,
    commission: bool = True,
    storage: bool = True,
    headers: Mapping[int, Mapping[str, str]] | None = None,
    links: Mapping[int, tuple[Link, ...]] | None = None,
) -> Callable[[F], F]:
    """Attach the route's `RouteDoc` to its function (put it below the route decorator)."""
    doc = RouteDoc(
        responses=responses,
        query=query,
        body=body,
        body_required=body_required,
        path=path or {},
        problems=problems,
        idempotency_key=idempotency_key,
        commission=commission,
        storage=storage,
        headers=headers or {},
        links=links or {},
    )

    def attach(func: F) -> F:
        setattr(func, ATTRIBUTE, doc)
        return func

    return attach


def route_doc(func: Callable[..., Any]) -> RouteDoc | None:
    """The `RouteDoc` of a registered function (also through `functools.wraps`, as patient routes are)."""
    doc = getattr(func, ATTRIBUTE, None)
    return doc if isinstance(doc, RouteDoc) else None


# ---- shapes every API shares -------------------------------------------------------------------------------
def nullable(schema: Schema) -> Schema:
    return {"anyOf": [schema, {"type": "null"}]}


def obj(properties: Mapping[str, Schema], *, optional: tuple[str, ...] = (), closed: bool = False) -> Schema:
    """An object with these properties, all required but `optional`; open to new properties unless `closed`
    (answers may grow; what a request may carry is closed where the code refuses unknown fields)."""
    schema: Schema = {
        "type": "object",
        "properties": dict(properties),
        "required": sorted(set(properties) - set(optional)),
    }
    if closed:
        schema["additionalProperties"] = False
    return schema


def page_of(item: Schema) -> Schema:
    return obj({"items": {"type": "array", "items": item}, "next_cursor": nullable(STRING)})


def items_of(item: Schema) -> Schema:
    return obj({"items": {"type": "array", "items": item}})


STRING: Schema = {"type": "string"}
TEXT: Schema = {"type": "string", "minLength": 1, "pattern": r"\S"}  # a non-blank text
DATE: Schema = {"type": "string", "format": "date"}
DATE_TIME: Schema = {"type": "string", "format": "date-time"}
HSA_ID: Schema = {
    "type": "string",
    "pattern": "^SE[0-9]{10}-[A-Za-z0-9]{1,18}$",
    "maxLength": 31,
    "description": "an HSA-ID",
}
BILINGUAL: Schema = component("Bilingual", obj({"sv": STRING, "en": STRING}))
LIMIT = Query(
    "limit", {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}, "Items per page, 1-100."
)
CURSOR = Query(
    "cursor",
    {"type": "string"},
    "The `next_cursor` of the previous page, with the same filters (empty or left out: the first page).",
)
PROBLEM: Schema = component(
    "Problem",
    {
        "type": "object",
        "description": "An RFC 9457 problem; `code` is the stable machine-readable name. Some problems carry "
        "extension members (e.g. `current_form_version`, `attempts_left`, `deadline_hours`).",
        "required": ["type", "code", "title", "status", "detail"],
        "properties": {
            "type": {"type": "string", "pattern": "^urn:eservices:problem:"},
            "code": STRING,
            "title": STRING,
            "status": {"type": "integer", "minimum": 400, "maximum": 599},
            "detail": STRING,
            "instance": STRING,
            "invalid_params": {
                "type": "array",
                "items": obj({"name": STRING, "reason": STRING}),
                "description": "Every offending input (400 only).",
            },
        },
    },
)
