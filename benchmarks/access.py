"""`make bench` (part 3): what the access policy and the PDL audit log add to every patient-scoped request.

- cold import of the identity API and feed handlers beside the boto3 baseline (fresh interpreters, median);
- per operation, through the gateway in-process against a local moto server over HTTP: handler time (median,
  p95), and the DynamoDB round trips split into the access check (identity table), the audit write (audit
  table) and the route's own work, with the time spent waiting on each;
- the added cost of the policy: the same read (`GET /v1/patients/{id}`) with the access check and audit
  append timed apart from the rest of the handler.
Figures go to stdout and benchmarks/results/access.json.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import date
from functools import partial
from typing import Any

from benchmarks.emulator import ROOT, child_environment, local_aws
from benchmarks.run import IMPORT, median_of

REQUESTS = int(os.environ.get("BENCH_REQUESTS", "100"))
OTHER_SERVICES = ("stepfunctions", "events", "s3", "sqs")


def main() -> None:
    with local_aws("identity"):
        import boto3

        from local_runtime.provision import provision
        from local_runtime.template import Template
        from tests.support.aws import Stack

        stack = Stack(provision(Template(), boto3.session.Session()))
        env = child_environment(stack.deployment.function_environment("IdentityApiFunction"), "identity")
        cold = {
            "identity_api_import_ms": median_of(IMPORT.format(module="identity.api"), env),
            "identity_feeds_import_ms": median_of(IMPORT.format(module="identity.feeds"), env),
            "baseline_import_ms": median_of(IMPORT.format(module="benchmarks.baseline_handler"), env),
        }
        cold["identity_api_ratio"] = cold["identity_api_import_ms"] / cold["baseline_import_ms"]
        operations = _operations(stack)
        warm = {name: _measure(stack, request) for name, request in operations.items()}
    report = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "requests": REQUESTS,
        "cold": cold,
        "warm": warm,
    }
    out = ROOT / "benchmarks/results/access.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    _print(report)
    print(f"\nwritten to {out.relative_to(ROOT)}")


def _operations(stack: Any) -> dict[str, dict[str, Any]]:
    """A family and a staff member through the feeds; one request per operation a user makes."""
    from tests.support.people import World

    world = World(stack, date.today())
    anna = world.resident("Anna Demobänk")
    liv = world.resident("Liv Demobänk", age=8)
    world.guardianship(anna, liv)
    nurse = world.staff("Sara Demobänk")
    child = world.patient_id(liv)
    staff = {"token": world.staff_token(nurse), "headers": {"X-Commission-Id": nurse.commission_ids[0]}}
    return {
        "GET /v1/me (guardian of 1)": {"token": world.token(anna), "path": "/v1/me"},
        "GET /v1/patients/{id} (self)": {"token": world.token(liv), "path": f"/v1/patients/{child}"},
        "GET /v1/patients/{id} (guardian)": {"token": world.token(anna), "path": f"/v1/patients/{child}"},
        "GET …/access-log (guardian)": {
            "token": world.token(anna),
            "path": f"/v1/patients/{child}/access-log",
        },
        "GET /v1/staff/me": {"token": world.staff_token(nurse), "path": "/v1/staff/me"},
        "POST /v1/staff/patient-lookups": {
            **staff,
            "method": "POST",
            "path": "/v1/staff/patient-lookups",
            "body": {"personal_identity_number": liv.personnummer},
        },
        "GET /v1/staff/patients/{id}/guardians": {**staff, "path": f"/v1/staff/patients/{child}/guardians"},
    }


def _table_of(params: dict[str, Any]) -> str:
    if "TableName" in params:
        return str(params["TableName"])
    if "RequestItems" in params:
        return str(next(iter(params["RequestItems"])))
    first = params["TransactItems"][0]
    return str(next(iter(first.values()))["TableName"])


@contextmanager
def _policy_marked(flag: list[bool]) -> Iterator[None]:
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


def _measure(stack: Any, request: dict[str, Any]) -> dict[str, Any]:
    from eservices_core import aws

    audit_table = stack.ref("AuditTable")
    calls: list[str] = []
    waited: dict[str, float] = {}
    current = [""]
    started_call = [0.0]
    in_policy = [False]

    requester = threading.get_ident()  # count the request's calls, not those of workflow tasks meanwhile

    def before(params: dict[str, Any], **_: Any) -> None:
        if threading.get_ident() != requester:
            return
        if _table_of(params) == audit_table:
            current[0] = "audit"
        else:
            current[0] = "access check" if in_policy[0] else "route"
        calls.append(current[0])
        started_call[0] = time.perf_counter()

    def after(**_: Any) -> None:
        if threading.get_ident() != requester:
            return
        waited[current[0]] = waited.get(current[0], 0.0) + time.perf_counter() - started_call[0]

    other: Counter[str] = Counter()

    def call() -> int:
        status, _ = stack.call(
            request.get("method", "GET"),
            request["path"],
            token=request["token"],
            headers=request.get("headers"),
            body=request.get("body"),
            query=request.get("query", ""),
        )
        return status

    expected = request.get("expect", 200)
    assert call() == expected
    times, own, trips, audit_ms, check_ms, others = [], [], [], [], [], []
    with ExitStack() as watching:
        watching.enter_context(_policy_marked(in_policy))
        watching.enter_context(aws.watching("dynamodb", "before-parameter-build", before))
        watching.enter_context(aws.watching("dynamodb", "after-call", after))
        other_started = [0.0]

        def other_before(model: Any, service: str = "", **_: Any) -> None:
            if threading.get_ident() == requester:
                other.update([service])
                other_started[0] = time.perf_counter()

        def other_after(**_: Any) -> None:
            if threading.get_ident() == requester:
                waited["other"] = waited.get("other", 0.0) + time.perf_counter() - other_started[0]

        for service in OTHER_SERVICES:
            watching.enter_context(
                aws.watching(service, "before-call", partial(other_before, service=service))
            )
            watching.enter_context(aws.watching(service, "after-call", other_after))
        for _ in range(REQUESTS):
            calls.clear()
            waited.clear()
            other.clear()
            started = time.perf_counter()
            assert call() == expected
            elapsed = time.perf_counter() - started
            times.append(elapsed * 1000)
            own.append((elapsed - sum(waited.values())) * 1000)
            trips.append(Counter(calls))
            audit_ms.append(waited.get("audit", 0.0) * 1000)
            check_ms.append(waited.get("access check", 0.0) * 1000)
            others.append(dict(other))
    worst = {k: max(t[k] for t in trips) for k in ("access check", "audit", "route")}  # DynamoDB only
    return {
        "median_ms": round(statistics.median(times), 2),
        "p95_ms": round(statistics.quantiles(times, n=20)[-1], 2),
        "own_median_ms": round(statistics.median(own), 2),
        "round_trips": sum(worst.values()),
        "access_check_round_trips": worst["access check"],
        "audit_round_trips": worst["audit"],
        "route_round_trips": worst["route"],
        "other_calls": {
            svc: max(o.get(svc, 0) for o in others) for svc in OTHER_SERVICES if any(svc in o for o in others)
        },
        "access_check_wait_median_ms": round(statistics.median(check_ms), 2),
        "audit_wait_median_ms": round(statistics.median(audit_ms), 2),
    }


def _print(report: dict[str, Any]) -> None:
    c = report["cold"]
    print("\nAccess policy and PDL audit benchmark (identity e-service)\n")
    print(f"{'cold import':32} {'ms':>8} {'baseline ms':>12} {'ratio':>7}")
    print(
        f"{'identity.api':32} {c['identity_api_import_ms']:8.1f} {c['baseline_import_ms']:12.1f} {c['identity_api_ratio']:7.2f}"
    )
    print(f"{'identity.feeds':32} {c['identity_feeds_import_ms']:8.1f}")
    print(
        f"\n{'operation':38} {'median':>7} {'p95':>7} {'own':>6} {'trips':>6} {'check':>6} {'audit':>6} "
        f"{'route':>6} {'check ms':>9} {'audit ms':>9}"
    )
    for name, w in report["warm"].items():
        print(
            f"{name:38} {w['median_ms']:7.2f} {w['p95_ms']:7.2f} {w['own_median_ms']:6.2f} {w['round_trips']:6d} "
            f"{w['access_check_round_trips']:6d} {w['audit_round_trips']:6d} {w['route_round_trips']:6d} "
            f"{w['access_check_wait_median_ms']:9.2f} {w['audit_wait_median_ms']:9.2f}"
        )
    print(
        "(ms through the gateway in-process, against a local moto server over HTTP; 'own' leaves out waiting on "
        "it; 'check'/'audit' columns: round trips and waiting time of the access check and the audit append)"
    )


if __name__ == "__main__":
    main()
