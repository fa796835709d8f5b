"""Typed domain errors. Each carries its HTTP status and problem type; `problems` maps them in one place."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar


@dataclass(frozen=True, slots=True)
class InvalidParam:
    """One offending input: the RFC 9457 `invalid-params` extension member."""

    name: str
    reason: str


class DomainError(Exception):
    """Base of every error a caller can be told about. `code` is the stable machine-readable name."""

    status: ClassVar[int] = 500
    code: ClassVar[str] = "internal-error"
    title: ClassVar[str] = "Internal error"

    def __init__(self, detail: str, **extensions: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extensions = extensions


class InvalidInput(DomainError):
    status = 400
    code = "invalid-input"
    title = "The request has invalid input"

    def __init__(self, detail: str, invalid_params: list[InvalidParam] | None = None) -> None:
        super().__init__(detail)
        self.invalid_params = invalid_params or []

    @classmethod
    def for_param(cls, name: str, reason: str) -> InvalidInput:
        return cls(f"{name} {reason}", [InvalidParam(name, reason)])


class Unauthenticated(DomainError):
    status = 401
    code = "unauthenticated"
    title = "Authentication is required"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"
    title = "Not allowed"


class NotFound(DomainError):
    status = 404
    code = "not-found"
    title = "Not found"


class Conflict(DomainError):
    status = 409
    code = "conflict"
    title = "Conflicts with the current state"


class ServiceUnavailable(DomainError):
    """A dependency failed or throttled; the caller may retry after `retry_after` seconds."""

    status = 503
    code = "service-unavailable"
    title = "Temporarily unavailable"

    def __init__(self, detail: str, retry_after: int = 1) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class ConfigurationError(RuntimeError):
    """The deployment is wrong (a missing or malformed setting): fail loudly, never default silently."""
