"""The booking rush (the issue's acceptance test), end to end over real HTTP against the local runtime.

500 residents, registered through the population register queue, try at the same moment to book one of 20
COVID-19 vaccination times (one place each) that the demo clinic's local administrator published 45 days
ahead. Each resident first tries a time from the list every resident saw before the rush opened; after a
409 `time-unavailable` the resident searches again (GET /v1/times) and tries another free time not tried
yet, until one is booked or the search shows none. Every attempt is recorded and accounted for: exactly 20
bookings, one per time, each to a different resident who got 201; every other attempt is a 409 problem;
nothing else (no 5xx, no connection error).
"""

from __future__ import annotations

import http.client
import json
import random
import statistics
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from eservices_core.clock import today_stockholm
from eservices_core.identifiers import parse_personal_identity
from eservices_core.problems import PROBLEM_CONTENT_TYPE
from eservices_core.table import Table
from local_runtime import demo
from local_runtime.idp import resident_claims
from tests.support.aws import emulator_client, emulator_registry, queue_depth, send_to_population_register
from tests.support.http import RegisteredResident, get_json, send_json, staff_token

RESIDENTS = 500
TIMES = 20
TYPE = "covid-19-vaccination"
DAYS_AHEAD = 45
REFUSALS = {"time-unavailable", "already-booked"}
CLINIC = demo.DEMO_CLINIC["hsa_id"]
ADMIN = next(
    (member["hsa_id"], commission["id"])
    for member in demo.staff()
    for commission in member["commissions"]
    if commission["care_unit_hsa_id"] == CLINIC and "local-administrator" in commission["roles"]
)


@dataclass(frozen=True)
class Attempt:
    resident: int
    time_id: str
    status: int | None  # None: no HTTP answer at all (`error` says what happened)
    content_type: str
    body: Any
    seconds: float
    error: str | None = None

    @property
    def code(self) -> str | None:
        return self.body.get("code") if isinstance(self.body, dict) else None


@pytest.fixture(scope="module")
def residents(runtime) -> list[RegisteredResident]:
    """500 adults (18 to 77 years old) with generated identities and fictional names, through the population
    register queue; ready once the identity store has every one of them."""
    today = today_stockholm()
    people = [
        (demo.personnummer(demo.years_ago(today, 18 + i % 60, days=1 + (7 * i) % 300), 300 + i), f"Vaccin Demorusare {i:03d}")
        for i in range(RESIDENTS)
    ]  # fmt: skip
    assert len({pnr for pnr, _ in people}) == RESIDENTS
    sqs, queue = send_to_population_register(runtime, people)
    registry = emulator_registry(runtime)
    found: dict[str, str] = {}
    deadline = time.monotonic() + 90
    while len(found) < RESIDENTS:
        assert time.monotonic() < deadline, f"only {len(found)} of {RESIDENTS} residents were registered"
        if queue_depth(sqs, queue) == 0:
            for pnr, _ in people:
                if pnr not in found:
                    patient_id = registry.patient_id_of(parse_personal_identity(pnr, today=today))
                    if patient_id:
                        found[pnr] = patient_id
        time.sleep(0.2)
    idp = runtime.idps["resident"]
    return [
        RegisteredResident(pnr, name, found[pnr], idp.issue(resident_claims(pnr, name)))
        for pnr, name in people
    ]


@pytest.fixture(scope="module")
def published(runtime) -> tuple[str, list[str]]:
    """The clinic's local administrator sets the type up and publishes 20 times of one place: (day, time ids)."""
    hsa_id, commission_id = ADMIN
    staff = {"authorization": f"Bearer {staff_token(runtime, hsa_id)}", "x-commission-id": commission_id}
    status, settings = send_json(
        runtime, "PUT", f"/v1/staff/booking-types/{TYPE}", {"horizon_days": 90}, staff
    )
    assert status == 200 and settings["horizon_days"] == 90, settings
    day = (today_stockholm() + timedelta(days=DAYS_AHEAD)).isoformat()
    starts = [f"{day}T{9 + m // 60:02d}:{m % 60:02d}" for m in range(0, 5 * TIMES, 5)]
    status, answer = send_json(
        runtime, "POST", f"/v1/staff/booking-types/{TYPE}/times", {"starts": starts, "capacity": 1}, staff
    )
    assert status == 201 and answer["created"] == TIMES, answer
    return day, [t["time_id"] for t in answer["items"]]


