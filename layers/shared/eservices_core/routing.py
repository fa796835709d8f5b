"""The resolver every e-service API uses; it makes the access policy impossible to forget.

A route whose path names `<patientId>` can only be registered with `patient_route`, which runs the policy
(`eservices_core.access.authorize`) and writes the PDL audit record: before a write happens, and for a read
after the route found what to show but before it is shown (if the record cannot be written the caller gets
503 and no data either way). The function receives the `AccessGrant` instead of the raw id. Registering such a path any other way (directly
or through an included Router) raises `RouteWithoutPolicy` at import, so the function cannot even start.
`tests/integration/test_access_matrix.py` walks the template's routes to prove each is covered.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

from eservices_core.access import (
    AccessGrant,
    Action,
    Actor,
    active_commission,
    authorize,
    require_commission_id,
)
from eservices_core.actors import Resident, Staff, resident_from_claims, staff_from_claims
from eservices_core.audit import Verb
from eservices_core.problems import install_problem_handlers
from eservices_core.registry import Commission, StaffMember
from eservices_core.services import AccessServices as AccessServices  # re-exported for the API routes
from eservices_core.services import access_services

if TYPE_CHECKING:
    from aws_lambda_powertools import Logger

PATIENT_PARAMETER = "patientId"
READ_VERBS = frozenset({Verb.READ, Verb.PRINT})
COMMISSION_HEADER = "x-commission-id"
RESIDENT = "resident"
STAFF = "staff"


class RouteWithoutPolicy(Exception):
    """A patient-scoped path was registered without the access policy."""


@dataclass(frozen=True, slots=True)
class PatientRoute:
    method: str
    path: str  # as the template writes it: /v1/patients/{patientId}/...
    action: Action
    audience: str


def template_path(rule: str) -> str:
    return re.sub(r"<(\w+)>", r"{\1}", rule)


class EServiceResolver(APIGatewayHttpResolver):
    """An HTTP API resolver with RFC 9457 problems and policy-gated patient routes."""

    def __init__(self, logger: Logger, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.patient_routes: list[PatientRoute] = []
        install_problem_handlers(self, logger)

    def route(self, rule: str, method: Any, *args: Any, **kwargs: Any) -> Callable[[Callable[..., Any]], Any]:
        register = super().route(rule, method, *args, **kwargs)
        if f"<{PATIENT_PARAMETER}>" not in rule:
            return register

        def checked(func: Callable[..., Any]) -> Any:
            if not getattr(func, "__access_policy__", False):
                raise RouteWithoutPolicy(
                    f"{method} {rule} serves patient data: register it with patient_route"
                )
            return register(func)

        return checked

    def patient_route(
        self, method: str, rule: str, *, action: Action, audience: str
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Register `func(grant, **other_path_params)` behind the policy and the audit log."""
        if audience not in (RESIDENT, STAFF):
            raise ValueError(f"audience must be {RESIDENT!r} or {STAFF!r}")

        def register(func: Callable[..., Any]) -> Callable[..., Any]:
            @functools.wraps(func)
            def gated(**params: str) -> Any:
                patient_id = params.pop(PATIENT_PARAMETER)
                services = access_services()
                grant = authorize(services.registry, self.actor(audience), patient_id, action)
                # What exactly: the action's resource and the route's other path parameters (e.g. the case id).
                resource = "/".join([action.resource, *params.values()])
                entry = grant.audit_entry(self.current_event.request_context.request_id, resource)
                if action.verb in READ_VERBS:
                    # A read is recorded once it has found something to show, and before showing it: a read
                    # refused by the route (no such case, another unit's) accessed nothing and is not logged.
                    result = func(grant, **params)
                    services.audit.append(entry)
                    return result
                services.audit.append(entry)  # a write is recorded before it happens
                return func(grant, **params)

            gated.__access_policy__ = True  # type: ignore[attr-defined]
            self.route(rule, method.upper())(gated)
            self.patient_routes.append(PatientRoute(method.upper(), template_path(rule), action, audience))
            return func

        return register

    def actor(self, audience: str) -> Actor:
        claims = self.current_event.request_context.authorizer.jwt_claim
        if audience == STAFF:
            return staff_from_claims(claims, commission_id=self.current_event.headers.get(COMMISSION_HEADER))
        return resident_from_claims(claims, minimum_assurance=access_services().minimum_resident_assurance)

    def resident(self) -> Resident:
        actor = self.actor(RESIDENT)
        assert isinstance(actor, Resident)
        return actor

    def staff(self) -> Staff:
        actor = self.actor(STAFF)
        assert isinstance(actor, Staff)
        return actor

    def commission(self, action: Action) -> tuple[Staff, Commission, StaffMember]:
        """For staff routes outside a patient (work queues, settings): the caller's active commission that
        allows `action`, read on every request (rule 14); 400 without X-Commission-Id, 403 otherwise."""
        staff = self.staff()
        member, commission, _ = access_services().registry.staff_view(
            staff.hsa_id, require_commission_id(staff), None
        )
        active = active_commission(member, commission, action)
        assert member is not None  # active_commission refuses a missing member
        return staff, active, member

    def audit(self, grant: AccessGrant) -> None:
        """Write the audit record of an access decided outside a patient route (e.g. a patient lookup)."""
        access_services().audit.append(grant.audit_entry(self.current_event.request_context.request_id))
