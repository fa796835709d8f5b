"""Fault injection on every write path of the API (every POST, PUT, PATCH and DELETE route of template.yaml).

For each route a request is first run clean, counting the AWS calls it makes (DynamoDB, S3, SQS, EventBridge,
Step Functions, SNS, SES); then call 1, 2, ..., n in turn fails with each of that service's throttling and
service-fault codes. Each time the caller must get a 503 problem with Retry-After (never a 500), and the stored
items must be exactly what they were, except the PDL audit record the access policy writes before a change on
purpose; then the same request retried succeeds and leaves exactly what a clean run leaves. The one fault a
write survives is its event delivery after the change is committed: the request answers as a clean one and the
event waits in the outbox until the sweeper delivers it.

Generated ids are made repeatable (tests.support.faults.repeatable), so "what a clean run leaves" is compared
item by item; moto's tables are snapshot and restored between runs.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from eservices_core.clock import FixedClock, use_clock
from eservices_core.table import Table
from local_runtime import population
from local_runtime.demo import personnummer
from local_runtime.generate import feed_message
from notifications.store import NotificationStore
from tests.support.aws import Stack
from tests.support.aws import upload as store_upload
from tests.support.events import inbox_message, sqs_event
from tests.support.faults import (
    FAULTS,
    Calls,
    State,
    effect_view,
    records_apart,
    repeatable,
    restore,
    snapshot,
    watching,
)
from tests.support.people import CATALOGUE, OTHER_UNIT, UNIT, Resident, StaffMember, World

TODAY = date(2026, 11, 25)  # a Wednesday
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
TYPE = "nurse-visit-15"
SYSTEM = "demo-fault-registry"
TERMS = {"sv": "Vi svarar inom 2 dagar.", "en": "We answer within 2 days."}
ADVICE = {"question": "Jag har ont i ryggen.", "duration": "under_a_week", "symptoms_worsened": False}
PNG = b"\x89PNG\r\n\x1a\n" + bytes(64)
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Who delivers what a request left in its table's outbox.
SWEEPERS = {
    "CasesTable": "CaseEventsOutboxFunction",
    "BookingTable": "BookingSweeperFunction",
    "InboxTable": "InboxOutboxFunction",
}


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    token: str
    body: Any = None
    headers: tuple[tuple[str, str], ...] = ()
    view: Callable[[Any], Any] = field(default=lambda body: body)  # what of the answer a retry repeats


@dataclass
class Run:
    status: int
    headers: dict[str, str]
    body: Any
    calls: Calls
    after: State


@dataclass
class Env:
    stack: Stack
    world: World
    admin: StaffMember  # UNIT's local administrator (case types and booking types)
    nurse: StaffMember
    blocker: StaffMember  # may block guardians
    names: Any = field(default_factory=lambda: itertools.count(1))
    starts: Any = field(default_factory=lambda: itertools.count(0))
    current: State | None = None  # what the emulator holds, as far as the runs since the last snapshot know

    def snapshot(self) -> State:
        self.current = snapshot(self.stack)
        return self.current

    def restore(self, state: State) -> None:
        assert self.current is not None
        touched = {name for name, items in self.current.tables.items() if items is not state.tables[name]}
        restore(self.stack, state, touched)
        self.current = state

    # ---- people and what they have ---------------------------------------------------------------------------
    def resident(self, age: int = 40) -> Resident:
        return self.world.resident(f"Fel Testsson {next(self.names)}", age=age)

    def family(self) -> tuple[Resident, Resident]:
        parent, child = self.resident(), self.resident(age=6)
        self.world.guardianship(parent, child)
        return parent, child

    def pid(self, person: Resident) -> str:
        return self.world.patient_id(person)

    def resident_request(
        self, caller: Resident, method: str, path: str, body: Any = None, **kw: Any
    ) -> Request:
        return Request(method, path, self.world.token(caller), body, **kw)

    def staff_request(self, member: StaffMember, method: str, path: str, body: Any = None) -> Request:
        headers = (("X-Commission-Id", member.commission_ids[0]),)
        return Request(method, path, self.world.staff_token(member), body, headers)

    def call(self, request: Request) -> tuple[int, Any]:
        response = send(self.stack, request)
        return response.status, json.loads(response.body) if response.body else None

    def case(self, person: Resident, type_id: str = "renew-prescription") -> str:
        return self.world.send_case(person, person, type_id)

    def staff_case_path(self, person: Resident, case_id: str, action: str) -> str:
        return f"/v1/staff/patients/{self.pid(person)}/cases/{case_id}/{action}"

    def waiting(self, person: Resident, case_id: str) -> None:
        """The case's run waits for a person (its task token on the case), so a change completes that wait."""
        table = Table(self.stack.session.client("dynamodb"), self.stack.ref("CasesTable"))
        case = table.get((f"PATIENT#{self.pid(person)}", f"CASE#{case_id}"))
        assert case is not None
        table.put_item(case | {"task_token": f"token-{case_id}", "waiting_for": "staff"})

    def time(self) -> str:
        """A new bookable time at UNIT (one place), days ahead."""
        start = datetime(2026, 11, 30, 8, 0) + timedelta(minutes=15 * next(self.starts))
        [time_id] = self.world.publish_times(self.admin, TYPE, [start.strftime("%Y-%m-%dT%H:%M")])
        return time_id

    def inbox_message(self, person: Resident) -> str:
        n = next(self.names)
        message = inbox_message(SYSTEM, f"fault-{n}", person.personnummer, subject=f"Kallelse {n}")
        result = self.stack.invoke(
            "InboxDeliveryFunction", sqs_event([message], self.stack.arn("InboxDeliveryQueue"))
        )
        assert result == {"batchItemFailures": []}, result
        status, listed = self.call(
            self.resident_request(person, "GET", f"/v1/patients/{self.pid(person)}/inbox")
        )
        assert status == 200, listed
        return str(listed["items"][0]["message_id"])