def _post(
    runtime: Any, path: str, body: dict[str, Any], token: str
) -> tuple[int | None, str, Any, str | None]:
    """One request over a fresh connection: (status, content type, JSON body, error); no exception escapes,
    so a refused or reset connection is an attempt with an answer of None, counted like any other."""
    request = urllib.request.Request(
        runtime.base_url + path,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"authorization": f"Bearer {token}", "content-type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            status, headers, raw = response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        status, headers, raw = error.code, error.headers, error.read()
    except (OSError, http.client.HTTPException) as error:  # refused, reset, timed out, cut short
        return None, "", None, f"{type(error).__name__}: {error}"
    try:
        parsed = json.loads(raw) if raw else None
    except ValueError:
        parsed = raw[:200]
    return status, headers.get("Content-Type", ""), parsed, None


def test_500_residents_rushing_20_single_place_times_make_exactly_20_bookings(
    runtime, residents, published, capsys
):
    day, times = published
    search = f"/v1/times?booking_type={TYPE}&clinic_id={CLINIC}&from={day}&to={day}"
    status, before = get_json(runtime, search, {"authorization": f"Bearer {residents[0].token}"})
    assert status == 200 and sorted(t["time_id"] for t in before["items"]) == sorted(times)
    assert all(t["free"] == 1 for t in before["items"])

    attempts: list[Attempt] = []
    searches: Counter[int | str] = Counter()
    lock = threading.Lock()
    start = threading.Barrier(RESIDENTS)

    def rush(i: int) -> None:
        person, choose = residents[i], random.Random(i)  # a resident's whim
        path = f"/v1/patients/{person.patient_id}/appointments"
        tried: set[str] = set()
        time_id = choose.choice(times)  # from the list every resident saw before the rush opened
        start.wait()
        while True:
            tried.add(time_id)
            began = time.perf_counter()
            status, content_type, body, error = _post(runtime, path, {"time_id": time_id}, person.token)
            attempt = Attempt(i, time_id, status, content_type, body, time.perf_counter() - began, error)
            with lock:
                attempts.append(attempt)
            if status != 409 or attempt.code != "time-unavailable":
                return
            try:
                status, found = get_json(runtime, search, {"authorization": f"Bearer {person.token}"})
            except (OSError, http.client.HTTPException, ValueError) as failure:
                status, found = None, None
                with lock:
                    searches[type(failure).__name__] += 1
            else:
                with lock:
                    searches[status] += 1
            free = [t["time_id"] for t in (found or {}).get("items", []) if t["time_id"] not in tried]
            if status != 200 or not free:
                return
            time_id = choose.choice(free)

    began = time.perf_counter()
    with ThreadPoolExecutor(RESIDENTS) as pool:
        for done in [pool.submit(rush, i) for i in range(RESIDENTS)]:
            done.result()
    seconds = time.perf_counter() - began

    latencies = sorted(a.seconds for a in attempts)
    requests = len(attempts) + searches.total()
    with capsys.disabled():
        print(
            f"\nbooking rush: {RESIDENTS} residents, {TIMES} times, {len(attempts)} booking attempts and "
            f"{searches.total()} searches in {seconds:.1f} s = {requests / seconds:.1f} requests/s "
            f"({len(attempts) / seconds:.1f} bookings attempted/s); booking latency median "
            f"{statistics.median(latencies):.2f} s, p95 {statistics.quantiles(latencies, n=20)[-1]:.2f} s; "
            f"answers {dict(Counter((a.status, a.code or a.error) for a in attempts))}"
        )

    # every attempt has an answer: 201, or 409 with a problem saying why; no 5xx, nothing else
    refused = [a for a in attempts if a.status == 409]
    wrong = {
        "without an HTTP answer": [a for a in attempts if a.status is None],
        "answered neither 201 nor 409": [a for a in attempts if a.status not in (None, 201, 409)],
        "409 without a time-unavailable or already-booked problem": [
            a for a in refused if a.content_type != PROBLEM_CONTENT_TYPE or a.code not in REFUSALS
        ],
    }
    assert not any(wrong.values()), "; ".join(
        f"{len(found)} attempts {what}: {dict(Counter((a.status, a.code or a.error) for a in found))}, "
        f"e.g. {found[0].body or found[0].error}"
        for what, found in wrong.items()
        if found
    )
    assert set(searches) == {200}, f"searches answered {searches}"

    # exactly 20 bookings, one per time, each to the resident who asked for it
    booked = [a for a in attempts if a.status == 201]
    assert len(booked) == TIMES
    assert len({a.resident for a in booked}) == TIMES, "a resident booked twice"
    assert sorted(a.time_id for a in booked) == sorted(times), "a time was booked twice"
    for a in booked:
        assert a.body["patient_id"] == residents[a.resident].patient_id, "an answer for someone else"
        assert a.body["status"] == "active" and a.time_id.endswith(f"~{a.body['time_id']}")
    assert len(attempts) == len(booked) + len(refused)

    # what the clinic sees through the API: each of the 20 times has exactly one booking
    hsa_id, commission_id = ADMIN
    staff = {"authorization": f"Bearer {staff_token(runtime, hsa_id)}", "x-commission-id": commission_id}
    status, listed = get_json(runtime, f"/v1/staff/booking-types/{TYPE}/times?from={day}&to={day}", staff)
    assert status == 200
    assert sorted(t["time_id"] for t in listed["items"]) == sorted(times)
    assert all((t["booked"], t["capacity"]) == (1, 1) for t in listed["items"]), listed["items"]

    # what is stored: 20 active appointments (the ones answered 201), no time taken twice, one count each
    table = Table(emulator_client(runtime, "dynamodb"), runtime.deployment.lookup("BookingTable", None))
    items = list(table.scan())
    ours = {t.split("~")[2] for t in times}
    appointments = [
        i
        for i in items
        if i["sk"].startswith("APPT#") and (i["unit_hsa_id"], i["booking_type"]) == (CLINIC, TYPE)
    ]
    assert sorted(a["appointment_id"] for a in appointments) == sorted(
        a.body["appointment_id"] for a in booked
    )
    assert all(a["status"] == "active" for a in appointments)
    assert sorted(a["time_id"] for a in appointments) == sorted(ours)
    assert {a["patient_id"] for a in appointments} == {residents[a.resident].patient_id for a in booked}
    stored_times = [i for i in items if i["pk"] == f"TIMES#{CLINIC}#{TYPE}" and i["sk"] in ours]
    assert len(stored_times) == TIMES
    assert all((t["booked"], t["free"]) == (1, 0) for t in stored_times), stored_times
    counts = [i for i in items if i["sk"] == f"ACTIVE#{TYPE}"]
    assert sorted(c["pk"] for c in counts) == sorted(f"PATIENT#{a['patient_id']}" for a in appointments)
    assert all(c["n"] == 1 for c in counts), counts
