"""The local runtime: the whole template on one machine, without Docker.

One process: moto (DynamoDB, SQS, Step Functions, S3, KMS, EventBridge) on AWS_PORT; the HTTP gateway on
PORT with the template's routes and JWT authorizers; one poller per SQS event source; development identity
providers; the simulated HSA catalogue feeding demo clinics through its queue; a simulated external booking
system (crm:scheduling) on a free port, given to the template as `SchedulingPlatformUrl`; the SMS and e-mail
the platform sent, captured by moto, on a development page.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3

from eservices_core import clock, identifiers, wiring
from eservices_core.errors import InvalidInput
from local_runtime import captured, demo, moto_patches, oidc
from local_runtime.functions import FunctionRunner
from local_runtime.gateway import Gateway, Response, template_authorizers, template_routes
from local_runtime.idp import (
    TOKEN_LIFETIME_SECONDS,
    WEB_CLIENT_ID,
    DevIdentityProvider,
    resident_claims,
    staff_claims,
)
from local_runtime.pages import login_page, notifications_page
from local_runtime.poller import SqsEventSource, event_sources, send_all
from local_runtime.provision import Deployment, provision
from local_runtime.schedules import Scheduler
from local_runtime.scheduling_simulator import SchedulingSimulator
from local_runtime.template import Template
from local_runtime.web import WebClient
from ops import sending_systems

logger = logging.getLogger("local_runtime")
# The providers' published documents (discovery, JWKS) may be read from any origin, as real providers allow.
PUBLIC = {"Access-Control-Allow-Origin": "*"}
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_DEFAULT_REGION": "eu-north-1",
    "AWS_REGION": "eu-north-1",
}


@dataclass
class Poller:
    name: str
    source: SqsEventSource
    thread: threading.Thread | None = None
    errors: int = 0


class SentLog:
    """The SMS and e-mail moto captured, newest first. moto keeps the two apart and without a time, so the
    runtime notes each when it first sees it: after every SQS-driven invocation (the sender's among them)
    and on every read."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen = {"sms": 0, "email": 0}
        self._log: list[tuple[datetime, captured.Sent]] = []

    def note(self) -> list[tuple[datetime, captured.Sent]]:
        with self._lock:
            for _ in range(10):
                try:
                    everything = captured.sent()
                    break
                except RuntimeError:  # moto stored one while it was read (dictionary changed size)
                    continue
            else:
                return list(reversed(self._log))
            now = clock.now_utc()
            for channel, seen in self._seen.items():
                mine = [m for m in everything if m.channel == channel]
                self._log += [(now, m) for m in mine[seen:]]
                self._seen[channel] = len(mine)
            return list(reversed(self._log))

    def as_json(self) -> dict[str, Any]:
        items = [
            {"noticed_at": at.isoformat(timespec="milliseconds"), "channel": m.channel, "to": m.to}
            | {"subject": m.subject, "text": m.text}
            for at, m in self.note()
        ]
        return {"items": items}


@dataclass
class LocalRuntime:
    port: int = 3000
    aws_port: int = 4566
    host: str = "127.0.0.1"
    load_demo_data: bool = True
    poll_interval: float = 0.1
    template: Template | None = None
    deployment: Deployment = field(init=False)
    runner: FunctionRunner = field(init=False)
    gateway: Gateway = field(init=False)
    idps: dict[str, DevIdentityProvider] = field(init=False)
    pollers: list[Poller] = field(default_factory=list, init=False)
    demo_state: str = field(default="off", init=False)
    scheduling: SchedulingSimulator = field(init=False)  # clinics' own booking systems, simulated
    sent_log: SentLog = field(init=False)  # the SMS and e-mail sent, for /dev/notifications
    web: WebClient = field(init=False)  # the reference web client (web/dist) and its /config.json
    _openapi_document: dict[str, Any] | None = field(default=None, init=False)  # GET /openapi.json

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def aws_url(self) -> str:
        return f"http://{self.host}:{self.aws_port}"

    @property
    def scheduling_url(self) -> str:
        """The simulated service platform to clinics' own booking systems (the booking function's
        SCHEDULING_PLATFORM_URL)."""
        return self.scheduling.url

    # ---- lifecycle ----------------------------------------------------------------------------------
    def start(self) -> LocalRuntime:
        from moto.server import ThreadedMotoServer

        self._stopping = threading.Event()
        self.demo_state = "off"
        self.sent_log = SentLog()
        self._saved_env = {k: os.environ.get(k) for k in [*FAKE_CREDENTIALS, "AWS_ENDPOINT_URL", "MOTO_PORT"]}
        for key, value in FAKE_CREDENTIALS.items():
            os.environ.setdefault(key, value)
        os.environ["AWS_ENDPOINT_URL"] = self.aws_url
        os.environ["MOTO_PORT"] = str(self.aws_port)  # Step Functions service tasks call localhost:$MOTO_PORT
        moto_patches.install()
        moto_patches.serialise_dynamodb()
        wiring.reset()
        moto_patches.serve_many_connections()
        self._moto = ThreadedMotoServer(ip_address=self.host, port=self.aws_port, verbose=False)
        self._moto.start()
        self._configure_moto()
        self.scheduling = SchedulingSimulator(self.host).start()

        issuer = f"{self.base_url}/dev/idp"
        local = {
            "ResidentIssuerUrl": f"{issuer}/resident",
            "StaffIssuerUrl": f"{issuer}/staff",
            "SchedulingPlatformUrl": self.scheduling.url,
        }
        template = Template(self.template.data if self.template else None, parameters=local)
        self.deployment = provision(template, boto3.session.Session())
        self.idps = {
            "resident": DevIdentityProvider(
                "resident", f"{issuer}/resident", template.parameters["ResidentAudience"]
            ),
            "staff": DevIdentityProvider("staff", f"{issuer}/staff", template.parameters["StaffAudience"]),
        }
        self.runner = FunctionRunner(self.deployment)
        moto_patches.dispatch_lambda(
            lambda name, event: self.runner.invoke(self.deployment.function_names[name], event)
        )
        self.gateway = Gateway(
            template_routes(self.deployment),
            template_authorizers(self.deployment, self.idps.values()),
            self.runner,
        )
        self._add_local_routes()
        self._start_http()
        self._start_pollers()
        self.scheduler = Scheduler.from_template(template, self.runner.invoke, clock.now_utc())
        threading.Thread(
            target=self.scheduler.run, args=(clock.now_utc,), name="scheduler", daemon=True
        ).start()
        if self.load_demo_data:
            self._load_demo_data()
        return self

    def stop(self) -> None:
        """Stop whatever has started (also after a start interrupted half-way)."""
        self._stopping.set()
        if hasattr(self, "scheduler"):
            self.scheduler.stop()
        for poller in self.pollers:
            if poller.thread:
                poller.thread.join(timeout=5)
        if hasattr(self, "_http"):
            self._http.shutdown()
            self._http.server_close()
        if hasattr(self, "scheduling"):
            self.scheduling.stop()
        if hasattr(self, "_moto"):
            self._moto.stop()
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        wiring.reset()

    @contextmanager
    def running(self) -> Iterator[LocalRuntime]:
        self.start()
        try:
            yield self
        finally:
            self.stop()

    def _configure_moto(self) -> None:
        """Start from an empty emulator (moto's state is per process) and let state machines execute."""
        for path, body in (
            ("reset", b""),
            ("config", json.dumps({"stepfunctions": {"execute_state_machine": True}}).encode()),
        ):
            request = urllib.request.Request(f"{self.aws_url}/moto-api/{path}", data=body, method="POST")
            urllib.request.urlopen(request, timeout=5).close()

    # ---- the runtime's own routes -------------------------------------------------------------------
    def _add_local_routes(self) -> None:
        add = self.gateway.add_local_route
        add("GET", "/health", lambda **_: self._health())
        add("GET", "/openapi.json", lambda **_: self._openapi())
        add(
            "GET", "/dev/identities", lambda **_: Response.json(200, demo.identities(clock.today_stockholm()))
        )
        add("GET", "/dev/login", lambda **_: self._login_page())
        add("GET", "/dev/notifications", lambda **_: self._notifications_page())
        add("GET", "/dev/notifications.json", lambda **_: Response.json(200, self.sent_log.as_json()))
        for name in self.idps:
            add(
                "GET",
                f"/dev/idp/{name}/.well-known/openid-configuration",
                lambda name=name, **_: Response.json(200, self.idps[name].discovery(), PUBLIC),
            )
            add(
                "GET",
                f"/dev/idp/{name}/jwks.json",
                lambda name=name, **_: Response.json(200, self.idps[name].jwks(), PUBLIC),
            )
            add("GET", f"/dev/idp/{name}/login", lambda **_: self._login_page())
            add(  # the authorization code flow with PKCE: the web client's way in
                "GET",
                f"/dev/idp/{name}/authorize",
                lambda query, name=name, **_: oidc.authorize_get(
                    self.idps[name], query, demo.identities(clock.today_stockholm())
                ),
            )
            add(
                "POST",
                f"/dev/idp/{name}/authorize",
                lambda body, name=name, **_: oidc.authorize_post(self.idps[name], body, self._chosen_claims),
            )
        add("GET", "/dev/idp/login.css", lambda **_: oidc.stylesheet())
        for name in self.idps:
            add(
                "POST",
                f"/dev/idp/{name}/token",
                lambda body, headers, name=name, **_: self._token_endpoint(name, body, headers),
            )
        # The reference web client (web/dist) on every other GET path, and its configuration.
        self.web = WebClient(connect_sources=[self.aws_url])
        add("GET", "/config.json", lambda **_: self.web.config(self._web_config()))
        self.gateway.fallback = self.web.serve

    def _web_config(self) -> dict[str, Any]:
        """/config.json for the web client: the API on the same origin, the development providers."""
        idps = {
            name: {"issuer": idp.issuer, "client_id": WEB_CLIENT_ID, "scope": "openid"}
            for name, idp in self.idps.items()
        }
        return {"api_base_url": "", "environment": "local", "idps": idps}

    def _token_endpoint(self, name: str, body: bytes, headers: dict[str, str]) -> Response:
        """Form-encoded: the OIDC authorization code grant. JSON: a token for a named demo identity (scripts)."""
        if oidc.is_grant(headers, body):
            return oidc.token(self.idps[name], body, headers)
        return self._resident_token(body) if name == "resident" else self._staff_token(body)

    def _chosen_claims(self, form: Any) -> dict[str, Any] | None:
        """The claims of the identity chosen on a development login page (known demo identities only)."""
        today = clock.today_stockholm()
        if "personnummer" in form:
            names = {p.personnummer: p.name for p in demo.residents(today)}
            level = form.get("assurance_level", "3")
            if form["personnummer"] not in names or level not in ("1", "2", "3", "4"):
                return None
            return resident_claims(form["personnummer"], names[form["personnummer"]], int(level))
        if "hsa_id" in form:
            staff = {s["hsa_id"]: s["name"] for s in demo.staff()}
            return staff_claims(form["hsa_id"], staff[form["hsa_id"]]) if form["hsa_id"] in staff else None
        return None

    def _openapi(self) -> Response:
        """The API description generated from this template and its handlers (as `make openapi` writes
        it), with this runtime's address as the first server."""
        from ops import openapi

        if self._openapi_document is None:
            document = openapi.build(self.deployment.template)
            document["servers"][0]["url"] = self.base_url
            self._openapi_document = document
        return Response.json(200, self._openapi_document)

    def _login_page(self) -> Response:
        page = login_page(demo.identities(clock.today_stockholm()))
        return Response(200, {"Content-Type": "text/html; charset=utf-8"}, page.encode())

    def _notifications_page(self) -> Response:
        page = notifications_page(self.sent_log.as_json()["items"])
        return Response(200, {"Content-Type": "text/html; charset=utf-8"}, page.encode())

    def _token_request(self, body: bytes) -> dict[str, Any]:
        try:
            request = json.loads(body or b"{}")
        except ValueError:
            request = None
        if not isinstance(request, dict):
            raise InvalidInput("The body must be a JSON object")
        return request

    def _resident_token(self, body: bytes) -> Response:
        try:
            request = self._token_request(body)
            identity = identifiers.parse_personal_identity(
                str(request.get("personnummer", "")), today=clock.today_stockholm()
            )
            level = request.get("assurance_level", 3)
            if level not in (1, 2, 3, 4):
                raise InvalidInput.for_param("assurance_level", "must be 1, 2, 3 or 4")
        except InvalidInput as error:
            return _problem(error)
        known = {p.personnummer: p.name for p in demo.residents(clock.today_stockholm())}
        name = known.get(identity.value, "Testperson Demo")
        return self._token(self.idps["resident"], resident_claims(identity.value, name, level))

    def _staff_token(self, body: bytes) -> Response:
        try:
            request = self._token_request(body)
            hsa_id = identifiers.parse_hsa_id(str(request.get("hsa_id", "")))
        except InvalidInput as error:
            return _problem(error)
        known = {s["hsa_id"]: s["name"] for s in demo.staff()}
        return self._token(
            self.idps["staff"], staff_claims(hsa_id.value, known.get(hsa_id.value, "Demo Personal"))
        )

    @staticmethod
    def _token(idp: DevIdentityProvider, claims: dict[str, Any]) -> Response:
        token = idp.issue(claims)
        return Response.json(
            200,
            {"access_token": token, "token_type": "Bearer", "expires_in": TOKEN_LIFETIME_SECONDS},
            {"Cache-Control": "no-store"},
        )

    def _health(self) -> Response:
        try:
            self.deployment.session.client("sqs").list_queues(MaxResults=1)
            aws = "ok"
        except Exception:  # the health page reports, it does not fail
            aws = "down"
        pollers = {
            p.name: ("running" if p.thread and p.thread.is_alive() else "stopped") for p in self.pollers
        }
        scheduling = "ok" if self.scheduling.is_running else "stopped"
        # The gateway answers while start() is still starting the pollers and the scheduler: not healthy yet.
        scheduler: Scheduler | None = getattr(self, "scheduler", None)
        healthy = (
            aws == "ok"
            and scheduling == "ok"
            and scheduler is not None
            and all(state == "running" for state in pollers.values())
        )
        schedules = {t.name: t.next_run.isoformat() for t in scheduler.targets} if scheduler else {}
        parts = {
            "gateway": "ok",
            "aws": aws,
            "scheduling_platform": scheduling,
            "pollers": pollers,
            "schedules": schedules,
            "demo_data": self.demo_state,
        }
        return Response.json(
            200 if healthy else 503, {"status": "ok" if healthy else "degraded", "parts": parts}
        )

    # ---- servers and pollers ------------------------------------------------------------------------
    def _start_http(self) -> None:
        gateway = self.gateway

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                raw_path, _, raw_query = self.path.partition("?")
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                headers: dict[str, str] = {}
                for key, value in self.headers.items():
                    key = key.lower()
                    headers[key] = f"{headers[key]},{value}" if key in headers else value
                response = gateway.handle(
                    self.command, raw_path, raw_query, headers, body, self.client_address[0]
                )
                self.send_response(response.status)
                for key, value in response.headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(response.body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(response.body)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve

            def __getattr__(self, name: str) -> Any:
                # Any other method (TRACE, QUERY, ...) reaches the gateway too, which answers 404 as API
                # Gateway does for a method no route has; the standard handler would answer 501.
                if name.startswith("do_"):
                    return self._serve
                raise AttributeError(name)

            def log_message(self, format: str, *args: Any) -> None:
                logger.debug(format, *args)

        self._http = _GatewayServer((self.host, self.port), Handler)
        self._http.daemon_threads = True
        threading.Thread(target=self._http.serve_forever, name="gateway", daemon=True).start()

    def _start_pollers(self) -> None:
        def invoke(function: str, event: dict[str, Any]) -> Any:
            try:
                return self.runner.invoke(function, event)
            finally:
                self.sent_log.note()

        for function, source in event_sources(self.deployment, invoke):
            poller = Poller(f"{function} <- {source.queue_arn.rsplit(':', 1)[1]}", source)
            poller.thread = threading.Thread(target=self._poll, args=(poller,), name=poller.name, daemon=True)
            poller.thread.start()
            self.pollers.append(poller)

    def _poll(self, poller: Poller) -> None:
        """Long polling, as Lambda's event source does: an idle queue costs a request a second or so, not one
        per poll interval (idle pollers polling without wait took most of the process's CPU under load)."""
        while not self._stopping.is_set():
            try:
                received = poller.source.poll_once(wait_seconds=1)
            except Exception:
                poller.errors += 1
                logger.exception("poller %s failed", poller.name)
                received = 0
            if not received:
                self._stopping.wait(self.poll_interval)

    def _load_demo_data(self) -> None:
        """The simulated HSA catalogue and population register send their exports through their queues, as
        the real ones would; an operator registers the demo sending systems (ops.sending_systems), which then
        deliver the demo inbox messages through their queue once the residents are known; demo staff do the
        rest through the API."""
        self.demo_state = "loading"
        sqs = self.deployment.session.client("sqs")
        today = clock.today_stockholm()
        feeds = {
            "HsaFeedQueue": demo.hsa_catalogue_feed(),
            "PopulationRegisterQueue": demo.population_register_feed(today),
            "HsaStaffFeedQueue": demo.hsa_staff_feed(),
        }
        queues = [self.deployment.lookup(name, None) for name in feeds]
        inbox_queue = self.deployment.lookup("InboxDeliveryQueue", None)

        def drained(*queues: str) -> bool:
            for queue in queues:
                attributes = sqs.get_queue_attributes(
                    QueueUrl=queue,
                    AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
                )["Attributes"]
                if (
                    attributes["ApproximateNumberOfMessages"] != "0"
                    or attributes["ApproximateNumberOfMessagesNotVisible"] != "0"
                ):
                    return False
            return True

        def send_and_watch() -> None:
            inbox = sending_systems.store(
                self.deployment.session.client("dynamodb"), self.deployment.lookup("InboxTable", None)
            )
            for system_id, name in demo.SENDING_SYSTEMS.items():
                sending_systems.register(inbox, system_id, name)
            for queue, messages in zip(queues, feeds.values(), strict=True):
                send_all(sqs, queue, messages)
            while not self._stopping.wait(0.2):
                if drained(*queues):
                    send_all(sqs, inbox_queue, demo.inbox_messages(today))
                    self._demo_through_the_api(today)
                    while not (self._stopping.is_set() or drained(inbox_queue)):
                        time.sleep(0.1)
                    self.demo_state = "loaded"
                    return

        threading.Thread(target=send_and_watch, name="demo-data", daemon=True).start()

    def _demo_through_the_api(self, today: date) -> None:
        """What demo staff do as staff would: the clinic administrator offers the demo clinic's case types and
        booking types and publishes its times, guardian blocks are placed after looking the people up, and the
        second clinic's administrator sets up doctor visits held in its own (simulated) booking system."""
        Caller = tuple[dict[str, Any], str]  # a demo staff member and the commission they act under

        def with_role(role: str, unit: dict[str, Any] | None = None) -> Caller:
            return next(
                (member, c["id"])
                for member in demo.staff()
                for c in member["commissions"]
                if role in c["roles"] and (unit is None or c["care_unit_hsa_id"] == unit["hsa_id"])
            )

        def call(caller: Caller, method: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
            member, commission_id = caller
            token = self.idps["staff"].issue(staff_claims(member["hsa_id"], member["name"]))
            headers = {
                "authorization": f"Bearer {token}",
                "x-commission-id": commission_id,
                "content-type": "application/json",
            }
            response = self.gateway.handle(method, path, "", headers, json.dumps(body).encode())
            if response.status not in (200, 201):
                raise RuntimeError(
                    f"demo data: {method} {path} answered {response.status}: {response.body!r}"
                )
            result: dict[str, Any] = json.loads(response.body)
            return result

        def patient_id(personnummer: str) -> str:
            found = call(
                blocker, "POST", "/v1/staff/patient-lookups", {"personal_identity_number": personnummer}
            )
            return str(found["patient_id"])

        blocker = with_role("block-guardians")
        admin = with_role("local-administrator", demo.DEMO_CLINIC)
        for type_id, settings in demo.CASE_TYPES.items():
            call(admin, "PUT", f"/v1/staff/case-types/{type_id}", settings)
        for type_id, booking in demo.BOOKING_TYPES.items():
            call(admin, "PUT", f"/v1/staff/booking-types/{type_id}", booking.settings)
            call(admin, "POST", f"/v1/staff/booking-types/{type_id}/times", booking.times(today))
        for guardian in demo.residents(today):
            for child in guardian.blocked_for:
                call(
                    blocker,
                    "POST",
                    f"/v1/staff/patients/{patient_id(child)}/guardian-blocks",
                    {"guardian_patient_id": patient_id(guardian.personnummer)},
                )
        external = demo.EXTERNAL_CLINIC
        self.scheduling.add_timeslots(
            external["hsa_id"],
            demo.EXTERNAL_BOOKING_TYPE,
            demo.external_timeslots(today),
            demo.EXTERNAL_MINUTES,
        )
        call(
            with_role("local-administrator", external),
            "PUT",
            f"/v1/staff/booking-types/{demo.EXTERNAL_BOOKING_TYPE}",
            demo.EXTERNAL_SETTINGS,
        )

    def wait_until_loaded(self, timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        while self.demo_state != "loaded":
            if time.monotonic() > deadline:
                raise TimeoutError("demo data did not load")
            time.sleep(0.1)


class _GatewayServer(ThreadingHTTPServer):
    """socketserver's listen backlog of 5 refuses a burst of connections (seen: 500 residents booking at once
    got connection resets); API Gateway takes them all."""

    request_queue_size = 1024


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on now (for tests and benchmarks that start runtimes side by side)."""
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _problem(error: InvalidInput) -> Response:
    from eservices_core.problems import PROBLEM_CONTENT_TYPE, problem_body

    return Response(
        error.status, {"Content-Type": PROBLEM_CONTENT_TYPE}, json.dumps(problem_body(error)).encode()
    )