def send(stack: Stack, request: Request) -> Any:
    headers = {"host": "localhost", "authorization": f"Bearer {request.token}"}
    headers |= {k.lower(): v for k, v in request.headers}
    raw = b"" if request.body is None else json.dumps(request.body).encode()
    if raw:
        headers["content-type"] = "application/json"
    return stack.gateway.handle(request.method, request.path, "", headers, raw)


# ---- one scenario per write route -----------------------------------------------------------------------------------
Scenario = Callable[[Env], Request]
SCENARIOS: dict[tuple[str, str], Scenario] = {}


def scenario(method: str, path: str) -> Callable[[Scenario], Scenario]:
    def register(build: Scenario) -> Scenario:
        SCENARIOS[(method, path)] = build
        return build

    return register


# identity
@scenario("POST", "/v1/staff/patient-lookups")
def _lookup(env: Env) -> Request:
    person = env.resident()
    body = {"personal_identity_number": person.personnummer}
    return env.staff_request(env.nurse, "POST", "/v1/staff/patient-lookups", body)


@scenario("POST", "/v1/staff/patients/{patientId}/guardian-blocks")
def _block(env: Env) -> Request:
    parent, child = env.family()
    path = f"/v1/staff/patients/{env.pid(child)}/guardian-blocks"
    return env.staff_request(env.blocker, "POST", path, {"guardian_patient_id": env.pid(parent)})


@scenario("DELETE", "/v1/staff/patients/{patientId}/guardian-blocks/{guardianPatientId}")
def _lift_block(env: Env) -> Request:
    parent, child = env.family()
    path = f"/v1/staff/patients/{env.pid(child)}/guardian-blocks"
    status, answer = env.call(
        env.staff_request(env.blocker, "POST", path, {"guardian_patient_id": env.pid(parent)})
    )
    assert status == 201, answer
    return env.staff_request(env.blocker, "DELETE", f"{path}/{env.pid(parent)}")


