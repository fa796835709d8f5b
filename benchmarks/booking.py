"""`make bench` (part 5): the booking e-service.

- cold import of the booking API handler beside the boto3 baseline (fresh interpreters, median);
- per operation (book, rebook, cancel, search at one clinic and across five, list), through the gateway
  in-process against a local moto server over HTTP, as benchmarks/per_request.py measures: handler time (median,
  p95, and its own time without waiting on the emulator), DynamoDB round trips split into the access check,
  the audit write and the route's own work, and the EventBridge (and other) calls. Operations that change
  state are measured one request at a time, the state put back between requests outside the measurement
  (a booking is cancelled again, a cancelled one booked again);
- booking requests a second through the local runtime's HTTP gateway (`make run` in its own process, warm),
  with CLIENTS concurrent client threads, each a resident who books one of TIMES single-place times at random
  and cancels it when booked: bookings (201), refusals (409, by code), cancellations and anything else
  counted apart.
Figures go to stdout and benchmarks/results/booking.json.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from datetime import date, timedelta
from typing import Any

from benchmarks.emulator import child_environment, local_aws, start_make_run, stop_make_run, write_results
from benchmarks.per_request import REQUESTS, Operation, measure, print_cold_import, print_operations
from benchmarks.run import IMPORT, median_of

CLIENTS = tuple(int(n) for n in os.environ.get("BENCH_BOOKING_CLIENTS", "8,32").split(","))
SECONDS = float(os.environ.get("BENCH_SECONDS", "10"))
TYPE = "covid-19-vaccination"
TIMES = 20  # single-place times the clients compete for
DAYS_AHEAD = 45
CLINICS = 5


def main() -> None:
    with local_aws("identity", "booking"):
        import boto3

        from local_runtime.provision import provision
        from local_runtime.template import Template
        from tests.support.aws import Stack

        stack = Stack(provision(Template(), boto3.session.Session()))
        env = child_environment(stack.deployment.function_environment("BookingApiFunction"), "booking")
        cold = {
            "booking_api_import_ms": median_of(IMPORT.format(module="booking.api"), env),
            "baseline_import_ms": median_of(IMPORT.format(module="benchmarks.baseline_handler"), env),
        }
        cold["booking_api_ratio"] = cold["booking_api_import_ms"] / cold["baseline_import_ms"]
        warm = {name: _measure(stack, operation) for name, operation in _operations(stack).items()}
    throughput = _throughput()
    write_results(
        "booking", {"requests": REQUESTS, "cold": cold, "warm": warm, "throughput": throughput}, _print
    )


# ---- round trips and handler time per operation (in-process gateway, moto over HTTP) -----------------------------
def _operations(stack: Any) -> dict[str, Operation]:
    from local_runtime.generate import catalogue
    from tests.support.people import UNIT, World

    world = World(stack, date.today())
    day = (date.today() + timedelta(days=DAYS_AHEAD)).isoformat()
    starts = [f"{day}T{9 + m // 60:02d}:{m % 60:02d}" for m in range(0, 5 * TIMES, 5)]
    admin = world.bookable(TYPE, horizon_days=90)
    times = world.publish_times(admin, TYPE, starts)
    others = [u for u in catalogue(12, seed=7).units if u["active"] and u["hsa_id"] != UNIT["hsa_id"]]
    for unit in others[: CLINICS - 1]:
        world.publish_times(world.bookable(TYPE, unit=unit, horizon_days=90), TYPE, starts)
    booker, canceller, mover = (world.resident(f"{n} Demobokning") for n in ("Bo", "Ada", "Flytt"))
    path = {p: f"/v1/patients/{world.patient_id(p)}/appointments" for p in (booker, canceller, mover)}

    def book(person: Any, time_id: str) -> dict[str, Any]:
        status, body = stack.call("POST", path[person], token=world.token(person), body={"time_id": time_id})
        assert status == 201, body
        return dict(body)

    def cancel(person: Any, appointment_id: str) -> None:
        status, body = stack.call(
            "POST", f"{path[person]}/{appointment_id}/cancellation", token=world.token(person)
        )
        assert status == 200, body

    held = {"canceller": "", "mover": book(mover, times[1])["appointment_id"], "at": times[1]}

    def book_again() -> None:
        held["canceller"] = book(canceller, times[2])["appointment_id"]

    def rebooking() -> dict[str, Any]:
        target = times[3] if held["at"] == times[1] else times[1]
        held["at"] = target
        path_ = f"{path[mover]}/{held['mover']}/rebooking"
        return {"method": "POST", "path": path_, "token": world.token(mover), "body": {"time_id": target}}

    search = f"booking_type={TYPE}&from={day}&to={day}"
    return {
        "POST appointments (book)": Operation(
            lambda: {"method": "POST", "path": path[booker], "token": world.token(booker), "body": {"time_id": times[0]}, "expect": 201},
            after=lambda body: cancel(booker, body["appointment_id"]),
        ),
        "POST …/rebooking": Operation(rebooking),
        "POST …/cancellation": Operation(
            lambda: {"method": "POST", "path": f"{path[canceller]}/{held['canceller']}/cancellation", "token": world.token(canceller)},
            before=book_again,
        ),
        "GET /v1/times (one clinic)": Operation(
            lambda: {"path": "/v1/times", "query": f"{search}&clinic_id={UNIT['hsa_id']}", "token": world.token(booker)}
        ),
        f"GET /v1/times ({CLINICS} clinics)": Operation(
            lambda: {"path": "/v1/times", "query": search, "token": world.token(booker)}
        ),
        "GET appointments (list, 1 active)": Operation(
            lambda: {"path": path[mover], "token": world.token(mover)}
        ),
        f"GET appointments (list, {REQUESTS + 1} cancelled)": Operation(
            lambda: {"path": path[booker], "token": world.token(booker)}
        ),
    }  # fmt: skip


def _measure(stack: Any, operation: Operation) -> dict[str, Any]:
    """The figures of benchmarks.per_request, and the DynamoDB operations of the request that made the most."""
    samples = measure(stack, operation)
    most = max(samples.operations, key=lambda n: n.total())
    return samples.figures() | {"dynamodb_calls": dict(sorted(most.items()))}


# ---- requests a second through the local runtime's HTTP gateway --------------------------------------------------
def _http(
    base: str, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    """(status, JSON body); status 0 when there was no HTTP answer (refused, reset, timed out)."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    except OSError:
        return 0, None
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, None


