"""The e2e tests talk over HTTP to a local runtime started in-process on free ports, with its demo data."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from local_runtime.runtime import LocalRuntime, free_port
from tests.e2e.web_support import browser, new_page, web_dist  # noqa: F401 - the browser tests' fixtures


@pytest.fixture(scope="module")
def runtime() -> Iterator[LocalRuntime]:
    rt = LocalRuntime(port=free_port(), aws_port=free_port(), poll_interval=0.05)
    with rt.running():
        rt.wait_until_loaded(timeout=120)
        yield rt