# cases: residents
@scenario("POST", "/v1/patients/{patientId}/cases")
def _create_case(env: Env) -> Request:
    """With an attachment, so the S3 checks are on the path too, and an Idempotency-Key, as a client retries."""
    person = env.resident()
    path = f"/v1/patients/{env.pid(person)}/attachments"
    status, upload = env.call(
        env.resident_request(
            person, "POST", path, {"content_type": "image/png", "size": len(PNG), "filename": "utslag.png"}
        )
    )
    assert status == 201, upload
    store_upload(env.stack.session.client("s3"), env.stack.ref("AttachmentsBucket"), upload, PNG)
    body = {
        "clinic_id": UNIT["hsa_id"],
        "case_type_id": "advice",
        "form_version": 1,
        "answers": ADVICE,
        "attachments": [upload["attachment_id"]],
    }
    return env.resident_request(
        person,
        "POST",
        f"/v1/patients/{env.pid(person)}/cases",
        body,
        headers=(("Idempotency-Key", f"fault-{next(env.names)}"),),
    )


@scenario("POST", "/v1/patients/{patientId}/cases/{caseId}/messages")
def _resident_message(env: Env) -> Request:
    person = env.resident()
    case_id = env.case(person)
    asked = env.staff_request(
        env.nurse,
        "POST",
        env.staff_case_path(person, case_id, "information-requests"),
        {"text": "Vilken dos?"},
    )
    assert env.call(asked)[0] == 201
    env.waiting(person, case_id)
    path = f"/v1/patients/{env.pid(person)}/cases/{case_id}/messages"
    return env.resident_request(person, "POST", path, {"text": "10 mg, en gång om dagen."})


@scenario("POST", "/v1/patients/{patientId}/cases/{caseId}/withdrawal")
def _withdraw(env: Env) -> Request:
    person = env.resident()
    case_id = env.case(person)
    env.waiting(person, case_id)
    return env.resident_request(person, "POST", f"/v1/patients/{env.pid(person)}/cases/{case_id}/withdrawal")


@scenario("POST", "/v1/patients/{patientId}/attachments")
def _presign(env: Env) -> Request:
    person = env.resident()
    body = {"content_type": "application/pdf", "size": 2048, "filename": "remiss.pdf"}
    return env.resident_request(
        person,
        "POST",
        f"/v1/patients/{env.pid(person)}/attachments",
        body,
        view=lambda answer: {k: v for k, v in answer.items() if k != "upload"},  # signed with the real time
    )


# cases: staff
def _staff_case(action: str, body: Any = None, *, waiting: bool = True) -> Scenario:
    def build(env: Env) -> Request:
        person = env.resident()
        case_id = env.case(person)
        if waiting:
            env.waiting(person, case_id)
        return env.staff_request(env.nurse, "POST", env.staff_case_path(person, case_id, action), body)

    return build


STAFF_CASE = "/v1/staff/patients/{patientId}/cases/{caseId}"
scenario("POST", f"{STAFF_CASE}/assignment")(
    _staff_case("assignment", {"assignee_hsa_id": "me"}, waiting=False)
)
scenario("POST", f"{STAFF_CASE}/messages")(
    _staff_case("messages", {"text": "Receptet är förnyat.", "close": True})
)
scenario("POST", f"{STAFF_CASE}/information-requests")(
    _staff_case("information-requests", {"text": "Vilken dos?"})
)
scenario("POST", f"{STAFF_CASE}/decision")(
    _staff_case("decision", {"outcome": "approved", "renewed": ["Demoxin 10 mg, 100 st"]})
)
scenario("POST", f"{STAFF_CASE}/forwarding")(
    _staff_case("forwarding", {"care_unit_hsa_id": OTHER_UNIT["hsa_id"]}, waiting=False)
)
scenario("POST", f"{STAFF_CASE}/closure")(_staff_case("closure"))


@scenario("POST", f"{STAFF_CASE}/reopening")
def _reopen(env: Env) -> Request:
    person = env.resident()
    case_id = env.case(person)
    assert (
        env.call(env.staff_request(env.nurse, "POST", env.staff_case_path(person, case_id, "closure")))[0]
        == 200
    )
    return env.staff_request(env.nurse, "POST", env.staff_case_path(person, case_id, "reopening"))


