"""The authorization matrix: every patient-scoped route of every e-service by every kind of caller.

Routes are discovered from template.yaml (any path with `{patientId}`), so a new route joins the matrix by
being added to the template; `test_every_patient_route_in_the_template_is_behind_the_access_policy` proves
its function registered it through the policy. Each request goes through the gateway exactly as in the local
runtime (JWT authorizer first), and every allowed request must leave one audit record, every refused one none.
"""

from __future__ import annotations

import importlib
import itertools
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import jwt
import pytest

from eservices_core.routing import RESIDENT, STAFF, EServiceResolver, PatientRoute, RouteWithoutPolicy
from eservices_core.table import Table
from inbox.store import InboxStore
from local_runtime import captured, population
from local_runtime.idp import DevIdentityProvider, resident_claims
from local_runtime.template import Template
from tests.support.events import inbox_message, sqs_event
from tests.support.people import ANSWERS, OTHER_UNIT, UNIT, World

TEMPLATE = Template()
PATIENT_ROUTES = sorted(
    (method, path, function) for method, path, function, _ in TEMPLATE.http_routes() if "{patientId}" in path
)
AUTHORIZER_OF = {RESIDENT: "ResidentAuthorizer", STAFF: "StaffAuthorizer"}


def policy_routes() -> dict[tuple[str, str], PatientRoute]:
    """Every route registered through `patient_route`, in every function module the template names."""
    registered: dict[tuple[str, str], PatientRoute] = {}
    for fn in TEMPLATE.functions.values():
        module = importlib.import_module(fn.handler.rsplit(".", 1)[0])
        for value in vars(module).values():
            if isinstance(value, EServiceResolver):
                registered |= {(r.method, r.path): r for r in value.patient_routes}
    return registered


# ---- routes needing more than a bare request ------------------------------------------------------------------
@dataclass
class RequestSpec:
    """How to make a request that succeeds for an allowed caller: body, other path parameters, preparation."""

    success: tuple[int, ...] = (200,)
    body: Callable[[Population], Any] | None = None
    prepare: Callable[[Population], dict[str, str]] = lambda _: {}  # returns the other path parameters


CASE = "/v1/patients/{patientId}/cases/{caseId}"
STAFF_CASE = "/v1/staff/patients/{patientId}/cases/{caseId}"
APPOINTMENTS = "/v1/patients/{patientId}/appointments"
MESSAGE = "/v1/patients/{patientId}/inbox/{messageId}"
BOOKING_TYPE = "nurse-visit-15"
A_CASE = RequestSpec(prepare=lambda p: {"caseId": p.ids["case"]})
AN_OPEN_CASE = RequestSpec(prepare=lambda p: {"caseId": p.new_case()})
WITH_ATTACHMENT = RequestSpec(
    prepare=lambda p: {"caseId": p.ids["case"], "attachmentId": p.ids["attachment"]}
)


def _with(spec: RequestSpec, **changes: Any) -> RequestSpec:
    return RequestSpec(**{**spec.__dict__, **changes})


