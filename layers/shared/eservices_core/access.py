"""The one access policy: may this actor do this action on this patient's data, and in what capacity.

Every patient-scoped route reaches it through `eservices_core.routing` (which refuses to register a patient
route without it) and gets back an `AccessGrant`, which then writes the PDL audit record. Outcomes:
- a resident who may not act for the patient gets 404, exactly as for a patient that does not exist, so the
  answer never reveals that a person or a link exists (rules 6-10);
- a guardian acting for a child, for an action guardians may not take (certificates, blocks: rule 11), 403;
- staff need an active commission of their own, with the purpose the action requires (otherwise 403), and
  (once the data's owning care unit is known) on that care unit (rule 14): data of another unit is 404, so
  a unit learns nothing of what a patient has elsewhere. An unknown patient is 404.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from eservices_core.actors import Resident, Staff
from eservices_core.audit import AuditEntry, Verb
from eservices_core.clock import now_utc, today_stockholm
from eservices_core.errors import Forbidden, InvalidInput, NotFound
from eservices_core.guardianship import GuardianAccess, guardian_access
from eservices_core.registry import CARE_PURPOSE, Commission, Patient

if TYPE_CHECKING:
    from collections.abc import Sequence

    from eservices_core.identifiers import PersonalIdentity
    from eservices_core.registry import GuardianView, StaffMember

Actor = Resident | Staff


class AccessRegistry(Protocol):
    """What the policy reads of the identity store (`eservices_core.registry.Registry` in production)."""

    def patient_id_of(self, identity: PersonalIdentity) -> str | None: ...

    def patient(self, patient_id: str) -> Patient | None: ...

    def guardian_view(self, child_id: str, guardian_id: str) -> tuple[Patient | None, GuardianView]: ...

    def staff_view(
        self, hsa_id: str, commission_id: str, patient_id: str | None
    ) -> tuple[StaffMember | None, Commission | None, Patient | None]: ...


class StaffListRegistry(AccessRegistry, Protocol):
    """What the policy reads for a list of patients staff see at once."""

    def staff_view_many(
        self, hsa_id: str, commission_id: str, patient_ids: Sequence[str]
    ) -> tuple[StaffMember | None, Commission | None, dict[str, Patient]]: ...


NO_SUCH_PATIENT = "No patient with this id that you may act for"


@dataclass(frozen=True, slots=True)
class Action:
    """What a route does to patient data, as the policy and the audit log see it."""

    verb: Verb
    resource: str
    guardians: bool = True  # rule 11: False for certificates and for placing blocks
    purposes: frozenset[str] = field(default_factory=lambda: frozenset({CARE_PURPOSE}))
    staff_role: str | None = None  # a commission role the action needs beyond the purpose


@dataclass(frozen=True, slots=True)
class AccessGrant:
    """The decision, and the context a route needs: whom it serves, in what capacity, until when."""

    actor: Actor
    patient: Patient
    action: Action
    relation: str  # "self", "guardian" or "staff"
    actor_patient_id: str | None = None  # the resident's own patient id
    until: datetime | None = None  # guardian access ends at this instant
    commission: Commission | None = None
    staff_member: StaffMember | None = None

    @property
    def patient_id(self) -> str:
        return self.patient.patient_id

    def require_care_unit(self, owning_care_unit: str) -> None:
        """For staff: the data belongs to `owning_care_unit`, which must be the commission's (rule 14)."""
        if self.commission is None or self.action.verb is Verb.EMERGENCY:
            return
        if self.commission.care_unit_hsa_id != owning_care_unit:
            # 404, not 403: staff of one unit learn nothing of what the patient has at another.
            raise NotFound("Nothing of this under your commission's care unit")

    def audit_entry(self, request_id: str, resource: str | None = None) -> AuditEntry:
        """The PDL record of this access; `resource` names what exactly (default: the action's resource)."""
        resource = resource or self.action.resource
        if isinstance(self.actor, Staff):
            assert self.commission is not None
            return AuditEntry(
                patient_id=self.patient_id,
                actor_kind="staff",
                actor_id=self.actor.hsa_id,
                actor_name=self.staff_member.name if self.staff_member else self.actor.name,
                acting_for=None,
                relation=self.relation,
                verb=self.action.verb,
                resource=resource,
                request_id=request_id,
                care_unit_hsa_id=self.commission.care_unit_hsa_id,
                care_unit_name=self.commission.care_unit_name,
                care_provider_hsa_id=self.commission.care_provider_hsa_id,
                care_provider_public=self.commission.care_provider_public,
                purpose=self.commission.purpose,
                commission_id=self.commission.commission_id,
            )
        return AuditEntry(
            patient_id=self.patient_id,
            actor_kind="resident",
            actor_id=self.actor_patient_id or "",
            actor_name=self.actor.name,
            acting_for=self.patient_id if self.relation == "guardian" else None,
            relation=self.relation,
            verb=self.action.verb,
            resource=resource,
            request_id=request_id,
        )


