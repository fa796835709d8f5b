"""Composition roots: each function builds its collaborators once, on first use, never at import.

`composition_root` is `functools.cache` that also registers the root, so tests and the local runtime can
rebuild everything (new endpoint, new environment) with one `reset()`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from eservices_core import aws

_roots: list[Any] = []


def composition_root[T](build: Callable[[], T]) -> Callable[[], T]:
    cached = functools.cache(build)
    _roots.append(cached)
    return cached


def reset() -> None:
    for root in _roots:
        root.cache_clear()
    aws.reset_clients()
