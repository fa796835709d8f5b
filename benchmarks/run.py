"""`make bench`: what the directory costs at cold start and per warm request, reproducibly on one machine.

- cold import: a fresh interpreter imports the handler module (median of RUNS), beside the baseline module
  that imports boto3 and creates a DynamoDB client, measured in the same run; the ratio is printed.
- cold first request: a fresh interpreter imports the handler and serves one search against a local moto
  server (boto3 import and client creation happen here, lazily), beside the baseline making one call.
- warm: handler time per search kind (median, p95) and DynamoDB round trips per request, in-process
  against the same moto server over HTTP (so each round trip includes a loopback HTTP exchange).
Figures go to stdout as a table and to benchmarks/results/directory.json.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from typing import Any

from benchmarks.emulator import child_environment, local_aws, write_results

RUNS = int(os.environ.get("BENCH_RUNS", "9"))
UNITS = int(os.environ.get("BENCH_UNITS", "3000"))
WARM_REQUESTS = int(os.environ.get("BENCH_REQUESTS", "100"))
SEARCHES = {
    "by name": "q=vardcentral",
    "by name + region": "q=tandvard&region=12",
    "by region": "region=14",
    "by municipality + kind": "municipality=0180&kind=primary_care",
    "near (20 km)": "near=59.3293,18.0686",
    "near (50 km) + text": "near=57.7089,11.9746&radius_km=50&q=bvc",
}


def child(code: str, env: dict[str, str]) -> float:
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def median_of(code: str, env: dict[str, str]) -> float:
    child(code, env)  # the first run writes bytecode caches, as a deployment package built by sam build has
    return statistics.median(child(code, env) for _ in range(RUNS))


IMPORT = "import time; t=time.perf_counter(); import {module}; print((time.perf_counter()-t)*1000)"
FIRST_REQUEST = (
    "import time; t=time.perf_counter(); import {module} as m; "
    "m.handler({event!r}, type('C', (), {{'function_name': 'bench', 'memory_limit_in_mb': 1024, "
    "'invoked_function_arn': 'arn:aws:lambda:eu-north-1:123456789012:function:bench', 'aws_request_id': 'r'}})()); "
    "print((time.perf_counter()-t)*1000)"
)


def main() -> None:
    with local_aws("directory"):
        import boto3

        from local_runtime.functions import FunctionRunner
        from local_runtime.generate import catalogue, feed
        from local_runtime.poller import event_sources
        from local_runtime.provision import provision
        from local_runtime.template import Template

        deployment = provision(Template(), boto3.session.Session())
        api_env = deployment.function_environment("DirectoryApiFunction")
        load_started = time.perf_counter()
        runner = FunctionRunner(deployment)
        # The catalogue through the real queue and the feed function, as in the national test.
        [feed_source] = [
            s for fn, s in event_sources(deployment, runner.invoke) if fn == "DirectoryFeedFunction"
        ]
        feed_source.deliver(feed(catalogue(UNITS, seed=42)))
        load_seconds = time.perf_counter() - load_started

        env = child_environment(api_env, "directory")
        from tests.support.events import http_event  # the canonical HTTP API event

        event = http_event("GET", "/v1/clinics", SEARCHES["by name"])
        cold = {
            "handler_import_ms": median_of(IMPORT.format(module="directory.api"), env),
            "baseline_import_ms": median_of(IMPORT.format(module="benchmarks.baseline_handler"), env),
            "handler_first_request_ms": median_of(
                FIRST_REQUEST.format(module="directory.api", event=event), env
            ),
            "baseline_first_request_ms": median_of(
                FIRST_REQUEST.format(module="benchmarks.baseline_handler", event={}), env
            ),
            "feed_handler_import_ms": median_of(IMPORT.format(module="directory.feed"), env),
        }
        cold["import_ratio"] = cold["handler_import_ms"] / cold["baseline_import_ms"]
        cold["first_request_ratio"] = cold["handler_first_request_ms"] / cold["baseline_first_request_ms"]
        warm = _warm(runner, http_event)
    figures = {
        "machine": {
            "python": platform.python_version(),
            "cpu_count": os.cpu_count(),
            "platform": platform.platform(),
        },
        "units": UNITS,
        "runs": RUNS,
        "load_seconds": round(load_seconds, 1),
        "cold": cold,
        "warm": warm,
    }
    write_results("directory", figures, _print)


def _warm(runner: Any, http_event: Any) -> dict[str, Any]:
    """Warm handler time per search; `own_ms` leaves out the time spent waiting on the emulator."""
    from eservices_core import aws

    calls: list[str] = []
    waited = [0.0]
    started_call = [0.0]

    def before(model: Any, **_: Any) -> None:
        calls.append(model.name)
        started_call[0] = time.perf_counter()

    def after(**_: Any) -> None:
        waited[0] += time.perf_counter() - started_call[0]

    results = {}
    with aws.watching("dynamodb", "before-call", before), aws.watching("dynamodb", "after-call", after):
        for name, query in SEARCHES.items():
            event = http_event("GET", "/v1/clinics", query)
            assert runner.invoke("DirectoryApiFunction", event)["statusCode"] == 200
            times, own, trips = [], [], []
            for _ in range(WARM_REQUESTS):
                calls.clear()
                waited[0] = 0.0
                started = time.perf_counter()
                response = runner.invoke("DirectoryApiFunction", event)
                elapsed = time.perf_counter() - started
                times.append(elapsed * 1000)
                own.append((elapsed - waited[0]) * 1000)
                trips.append(len(calls))
            body = json.loads(response["body"])
            results[name] = {
                "median_ms": round(statistics.median(times), 2),
                "p95_ms": round(statistics.quantiles(times, n=20)[-1], 2),
                "own_median_ms": round(statistics.median(own), 2),
                "round_trips": max(trips),
                "results_on_page": len(body["items"]),
            }
    return results


def _print(report: dict[str, Any]) -> None:
    c = report["cold"]
    print(
        f"\nDirectory benchmark, {report['units']} units loaded through the feed in {report['load_seconds']} s; "
        f"median of {report['runs']} fresh interpreters (Python {report['machine']['python']}, "
        f"{report['machine']['cpu_count']} cores)\n"
    )
    print(f"{'cold start':40} {'handler ms':>11} {'baseline ms':>12} {'ratio':>7}")
    print(
        f"{'import of directory.api':40} {c['handler_import_ms']:11.1f} {c['baseline_import_ms']:12.1f} {c['import_ratio']:7.2f}"
    )
    print(
        f"{'import + first search':40} {c['handler_first_request_ms']:11.1f} "
        f"{c['baseline_first_request_ms']:12.1f} {c['first_request_ratio']:7.2f}"
    )
    print(f"{'import of directory.feed':40} {c['feed_handler_import_ms']:11.1f}")
    print(
        f"\n{'warm search':26} {'median ms':>10} {'p95 ms':>8} {'handler own ms':>15} {'round trips':>12} {'items':>6}"
    )
    for name, w in report["warm"].items():
        print(
            f"{name:26} {w['median_ms']:10.2f} {w['p95_ms']:8.2f} {w['own_median_ms']:15.2f} "
            f"{w['round_trips']:12d} {w['results_on_page']:6d}"
        )
    print(
        "(median and p95 include the local moto server's time; 'handler own' leaves out the time waiting on it)"
    )


if __name__ == "__main__":
    main()