SPECS: dict[str, RequestSpec] = {
    "POST /v1/staff/patients/{patientId}/guardian-blocks": RequestSpec(
        success=(201, 200), body=lambda p: {"guardian_patient_id": p.ids["spare_guardian"]}
    ),
    "DELETE /v1/staff/patients/{patientId}/guardian-blocks/{guardianPatientId}": RequestSpec(
        success=(204,),
        prepare=lambda p: p.block("spare_guardian"),
    ),
    "POST /v1/patients/{patientId}/cases": RequestSpec(success=(201,), body=lambda p: p.case_body()),
    f"GET {CASE}": A_CASE,
    f"POST {CASE}/messages": _with(AN_OPEN_CASE, success=(201,), body=lambda _: {"text": "Det blev bättre."}),
    f"POST {CASE}/withdrawal": AN_OPEN_CASE,
    "POST /v1/patients/{patientId}/attachments": RequestSpec(
        success=(201,),
        body=lambda _: {"content_type": "application/pdf", "size": 2048, "filename": "intyg.pdf"},
    ),
    f"GET {CASE}/attachments/{{attachmentId}}": WITH_ATTACHMENT,
    f"GET {STAFF_CASE}": A_CASE,
    f"GET {STAFF_CASE}/attachments/{{attachmentId}}": WITH_ATTACHMENT,
    f"POST {STAFF_CASE}/assignment": _with(A_CASE, body=lambda _: {"assignee_hsa_id": "me"}),
    f"POST {STAFF_CASE}/messages": _with(AN_OPEN_CASE, success=(201,), body=lambda _: {"text": "Hej!"}),
    f"POST {STAFF_CASE}/information-requests": _with(
        AN_OPEN_CASE, success=(201,), body=lambda _: {"text": "Hur mår du?"}
    ),
    f"POST {STAFF_CASE}/decision": _with(
        AN_OPEN_CASE, body=lambda _: {"outcome": "denied", "reason": "Behöver ett besök."}
    ),
    f"POST {STAFF_CASE}/forwarding": _with(
        AN_OPEN_CASE, body=lambda _: {"care_unit_hsa_id": OTHER_UNIT["hsa_id"]}
    ),
    f"POST {STAFF_CASE}/closure": AN_OPEN_CASE,
    f"POST {STAFF_CASE}/reopening": RequestSpec(prepare=lambda p: {"caseId": p.new_case(closed=True)}),
    f"GET {MESSAGE}": RequestSpec(prepare=lambda p: {"messageId": p.new_message()}),
    f"PATCH {MESSAGE}": RequestSpec(
        prepare=lambda p: {"messageId": p.new_message()}, body=lambda _: {"archived": True}
    ),
    f"DELETE {MESSAGE}": RequestSpec(success=(204,), prepare=lambda p: {"messageId": p.new_message()}),
    "PUT /v1/patients/{patientId}/notification-settings": RequestSpec(
        body=lambda _: {"mobile": "070-123 45 67"}
    ),
    "POST /v1/patients/{patientId}/notification-settings/verification": RequestSpec(
        prepare=lambda p: p.code_sent(),
        body=lambda p: {"channel": "mobile", "code": p.ids.get("code", "000000")},
    ),
    f"POST {APPOINTMENTS}": RequestSpec(success=(201,), body=lambda p: {"time_id": p.fresh_time()}),
    f"GET {APPOINTMENTS}/{{appointmentId}}": RequestSpec(
        prepare=lambda p: {"appointmentId": p.ids["appointment"]}
    ),
    f"POST {APPOINTMENTS}/{{appointmentId}}/rebooking": RequestSpec(
        prepare=lambda p: {"appointmentId": p.new_appointment()}, body=lambda p: {"time_id": p.fresh_time()}
    ),
    f"POST {APPOINTMENTS}/{{appointmentId}}/cancellation": RequestSpec(
        prepare=lambda p: {"appointmentId": p.new_appointment()}
    ),
}


# ---- the callers ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Caller:
    name: str
    audience: str | None  # whose authorizer its token passes; None: no valid token at all
    target: str = "child"  # which patient it asks for
    outcome: str = "denied"  # "self", "guardian", "staff", "staff-no-role", "no-commission", "denied", "401"


CALLERS = [
    Caller("the patient", RESIDENT, outcome="self"),
    Caller("a guardian", RESIDENT, outcome="guardian"),
    Caller("the other guardian", RESIDENT, outcome="guardian"),
    Caller("another resident", RESIDENT),
    Caller("a blocked guardian", RESIDENT),
    Caller("a guardian of a 13-year-old", RESIDENT, target="teenager"),
    Caller("a guardian with protected identity", RESIDENT, target="protected_child"),
    Caller("a guardian of a child with protected identity", RESIDENT, target="hidden_child"),
    Caller("the patient at assurance level 2", RESIDENT, outcome="401"),
    Caller("staff with the right commission", STAFF, outcome="staff"),
    Caller("staff with a care commission without extra roles", STAFF, outcome="staff-no-role"),
    Caller("staff with an administration commission", STAFF),
    Caller("staff with an expired commission", STAFF),
    Caller("staff with a revoked commission", STAFF),
    Caller("staff naming someone else's commission", STAFF),
    Caller("staff removed from the HSA catalogue", STAFF),
    Caller("staff without X-Commission-Id", STAFF, outcome="no-commission"),
    Caller("no token", None, outcome="401"),
    Caller("an expired token", None, outcome="401"),
    Caller("a token signed by another key", None, outcome="401"),
    Caller("a token with alg none", None, outcome="401"),
]