@scenario("PUT", "/v1/staff/case-types/{typeId}")
def _configure_case_type(env: Env) -> Request:
    body = {"terms": TERMS, "answer_days": 3, "service_area": {"min_age": 18}}
    return env.staff_request(env.admin, "PUT", "/v1/staff/case-types/contact-me", body)


@scenario("POST", "/v1/staff/case-types/{typeId}/handed-to")
def _hand_case_type(env: Env) -> Request:
    restricted = env.staff_request(
        env.admin, "PUT", "/v1/staff/case-types/certificate", {"terms": TERMS, "restricted": True}
    )
    assert env.call(restricted)[0] == 200
    body = {"patient_id": env.pid(env.resident())}
    return env.staff_request(env.admin, "POST", "/v1/staff/case-types/certificate/handed-to", body)


# booking
def _appointments(env: Env, person: Resident) -> str:
    return f"/v1/patients/{env.pid(person)}/appointments"


@scenario("POST", "/v1/patients/{patientId}/appointments")
def _book(env: Env) -> Request:
    person, time_id = env.resident(), env.time()
    headers = (("Idempotency-Key", f"fault-{next(env.names)}"),)
    return env.resident_request(
        person, "POST", _appointments(env, person), {"time_id": time_id}, headers=headers
    )


def _booked(env: Env) -> tuple[Resident, str]:
    person = env.resident()
    appointment = env.world.book(person, person, env.time())
    return person, f"{_appointments(env, person)}/{appointment['appointment_id']}"


@scenario("POST", "/v1/patients/{patientId}/appointments/{appointmentId}/rebooking")
def _rebook(env: Env) -> Request:
    person, path = _booked(env)
    return env.resident_request(person, "POST", f"{path}/rebooking", {"time_id": env.time()})


@scenario("POST", "/v1/patients/{patientId}/appointments/{appointmentId}/cancellation")
def _cancel(env: Env) -> Request:
    person, path = _booked(env)
    return env.resident_request(person, "POST", f"{path}/cancellation")


@scenario("PUT", "/v1/staff/booking-types/{typeId}")
def _configure_booking_type(env: Env) -> Request:
    body = {"deadline_hours": 48, "eligibility": {"min_age": 65}}
    return env.staff_request(env.admin, "PUT", "/v1/staff/booking-types/influenza-vaccination", body)


@scenario("POST", "/v1/staff/booking-types/{typeId}/times")
def _publish(env: Env) -> Request:
    """30 times: two batch writes of 25 and 5."""
    first = datetime(2026, 12, 10, 8, 0)
    starts = [(first + timedelta(minutes=15 * i)).strftime("%Y-%m-%dT%H:%M") for i in range(30)]
    return env.staff_request(env.admin, "POST", f"/v1/staff/booking-types/{TYPE}/times", {"starts": starts})


@scenario("POST", "/v1/staff/times/{timeId}/closure")
def _close_time(env: Env) -> Request:
    return env.staff_request(env.admin, "POST", f"/v1/staff/times/{env.time()}/closure")


@scenario("POST", "/v1/staff/times/{timeId}/opening")
def _open_time(env: Env) -> Request:
    time_id = env.time()
    assert env.call(env.staff_request(env.admin, "POST", f"/v1/staff/times/{time_id}/closure"))[0] == 200
    return env.staff_request(env.admin, "POST", f"/v1/staff/times/{time_id}/opening")


# inbox
@scenario("PATCH", "/v1/patients/{patientId}/inbox/{messageId}")
def _archive(env: Env) -> Request:
    person = env.resident()
    path = f"/v1/patients/{env.pid(person)}/inbox/{env.inbox_message(person)}"
    return env.resident_request(person, "PATCH", path, {"archived": True, "read": True})


@scenario("DELETE", "/v1/patients/{patientId}/inbox/{messageId}")
def _delete_message(env: Env) -> Request:
    person = env.resident()
    return env.resident_request(
        person, "DELETE", f"/v1/patients/{env.pid(person)}/inbox/{env.inbox_message(person)}"
    )


