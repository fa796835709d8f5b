"""What the e-service benchmarks (access, cases, booking) measure per request, one request at a time through the
gateway in-process against a local moto server over HTTP: handler time (median, p95, and its own time without
waiting on the emulator), DynamoDB round trips split into the access check, the audit write and the route's own
work, and the calls to other AWS services.
"""

from __future__ import annotations

import os
import statistics
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import Any

REQUESTS = int(os.environ.get("BENCH_REQUESTS", "100"))
OTHER_SERVICES = ("stepfunctions", "events", "s3", "sqs")
KINDS = ("access check", "audit", "route")  # of a DynamoDB round trip


@dataclass
class Operation:
    """One measured request at a time: `request()` what to send; `before()` and `after(body)` what puts the
    state back around it, outside the measurement."""

    request: Callable[[], dict[str, Any]]
    before: Callable[[], None] = lambda: None
    after: Callable[[Any], None] = lambda body: None


@dataclass
class Samples:
    """One entry per measured request."""

    ms: list[float] = field(default_factory=list)
    own_ms: list[float] = field(default_factory=list)  # without waiting on the emulator
    trips: list[Counter[str]] = field(default_factory=list)  # DynamoDB round trips by kind
    operations: list[Counter[str]] = field(default_factory=list)  # DynamoDB round trips by operation
    waited_ms: list[dict[str, float]] = field(default_factory=list)  # by kind, and "other"
    other_calls: list[dict[str, int]] = field(default_factory=list)  # by service

    def figures(self) -> dict[str, Any]:
        """Times, and the round trips of the request that made the most of each kind (DynamoDB only)."""
        worst = {kind: max(t[kind] for t in self.trips) for kind in KINDS}
        return {
            "median_ms": round(statistics.median(self.ms), 2),
            "p95_ms": round(statistics.quantiles(self.ms, n=20)[-1], 2),
            "own_median_ms": round(statistics.median(self.own_ms), 2),
            "round_trips": sum(worst.values()),
            "access_check_round_trips": worst["access check"],
            "audit_round_trips": worst["audit"],
            "route_round_trips": worst["route"],
            "other_calls": {
                svc: max(o.get(svc, 0) for o in self.other_calls)
                for svc in OTHER_SERVICES
                if any(svc in o for o in self.other_calls)
            },
        }

    def median_wait_ms(self, kind: str) -> float:
        return round(statistics.median(w.get(kind, 0.0) for w in self.waited_ms), 2)


def send(stack: Any, request: dict[str, Any]) -> Any:
    """The request through the stack's gateway; its JSON body, once its status is the one expected."""
    status, body = stack.call(
        request.get("method", "GET"),
        request["path"],
        token=request["token"],
        headers=request.get("headers"),
        body=request.get("body"),
        query=request.get("query", ""),
    )
    assert status == request.get("expect", 200), (request, status, body)
    return body


def measure(stack: Any, operation: Operation) -> Samples:
    """One warm-up request (the handler imported, the caller's patient id cached), then REQUESTS measured."""
    operation.before()
    operation.after(send(stack, operation.request()))
    samples = Samples()
    with counting(stack) as (calls, other, waited):
        for _ in range(REQUESTS):
            operation.before()
            calls.clear()
            other.clear()
            waited.clear()
            started = time.perf_counter()
            body = send(stack, operation.request())
            elapsed = time.perf_counter() - started
            samples.ms.append(elapsed * 1000)
            samples.own_ms.append((elapsed - sum(waited.values())) * 1000)
            samples.trips.append(Counter(call.split(":")[0] for call in calls))
            samples.operations.append(Counter(call.split(":")[1] for call in calls))
            samples.waited_ms.append({kind: seconds * 1000 for kind, seconds in waited.items()})
            samples.other_calls.append(dict(other))
            operation.after(body)
    return samples


def table_of(params: dict[str, Any]) -> str:
    """The table a DynamoDB request's parameters name."""
    if "TableName" in params:
        return str(params["TableName"])
    if "RequestItems" in params:
        return str(next(iter(params["RequestItems"])))
    first = params["TransactItems"][0]
    return str(next(iter(first.values()))["TableName"])


