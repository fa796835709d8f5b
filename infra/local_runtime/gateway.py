"""The HTTP API, locally: routes and authorizers from template.yaml, payload 2.0 events, real handlers."""

from __future__ import annotations

import base64
import json
import logging
import re
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from local_runtime.authorizer import JwtAuthorizer, Unauthorized
from local_runtime.functions import FunctionRunner

if TYPE_CHECKING:
    from local_runtime.idp import DevIdentityProvider
    from local_runtime.provision import Deployment

logger = logging.getLogger(__name__)


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    @classmethod
    def json(cls, status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
        return cls(
            status,
            {"Content-Type": "application/json"} | (headers or {}),
            json.dumps(body, ensure_ascii=False).encode(),
        )


@dataclass
class Route:
    method: str
    path: str
    function: str
    authorizer: str | None
    pattern: re.Pattern[str]

    @property
    def route_key(self) -> str:
        return f"{self.method} {self.path}"


def compile_path(path: str) -> re.Pattern[str]:
    regex = ""
    for part in re.split(r"(\{[^}]+\})", path):
        if part.startswith("{") and part.endswith("+}"):
            regex += f"(?P<{part[1:-2]}>.+)"
        elif part.startswith("{"):
            regex += f"(?P<{part[1:-1]}>[^/]+)"
        else:
            regex += re.escape(part)
    return re.compile(f"^{regex}$")


def template_routes(deployment: Deployment) -> list[Route]:
    """Every HttpApi event of every function in the template, with the authorizer it uses."""
    apis = deployment.template.of_type("AWS::Serverless::HttpApi")
    routes = []
    for method, path, function, props in deployment.template.http_routes():
        api_id = props.get("ApiId", {}).get("Ref")
        default = apis.get(api_id, {}).get("Auth", {}).get("DefaultAuthorizer")
        authorizer = props.get("Auth", {}).get("Authorizer", default)
        routes.append(
            Route(
                method,
                path,
                function,
                None if authorizer in (None, "NONE") else authorizer,
                compile_path(path),
            )
        )
    return routes


def template_authorizers(
    deployment: Deployment, idps: Iterable[DevIdentityProvider]
) -> dict[str, JwtAuthorizer]:
    """The template's JWT authorizers, each trusting the identity provider with its configured issuer."""
    authorizers = {}
    by_issuer = {idp.issuer: idp for idp in idps}
    for api in deployment.template.of_type("AWS::Serverless::HttpApi").values():
        for name, spec in api.get("Auth", {}).get("Authorizers", {}).items():
            config = deployment.resolve(spec["JwtConfiguration"])
            idp = by_issuer[config["issuer"]]
            authorizers[name] = JwtAuthorizer(name, config["issuer"], list(config["audience"]), idp.jwks)
    return authorizers


class Gateway:
    def __init__(
        self, routes: list[Route], authorizers: dict[str, JwtAuthorizer], runner: FunctionRunner
    ) -> None:
        # Static paths win over parameterised ones, as in API Gateway.
        self.routes = sorted(routes, key=lambda r: ("{" in r.path, r.path))
        self.authorizers = authorizers
        self.runner = runner
        self.local_routes: list[tuple[str, re.Pattern[str], Callable[..., Response]]] = []
        # What answers a request no route matches (the web client's files), before the 404; None passes.
        self.fallback: Callable[[str, str, dict[str, str]], Response | None] | None = None

    def add_local_route(self, method: str, path: str, handle: Callable[..., Response]) -> None:
        """Routes of the local runtime itself (health, development identity providers, login page)."""
        self.local_routes.append((method, compile_path(path), handle))

    def handle(
        self,
        method: str,
        raw_path: str,
        raw_query: str,
        headers: dict[str, str],
        body: bytes,
        source_ip: str = "127.0.0.1",
    ) -> Response:
        for local_method, pattern, handle in self.local_routes:
            match = pattern.match(raw_path)
            if match and local_method == method:
                return handle(body=body, headers=headers, query=raw_query, **match.groupdict())
        route, path_parameters = self._match(method, raw_path)
        if route is None:
            served = self.fallback(method, raw_path, headers) if self.fallback else None
            return served or Response.json(404, {"message": "Not Found"})
        claims = None
        if route.authorizer:
            try:
                claims = self.authorizers[route.authorizer].authorize(headers)
            except Unauthorized as reason:
                logger.info("401 from %s on %s: %s", route.authorizer, route.route_key, reason)
                return Response.json(401, {"message": "Unauthorized"}, {"WWW-Authenticate": "Bearer"})
        event = http_api_event(
            route.route_key, method, raw_path, raw_query, headers, body, path_parameters, claims, source_ip
        )
        try:
            result = self.runner.invoke(route.function, event)
        except Exception:
            logger.exception("%s raised", route.function)
            return Response.json(500, {"message": "Internal Server Error"})
        return self._response(result)

    def _match(self, method: str, path: str) -> tuple[Route | None, dict[str, str]]:
        for route in self.routes:
            if route.method in (method, "ANY"):
                match = route.pattern.match(path)
                if match:
                    return route, match.groupdict()
        return None, {}

    @staticmethod
    def _response(result: Any) -> Response:
        if not isinstance(result, dict) or "statusCode" not in result:
            return Response.json(200, result)
        body = result.get("body") or ""
        raw = base64.b64decode(body) if result.get("isBase64Encoded") else str(body).encode()
        headers = {str(k): str(v) for k, v in (result.get("headers") or {}).items()}
        for name, values in (result.get("multiValueHeaders") or {}).items():
            headers[name] = ",".join(str(v) for v in values)
        if result.get("cookies"):
            headers["Set-Cookie"] = "; ".join(result["cookies"])
        return Response(int(result["statusCode"]), headers, raw)


def http_api_event(
    route_key: str,
    method: str,
    raw_path: str,
    raw_query: str,
    headers: dict[str, str],
    body: bytes,
    path_parameters: dict[str, str],
    claims: dict[str, str] | None,
    source_ip: str,
) -> dict[str, Any]:
    """An HTTP API payload 2.0 event, as API Gateway hands it to a Lambda function."""
    now = datetime.now(UTC)
    query: dict[str, str] = {}
    for key, value in parse_qsl(raw_query, keep_blank_values=True):
        query[key] = f"{query[key]},{value}" if key in query else value
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": raw_path,
        "rawQueryString": raw_query,
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": headers.get("host", "localhost"),
            "domainPrefix": "local",
            "http": {
                "method": method,
                "path": raw_path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": headers.get("user-agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": route_key,
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(time.time() * 1000),
        },
        "isBase64Encoded": False,
    }
    if "cookie" in headers:
        event["cookies"] = [c.strip() for c in headers["cookie"].split(";")]
    if query:
        event["queryStringParameters"] = query
    if path_parameters:
        event["pathParameters"] = path_parameters
    if claims is not None:
        event["requestContext"]["authorizer"] = {"jwt": {"claims": claims, "scopes": None}}
    if body:
        try:
            event["body"] = body.decode("utf-8")
        except UnicodeDecodeError:
            event["body"], event["isBase64Encoded"] = base64.b64encode(body).decode(), True
    return event