# notifications
def _settings(env: Env, person: Resident) -> str:
    return f"/v1/patients/{env.pid(person)}/notification-settings"


@scenario("PUT", "/v1/patients/{patientId}/notification-settings")
def _save_settings(env: Env) -> Request:
    """A new e-mail address and mobile number: each gets a code on the send queue."""
    person = env.resident()
    body = {"email": "fel.testsson@example.se", "mobile": "070-123 45 67", "events": {"booking": False}}
    return env.resident_request(person, "PUT", _settings(env, person), body)


@scenario("POST", "/v1/patients/{patientId}/notification-settings/verification")
def _verify(env: Env) -> Request:
    person = env.resident()
    assert (
        env.call(env.resident_request(person, "PUT", _settings(env, person), {"mobile": "0701234567"}))[0]
        == 200
    )
    [sent] = env.stack.drain("NotificationSendQueue")
    body = {"channel": "mobile", "code": sent["Json"]["code"]}
    return env.resident_request(person, "POST", f"{_settings(env, person)}/verification", body)


# ---- the harness ------------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def env(module_stack: Stack) -> Any:
    with use_clock(FixedClock(NOW)):
        world = World(module_stack, TODAY)
        admin = world.offer("renew-prescription", "advice")
        status, answer = world.stack.call(
            "PUT",
            f"/v1/staff/booking-types/{TYPE}",
            token=world.staff_token(admin),
            headers={"X-Commission-Id": admin.commission_ids[0]},
            body={},
        )
        assert status == 200, answer
        from inbox.store import InboxStore

        inbox = InboxStore(Table(module_stack.session.client("dynamodb"), module_stack.ref("InboxTable")))
        inbox.register_system(SYSTEM, "Demoregistret")
        nurse = world.staff("Sara Felsköterska")
        blocker = world.staff("Bo Spärrsson", roles=["block-guardians"])
        yield Env(module_stack, world, admin, nurse, blocker)


def run(env: Env, request: Request, *, fail_at: int | None = None, code: str = "") -> Run:
    calls = Calls(threading.get_ident(), fail_at, code)
    with repeatable(), watching(calls):
        response = send(env.stack, request)
    if any(operation.startswith("SendMessage") for _, operation in calls.made):
        env.stack.drain("NotificationSendQueue")  # what was sent is in calls.effects
    body = json.loads(response.body) if response.body else None
    env.current = after = snapshot(env.stack, env.current, calls.tables)
    return Run(response.status, {k.lower(): v for k, v in response.headers.items()}, body, calls, after)


AUDIT_CHAIN = ("sk", "seq", "hash", "prev_hash", "prev_expires_at")
ZERO = {"N": "0"}


def items(state: State, name: str) -> dict[tuple[str, str], Any]:
    """A table's items; a month counter taken back to zero is the same as none (statistics read it so)."""
    found = {}
    for key, item in state.items(name).items():
        if key[1].startswith("STATS#"):
            item = {k: v for k, v in item.items() if v != ZERO}
            if set(item) == {"pk", "sk"}:
                continue
        found[key] = item
    return found


def diff(before: State, after: State) -> dict[str, dict[tuple[str, str], tuple[Any, Any]]]:
    """Per table, the items added, changed or removed: key -> (before, after)."""
    changed = {}
    for name in before.tables:
        if before.tables[name] is after.tables[name]:
            continue
        old, new = items(before, name), items(after, name)
        keys = {k: (old.get(k), new.get(k)) for k in old.keys() | new.keys() if old.get(k) != new.get(k)}
        if keys:
            changed[name] = keys
    return changed


def audit_records(env: Env, before: State, after: State) -> set[str]:
    """The audit records `after` has that `before` has not, without their place in the chain."""
    added = diff(before, after).get(env.stack.ref("AuditTable"), {})
    return {
        json.dumps({k: v for k, v in new.items() if k not in AUDIT_CHAIN}, sort_keys=True)
        for (_, sk), (old, new) in added.items()
        if old is None and sk.startswith("REC#")
    }


