"""Configuration comes only from the environment variables the template sets, read here, failing loudly."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Self

from eservices_core.errors import ConfigurationError

# The local runtime runs many functions in one process; each invocation sees its own function's variables.
_function_environment: ContextVar[Mapping[str, str] | None] = ContextVar("function_environment", default=None)


@contextmanager
def function_environment(variables: Mapping[str, str]) -> Iterator[None]:
    """Within this block (this thread or task only), settings come from `variables` instead of os.environ."""
    token = _function_environment.set(variables)
    try:
        yield
    finally:
        _function_environment.reset(token)


def require(name: str, environ: Mapping[str, str] | None = None) -> str:
    """The value of setting `name`; a missing or empty value is a deployment error, never a default."""
    if environ is None:
        environ = _function_environment.get() or os.environ
    value = environ.get(name, "")
    if not value.strip():
        raise ConfigurationError(f"environment variable {name} is not set; the template must define it")
    return value


def require_int(name: str, environ: Mapping[str, str] | None = None) -> int:
    raw = require(name, environ)
    try:
        return int(raw)
    except ValueError:
        raise ConfigurationError(f"environment variable {name} must be an integer, got {raw!r}") from None


def optional(name: str, environ: Mapping[str, str] | None = None) -> str | None:
    """The value of a setting the template may leave empty (a feature not deployed), or None."""
    if environ is None:
        environ = _function_environment.get() or os.environ
    return environ.get(name, "").strip() or None


_READERS: dict[str, Callable[[str], Any]] = {"str": require, "int": require_int, "str | None": optional}


def setting(variable: str) -> Any:
    """A field of a `Settings` dataclass, read from environment variable `variable` (as its type says: `str` and
    `int` are required, `str | None` may be left empty)."""
    return dataclasses.field(metadata={"variable": variable})


class Settings:
    """Base of an e-service's settings dataclasses (declared with `from __future__ import annotations`)."""

    __slots__ = ()

    @classmethod
    def from_env(cls) -> Self:
        values = {}
        for field in dataclasses.fields(cls):  # type: ignore[arg-type]
            reader = _READERS.get(str(field.type))
            if reader is None:
                raise ConfigurationError(f"{cls.__name__}.{field.name}: a setting is str, int or str | None")
            values[field.name] = reader(field.metadata["variable"])
        return cls(**values)
