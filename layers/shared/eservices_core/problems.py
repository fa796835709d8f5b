"""The one mapping from errors to HTTP: RFC 9457 `application/problem+json` responses."""

from __future__ import annotations

import json
import traceback
from typing import TYPE_CHECKING, Any

from eservices_core.errors import DomainError, InvalidInput, ServiceUnavailable

if TYPE_CHECKING:
    from aws_lambda_powertools import Logger
    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "urn:eservices:problem:"


def problem_body(error: DomainError, instance: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + error.code,
        "code": error.code,
        "title": error.title,
        "status": error.status,
        "detail": error.detail,
    }
    if instance:
        body["instance"] = instance
    if isinstance(error, InvalidInput) and error.invalid_params:
        body["invalid_params"] = [{"name": p.name, "reason": p.reason} for p in error.invalid_params]
    body.update(error.extensions)
    return body


def problem_response(error: DomainError, instance: str | None = None) -> Response[str]:
    from aws_lambda_powertools.event_handler import Response

    headers: dict[str, str] = {}
    if isinstance(error, ServiceUnavailable):
        headers["Retry-After"] = str(error.retry_after)
    return Response(
        status_code=error.status,
        content_type=PROBLEM_CONTENT_TYPE,
        body=json.dumps(problem_body(error, instance), ensure_ascii=False),
        headers=headers,
    )


class _RouteNotFound(DomainError):
    status = 404
    code = "route-not-found"
    title = "No such resource"


def install_problem_handlers(app: APIGatewayHttpResolver, logger: Logger) -> None:
    """Map every error a route can raise to a problem response. Unknown failures become an opaque 500."""

    def path() -> str:
        return str(app.current_event.raw_path)

    @app.exception_handler(DomainError)  # type: ignore[untyped-decorator]
    def _domain(error: DomainError) -> Response[str]:
        if error.status >= 500:
            logger.warning("request failed", extra={"problem": error.code, "detail": error.detail})
        return problem_response(error, path())

    @app.not_found
    def _not_found(_: Exception) -> Response[str]:
        return problem_response(_RouteNotFound("No route matches this method and path"), path())

    @app.exception_handler(Exception)  # type: ignore[untyped-decorator]
    def _unexpected(error: Exception) -> Response[str]:
        # The type and where it was raised, never the message: an unknown error's text may carry personal data.
        frames = [
            f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno} {f.name}"
            for f in traceback.extract_tb(error.__traceback__)
        ]
        logger.error("unhandled error", extra={"error_type": type(error).__name__, "frames": frames[-10:]})
        return problem_response(DomainError("The request could not be completed"), path())