@dataclass
class Population:
    world: World
    ids: dict[str, str] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    commissions: dict[str, str | None] = field(default_factory=dict)
    blocker: Any = None
    guardian: Any = None
    child: Any = None
    booker: Any = None
    minutes: Iterator[int] = field(default_factory=itertools.count)

    def case_body(self) -> dict[str, Any]:
        return {
            "clinic_id": UNIT["hsa_id"],
            "case_type_id": "renew-prescription",
            "form_version": 1,
            "answers": ANSWERS["renew-prescription"],
        }

    def new_case(self, *, closed: bool = False) -> str:
        """An open case of the child at UNIT, sent by a guardian (closed by staff when asked)."""
        case_id = self.world.send_case(self.guardian, self.child)
        if closed:
            status, _ = self.world.stack.call(
                "POST",
                f"/v1/staff/patients/{self.ids['child']}/cases/{case_id}/closure",
                token=self.world.staff_token(self.blocker),
                headers={"X-Commission-Id": self.blocker.commission_ids[0]},
            )
            assert status == 200
        return case_id

    def fresh_time(self) -> str:
        """A newly published time at UNIT ten days ahead (each request books its own)."""
        day, minute = self.world.today + timedelta(days=10), next(self.minutes)
        start = f"{day.isoformat()}T{8 + minute // 60:02d}:{minute % 60:02d}"
        return self.world.publish_times(self.booker, BOOKING_TYPE, [start])[0]

    def new_message(self) -> str:
        """A new message in the child's inbox, delivered by a registered system; its id."""
        n = next(self.minutes)
        body = inbox_message(
            "matrix-registry",
            f"matrix-{n}",
            self.child.personnummer,
            category="information",
            subject="Information",
            body="Demo",
        )
        stack = self.world.stack
        result = stack.invoke("InboxDeliveryFunction", sqs_event([body], stack.arn("InboxDeliveryQueue")))
        assert result == {"batchItemFailures": []}
        newest = self._inbox.page(self.ids["child"], unread_first=False, where=(), limit=1, start=None)
        return str(newest.items[0]["message_id"])

    def code_sent(self) -> dict[str, str]:
        """The child saves a mobile number; the code sent to it (as moto captured the SMS)."""
        status, _ = self.world.stack.call(
            "PUT",
            f"/v1/patients/{self.ids['child']}/notification-settings",
            token=self.tokens["the patient"],
            body={"mobile": "070-765 43 21"},
        )
        assert status == 200
        self.world.stack.event_source("NotificationSenderFunction").drain()
        self.ids["code"] = re.findall(r"\d{6}", [m for m in captured.sent() if m.channel == "sms"][-1].text)[
            0
        ]
        return {}

    @property
    def _inbox(self) -> InboxStore:
        return InboxStore(
            Table(self.world.stack.session.client("dynamodb"), self.world.stack.ref("InboxTable"))
        )

    def new_appointment(self) -> str:
        """An active appointment of the child at UNIT, booked by a guardian."""
        return str(self.world.book(self.guardian, self.child, self.fresh_time())["appointment_id"])

    def block(self, guardian: str) -> dict[str, str]:
        """Block the guardian for the child; the path parameter that names them."""
        status, _ = self.world.stack.call(
            "POST",
            f"/v1/staff/patients/{self.ids['child']}/guardian-blocks",
            token=self.world.staff_token(self.blocker),
            headers={"X-Commission-Id": self.blocker.commission_ids[0]},
            body={"guardian_patient_id": self.ids[guardian]},
        )
        assert status in (200, 201)
        return {"guardianPatientId": self.ids[guardian]}