def own_items(env: Env, state: State) -> dict[str, dict[tuple[str, str], Any]]:
    """Every table's items but the audit log's."""
    audit = env.stack.ref("AuditTable")
    return {name: items(state, name) for name in state.tables if name != audit}


def effects(result: Run | Consumed) -> list[str]:
    return sorted(effect_view(e) for e in result.calls.effects)


def describe(diff: dict[str, Any]) -> str:
    return "; ".join(f"{table}: {sorted(keys)}" for table, keys in diff.items())


def check_nothing_changed(env: Env, before: State, clean: Run, faulty: Run, where: str) -> None:
    """A refused request leaves what was there, except the audit record of the access (written first)."""
    changed = diff(before, faulty.after)
    changed.pop(env.stack.ref("AuditTable"), None)
    assert not changed, f"{where} left partial state: {describe(changed)}"
    assert audit_records(env, before, faulty.after) <= audit_records(env, before, clean.after), where
    # An attachment checked before the failure keeps the tag that marks it checked (S3 cannot say what the tag
    # was before without one more read per attachment); a retry sets the same tag.
    tagged = {v: t for v, t in faulty.after.tags.items() if before.tags.get(v) != t}
    assert all(clean.after.tags.get(v) == t for v, t in tagged.items()), f"{where} changed tags: {tagged}"
    assert effects(faulty) == [], f"{where} had effects: {effects(faulty)}"


def check_as_clean(env: Env, request: Request, before: State, clean: Run, result: Run, where: str) -> None:
    assert result.status == clean.status, (where, result.body)
    assert request.view(result.body) == request.view(clean.body), where
    assert own_items(env, result.after) == own_items(env, clean.after), (
        f"{where}: {describe(diff(clean.after, result.after))}"
    )
    assert audit_records(env, before, result.after) == audit_records(env, before, clean.after), where
    assert result.after.tags == clean.after.tags, where
    assert effects(result) == effects(clean), where


def check_problem(result: Run, where: str) -> None:
    assert result.status == 503, (where, result.status, result.body)
    assert result.headers.get("content-type") == "application/problem+json", where
    assert result.headers.get("retry-after", "").isdigit(), where
    assert result.body["status"] == 503 and result.body["code"] == "service-unavailable", where


def check_left_in_outbox(
    env: Env, request: Request, before: State, clean: Run, result: Run, where: str
) -> None:
    """The change was committed before its event could be delivered: the caller gets the clean answer, the event
    waits in the outbox, and the sweeper delivers it a minute later."""
    deleted = [
        request["DeleteRequest"]["Key"]["pk"]["S"]
        for requests in result.calls.injected_params.get("RequestItems", {}).values()
        for request in requests
        if "DeleteRequest" in request
    ]
    delivering = result.calls.injected == ("events", "PutEvents") or (
        deleted and all(pk.startswith("OUTBOX#") for pk in deleted)
    )
    assert delivering, f"{where}: only the delivery of committed events may fail without failing the request"
    assert result.status == clean.status and request.view(result.body) == request.view(clean.body), where
    left = diff(clean.after, result.after)
    assert left and all(
        old is None and key[0].startswith("OUTBOX#")
        for diff in left.values()
        for key, (old, _) in diff.items()
    ), f"{where}: {describe(left)}"
    [table] = [name for name, ref in ((n, env.stack.ref(n)) for n in SWEEPERS) if ref in left]
    with use_clock(FixedClock(NOW + timedelta(minutes=2))):
        env.stack.invoke(SWEEPERS[table], {})
    assert own_items(env, env.snapshot()) == own_items(env, clean.after), f"{where}: swept"


def faults(service: str, k: int) -> tuple[str, ...]:
    """The codes call k fails with: a service fault, and a throttling code (DynamoDB's two by turns)."""
    codes = FAULTS[service]
    if service == "dynamodb":
        return (codes[k % 2], "InternalServerError")
    return codes


