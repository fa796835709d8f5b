"""The access policy on an in-memory identity store: rules the identity routes alone cannot show
(guardian-excluded actions, owning care units, emergency access, purposes and roles)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from eservices_core.access import Action, authorize
from eservices_core.actors import Resident, Staff
from eservices_core.audit import Verb
from eservices_core.clock import FixedClock, use_clock
from eservices_core.errors import Forbidden, InvalidInput, NotFound
from eservices_core.identifiers import parse_personal_identity
from eservices_core.registry import CARE_PURPOSE, Commission, GuardianView, Patient, StaffMember
from local_runtime.demo import personnummer

TODAY = date(2026, 11, 25)
PARENT = parse_personal_identity(personnummer(date(1985, 4, 2), 321), today=TODAY)
UNIT, OTHER_UNIT = "SE2321000016-U0001", "SE2321000016-U0002"


def patient(patient_id: str, born: date, *, protected_identity: bool = False) -> Patient:
    return Patient(
        patient_id, f"{patient_id} Demo", born, protected_identity, deceased=False, registered=True
    )


def commission(**overrides: Any) -> Commission:
    fields: dict[str, Any] = {
        "commission_id": "C1",
        "hsa_id": "SE2321000016-S1",
        "care_unit_hsa_id": UNIT,
        "care_unit_name": "Demo VC",
        "care_provider_hsa_id": "SE2321000016-P0",
        "care_provider_public": True,
        "purpose": CARE_PURPOSE,
        "roles": frozenset(),
        "valid_from": date(2020, 1, 1),
        "valid_to": None,
        "revoked": False,
    } | overrides
    return Commission(**fields)


class FakeRegistry:
    def __init__(self) -> None:
        self.patients = {
            "parent": patient("parent", date(1985, 4, 2)),
            "child": patient("child", date(2018, 6, 1)),
        }
        self.links = {("child", "parent")}
        self.blocks: set[tuple[str, str]] = set()
        self.commissions = {"C1": commission()}
        self.member = StaffMember("SE2321000016-S1", "Demo Doktor", "Läkare", False)

    def patient_id_of(self, identity):
        return "parent" if identity == PARENT else None

    def patient(self, patient_id):
        return self.patients.get(patient_id)

    def guardian_view(self, child_id, guardian_id):
        return self.patients.get(guardian_id), GuardianView(
            self.patients.get(child_id),
            (child_id, guardian_id) in self.links,
            (child_id, guardian_id) in self.blocks,
        )

    def staff_view(self, hsa_id, commission_id, patient_id):
        return self.member, self.commissions.get(commission_id), self.patients.get(patient_id)


RESIDENT = Resident("sub", PARENT, "Parent Demo", 3)
READ = Action(Verb.READ, "cases")
CERTIFICATES = Action(Verb.READ, "certificates", guardians=False)


def staff(commission_id: str | None = "C1") -> Staff:
    return Staff("sub", "SE2321000016-S1", "Demo Doktor", commission_id)


@pytest.fixture(autouse=True)
def _today():
    with use_clock(FixedClock(datetime(2026, 11, 25, 12, tzinfo=UTC))):
        yield


def test_a_resident_acts_for_themselves_and_their_young_child():
    registry = FakeRegistry()
    own = authorize(registry, RESIDENT, "parent", READ)
    child = authorize(registry, RESIDENT, "child", READ)
    assert (own.relation, own.until) == ("self", None)
    assert child.relation == "guardian" and child.until == datetime(2031, 5, 31, 22, tzinfo=UTC)
    assert child.audit_entry("r1").acting_for == "child" and child.audit_entry("r1").actor_id == "parent"


def test_guardians_never_see_certificates_but_the_patient_does():
    registry = FakeRegistry()
    with pytest.raises(Forbidden):
        authorize(registry, RESIDENT, "child", CERTIFICATES)
    assert authorize(registry, RESIDENT, "parent", CERTIFICATES).relation == "self"


@pytest.mark.parametrize("change", ["blocked", "no-link", "child-protected", "parent-protected", "unknown"])
def test_a_resident_who_may_not_act_for_the_patient_gets_not_found(change):
    registry = FakeRegistry()
    target = "child"
    if change == "blocked":
        registry.blocks.add(("child", "parent"))
    elif change == "no-link":
        registry.links.clear()
    elif change == "child-protected":
        registry.patients["child"] = patient("child", date(2018, 6, 1), protected_identity=True)
    elif change == "parent-protected":
        registry.patients["parent"] = patient("parent", date(1985, 4, 2), protected_identity=True)
    else:
        target = "nobody"
    with pytest.raises(NotFound):
        authorize(registry, RESIDENT, target, READ)


def test_staff_data_must_belong_to_the_commissions_care_unit():
    registry = FakeRegistry()
    grant = authorize(registry, staff(), "child", READ, owning_care_unit=UNIT)
    assert grant.commission is not None and grant.commission.care_unit_hsa_id == UNIT
    with pytest.raises(NotFound):
        authorize(registry, staff(), "child", READ, owning_care_unit=OTHER_UNIT)
    with pytest.raises(NotFound):
        authorize(registry, staff(), "child", READ).require_care_unit(OTHER_UNIT)


def test_emergency_access_reaches_another_units_data_and_is_recorded_as_such():
    registry = FakeRegistry()
    grant = authorize(
        registry, staff(), "child", Action(Verb.EMERGENCY, "records"), owning_care_unit=OTHER_UNIT
    )
    entry = grant.audit_entry("r2")
    assert entry.verb is Verb.EMERGENCY and entry.care_unit_hsa_id == UNIT and entry.purpose == CARE_PURPOSE


def test_resident_owning_care_unit_is_not_a_staff_rule():
    assert (
        authorize(FakeRegistry(), RESIDENT, "child", READ, owning_care_unit=OTHER_UNIT).relation == "guardian"
    )


@pytest.mark.parametrize(
    ("commission_changes", "action"),
    [
        ({"purpose": "Administration"}, READ),
        ({"revoked": True}, READ),
        ({"valid_to": date(2026, 11, 24)}, READ),
        ({"valid_from": date(2026, 11, 26)}, READ),
        ({}, Action(Verb.WRITE, "guardian-block", staff_role="block-guardians")),
    ],
)
def test_staff_need_an_active_commission_with_the_purpose_and_role(commission_changes, action):
    registry = FakeRegistry()
    registry.commissions["C1"] = commission(**commission_changes)
    with pytest.raises(Forbidden):
        authorize(registry, staff(), "child", action)


def test_staff_must_name_a_commission_of_their_own_and_an_existing_patient():
    registry = FakeRegistry()
    with pytest.raises(InvalidInput):
        authorize(registry, staff(None), "child", READ)
    with pytest.raises(Forbidden):
        authorize(registry, staff("C-someone-else"), "child", READ)
    with pytest.raises(NotFound):
        authorize(registry, staff(), "nobody", READ)
    registry.member = StaffMember("SE2321000016-S1", "Demo Doktor", "Läkare", True)
    with pytest.raises(Forbidden):
        authorize(registry, staff(), "child", READ)