@contextmanager
def policy_marked(flag: list[bool]) -> Iterator[None]:
    """Mark the calls made inside the access policy's `authorize`, wherever a route calls it from."""
    import identity.api
    from eservices_core import routing

    original = routing.authorize

    def marked(*args: Any, **kwargs: Any) -> Any:
        flag[0] = True
        try:
            return original(*args, **kwargs)
        finally:
            flag[0] = False

    modules = [m for m in (identity.api, sys.modules.get("cases.api")) if m is not None]
    routing.authorize = marked
    for module in modules:
        module.authorize = marked  # type: ignore[attr-defined]
    try:
        yield
    finally:
        routing.authorize = original
        for module in modules:
            module.authorize = original  # type: ignore[attr-defined]


@contextmanager
def counting(stack: Any) -> Iterator[tuple[list[str], Counter[str], dict[str, float]]]:
    """DynamoDB round trips of the requesting thread by kind (access check, audit, route), its other AWS calls
    by service, and the time spent waiting on each (the calls of workflow tasks meanwhile are not counted)."""
    from eservices_core import aws

    audit_table = stack.ref("AuditTable")
    calls: list[str] = []  # "<kind>:<operation>"
    other: Counter[str] = Counter()
    waited: dict[str, float] = {}
    current, started, in_policy = [""], [0.0], [False]
    requester = threading.get_ident()

    def before(params: dict[str, Any], model: Any, **_: Any) -> None:
        if threading.get_ident() != requester:
            return
        if table_of(params) == audit_table:
            current[0] = "audit"
        else:
            current[0] = "access check" if in_policy[0] else "route"
        calls.append(f"{current[0]}:{model.name}")
        started[0] = time.perf_counter()

    def after(**_: Any) -> None:
        if threading.get_ident() == requester:
            waited[current[0]] = waited.get(current[0], 0.0) + time.perf_counter() - started[0]

    def other_before(model: Any, service: str = "", **_: Any) -> None:
        if threading.get_ident() == requester:
            other.update([service])
            started[0] = time.perf_counter()

    def other_after(**_: Any) -> None:
        if threading.get_ident() == requester:
            waited["other"] = waited.get("other", 0.0) + time.perf_counter() - started[0]

    with ExitStack() as watching:
        watching.enter_context(policy_marked(in_policy))
        watching.enter_context(aws.watching("dynamodb", "before-parameter-build", before))
        watching.enter_context(aws.watching("dynamodb", "after-call", after))
        for service in OTHER_SERVICES:
            watching.enter_context(
                aws.watching(service, "before-call", partial(other_before, service=service))
            )
            watching.enter_context(aws.watching(service, "after-call", other_after))
        yield calls, other, waited


def print_cold_import(module: str, ms: float, baseline_ms: float, ratio: float) -> None:
    """The cold-import table's header and the handler module's row beside the boto3 baseline."""
    print(f"{'cold import':32} {'ms':>8} {'baseline ms':>12} {'ratio':>7}")
    print(f"{module:32} {ms:8.1f} {baseline_ms:12.1f} {ratio:7.2f}")


def print_operations(warm: dict[str, dict[str, Any]], width: int) -> None:
    """One row per operation's figures (`Samples.figures`), `width` wide for its name."""
    print(
        f"\n{'operation':{width}} {'median':>7} {'p95':>7} {'own':>6} {'ddb trips':>9} {'check':>6} {'audit':>6} "
        f"{'route':>6}  other calls"
    )
    for name, w in warm.items():
        others = ", ".join(f"{k} {v}" for k, v in w["other_calls"].items()) or "-"
        print(
            f"{name:{width}} {w['median_ms']:7.2f} {w['p95_ms']:7.2f} {w['own_median_ms']:6.2f} {w['round_trips']:9d} "
            f"{w['access_check_round_trips']:6d} {w['audit_round_trips']:6d} {w['route_round_trips']:6d}  {others}"
        )