def _throughput() -> dict[str, Any]:
    """`make run` on free ports, as a user starts it; residents through its population register queue, the
    demo clinic's administrator sets the type up and publishes the times; then each client count in turn."""
    from local_runtime.runtime import free_port

    port, aws_port = free_port(), free_port()
    base = f"http://127.0.0.1:{port}"
    process = start_make_run(port, aws_port)
    try:
        deadline = time.monotonic() + 300
        while (_http(base, "GET", "/health")[1] or {}).get("parts", {}).get("demo_data") != "loaded":
            if time.monotonic() > deadline:
                raise RuntimeError("the runtime did not load its demo data within 300 s")
            time.sleep(0.1)
        residents, times = _set_up(base, f"http://127.0.0.1:{aws_port}", max(CLIENTS))
        return {str(n): _rush(base, residents[:n], times) for n in CLIENTS}
    finally:
        stop_make_run(process)


def _set_up(base: str, aws_url: str, count: int) -> tuple[list[tuple[str, str]], list[str]]:
    """`count` adult residents with generated identities through the population register queue, each as
    (token, appointments path); and the published time ids."""
    import boto3

    from eservices_core.clock import today_stockholm
    from local_runtime import demo, population
    from local_runtime.poller import send_all

    today = today_stockholm()
    people = [
        (demo.personnummer(demo.years_ago(today, 20 + i, days=11), 600 + i), f"Bänk Demobokare {i:02d}")
        for i in range(count)
    ]
    sqs = boto3.client(
        "sqs",
        endpoint_url=aws_url,
        region_name="eu-north-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    [queue] = [u for u in sqs.list_queues()["QueueUrls"] if u.endswith("PopulationRegisterQueue")]
    send_all(sqs, queue, [population.person(pnr, name) for pnr, name in people])

    def waiting() -> bool:
        attributes = sqs.get_queue_attributes(
            QueueUrl=queue,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return any(value != "0" for value in attributes.values())

    while waiting():
        time.sleep(0.1)
    residents = []
    for pnr, _ in people:
        _, token = _http(base, "POST", "/dev/idp/resident/token", {"personnummer": pnr})
        bearer = {"authorization": f"Bearer {token['access_token']}"}
        _, me = _http(base, "GET", "/v1/me", headers=bearer)
        residents.append(
            (bearer["authorization"], f"/v1/patients/{me['patients'][0]['patient_id']}/appointments")
        )
    admin = next(
        (m["hsa_id"], c["id"])
        for m in demo.staff()
        for c in m["commissions"]
        if c["care_unit_hsa_id"] == demo.DEMO_CLINIC["hsa_id"] and "local-administrator" in c["roles"]
    )
    _, token = _http(base, "POST", "/dev/idp/staff/token", {"hsa_id": admin[0]})
    staff = {"authorization": f"Bearer {token['access_token']}", "x-commission-id": admin[1]}
    status, answer = _http(base, "PUT", f"/v1/staff/booking-types/{TYPE}", {"horizon_days": 90}, staff)
    assert status == 200, answer
    day = (today + timedelta(days=DAYS_AHEAD)).isoformat()
    starts = [f"{day}T{9 + m // 60:02d}:{m % 60:02d}" for m in range(0, 5 * TIMES, 5)]
    status, answer = _http(
        base, "POST", f"/v1/staff/booking-types/{TYPE}/times", {"starts": starts, "capacity": 1}, staff
    )
    assert status == 201, answer
    return residents, [t["time_id"] for t in answer["items"]]  # fmt: skip


def _rush(base: str, residents: list[tuple[str, str]], times: list[str]) -> dict[str, Any]:
    """Each client (one resident) books a random time and cancels it when booked, for SECONDS after a warm-up."""
    outcomes: Counter[str] = Counter()
    latencies: dict[str, list[float]] = {"book": [], "cancel": []}
    lock = threading.Lock()
    measuring = threading.Event()
    stop = threading.Event()

    def client(n: int) -> None:
        authorization, path = residents[n]
        headers = {"authorization": authorization, "content-type": "application/json"}
        choose = random.Random(n)  # noqa: S311 - load, not security
        while not stop.is_set():
            started = time.perf_counter()
            status, body = _http(base, "POST", path, {"time_id": choose.choice(times)}, headers)
            book_ms = (time.perf_counter() - started) * 1000
            kind = f"book {status}" + (f" {body.get('code')}" if status == 409 and body else "")
            cancel_ms = None
            if status == 201:
                started = time.perf_counter()
                cancelled, _ = _http(
                    base, "POST", f"{path}/{body['appointment_id']}/cancellation", None, headers
                )
                cancel_ms = (time.perf_counter() - started) * 1000
            if measuring.is_set():
                with lock:
                    outcomes[kind] += 1
                    latencies["book"].append(book_ms)
                    if cancel_ms is not None:
                        outcomes[f"cancel {cancelled}"] += 1
                        latencies["cancel"].append(cancel_ms)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(len(residents))]
    for thread in threads:
        thread.start()
    time.sleep(2)  # warm: every client's patient id cached, handlers imported
    measuring.set()
    started = time.monotonic()
    time.sleep(SECONDS)
    measuring.clear()
    wall = time.monotonic() - started
    stop.set()
    for thread in threads:
        thread.join()
    requests = sum(outcomes.values())
    booked = outcomes["book 201"]
    refused = sum(v for k, v in outcomes.items() if k.startswith("book 409"))
    return {
        "clients": len(residents),
        "seconds": round(wall, 1),
        "requests_per_second": round(requests / wall, 1),
        "book_attempts_per_second": round(len(latencies["book"]) / wall, 1),
        "bookings_per_second": round(booked / wall, 1),
        "booked_201": booked,
        "refused_409": refused,
        "cancelled_200": outcomes["cancel 200"],
        "other": {k: v for k, v in outcomes.items() if k not in ("book 201", "cancel 200") and not k.startswith("book 409")},
        "outcomes": dict(sorted(outcomes.items())),
        "book_median_ms": _median(latencies["book"]),
        "book_p95_ms": _p95(latencies["book"]),
        "cancel_median_ms": _median(latencies["cancel"]),
    }  # fmt: skip


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def _p95(values: list[float]) -> float | None:
    return round(statistics.quantiles(values, n=20)[-1], 1) if len(values) > 1 else None


def _print(report: dict[str, Any]) -> None:
    c = report["cold"]
    print("\nBooking benchmark\n")
    print_cold_import(
        "booking.api", c["booking_api_import_ms"], c["baseline_import_ms"], c["booking_api_ratio"]
    )
    print_operations(report["warm"], 36)
    print(
        "(ms through the gateway in-process, against a local moto server over HTTP; 'own' leaves out waiting on "
        "it; one request at a time)"
    )
    print(
        f"\nthrough `make run`'s HTTP gateway: each client books one of {TIMES} single-place times at random and "
        f"cancels it when booked ({SECONDS:.0f} s, warm)"
    )
    print(
        f"{'clients':>8} {'req/s':>7} {'book/s':>7} {'201':>6} {'409':>6} {'cancel':>7} {'book ms':>8} {'p95':>7}  other"
    )
    for t in report["throughput"].values():
        other = ", ".join(f"{k}: {v}" for k, v in t["other"].items()) or "-"
        print(
            f"{t['clients']:8d} {t['requests_per_second']:7.1f} {t['book_attempts_per_second']:7.1f} "
            f"{t['booked_201']:6d} {t['refused_409']:6d} {t['cancelled_200']:7d} {t['book_median_ms'] or 0:8.1f} "
            f"{t['book_p95_ms'] or 0:7.1f}  {other}"
        )


if __name__ == "__main__":
    main()