def template_write_routes(stack: Stack) -> set[tuple[str, str]]:
    return {(m, p) for m, p, _, _ in stack.deployment.template.http_routes() if m in WRITE_METHODS}


def test_every_write_route_of_the_template_has_a_fault_scenario(module_stack):
    assert template_write_routes(module_stack) == set(SCENARIOS), "add a scenario for each new write route"


@pytest.mark.parametrize("route", sorted(SCENARIOS), ids=" ".join)
def test_a_failing_aws_call_on_a_write_path_is_a_503_that_changes_nothing_and_a_retry_succeeds(env, route):
    request = SCENARIOS[route](env)
    before = env.snapshot()
    run(env, request)  # a first run warms what a container caches (it would be warm in Lambda too)
    env.restore(before)
    clean = run(env, request)
    assert clean.status < 300, clean.body
    env.restore(before)

    for k, (service, operation) in enumerate(clean.calls.made, 1):
        for code in faults(service, k):
            where = f"{operation} (call {k} of {len(clean.calls.made)}) failing with {code}"
            faulty = run(env, request, fail_at=k, code=code)
            assert faulty.calls.injected == (service, operation), where
            assert faulty.calls.made[:k] == clean.calls.made[:k], where
            if faulty.status < 300:
                check_left_in_outbox(env, request, before, clean, faulty, where)
                env.restore(before)
                continue
            check_problem(faulty, where)
            check_nothing_changed(env, before, clean, faulty, where)
        retry = run(env, request)
        check_as_clean(env, request, before, clean, retry, f"a retry after {operation} (call {k}) failed")
        env.restore(before)


# ---- queue consumers ------------------------------------------------------------------------------------------------
Batch = Callable[[Env], list[dict[str, Any]]]
CONSUMERS: dict[str, Batch] = {}


def consumer(function: str) -> Callable[[Batch], Batch]:
    def register(build: Batch) -> Batch:
        CONSUMERS[function] = build
        return build

    return register


@consumer("DirectoryFeedFunction")
def _hsa_feed(env: Env) -> list[dict[str, Any]]:
    units = [u for u in CATALOGUE.units if u["active"]][:3]
    return [
        feed_message("care_unit.upserted", u | {"name": f"{u['name']} Nya"}, seconds=1000 + env.world.tick())
        for u in units
    ]


@consumer("PopulationRegisterFeedFunction")
def _population_register(env: Env) -> list[dict[str, Any]]:
    """A new person, a new guardianship (two items in one transaction), another new person."""
    parent, child = env.resident(), env.resident(age=6)
    born = date(1985, 5, 5)
    return [
        population.person(
            personnummer(born, 900 + next(env.names)), "Ny Registersson", seconds=env.world.tick()
        ),
        population.guardianship(parent.personnummer, child.personnummer, seconds=env.world.tick()),
        population.person(
            personnummer(born, 900 + next(env.names)), "Ny Registersson", seconds=env.world.tick()
        ),
    ]


@consumer("HsaStaffFeedFunction")
def _hsa_staff_feed(env: Env) -> list[dict[str, Any]]:
    n = next(env.names)
    return [
        population.employee(f"SE2321000016-F{n:03d}1", "Ny Anställd", "Läkare", seconds=env.world.tick()),
        population.commission(f"C-F{n}", env.nurse.hsa_id, OTHER_UNIT, seconds=env.world.tick()),
        population.employee(f"SE2321000016-F{n:03d}2", "Ny Anställd", "Läkare", seconds=env.world.tick()),
    ]


@consumer("InboxDeliveryFunction")
def _inbox_delivery(env: Env) -> list[dict[str, Any]]:
    n = next(env.names)
    return [
        inbox_message(
            SYSTEM,
            f"batch-{n}-{i}",
            env.resident().personnummer,
            category="result",
            subject="Provsvar",
            body="Ditt provsvar finns i Journalen.",
        )
        for i in range(3)
    ]


