"""`make bench` (part 2): start-up time of `make run` and directory search throughput through the gateway.

Starts `make run` as a user would (environment already present), on free ports; measures until the gateway
answers /health and until the demo data has arrived through the feed queue; then sends search requests
from CONCURRENCY threads for SECONDS (loopback only, bounded), and stops the runtime with Ctrl-C (SIGINT).
"""

from __future__ import annotations

import json
import os
import statistics
import threading
import time
import urllib.error
import urllib.request
from typing import Any

from benchmarks.emulator import ROOT, start_make_run, stop_make_run
from local_runtime.runtime import free_port

CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "8"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "10"))
QUERIES = {
    "region listing": "/v1/clinics?region=01&limit=20",
    "name search": "/v1/clinics?q=vardcentral&limit=20",
    "near search": "/v1/clinics?near=59.3293,18.0686&radius_km=20&limit=20",
}


def get(url: str) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, None
    except (urllib.error.URLError, ConnectionError):
        return 0, None


def throughput(url: str) -> dict[str, Any]:
    deadline = time.monotonic() + SECONDS
    latencies: list[float] = []
    failures = [0]
    lock = threading.Lock()

    def worker() -> None:
        while time.monotonic() < deadline:
            started = time.perf_counter()
            status, _ = get(url)
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                if status == 200:
                    latencies.append(elapsed)
                else:
                    failures[0] += 1

    threads = [threading.Thread(target=worker) for _ in range(CONCURRENCY)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - started
    return {
        "requests_per_second": round(len(latencies) / wall, 1),
        "median_ms": round(statistics.median(latencies), 1) if latencies else None,
        "p95_ms": round(statistics.quantiles(latencies, n=20)[-1], 1) if len(latencies) > 1 else None,
        "failures": failures[0],
    }


def main() -> None:
    port, aws_port = free_port(), free_port()
    base = f"http://127.0.0.1:{port}"
    started = time.perf_counter()
    process = start_make_run(port, aws_port)
    up = loaded = None
    try:
        while time.perf_counter() - started < 300:
            status, body = get(base + "/health")
            if status in (200, 503) and up is None:
                up = time.perf_counter() - started
            if body and body["parts"]["demo_data"] == "loaded":
                loaded = time.perf_counter() - started
                break
            time.sleep(0.05)
        if loaded is None:
            raise RuntimeError("the runtime did not load its demo data within 300 s")
        results = {name: throughput(base + path) for name, path in QUERIES.items()}
    finally:
        stop_started = time.perf_counter()
        code = stop_make_run(process)
        stopped = time.perf_counter() - stop_started
    report = {
        "make_run_until_gateway_answers_s": round(up or 0, 2),
        "make_run_until_demo_data_loaded_s": round(loaded, 2),
        "ctrl_c_stop_s": round(stopped, 2),
        "exit_code_after_ctrl_c": code,
        "concurrency": CONCURRENCY,
        "seconds_per_query": SECONDS,
        "throughput": results,
    }
    (ROOT / "benchmarks/results/runtime.json").write_text(json.dumps(report, indent=2) + "\n")
    print(
        f"\nLocal runtime: `make run` (environment present) answers /health after "
        f"{report['make_run_until_gateway_answers_s']} s, demo data loaded after "
        f"{report['make_run_until_demo_data_loaded_s']} s; Ctrl-C stops it in {report['ctrl_c_stop_s']} s "
        f"(exit code {code})\n"
    )
    print(
        f"{'through the gateway, ' + str(CONCURRENCY) + ' clients':36} {'req/s':>8} {'median ms':>10} {'p95 ms':>8} {'failed':>7}"
    )
    for name, r in results.items():
        print(
            f"{name:36} {r['requests_per_second']:8.1f} {r['median_ms']:10.1f} {r['p95_ms']:8.1f} {r['failures']:7d}"
        )
    print("\nwritten to benchmarks/results/runtime.json")


if __name__ == "__main__":
    main()
