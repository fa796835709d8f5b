"""The local runtime serves concurrent requests in one process: each handler must see its own event."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

from local_runtime import powertools_patches
from local_runtime.functions import LambdaContext
from tests.support.events import http_event

NO_CONTEXT: Any = LambdaContext("echo")


def test_concurrent_invocations_each_see_their_own_event():
    powertools_patches.install()
    app = APIGatewayHttpResolver()
    arrived = threading.Barrier(8)

    @app.get("/v1/echo/<n>")
    def echo(n: str) -> dict[str, str]:
        arrived.wait(timeout=5)  # all eight are inside a handler at once
        time.sleep(0.01)
        app.append_context(n=n)
        return {"n": n, "path": app.current_event.path, "context": app.context["n"]}

    def call(n: int) -> dict[str, str]:
        result = app.resolve(http_event("GET", f"/v1/echo/{n}", route_key="GET /v1/echo/{n}"), NO_CONTEXT)
        return json.loads(result["body"])

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(call, range(8)))

    assert answers == [{"n": str(n), "path": f"/v1/echo/{n}", "context": str(n)} for n in range(8)]
