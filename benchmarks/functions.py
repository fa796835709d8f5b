"""`make bench` (part 7): every function of template.yaml, what it costs at cold start and per invocation.

- cold import: for every function (its `CodeUri` and `Handler`), a fresh interpreter imports the handler module
  with only the layer and the function's own directory on `sys.path`, as in Lambda, and its template
  environment variables set to dummy values; the baseline module (boto3 and one DynamoDB client,
  benchmarks/baseline_handler.py) is measured in the same rounds, interleaved. Median of COLD_RUNS, after one
  run that writes the bytecode caches (a deployment package has them). Also what the import loaded: the number
  of modules, and which heavy ones (boto3, pydantic, jsonschema, ...).
- every API operation (each HttpApi route of the template: method and path): one realistic request through the
  local runtime's HTTP API gateway in-process (its JWT authorizer and payload 2.0 events, the real handlers)
  against its moto server over HTTP, after `make run`'s demo data has loaded (demo residents, staff with their
  commissions, the demo clinic's case and booking types and times, inbox messages). Per operation: handler time
  (median and p95 of REQUESTS, and its own time without waiting on the emulator), the gateway's total, and
  from METERED requests of their own: DynamoDB round trips and read/write capacity units (from item sizes as
  AWS bills them, see benchmarks/capacity.py; moto's own ConsumedCapacity is kept beside for comparison), and
  the SQS, Step Functions, EventBridge, S3, SNS and SES calls. State a request changes is prepared and put
  back outside the measurement (a time is cancelled again after booking, a case is created for each closure).
- the other functions (queue consumers, scheduled sweepers, workflow tasks, the IAM-invoked one): one batch or
  invocation of each with realistic input, and every invocation the runtime made by itself meanwhile (the
  case workflow's tasks, the pollers), metered the same way.
Figures go to stdout and benchmarks/results/functions.json (read by benchmarks/cost.py).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from benchmarks.emulator import ROOT, eventbridge_event, inbox_message_event

COLD_RUNS = int(os.environ.get("BENCH_COLD_RUNS", "7"))
REQUESTS = int(os.environ.get("BENCH_FUNCTION_REQUESTS", "15"))
METERED = int(os.environ.get("BENCH_METERED", "2"))
HEAVY = (  # modules whose import costs more than a few ms (botocore's package itself does not: its client does)
    "boto3",
    "botocore.client",
    "asyncio",
    "pydantic",
    "jsonschema",
    "fastjsonschema",
    "aws_xray_sdk",
    "yaml",
    "jwt",
    "cryptography",
    "urllib3",
    "urllib.request",
    "markdown",
)
COLD = (
    "import json, sys, time\n"
    "t = time.perf_counter()\n"
    "import {module} as m\n"
    "getattr(m, {attribute!r})\n"
    "ms = (time.perf_counter() - t) * 1000\n"
    "print(json.dumps({{'ms': ms, 'modules': len(sys.modules), "
    "'heavy': [h for h in {heavy!r} if h in sys.modules]}}))"
)
FIRST_REQUEST = (
    "import json, sys, time\n"
    "event = json.loads(sys.stdin.read())\n"
    "t = time.perf_counter()\n"
    "import {module} as m\n"
    "class Context:\n"
    "    function_name, memory_limit_in_mb, aws_request_id = 'bench', 1024, 'bench'\n"
    "    invoked_function_arn = 'arn:aws:lambda:eu-north-1:123456789012:function:bench'\n"
    "result = getattr(m, {attribute!r})(event, Context())\n"
    "ms = (time.perf_counter() - t) * 1000\n"
    "status = result.get('statusCode') if isinstance(result, dict) else None\n"
    "print(json.dumps({{'ms': ms, 'status': status}}))"
)
# The read each API function's cold start is measured with (import + this first request, as Lambda's INIT + the
# first invocation): what most of its requests are.
FIRST_READS = {
    "DirectoryApiFunction": "GET /v1/clinics",
    "IdentityApiFunction": "GET /v1/me",
    "CasesApiFunction": "GET /v1/patients/{patientId}/cases",
    "BookingApiFunction": "GET /v1/patients/{patientId}/appointments",
    "InboxApiFunction": "GET /v1/patients/{patientId}/inbox",
    "NotificationsApiFunction": "GET /v1/patients/{patientId}/notification-settings",
}
TEXT = "Hej! Jag behöver förnya mitt recept på Demoxin, det tar slut nästa vecka."


# ---- cold imports ---------------------------------------------------------------------------------------------
def cold_imports(template: Any) -> dict[str, Any]:
    """Per function: its handler module's import in fresh interpreters, interleaved with the baseline's."""
    units: dict[str, tuple[str, str, dict[str, str]]] = {}  # key -> (module, attribute, environment)
    of_function: dict[str, str] = {}
    for logical_id, fn in template.functions.items():
        module, attribute = fn.handler.rsplit(".", 1)
        key = f"{fn.code_uri.name}:{module}"
        units.setdefault(
            key, (module, attribute, _lambda_environment(fn, [ROOT / "layers/shared", fn.code_uri]))
        )
        of_function[logical_id] = key
    any_fn = next(iter(template.functions.values()))
    units["baseline"] = ("benchmarks.baseline_handler", "handler", _lambda_environment(any_fn, [ROOT]))
    samples = _interleaved(units, _child)
    baseline = statistics.median(s["ms"] for s in samples["baseline"])
    functions = {}
    for logical_id, key in of_function.items():
        ms = statistics.median(s["ms"] for s in samples[key])
        last = samples[key][-1]
        functions[logical_id] = {
            "module": units[key][0],
            "import_ms": round(ms, 1),
            "ratio_to_baseline": round(ms / baseline, 2),
            "modules_loaded": last["modules"],
            "heavy_at_import": last["heavy"],
        }
    return {"runs": COLD_RUNS, "baseline_ms": round(baseline, 1), "functions": functions}


def _interleaved[T](units: dict[str, tuple[Any, ...]], run: Callable[..., T]) -> dict[str, list[T]]:
    """`run(*unit)` once per unit for the bytecode caches (as a deployment package built by sam build has them),
    then COLD_RUNS rounds of every unit in a shuffled order: what the machine drifts by falls on all alike."""
    order = list(units)
    for key in order:
        run(*units[key])
    samples: dict[str, list[T]] = {key: [] for key in units}
    shuffle = random.Random(1177)  # noqa: S311 - an order of runs, not security
    for _ in range(COLD_RUNS):
        shuffle.shuffle(order)
        for key in order:
            samples[key].append(run(*units[key]))
    return samples


def _lambda_environment(fn: Any, paths: list[Path]) -> dict[str, str]:
    """What Lambda gives the handler: the function's variables (literal ones as in the template, references to
    resources as dummy names), fake credentials, the region, only `paths` to import from."""
    env = {k: os.environ[k] for k in ("PATH", "HOME", "LANG", "SYSTEMROOT") if k in os.environ}
    for name, value in fn.environment.items():
        env[name] = str(value) if isinstance(value, str | int | float) else _dummy(name)
    return env | {
        "PYTHONPATH": os.pathsep.join(str(p) for p in paths),
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_REGION": "eu-north-1",
        "AWS_DEFAULT_REGION": "eu-north-1",
        "AWS_LAMBDA_FUNCTION_NAME": fn.logical_id,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1024",
    }


def _dummy(name: str) -> str:
    if name.endswith("_URL"):
        return f"https://sqs.eu-north-1.amazonaws.com/123456789012/{name.lower()}"
    if name.endswith("_ARN"):
        return f"arn:aws:states:eu-north-1:123456789012:stateMachine:{name.lower()}"
    if name.endswith("_DAYS"):
        return "30"
    return f"bench-{name.lower().replace('_', '-')}"


def _child(module: str, attribute: str, env: dict[str, str]) -> dict[str, Any]:
    code = COLD.format(module=module, attribute=attribute, heavy=HEAVY)
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, check=False
    )
    if out.returncode != 0:
        raise RuntimeError(f"importing {module} failed:\n{out.stderr}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def cold_first_requests(d: Demo, ops: list[Operation], template: Any) -> dict[str, Any]:
    """Per API function: a fresh interpreter imports the handler and serves its typical read (FIRST_READS)
    against the runtime's moto server, creating its AWS clients as it goes; beside the baseline module making
    its one DynamoDB call. Median of COLD_RUNS, interleaved, after one run for the bytecode caches."""
    by_route = {o.route: o for o in ops}
    units: dict[str, tuple[str, str, dict[str, str], str]] = {}
    for function, route in FIRST_READS.items():
        fn = template.functions[function]
        module, attribute = fn.handler.rsplit(".", 1)
        env = _lambda_environment(fn, [ROOT / "layers/shared", fn.code_uri])
        env |= d.rt.deployment.function_environment(function) | {
            "AWS_ENDPOINT_URL": d.rt.aws_url,
            "POWERTOOLS_LOG_LEVEL": "ERROR",
        }
        units[function] = (module, attribute, env, json.dumps(_event(d, by_route[route].request())))
    any_fn = next(iter(template.functions.values()))
    env = _lambda_environment(any_fn, [ROOT]) | {"AWS_ENDPOINT_URL": d.rt.aws_url}
    units["baseline"] = ("benchmarks.baseline_handler", "handler", env, "{}")
    samples = _interleaved(units, _first_request)
    baseline = statistics.median(samples["baseline"])
    return {
        "runs": COLD_RUNS,
        "baseline_ms": round(baseline, 1),
        "functions": {
            function: {
                "request": FIRST_READS[function],
                "import_and_first_request_ms": round(statistics.median(samples[function]), 1),
                "ratio_to_baseline": round(statistics.median(samples[function]) / baseline, 2),
            }
            for function in FIRST_READS
        },
    }


def _event(d: Demo, request: Request) -> dict[str, Any]:
    """The payload 2.0 event the gateway would hand the function for `request` (its authorizer's claims)."""
    from local_runtime.gateway import http_api_event

    headers = {"host": "localhost", "content-type": "application/json", **request.who}
    for route in d.rt.gateway.routes:
        match = route.pattern.match(request.path)
        if match and route.method == request.method:
            break
    else:
        raise LookupError(f"no route for {request.method} {request.path}")
    claims = d.rt.gateway.authorizers[route.authorizer].authorize(headers) if route.authorizer else None
    body = b"" if request.body is None else json.dumps(request.body).encode()
    event: dict[str, Any] = http_api_event(
        route.route_key,
        request.method,
        request.path,
        request.query,
        headers,
        body,
        match.groupdict(),
        claims,
        "127.0.0.1",
    )
    return event


def _first_request(module: str, attribute: str, env: dict[str, str], event: str) -> float:
    code = FIRST_REQUEST.format(module=module, attribute=attribute)
    out = subprocess.run(
        [sys.executable, "-c", code],
        input=event,
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"the first request of {module} failed:\n{out.stderr}")
    result = json.loads(out.stdout.strip().splitlines()[-1])
    if result["status"] not in (None, 200):
        raise RuntimeError(f"the first request of {module} answered {result['status']}")
    return float(result["ms"])


# ---- requests through the gateway -----------------------------------------------------------------------------
@dataclass
class Request:
    method: str
    path: str
    who: dict[str, str]  # authorization (and x-commission-id) headers
    body: Any = None
    query: str = ""
    expect: int = 200


@dataclass
class Operation:
    """One API operation: `request()` what to send; `before()` and `after(body)` prepare and put back the state it
    changes, outside the measurement; `what` says in a few words what the request is."""

    route: str
    what: str
    request: Callable[[], Request]
    before: Callable[[], None] = lambda: None
    after: Callable[[Any], None] = lambda body: None


class Demo:
    """The demo data of `make run`, seen through the API as its users see it."""

    def __init__(self, rt: Any) -> None:
        from eservices_core.clock import today_stockholm
        from local_runtime import demo

        self.rt, self.demo = rt, demo
        self.today: date = today_stockholm()
        self.people = {p.name: p for p in demo.residents(self.today)}
        self.staff = {m["name"]: m for m in demo.staff()}
        self._tokens: dict[str, str] = {}
        self._ids: dict[str, str] = {}
        self.codes: list[dict[str, Any]] = []  # verification codes the notifications API queued
        self.last_response_bytes = 0

    def resident(self, name: str) -> dict[str, str]:
        from local_runtime.idp import resident_claims

        if name not in self._tokens:
            claims = resident_claims(self.people[name].personnummer, name, 3)
            self._tokens[name] = self.rt.idps["resident"].issue(claims, lifetime=7200)
        return {"authorization": f"Bearer {self._tokens[name]}"}

    def staff_member(self, name: str) -> dict[str, str]:
        from local_runtime.idp import staff_claims

        member = self.staff[name]
        if name not in self._tokens:
            claims = staff_claims(member["hsa_id"], name)
            self._tokens[name] = self.rt.idps["staff"].issue(claims, lifetime=7200)
        return {
            "authorization": f"Bearer {self._tokens[name]}",
            "x-commission-id": member["commissions"][0]["id"],
        }

    def call(self, request: Request) -> tuple[int, Any]:
        headers = {"host": "localhost", "content-type": "application/json", **request.who}
        body = b"" if request.body is None else json.dumps(request.body).encode()
        response = self.rt.gateway.handle(request.method, request.path, request.query, headers, body)
        self.last_response_bytes = len(response.body)
        try:
            answer = json.loads(response.body) if response.body else None
        except ValueError:
            answer = None
        return response.status, answer

    def ok(self, request: Request) -> Any:
        status, body = self.call(request)
        if status != request.expect:
            raise RuntimeError(f"{request.method} {request.path}?{request.query} answered {status}: {body}")
        return body

    def patient_id(self, name: str, of: str | None = None) -> str:
        """`name`'s patient id, as they (or their guardian `of`) see it in GET /v1/me."""
        if name not in self._ids:
            me = self.ok(Request("GET", "/v1/me", self.resident(of or name)))
            for patient in me["patients"]:
                self._ids.setdefault(patient["name"], patient["patient_id"])
        return self._ids[name]


def operations(d: Demo) -> list[Operation]:
    """One realistic request for every API route, by the demo user who would make it."""
    from tests.support.people import ANSWERS

    demo = d.demo
    clinic, other = demo.DEMO_CLINIC["hsa_id"], demo.EXTERNAL_CLINIC["hsa_id"]
    anna, maja = d.resident("Anna Demosson"), d.resident("Maja Demoberg")
    nurse, doctor = d.staff_member("Sjuksköterska Demo Vårdare"), d.staff_member("Doktor Demo Läkare")
    a_id, liv, siri = d.patient_id("Anna Demosson"), d.patient_id("Liv Demosson", of="Anna Demosson"), ""
    siri = d.patient_id("Siri Demosson", of="Anna Demosson")
    erik, m_id = d.patient_id("Erik Demosson"), d.patient_id("Maja Demoberg")
    cases, staff_cases = f"/v1/patients/{a_id}/cases", f"/v1/staff/patients/{a_id}/cases"
    renewal = {"clinic_id": clinic, "case_type_id": "renew-prescription", "form_version": 1}

    def new_case(answers: dict[str, Any] | None = None, attachments: list[str] | None = None) -> str:
        body = renewal | {"answers": answers or ANSWERS["renew-prescription"]}
        if attachments:
            body["attachments"] = attachments
        return str(d.ok(Request("POST", cases, anna, body, expect=201))["case_id"])

    def fresh_case() -> Callable[[], None]:
        """A `before` that sends a new case, kept in `current` for the request."""

        def before() -> None:
            current["case"] = new_case()

        return before

    current: dict[str, str] = {}

    def closed_case() -> None:
        fresh_case()()
        d.ok(Request("POST", f"{staff_cases}/{current['case']}/closure", nurse))

    # ---- a case with a PDF attachment, uploaded as the browser would with the presigned POST -----------------
    upload = d.ok(
        Request(
            "POST",
            f"/v1/patients/{a_id}/attachments",
            anna,
            {"content_type": "application/pdf", "size": 2048, "filename": "recept.pdf"},
            expect=201,
        )
    )
    _upload(d, upload, b"%PDF-1.4\n" + b"%demo\n" * 290)
    attached_case = new_case(attachments=[upload["attachment_id"]])
    open_case = new_case()
    reply_case = new_case()
    # ---- booking: the demo clinic's nurse visits, three days ahead or more (changes close 24 h before) -----------
    later = (d.today + timedelta(days=3)).isoformat()
    times = d.ok(
        Request(
            "GET", "/v1/times", maja, query=f"booking_type=nurse-visit-15&clinic_id={clinic}&from={later}"
        )
    )["items"]
    slots = [t["time_id"] for t in times]
    appointments = f"/v1/patients/{m_id}/appointments"  # Maja holds one nurse visit, and moves it
    olle = d.resident("Olle Demolund")  # books and cancels (one active booking of a type at a time)
    booker_path = f"/v1/patients/{d.patient_id('Olle Demolund')}/appointments"
    held = d.ok(Request("POST", appointments, maja, {"time_id": slots[1]}, expect=201))
    state = {"held": held["appointment_id"], "at": slots[1], "cancel": ""}
    held_day = held["start"][:10]
    unit_times = d.ok(
        Request(
            "GET",
            "/v1/staff/booking-types/nurse-visit-15/times",
            doctor,
            query=f"from={held_day}&to={held_day}",
        )
    )["items"]
    staff_time = next(t["time_id"] for t in unit_times if t["booked"] == 0)
    days = itertools.count(70)
    # A clinic day the staff list shows: eight residents (two of them children, booked by their guardian) at the
    # influenza vaccination of the last booking day.
    vaccination_day = max(day for day in demo.booking_days(d.today) if day.isoweekday() <= 5).isoformat()
    flu = f"booking_type=influenza-vaccination&clinic_id={clinic}&from={vaccination_day}&to={vaccination_day}"
    flu_times = [t["time_id"] for t in d.ok(Request("GET", "/v1/times", anna, query=flu))["items"]]
    vaccinated = [(n, n) for n in ("Anna Demosson", "Erik Demosson", "Karin Demolund", "Olle Demolund")]
    vaccinated += [(n, n) for n in ("Gustav Demogren", "Maja Demoberg")]
    vaccinated += [("Liv Demosson", "Anna Demosson"), ("Siri Demosson", "Anna Demosson")]
    for n, (patient, guardian) in enumerate(vaccinated):
        path = f"/v1/patients/{d.patient_id(patient, of=guardian)}/appointments"
        d.ok(Request("POST", path, d.resident(guardian), {"time_id": flu_times[n // 3]}, expect=201))

    def publish_body() -> dict[str, Any]:
        day = (d.today + timedelta(days=next(days))).isoformat()
        rule = {
            "from": day,
            "to": day,
            "weekdays": [1, 2, 3, 4, 5, 6, 7],
            "first_start": "08:00",
            "last_start": "09:45",
        }
        return {"recurrence": rule, "capacity": 1}

    def rebook() -> Request:
        target = slots[2] if state["at"] == slots[1] else slots[1]
        state["at"] = target
        return Request("POST", f"{appointments}/{state['held']}/rebooking", maja, {"time_id": target})

    def book_to_cancel() -> None:
        booked = d.ok(Request("POST", booker_path, olle, {"time_id": slots[3]}, expect=201))
        state["cancel"] = booked["appointment_id"]

    # ---- inbox: Anna's messages, and some more delivered to delete ----------------------------------------------
    inbox = f"/v1/patients/{a_id}/inbox"
    listed = d.ok(Request("GET", inbox, anna, query="limit=100"))["items"]
    to_read, to_mark = listed[-1]["message_id"], listed[0]["message_id"]
    deletable = _deliver_inbox(d, "Anna Demosson", REQUESTS + METERED + 3)
    # ---- notifications: a mobile number and its code -------------------------------------------------------------
    settings = f"/v1/patients/{a_id}/notification-settings"
    numbers = (f"+4670{n:07d}" for n in itertools.count(1234567))

    def new_code() -> None:
        d.codes.clear()
        d.ok(Request("PUT", settings, anna, {"mobile": next(numbers)}))
        [code] = [c["code"] for c in d.codes if c.get("kind") == "code"]
        current["code"] = code

    return [
        # directory (no login)
        Operation("GET /v1/clinics", "search by name, 20 a page", lambda: Request("GET", "/v1/clinics", {}, query="q=vardcentral")),
        Operation("GET /v1/clinics/{clinicId}", "the demo clinic", lambda: Request("GET", f"/v1/clinics/{clinic}", {})),
        # identity and access
        Operation("GET /v1/me", "a guardian of three", lambda: Request("GET", "/v1/me", anna)),
        Operation("GET /v1/patients/{patientId}", "a guardian reads a child", lambda: Request("GET", f"/v1/patients/{liv}", anna)),
        Operation("GET /v1/patients/{patientId}/access-log", "own access log", lambda: Request("GET", f"/v1/patients/{a_id}/access-log", anna)),
        Operation("GET /v1/staff/me", "a nurse's commissions", lambda: Request("GET", "/v1/staff/me", nurse)),
        Operation(
            "POST /v1/staff/patient-lookups", "a nurse looks a child up",
            lambda: Request("POST", "/v1/staff/patient-lookups", nurse, {"personal_identity_number": d.people["Liv Demosson"].personnummer}),
        ),
        Operation("GET /v1/staff/patients/{patientId}/guardians", "a child's guardians", lambda: Request("GET", f"/v1/staff/patients/{liv}/guardians", nurse)),
        Operation(
            "POST /v1/staff/patients/{patientId}/guardian-blocks", "block a guardian (lifted again after)",
            lambda: Request("POST", f"/v1/staff/patients/{siri}/guardian-blocks", doctor, {"guardian_patient_id": erik}, expect=201),
            after=lambda _: d.ok(Request("DELETE", f"/v1/staff/patients/{siri}/guardian-blocks/{erik}", doctor, expect=204)),
        ),
        Operation(
            "DELETE /v1/staff/patients/{patientId}/guardian-blocks/{guardianPatientId}", "lift a block",
            lambda: Request("DELETE", f"/v1/staff/patients/{siri}/guardian-blocks/{erik}", doctor, expect=204),
            before=lambda: d.ok(Request("POST", f"/v1/staff/patients/{siri}/guardian-blocks", doctor, {"guardian_patient_id": erik}, expect=201)),
        ),
        # cases: residents
        Operation("GET /v1/clinics/{clinicId}/case-types", "types offered to the caller", lambda: Request("GET", f"/v1/clinics/{clinic}/case-types", anna)),
        Operation(
            "POST /v1/patients/{patientId}/cases", "send a prescription renewal",
            lambda: Request("POST", cases, anna, renewal | {"answers": ANSWERS["renew-prescription"]}, expect=201),
        ),
        Operation("GET /v1/patients/{patientId}/cases", "list, first page of 20", lambda: Request("GET", cases, anna)),
        Operation("GET /v1/patients/{patientId}/cases/{caseId}", "read with its thread", lambda: Request("GET", f"{cases}/{reply_case}", anna)),
        Operation(
            "POST /v1/patients/{patientId}/cases/{caseId}/messages", "a message on an open case",
            lambda: Request("POST", f"{cases}/{open_case}/messages", anna, {"text": TEXT}, expect=201),
        ),
        Operation(
            "POST /v1/patients/{patientId}/cases/{caseId}/withdrawal", "withdraw a new case",
            lambda: Request("POST", f"{cases}/{current['case']}/withdrawal", anna), before=fresh_case(),
        ),
        Operation(
            "POST /v1/patients/{patientId}/attachments", "presign a PDF upload",
            lambda: Request("POST", f"/v1/patients/{a_id}/attachments", anna, {"content_type": "application/pdf", "size": 120000, "filename": "intyg.pdf"}, expect=201),
        ),
        Operation(
            "GET /v1/patients/{patientId}/cases/{caseId}/attachments/{attachmentId}", "download link of a PDF",
            lambda: Request("GET", f"{cases}/{attached_case}/attachments/{upload['attachment_id']}", anna),
        ),
        # cases: staff on one case
        Operation("GET /v1/staff/patients/{patientId}/cases/{caseId}", "a nurse reads a case", lambda: Request("GET", f"{staff_cases}/{reply_case}", nurse)),
        Operation(
            "GET /v1/staff/patients/{patientId}/cases/{caseId}/attachments/{attachmentId}", "a nurse's download link",
            lambda: Request("GET", f"{staff_cases}/{attached_case}/attachments/{upload['attachment_id']}", nurse),
        ),
        Operation(
            "POST /v1/staff/patients/{patientId}/cases/{caseId}/assignment", "assign to me",
            lambda: Request("POST", f"{staff_cases}/{open_case}/assignment", nurse, {"assignee_hsa_id": "me"}),
        ),
        Operation(
            "POST /v1/staff/patients/{patientId}/cases/{caseId}/messages", "a reply",
            lambda: Request("POST", f"{staff_cases}/{reply_case}/messages", nurse, {"text": "Tack, vi ser över det."}, expect=201),
        ),
        Operation(
            "POST /v1/staff/patients/{patientId}/cases/{caseId}/information-requests", "ask the resident",
            lambda: Request("POST", f"{staff_cases}/{current['case']}/information-requests", nurse, {"text": "Vilken dos tar du?"}, expect=201),
            before=fresh_case(),
        ),
        Operation(
            "POST /v1/staff/patients/{patientId}/cases/{caseId}/decision", "approve a renewal",
            lambda: Request("POST", f"{staff_cases}/{current['case']}/decision", nurse, {"outcome": "approved", "renewed": ["Demoxin 10 mg"]}),
            before=fresh_case(),
        ),
        Operation(
            "POST /v1/staff/patients/{patientId}/cases/{caseId}/forwarding", "to the provider's other clinic",
            lambda: Request("POST", f"{staff_cases}/{current['case']}/forwarding", nurse, {"care_unit_hsa_id": other}),
            before=fresh_case(),
        ),
        Operation(
            "POST /v1/staff/patients/{patientId}/cases/{caseId}/closure", "close with a text",
            lambda: Request("POST", f"{staff_cases}/{current['case']}/closure", nurse, {"text": "Klart, receptet är förnyat."}),
            before=fresh_case(),
        ),
        Operation(
            "POST /v1/staff/patients/{patientId}/cases/{caseId}/reopening", "reopen a closed case",
            lambda: Request("POST", f"{staff_cases}/{current['case']}/reopening", nurse),
            before=closed_case,
        ),
        # cases: the unit
        Operation("GET /v1/staff/cases", "the queue, waiting for staff", lambda: Request("GET", "/v1/staff/cases", nurse, query="status=waiting_for_staff")),
        Operation("GET /v1/staff/standard-answers", "standard answers", lambda: Request("GET", "/v1/staff/standard-answers", nurse)),
        Operation("GET /v1/staff/statistics", "this month", lambda: Request("GET", "/v1/staff/statistics", nurse)),
        Operation("GET /v1/staff/case-types", "the unit's types", lambda: Request("GET", "/v1/staff/case-types", doctor)),
        Operation(
            "PUT /v1/staff/case-types/{typeId}", "configure a type",
            lambda: Request("PUT", "/v1/staff/case-types/feedback", doctor, demo.CASE_TYPES["feedback"]),
        ),
        Operation(
            "POST /v1/staff/case-types/{typeId}/handed-to", "offer a type to one patient",
            lambda: Request("POST", "/v1/staff/case-types/journal-copy/handed-to", doctor, {"patient_id": a_id}, expect=201),
        ),
        # booking: residents
        Operation("GET /v1/booking-types", "the catalogue", lambda: Request("GET", "/v1/booking-types", maja)),
        Operation(
            "GET /v1/times", "nurse visits at one clinic, two weeks",
            lambda: Request("GET", "/v1/times", maja, query=f"booking_type=nurse-visit-15&clinic_id={clinic}"),
        ),
        Operation(
            "POST /v1/patients/{patientId}/appointments", "book (cancelled again after)",
            lambda: Request("POST", booker_path, olle, {"time_id": slots[0]}, expect=201),
            after=lambda body: d.ok(Request("POST", f"{booker_path}/{body['appointment_id']}/cancellation", olle)),
        ),
        Operation("GET /v1/patients/{patientId}/appointments", "all active", lambda: Request("GET", appointments, maja)),
        Operation(
            "GET /v1/patients/{patientId}/appointments/{appointmentId}", "one",
            lambda: Request("GET", f"{appointments}/{state['held']}", maja),
        ),
        Operation("POST /v1/patients/{patientId}/appointments/{appointmentId}/rebooking", "move to another time", rebook),
        Operation(
            "POST /v1/patients/{patientId}/appointments/{appointmentId}/cancellation", "cancel",
            lambda: Request("POST", f"{booker_path}/{state['cancel']}/cancellation", olle), before=book_to_cancel,
        ),
        # booking: clinics
        Operation("GET /v1/staff/booking-types", "the unit's types", lambda: Request("GET", "/v1/staff/booking-types", doctor)),
        Operation(
            "PUT /v1/staff/booking-types/{typeId}", "configure a type",
            lambda: Request("PUT", "/v1/staff/booking-types/influenza-vaccination", doctor, demo.BOOKING_TYPES["influenza-vaccination"].settings),
        ),
        Operation(
            "POST /v1/staff/booking-types/{typeId}/times", "publish a day of 8 times",
            lambda: Request("POST", "/v1/staff/booking-types/nurse-visit-15/times", doctor, publish_body(), expect=201),
        ),
        Operation(
            "GET /v1/staff/booking-types/{typeId}/times", "a week of times",
            lambda: Request("GET", "/v1/staff/booking-types/nurse-visit-15/times", doctor),
        ),
        Operation(
            "POST /v1/staff/times/{timeId}/closure", "close a time (opened again after)",
            lambda: Request("POST", f"/v1/staff/times/{staff_time}/closure", doctor),
            after=lambda _: d.ok(Request("POST", f"/v1/staff/times/{staff_time}/opening", doctor)),
        ),
        Operation(
            "POST /v1/staff/times/{timeId}/opening", "open a closed time",
            lambda: Request("POST", f"/v1/staff/times/{staff_time}/opening", doctor),
            before=lambda: d.ok(Request("POST", f"/v1/staff/times/{staff_time}/closure", doctor)),
        ),
        Operation(
            "GET /v1/staff/appointments", "a day's 8 appointments",
            lambda: Request("GET", "/v1/staff/appointments", doctor, query=f"date={vaccination_day}"),
        ),
        # inbox
        Operation("GET /v1/patients/{patientId}/inbox", "newest first", lambda: Request("GET", inbox, anna)),
        Operation("GET /v1/patients/{patientId}/inbox/{messageId}", "read a read message", lambda: Request("GET", f"{inbox}/{to_read}", anna)),
        Operation(
            "PATCH /v1/patients/{patientId}/inbox/{messageId}", "mark unread",
            lambda: Request("PATCH", f"{inbox}/{to_mark}", anna, {"read": False}),
        ),
        Operation(
            "DELETE /v1/patients/{patientId}/inbox/{messageId}", "delete from view",
            lambda: Request("DELETE", f"{inbox}/{deletable.pop()}", anna, expect=204),
        ),
        # notifications
        Operation("GET /v1/patients/{patientId}/notification-settings", "read", lambda: Request("GET", settings, anna)),
        Operation(
            "PUT /v1/patients/{patientId}/notification-settings", "a new mobile number (a code is sent)",
            lambda: Request("PUT", settings, anna, {"mobile": next(numbers), "events": {"inbox": True, "cases": True, "booking": True}}),
        ),
        Operation(
            "POST /v1/patients/{patientId}/notification-settings/verification", "the right code",
            lambda: Request("POST", f"{settings}/verification", anna, {"channel": "mobile", "code": current["code"]}),
            before=new_code,
        ),
    ]  # fmt: skip


def _upload(d: Demo, presigned: dict[str, Any], content: bytes) -> None:
    """What the browser's POST to the presigned URL stores (see tests/integration/test_case_attachments.py)."""
    fields = presigned["upload"]["fields"]
    d.rt.deployment.session.client("s3").put_object(
        Bucket=d.rt.deployment.lookup("AttachmentsBucket", None),
        Key=fields["key"],
        Body=content,
        ContentType=fields["Content-Type"],
        Metadata={"filename": fields["x-amz-meta-filename"]},
        Tagging="state=uploaded",
    )


def _inbox_message(d: Demo, name: str, subject: str) -> dict[str, Any]:
    clinic = d.demo.EXTERNAL_CLINIC
    return {
        "message_id": f"bench-{uuid.uuid4().hex[:16]}",
        "system_id": "demo-ehr",
        "sender": {"care_unit_hsa_id": clinic["hsa_id"], "care_unit_name": clinic["name"]},
        "recipient": d.people[name].personnummer,
        "category": "result",
        "subject": subject,
        "body": "Hej!\n\nDitt **provsvar** är klart och visar normala värden.\n\n- Värde 1\n- Värde 2",
        "replyable": False,
        "sent_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def _deliver_inbox(d: Demo, name: str, count: int) -> list[str]:
    """`count` messages through the delivery function, as a registered system's would arrive; their ids."""
    from tests.support.events import sqs_event

    arn = d.rt.deployment.lookup("InboxDeliveryQueue", "Arn")
    subjects = [f"Provsvar {uuid.uuid4().hex[:8]}" for _ in range(count)]
    for start in range(0, count, 10):
        bodies: list[str | dict[str, Any]] = [
            _inbox_message(d, name, s) for s in subjects[start : start + 10]
        ]
        result = d.rt.runner.invoke("InboxDeliveryFunction", sqs_event(bodies, arn))
        assert result == {"batchItemFailures": []}, result
    patient = d.patient_id(name)
    found: dict[str, str] = {}
    cursor = ""
    while True:
        page = d.ok(
            Request("GET", f"/v1/patients/{patient}/inbox", d.resident(name), query=f"limit=100{cursor}")
        )
        found |= {m["subject"]: m["message_id"] for m in page["items"]}
        if not page["next_cursor"]:
            break
        cursor = f"&cursor={page['next_cursor']}"
    return [found[s] for s in subjects]


def measure(d: Demo, meter: Any, op: Operation, function: str) -> dict[str, Any]:
    """Warm-up, METERED requests with capacity units, REQUESTS timed requests; the state put back each time."""
    me = threading.get_ident()
    sizes: list[int] = []

    def once() -> tuple[Any, float, Any]:
        op.before()
        request = op.request()
        mark = meter.mark()
        started = time.perf_counter()
        status, body = d.call(request)
        gateway = time.perf_counter() - started
        if status != request.expect:
            raise RuntimeError(f"{op.route}: {request.method} {request.path} answered {status}: {body}")
        [invocation] = meter.since(mark, thread=me)
        if invocation.function != function:
            raise RuntimeError(f"{op.route} ran {invocation.function}, the template says {function}")
        sizes.append(d.last_response_bytes)
        op.after(body)
        return invocation, gateway, body

    once()
    meter.capacity = True
    metered = [once()[0] for _ in range(METERED)]
    meter.capacity = False
    timed = [once() for _ in range(REQUESTS)]
    handler = [i.seconds * 1000 for i, _, _ in timed]
    own = [(i.seconds - i.waited) * 1000 for i, _, _ in timed]
    return {
        "function": function,
        "what": op.what,
        "handler_median_ms": _r(statistics.median(handler)),
        "handler_p95_ms": _r(_p95(handler)),
        "handler_own_median_ms": _r(statistics.median(own)),
        "gateway_median_ms": _r(statistics.median(g * 1000 for _, g, _ in timed)),
        "response_bytes": int(statistics.median(sizes)),
        **_figures(metered, metered + [i for i, _, _ in timed]),
    }


def _figures(metered: list[Any], every: list[Any]) -> dict[str, Any]:
    """Calls and round trips of a typical request (the median over `every` request, with the most any request
    made: a lost optimistic-lock race reads and writes again), and capacity units and billed requests (median
    of the `metered` requests)."""

    def median(values: list[float]) -> float:
        return round(statistics.median(values), 2) if values else 0.0

    names = sorted({k for i in every for k in i.calls})
    calls = {k: statistics.median(i.calls.get(k, 0) for i in every) for k in names}
    calls = {k: int(n) if float(n).is_integer() else n for k, n in calls.items() if n}
    billed = sorted({k for i in metered for k in i.billed})
    return {
        "dynamodb_round_trips": int(statistics.median(i.round_trips("dynamodb") for i in every)),
        "dynamodb_round_trips_max": max(i.round_trips("dynamodb") for i in every),
        "read_units": median([i.units.read for i in metered]),
        "write_units": median([i.units.write for i in metered]),
        "index_write_units": median([i.units.index_write for i in metered]),
        "moto_reported_units": median([i.units.moto_reported for i in metered]),
        "units_by_table": _by_table(metered),
        "calls": calls,
        "sqs_calls": sum(n for k, n in calls.items() if k.startswith("sqs:")),
        "stepfunctions_calls": sum(n for k, n in calls.items() if k.startswith("stepfunctions:")),
        "eventbridge_calls": sum(n for k, n in calls.items() if k.startswith("events:")),
        "billed": {k: median([float(i.billed.get(k, 0)) for i in metered]) for k in billed},
    }


def _by_table(metered: list[Any]) -> dict[str, dict[str, float]]:
    tables = sorted({t for i in metered for t in i.units.by_table})
    return {
        _short(t): {
            kind: round(statistics.median(i.units.by_table.get(t, {}).get(kind, 0.0) for i in metered), 2)
            for kind in ("read", "write")
        }
        for t in tables
    }


def _short(table: str) -> str:
    """The table's logical id (physical names are `<stack>-<LogicalId>` locally)."""
    return table.rsplit("-", 1)[-1]


# ---- the other functions -----------------------------------------------------------------------------------------
def background(d: Demo, meter: Any) -> dict[str, Any]:
    """One realistic batch or invocation of each function no route reaches, metered like a request."""
    from local_runtime import demo, population
    from local_runtime.generate import feed_message
    from tests.support.events import sqs_event
    from tests.support.people import ANSWERS

    rt, me = d.rt, threading.get_ident()
    arn = lambda queue: rt.deployment.lookup(queue, "Arn")  # noqa: E731
    scheduled = eventbridge_event("Scheduled Event", "aws.events", {})
    seconds = itertools.count(10_000_000)
    changed_units = [
        feed_message("care_unit.upserted", u | {"phone": f"08-{600000 + n}"}, seconds=next(seconds))
        for n, u in enumerate(demo.CATALOGUE.units[-10:])
    ]
    born = d.today - timedelta(days=365 * 30)
    people = [
        population.person(
            demo.personnummer(born - timedelta(days=n), 700 + n),
            f"Bänk Demoperson {n}",
            seconds=next(seconds),
        )
        for n in range(10)
    ]
    unit = demo.DEMO_CLINIC
    staff = []
    for n in range(5):
        hsa_id = f"SE2321000016-B{n:04d}"
        staff += [
            population.employee(hsa_id, f"Bänk Demovårdare {n}", "Sjuksköterska", seconds=next(seconds)),
            population.commission(f"C-B{n:04d}-1", hsa_id, unit, seconds=next(seconds)),
        ]
    residents = ["Anna Demosson", "Erik Demosson", "Maja Demoberg", "Gustav Demogren", "Olle Demolund"]
    deliveries = [_inbox_message(d, residents[n % len(residents)], f"Kallelse {n}") for n in range(10)]
    received = [inbox_message_event(d.patient_id(residents[n % 3])) for n in range(10)]
    anna = d.patient_id("Anna Demosson")
    notices = [{"patient_id": anna, "channel": "mobile", "kind": "notice"} for _ in range(10)]
    a_case = d.ok(
        Request(
            "POST",
            f"/v1/patients/{anna}/cases",
            d.resident("Anna Demosson"),
            {
                "clinic_id": unit["hsa_id"],
                "case_type_id": "renew-prescription",
                "form_version": 1,
                "answers": ANSWERS["renew-prescription"],
            },
            expect=201,
        )
    )["case_id"]
    runs: dict[str, tuple[str, dict[str, Any], int]] = {
        "DirectoryFeedFunction": ("10 changed care units", sqs_event(list(changed_units), arn("HsaFeedQueue")), 10),
        "PopulationRegisterFeedFunction": ("10 new people", sqs_event(list(people), arn("PopulationRegisterQueue")), 10),
        "HsaStaffFeedFunction": ("5 employees and their commissions", sqs_event(list(staff), arn("HsaStaffFeedQueue")), 10),
        "InboxDeliveryFunction": ("10 messages to 5 residents", sqs_event(list(deliveries), arn("InboxDeliveryQueue")), 10),
        "NotificationCollectorFunction": ("10 message-received events", sqs_event(list(received), arn("NotificationEventsQueue")), 10),
        "NotificationSenderFunction": ("10 SMS notices", sqs_event(list(notices), arn("NotificationSendQueue")), 10),
        "CaseWorkflowFunction": ("remind the unit of an overdue case", {"action": "remind", "patient_id": anna, "case_id": a_case}, 1),
        "CaseEventsOutboxFunction": ("one sweep (rate 1 minute)", scheduled, 1),
        "BookingSweeperFunction": ("one sweep: 25 reminder buckets + outbox", scheduled, 1),
        "InboxOutboxFunction": ("one sweep (rate 1 minute)", scheduled, 1),
        "NotificationDispatchFunction": ("one sweep: 61 minute buckets", scheduled, 1),
        "ActiveUserFunction": ("is Anna an active user?", {"personal_identity_number": d.people["Anna Demosson"].personnummer}, 1),
    }  # fmt: skip
    results = {}
    meter.capacity = True
    for function, (what, event, items) in runs.items():
        mark = meter.mark()
        rt.runner.invoke(function, event)
        [invocation] = meter.since(mark, thread=me, function=function)
        results[function] = {
            "what": what,
            "items": items,
            "invocation_ms": _r(invocation.seconds * 1000),
            "own_ms": _r((invocation.seconds - invocation.waited) * 1000),
            **_figures([invocation], [invocation]),
        }
    meter.capacity = False
    return results


def observed(meter: Any, since: int, functions: set[str]) -> dict[str, Any]:
    """The invocations the runtime made by itself (workflow tasks, pollers) while the operations ran."""
    groups: dict[str, list[Any]] = {}
    me = threading.get_ident()
    for invocation in meter.since(since):
        if invocation.function in functions and invocation.thread != me:
            groups.setdefault(invocation.label or invocation.function, []).append(invocation)

    def metered(found: list[Any]) -> dict[str, Any]:
        with_units = [i for i in found if i.metered]
        if not with_units:
            return {"metered_invocations": 0}
        return {
            "metered_invocations": len(with_units),
            "read_units_median": statistics.median(i.units.read for i in with_units),
            "write_units_median": statistics.median(i.units.write for i in with_units),
        }

    return {
        label: {
            "invocations": len(found),
            "median_ms": _r(statistics.median(i.seconds * 1000 for i in found)),
            "own_median_ms": _r(statistics.median((i.seconds - i.waited) * 1000 for i in found)),
            "dynamodb_round_trips_median": statistics.median(i.round_trips("dynamodb") for i in found),
            "calls_median": {
                k: statistics.median(i.calls.get(k, 0) for i in found)
                for k in sorted({k for i in found for k in i.calls})
            },
            **metered(found),
        }
        for label, found in sorted(groups.items())
    }


# ---- the whole run --------------------------------------------------------------------------------------------
def main() -> None:
    os.environ["POWERTOOLS_LOG_LEVEL"] = "ERROR"  # the handlers' own logs would drown the table
    os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "OpenEServices")
    from local_runtime.template import Template

    started = time.perf_counter()
    template = Template()
    cold = cold_imports(template)
    cold_seconds = time.perf_counter() - started
    with _quiet():
        first, api, others, seen, load_seconds = _warm(template)
    report: dict[str, Any] = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {
            "python": platform.python_version(),
            "cpu_count": os.cpu_count(),
            "platform": platform.platform(),
        },
        "settings": {"cold_runs": COLD_RUNS, "requests": REQUESTS, "metered_requests": METERED},
        "notes": {
            "capacity": (
                "read_units/write_units are computed from item sizes as AWS bills on-demand tables (4 KB read units, "
                "halved for eventually consistent reads; 1 KB write units of the larger of the item before and after; "
                "transactions doubled; secondary index writes added; see benchmarks/capacity.py). moto answers "
                "ReturnConsumedCapacity=TOTAL with constants (0.5 per read call, 1 per write call, nothing for "
                "TransactWriteItems), kept as moto_reported_units for comparison only."
            ),
            "timing": (
                "handler_* is the function's invocation (what Lambda bills), gateway_* adds the local gateway's JWT "
                "check; both against a local moto server over HTTP, so every AWS call includes a loopback HTTP "
                "exchange and moto's own work; handler_own leaves out the time waiting on AWS calls."
            ),
            "round_trips": (
                "calls and dynamodb_round_trips: the median request of the operation (dynamodb_round_trips_max: the "
                "most any request made, e.g. after a lost optimistic-lock race); units and billed: the median of the "
                "metered requests"
            ),
        },
        "cold": cold,
        "cold_first_request": first,
        "operations": api,
        "background": others,
        "observed": seen,
        "seconds": {"cold_imports": round(cold_seconds, 1), "demo_data_load": round(load_seconds, 1)},
    }
    report["slowest_cold_imports"] = sorted(
        cold["functions"], key=lambda f: cold["functions"][f]["import_ms"], reverse=True
    )[:3]
    report["most_expensive_operations"] = sorted(api, key=lambda r: expense(api[r]), reverse=True)[:3]
    report["seconds"]["total"] = round(time.perf_counter() - started, 1)
    out = ROOT / "benchmarks/results/functions.json"
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    _print(report)
    print(f"\nwritten to {out.relative_to(ROOT)}")


def expense(op: dict[str, Any]) -> tuple[float, int, float]:
    """DynamoDB write-unit equivalents (a write unit costs five read units on demand), then round trips, then
    handler time: how the most expensive operations are chosen."""
    return (op["write_units"] + op["read_units"] / 5, op["dynamodb_round_trips"], op["handler_median_ms"])


def _warm(template: Any) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any], dict[str, Any], float]:
    from benchmarks.metering import Meter
    from local_runtime.runtime import LocalRuntime, free_port

    rt = LocalRuntime(port=free_port(), aws_port=free_port(), poll_interval=0.05)
    loading = time.perf_counter()
    with rt.running():
        rt.wait_until_loaded(timeout=300)
        load_seconds = time.perf_counter() - loading
        meter = Meter()
        meter.wrap(
            rt.runner, label=lambda fn, event: f"{fn}:{event.get('action')}" if "action" in event else None
        )
        d = Demo(rt)
        with meter.watching(), _capturing_codes(d):
            start = meter.mark()
            ops = operations(d)
            functions = {f"{m} {p}": fn for m, p, fn, _ in template.http_routes()}
            missing = set(functions) - {o.route for o in ops}
            unknown = {o.route for o in ops} - set(functions)
            if missing or unknown:
                raise RuntimeError(
                    f"routes without an operation: {sorted(missing)}; not in the template: {sorted(unknown)}"
                )
            first = cold_first_requests(d, ops, template)
            api = {op.route: measure(d, meter, op, functions[op.route]) for op in ops}
            others = background(d, meter)
            time.sleep(1)  # let the workflow runs the last requests started reach their wait
            api_functions = {fn for fn in functions.values()}
            seen = observed(meter, start, set(template.functions) - api_functions)
    return first, api, others, seen, load_seconds


@contextlib.contextmanager
def _capturing_codes(d: Demo) -> Iterator[None]:
    """The verification codes the notifications API puts on its send queue (a phone would receive them)."""
    from eservices_core import aws

    def capture(params: dict[str, Any], model: Any, **_: Any) -> None:
        bodies = [params.get("MessageBody")] + [e.get("MessageBody") for e in params.get("Entries", [])]
        for body in filter(None, bodies):
            with contextlib.suppress(ValueError, TypeError):
                d.codes.append(json.loads(body))

    with aws.watching("sqs", "before-parameter-build", capture):
        yield


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """The functions' metrics (EMF) lines and the runtime's logs go nowhere while the benchmark runs."""
    import logging

    logging.disable(logging.WARNING)
    try:
        with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
            yield
    finally:
        logging.disable(logging.NOTSET)


def _r(value: float) -> float:
    return round(value, 2)


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) > 1 else values[0]


def _print(report: dict[str, Any]) -> None:
    cold = report["cold"]
    print(
        f"\nEvery function of template.yaml ({report['machine']['cpu_count']} cores, Python "
        f"{report['machine']['python']}; cold: median of {cold['runs']} fresh interpreters, baseline "
        f"{cold['baseline_ms']} ms = boto3 + one DynamoDB client)\n"
    )
    print(
        f"{'function':32} {'handler module':32} {'import ms':>9} {'ratio':>6} {'modules':>7}  heavy at import"
    )
    for name, c in sorted(cold["functions"].items(), key=lambda kv: -kv[1]["import_ms"]):
        heavy = ", ".join(c["heavy_at_import"]) or "-"
        print(
            f"{name:32} {c['module']:32} {c['import_ms']:9.1f} {c['ratio_to_baseline']:6.2f} {c['modules_loaded']:7d}  {heavy}"
        )
    first = report["cold_first_request"]
    print(
        f"\n{'cold start of an API function':32} {'first request (a typical read)':50} {'ms':>7} {'ratio':>6}"
        f"   (baseline {first['baseline_ms']} ms: boto3, a client, one call)"
    )
    for name, c in sorted(first["functions"].items(), key=lambda kv: -kv[1]["import_and_first_request_ms"]):
        print(
            f"{name:32} {c['request']:50} {c['import_and_first_request_ms']:7.1f} {c['ratio_to_baseline']:6.2f}"
        )
    print(
        f"\n{'API operation':78} {'handler':>7} {'p95':>7} {'own':>6} {'ddb':>4} {'RRU':>6} {'WRU':>6} "
        f"{'sqs':>4} {'sfn':>4} {'evb':>4}"
    )
    for route, o in report["operations"].items():
        print(
            f"{route:78} {o['handler_median_ms']:7.1f} {o['handler_p95_ms']:7.1f} {o['handler_own_median_ms']:6.1f} "
            f"{o['dynamodb_round_trips']:4d} {o['read_units']:6.1f} {o['write_units']:6.1f} {o['sqs_calls']:4d} "
            f"{o['stepfunctions_calls']:4d} {o['eventbridge_calls']:4d}"
        )
    print(
        "(ms: median and p95 of the handler's invocation, and its own time without waiting on AWS; ddb: DynamoDB round "
        "trips; RRU/WRU: capacity units from item sizes as AWS bills them; sqs/sfn/evb: SQS, Step Functions, "
        "EventBridge calls)"
    )
    print(
        f"\n{'other functions: one invocation':70} {'ms':>7} {'own':>6} {'ddb':>4} {'RRU':>6} {'WRU':>6}  other calls"
    )
    for name, o in report["background"].items():
        others = ", ".join(f"{k} {v}" for k, v in o["calls"].items() if not k.startswith("dynamodb:")) or "-"
        label = f"{name} ({o['what']})"
        print(
            f"{label[:70]:70} {o['invocation_ms']:7.1f} {o['own_ms']:6.1f} {o['dynamodb_round_trips']:4d} "
            f"{o['read_units']:6.1f} {o['write_units']:6.1f}  {others}"
        )
    if report["observed"]:
        print("\ninvocations the runtime made by itself meanwhile (workflow tasks, pollers)")
        for label, o in report["observed"].items():
            print(
                f"  {label:50} {o['invocations']:4d} x, median {o['median_ms']:7.1f} ms, {o['dynamodb_round_trips_median']:g} DynamoDB round trips"
            )
    slow = ", ".join(
        f"{f} ({cold['functions'][f]['import_ms']:.0f} ms)" for f in report["slowest_cold_imports"]
    )
    print(f"\nthree slowest cold imports: {slow}")
    print("three most expensive operations (DynamoDB write-unit equivalents: WRU + RRU/5, then round trips):")
    for route in report["most_expensive_operations"]:
        o = report["operations"][route]
        print(
            f"  {route}: {o['read_units']:g} RRU + {o['write_units']:g} WRU, {o['dynamodb_round_trips']} round trips, "
            f"{o['handler_median_ms']:.1f} ms"
        )
    s = report["seconds"]
    print(f"(cold imports {s['cold_imports']} s, demo data {s['demo_data_load']} s, all {s['total']} s)")


if __name__ == "__main__":
    main()