@pytest.fixture(scope="module")
def people(module_stack) -> Population:
    today = date.today()
    world = World(module_stack, today)
    p = Population(world)
    r = world.resident
    child, teenager = r("Barn Demomatris", age=8), r("Tonåring Demomatris", age=13)
    guardian, other_guardian, blocked, spare = (
        r("Förälder Demomatris"),
        r("Annan Demoförälder"),
        r("Spärrad Demoförälder"),
        r("Extra Demoförälder"),
    )
    world.family(guardian, other_guardian, blocked, spare, children=[child])
    world.guardianship(guardian, teenager)
    protected_parent = r("Skyddad Demoförälder", protected_identity=True)
    protected_child = r("Barn Demoskyddad", age=6)
    world.guardianship(protected_parent, protected_child)
    hidden_child = r("Barn Demodold", age=6, protected_identity=True)
    world.guardianship(guardian, hidden_child)
    stranger = r("Främling Demomatris")
    for key, person in {
        "child": child,
        "teenager": teenager,
        "protected_child": protected_child,
        "hidden_child": hidden_child,
        "spare_guardian": spare,
    }.items():
        p.ids[key] = world.patient_id(person)

    staff = {
        "right": world.staff("Rätt Demouppdrag", roles=["block-guardians"]),
        "no-role": world.staff("Utan Demoroll"),
        "admin": world.staff("Admin Demouppdrag", purpose="Administration"),
        "expired": world.staff("Slutat Demouppdrag", valid_to="2020-12-31"),
        "revoked": world.staff("Återkallat Demouppdrag"),
        "removed": world.staff("Borttagen Demoperson"),
        "other": world.staff("Annan Demoenhet", unit=OTHER_UNIT),
    }
    world.feed_staff(
        population.commission_revoked(
            staff["revoked"].hsa_id, staff["revoked"].commission_ids[0], seconds=world.tick()
        ),
        population.employee_removed(staff["removed"].hsa_id, seconds=world.tick()),
    )
    p.blocker, p.guardian, p.child = staff["right"], guardian, child
    world.offer("renew-prescription")
    p.ids["case"] = p.new_case()
    p.ids["attachment"] = _attached(p)
    p.booker = world.bookable(BOOKING_TYPE, max_active=10)
    p._inbox.register_system("matrix-registry", "Matrisregistret")
    p.ids["message"] = p.new_message()
    p.ids["appointment"] = p.new_appointment()
    p.ids["blocked"] = world.patient_id(blocked)
    p.block("blocked")

    resident_tokens = {
        "the patient": world.token(child),
        "a guardian": world.token(guardian),
        "the other guardian": world.token(other_guardian),
        "another resident": world.token(stranger),
        "a blocked guardian": world.token(blocked),
        "a guardian of a 13-year-old": world.token(guardian),
        "a guardian with protected identity": world.token(protected_parent),
        "a guardian of a child with protected identity": world.token(guardian),
        "the patient at assurance level 2": world.token(child, assurance_level=2),
    }
    staff_callers = {
        "staff with the right commission": ("right", None),
        "staff with a care commission without extra roles": ("no-role", None),
        "staff with an administration commission": ("admin", None),
        "staff with an expired commission": ("expired", None),
        "staff with a revoked commission": ("revoked", None),
        "staff naming someone else's commission": ("no-role", staff["other"].commission_ids[0]),
        "staff removed from the HSA catalogue": ("removed", None),
        "staff without X-Commission-Id": ("no-role", ""),
    }
    p.tokens |= resident_tokens
    for name, (key, commission) in staff_callers.items():
        p.tokens[name] = world.staff_token(staff[key])
        p.commissions[name] = staff[key].commission_ids[0] if commission is None else commission
    p.tokens |= _bad_tokens(module_stack, child)
    return p


def _attached(p: Population) -> str:
    """A PDF the guardian uploaded (as the presigned POST would store it) and attached to the child's case."""
    import uuid

    stack, attachment_id = p.world.stack, str(uuid.uuid4())
    stack.session.client("s3").put_object(
        Bucket=stack.ref("AttachmentsBucket"),
        Key=f"patients/{p.ids['child']}/attachments/{attachment_id}",
        Body=b"%PDF-1.7\n% demo\n",
        ContentType="application/pdf",
        Metadata={"filename": "remiss.pdf"},
        Tagging="state=uploaded",
    )
    status, _ = stack.call(
        "POST",
        f"/v1/patients/{p.ids['child']}/cases/{p.ids['case']}/messages",
        token=p.world.token(p.guardian),
        body={"text": "Bifogar remissen.", "attachments": [attachment_id]},
    )
    assert status == 201
    return attachment_id


def _bad_tokens(stack, person) -> dict[str, str]:
    real = stack.idps["resident"]
    claims = resident_claims(person.personnummer, person.name)
    forger = DevIdentityProvider("resident", real.issuer, real.audience, kid=real.kid)
    unsigned = {"iss": real.issuer, "aud": real.audience, "exp": int(time.time()) + 600} | claims
    return {
        "no token": "",
        "an expired token": real.issue(claims, now=time.time() - 7200),
        "a token signed by another key": forger.issue(claims),
        "a token with alg none": jwt.encode(unsigned, key=None, algorithm="none"),  # type: ignore[arg-type]
    }


