"""Powertools keeps the current event and Lambda context on its router class (`BaseRouter.current_event`,
set in `resolve`) and the per-call `context` on the resolver: safe in Lambda, where one process serves one
invocation at a time, but the local runtime serves concurrent requests in one process, and a handler could
read another request's event (seen: a booking POST answered with the body of a concurrent GET). This makes
that state per thread, as each invocation runs on a thread of its own."""

from __future__ import annotations

import threading
from typing import Any

_local = threading.local()
_NAMES = ("current_event", "lambda_context")


def _per_thread(name: str) -> property:
    def get(_owner: Any) -> Any:
        try:
            return getattr(_local, name)
        except AttributeError:
            raise AttributeError(name) from None

    def set_(_owner: Any, value: Any) -> None:
        setattr(_local, name, value)

    return property(get, set_)


def install() -> None:
    """Idempotent: instance reads and class-level writes of the router's state go to this thread's slot."""
    from aws_lambda_powertools.event_handler import api_gateway

    base = api_gateway.BaseRouter
    if isinstance(base.__dict__.get("current_event"), property):
        return
    for name in _NAMES:
        setattr(base, name, _per_thread(name))
    meta = type(base)
    base.__class__ = type("PerThreadRouterMeta", (meta,), {n: _per_thread(n) for n in _NAMES})  # type: ignore[method-assign]

    def context_get(self: Any) -> dict[str, Any]:
        contexts: dict[int, dict[str, Any]] = _local.__dict__.setdefault("contexts", {})
        return contexts.setdefault(id(self), {})

    def context_set(self: Any, value: dict[str, Any]) -> None:
        _local.__dict__.setdefault("contexts", {})[id(self)] = value

    api_gateway.ApiGatewayResolver.context = property(context_get, context_set)  # type: ignore[assignment]