def _verified(env: Env, *people: Resident) -> None:
    store = NotificationStore(
        Table(env.stack.session.client("dynamodb"), env.stack.ref("NotificationsTable"))
    )
    for person in people:
        settings = {
            "patient_id": env.pid(person),
            "events": {"inbox": True, "cases": True, "booking": True},
            "mobile": "+46701234567",
            "mobile_verified": True,
        }
        store.save_settings(settings, {})


@consumer("NotificationCollectorFunction")
def _collector(env: Env) -> list[dict[str, Any]]:
    """Inbox events: for a resident, for a child with two guardians (a pending notice each), for a resident."""
    first, last = env.resident(), env.resident()
    parent, child = env.family()
    other = env.resident()
    env.world.guardianship(other, child)
    _verified(env, first, last, parent, other)
    return [
        {
            "source": "eservices.inbox",
            "detail-type": "inbox.message-received",
            "detail": {"patient_id": env.pid(p)},
        }
        for p in (first, child, last)
    ]


@consumer("NotificationSenderFunction")
def _sender(env: Env) -> list[dict[str, Any]]:
    people = [env.resident() for _ in range(3)]
    _verified(env, *people)
    return [{"patient_id": env.pid(p), "channel": "mobile", "kind": "notice"} for p in people]


@dataclass
class Consumed:
    result: dict[str, Any]
    calls: Calls
    after: State


def consume(env: Env, function: str, records: list[dict[str, Any]], *, target: str, **fault: Any) -> Consumed:
    """The function handles the batch as its event source would deliver it; calls of `target` are counted."""
    processing: list[dict[str, str | None]] = []
    calls = Calls(threading.get_ident(), only_while=lambda: processing[0]["id"] == target, **fault)
    with repeatable() as rng, records_apart(rng) as current, watching(calls):
        processing.append(current)
        result = env.stack.invoke(function, {"Records": records})
    env.current = after = snapshot(env.stack, env.current, calls.tables)
    return Consumed(result, calls, after)


def template_consumers(stack: Stack) -> dict[str, str]:
    """Function logical id -> the ARN of the queue it consumes."""
    return {
        function: stack.deployment.resolve(props["Queue"])
        for function, props in stack.deployment.template.sqs_event_sources()
    }


def test_every_queue_consumer_of_the_template_has_a_fault_scenario(module_stack):
    assert set(template_consumers(module_stack)) == set(CONSUMERS), "add a batch for each new consumer"


@pytest.mark.parametrize("function", sorted(CONSUMERS))
def test_a_failing_aws_call_fails_only_its_record_and_the_redelivery_stores_it_once(env, function):
    bodies: list[str | dict[str, Any]] = [*CONSUMERS[function](env)]
    records = sqs_event(bodies, template_consumers(env.stack)[function])["Records"]
    first, failing, last = records
    target = failing["messageId"]
    before = env.snapshot()
    consume(env, function, records, target=target)  # warms what the container caches
    env.restore(before)
    others = consume(env, function, [first, last], target=target)
    env.restore(before)
    clean = consume(env, function, records, target=target)
    env.restore(before)
    assert clean.result == {"batchItemFailures": []} and clean.calls.made, clean.result
    stored_by_others = diff(before, others.after)

    for k, (service, operation) in enumerate(clean.calls.made, 1):
        for code in faults(service, k):
            where = f"{operation} (call {k} of {len(clean.calls.made)} for the record) failing with {code}"
            faulty = consume(env, function, records, target=target, fail_at=k, code=code)
            assert faulty.calls.injected == (service, operation), where
            assert faulty.result == {"batchItemFailures": [{"itemIdentifier": target}]}, where
            for table, changes in stored_by_others.items():
                kept = items(faulty.after, table)
                assert all(kept.get(key) == new for key, (_, new) in changes.items()), (
                    f"{where}: others stored"
                )
            again = consume(env, function, [failing], target=target)
            assert again.result == {"batchItemFailures": []}, where
            assert own_items(env, again.after) == own_items(env, clean.after), (
                f"{where}, then redelivered: {describe(diff(clean.after, again.after))}"
            )
            assert effects(faulty) + effects(again) == effects(clean), f"{where}: sent once"
            env.restore(before)