def expected_status(route: PatientRoute, caller: Caller, success: int) -> int:
    if caller.outcome == "401" or caller.audience != route.audience:
        return 401
    return {
        "self": success,
        "guardian": success if route.action.guardians else 403,
        "staff": success,
        "staff-no-role": 403 if route.action.staff_role else success,
        "no-commission": 400,
    }.get(caller.outcome, 404 if caller.audience == RESIDENT else 403)


def audit_count(people: Population, patient_id: str) -> int:
    """The sequence number of the patient's newest audit record (the chain's HEAD)."""
    table = Table(people.world.stack.session.client("dynamodb"), people.world.stack.ref("AuditTable"))
    head = table.get((f"PATIENT#{patient_id}", "HEAD"))
    return int(head["seq"]) if head else 0


def refused_params(people: Population) -> dict[str, str]:
    """Path parameters for a request the policy refuses before the route reads them."""
    return {
        "caseId": people.ids["case"],
        "attachmentId": people.ids["attachment"],
        "guardianPatientId": people.ids["spare_guardian"],
        "appointmentId": people.ids["appointment"],
        "messageId": people.ids["message"],
    }


@pytest.mark.parametrize("caller", CALLERS, ids=lambda c: c.name)
@pytest.mark.parametrize(("method", "path", "function"), PATIENT_ROUTES, ids=lambda v: str(v))
def test_matrix(people, method, path, function, caller):
    route = policy_routes()[(method, path)]
    spec = SPECS.get(f"{method} {path}", RequestSpec())
    patient_id = people.ids[caller.target]
    expected = expected_status(route, caller, spec.success[0])
    allowed = expected in spec.success and caller.outcome != "401"
    params = spec.prepare(people) if allowed else refused_params(people)
    url = path.replace("{patientId}", patient_id)
    for name, value in params.items():
        url = url.replace("{" + name + "}", value)
    headers = {}
    if caller.audience == STAFF and people.commissions[caller.name]:
        headers["X-Commission-Id"] = people.commissions[caller.name]
    before = audit_count(people, patient_id)

    status, body = people.world.stack.call(
        method,
        url,
        token=people.tokens[caller.name] or None,
        headers=headers,
        body=spec.body(people) if spec.body else None,
    )

    assert status == expected or (allowed and status in spec.success), (status, body)
    assert audit_count(people, patient_id) == before + (1 if allowed else 0)
    if not allowed and body:
        assert "Demo" not in str(body), "a refusal carries no patient data"


def test_every_patient_route_in_the_template_is_behind_the_access_policy():
    registered = policy_routes()
    assert PATIENT_ROUTES, "the template has patient-scoped routes"
    for method, path, function in PATIENT_ROUTES:
        route = registered.get((method, path))
        assert route is not None, f"{method} {path} ({function}) is not registered through patient_route"
        [event] = [
            e["Properties"]
            for e in TEMPLATE.functions[function].events.values()
            if e["Type"] == "HttpApi"
            and (e["Properties"]["Method"].upper(), e["Properties"]["Path"]) == (method, path)
        ]
        assert event["Auth"]["Authorizer"] == AUTHORIZER_OF[route.audience], f"{method} {path}"
    assert set(registered) == {(m, p) for m, p, _ in PATIENT_ROUTES}, (
        "the template exposes every policy route"
    )


def test_a_patient_route_cannot_be_registered_without_the_policy():
    from aws_lambda_powertools import Logger
    from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

    app = EServiceResolver(Logger(service="test"))
    with pytest.raises(RouteWithoutPolicy):
        app.get("/v1/patients/<patientId>/secrets")(lambda patientId: {})
    router = APIGatewayHttpRouter()
    router.get("/v1/patients/<patientId>/other-secrets")(lambda patientId: {})
    with pytest.raises(RouteWithoutPolicy):
        app.include_router(router)


def test_the_matrix_covers_the_cases_the_guide_lists():
    names = {c.name for c in CALLERS}
    assert {
        "the patient",
        "another resident",
        "a guardian",
        "a blocked guardian",
        "a guardian of a 13-year-old",
        "staff with the right commission",
        "staff with an administration commission",
        "no token",
        "an expired token",
        "a token signed by another key",
    } <= names