def authorize(
    registry: AccessRegistry,
    actor: Actor,
    patient_id: str,
    action: Action,
    owning_care_unit: str | None = None,
) -> AccessGrant:
    """Decide; return the grant or raise NotFound / Forbidden. 1 round trip for staff and for a resident's
    own data, 2 when a guardian acts for a child."""
    grant = (
        _authorize_staff(registry, actor, patient_id, action)
        if isinstance(actor, Staff)
        else _authorize_resident(registry, actor, patient_id, action)
    )
    if owning_care_unit is not None:
        grant.require_care_unit(owning_care_unit)
    return grant


def _authorize_resident(
    registry: AccessRegistry, resident: Resident, patient_id: str, action: Action
) -> AccessGrant:
    own_id = registry.patient_id_of(resident.identity)
    if own_id is None:
        raise NotFound(NO_SUCH_PATIENT)
    if patient_id == own_id:
        patient = registry.patient(own_id)
        if patient is None:
            raise NotFound(NO_SUCH_PATIENT)
        return AccessGrant(resident, patient, action, "self", actor_patient_id=own_id)
    guardian, view = registry.guardian_view(patient_id, own_id)
    decision = guardian_access(guardian, view, now_utc())
    if not isinstance(decision, GuardianAccess) or view.child is None:
        raise NotFound(NO_SUCH_PATIENT)
    if not action.guardians:
        raise Forbidden("A guardian cannot do this for a child")
    return AccessGrant(
        resident, view.child, action, "guardian", actor_patient_id=own_id, until=decision.until
    )


def _authorize_staff(registry: AccessRegistry, staff: Staff, patient_id: str, action: Action) -> AccessGrant:
    member, commission, patient = registry.staff_view(staff.hsa_id, require_commission_id(staff), patient_id)
    commission = active_commission(member, commission, action)
    if patient is None:
        raise NotFound("No patient with this id")
    return AccessGrant(staff, patient, action, "staff", commission=commission, staff_member=member)


def authorize_staff_many(
    registry: StaffListRegistry, staff: Staff, patient_ids: Sequence[str], action: Action
) -> dict[str, AccessGrant]:
    """`authorize` for a list of patients one staff member sees at once (a day's appointments): the same
    decision for each, read in one round trip per 98 patients instead of one per patient. Patients that do
    not exist are left out; a commission that does not allow the action refuses the whole list."""
    member, commission, patients = registry.staff_view_many(
        staff.hsa_id, require_commission_id(staff), patient_ids
    )
    commission = active_commission(member, commission, action)
    return {
        patient_id: AccessGrant(staff, patient, action, "staff", commission=commission, staff_member=member)
        for patient_id, patient in patients.items()
    }


def require_commission_id(staff: Staff) -> str:
    if not staff.commission_id:
        raise InvalidInput.for_param("X-Commission-Id", "is required: name the commission you act under")
    return staff.commission_id


def active_commission(
    member: StaffMember | None, commission: Commission | None, action: Action
) -> Commission:
    """The commission, if it is the caller's, active today, and allows the action's purpose and role."""
    if member is None or member.removed or commission is None:
        raise Forbidden("You have no such commission")
    if not commission.active_on(today_stockholm()):
        raise Forbidden("This commission is not active")
    if commission.purpose not in action.purposes:
        raise Forbidden(f"This action needs a commission with purpose {' or '.join(sorted(action.purposes))}")
    if action.staff_role and action.staff_role not in commission.roles:
        raise Forbidden(f"This action needs the role {action.staff_role} on your commission")
    return commission
