"""The identity store, read side: residents under opaque patient ids, guardianships, blocks, staff commissions.

The identity e-service writes it (from the population register and HSA feeds, and staff's guardian blocks);
the access policy of every e-service reads it on every patient-scoped request, so each read here is one
round trip with strongly consistent reads: a protected-identity marker or a revoked commission takes effect
on the next request, whatever token the caller still holds.

Keys (one table, pk/sk):
    PERSON#<12 digits>   IDENTITY            the patient id of a personal identity
    PATIENT#<id>         PROFILE             name, birth date, registration, markers
    PATIENT#<child>      GUARDIAN#<id>       the register's guardianship, seen from the child
    PATIENT#<guardian>   CHILD#<id>          the same guardianship, seen from the guardian
    PATIENT#<child>      BLOCK#<guardian>    a guardian blocked for this child by staff
    STAFF#<hsa-id>       PROFILE             name, title
    STAFF#<hsa-id>       COMMISSION#<id>     care unit, purpose, roles, validity
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from eservices_core.identifiers import PersonalIdentity, Sex, sex_of
from eservices_core.table import MAX_BATCH_GET, Key, Table

CARE_PURPOSE = "Vård och behandling"


def identity_key(identity: PersonalIdentity | str) -> Key:
    value = identity if isinstance(identity, str) else identity.value
    return f"PERSON#{value}", "IDENTITY"


def profile_key(patient_id: str) -> Key:
    return f"PATIENT#{patient_id}", "PROFILE"


def seen_key(patient_id: str) -> Key:
    return f"PATIENT#{patient_id}", "SEEN"


def guardian_key(child_id: str, guardian_id: str) -> Key:
    return f"PATIENT#{child_id}", f"GUARDIAN#{guardian_id}"


def child_key(guardian_id: str, child_id: str) -> Key:
    return f"PATIENT#{guardian_id}", f"CHILD#{child_id}"


def block_key(child_id: str, guardian_id: str) -> Key:
    return f"PATIENT#{child_id}", f"BLOCK#{guardian_id}"


def staff_key(hsa_id: str) -> Key:
    return f"STAFF#{hsa_id}", "PROFILE"


def commission_key(hsa_id: str, commission_id: str) -> Key:
    return f"STAFF#{hsa_id}", f"COMMISSION#{commission_id}"


@dataclass(frozen=True, slots=True)
class Patient:
    patient_id: str
    name: str
    birth_date: date
    protected_identity: bool
    deceased: bool
    registered: bool
    region_code: str | None = None  # of registration (folkbokföring); None when not registered in Sweden
    municipality_code: str | None = None
    sex: Sex | None = None
    identity: str = field(default="", repr=False)  # the 12 digits: only for systems that need them (EHRs)

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> Patient:
        identity = item.get("identity", "")
        return cls(
            patient_id=item["patient_id"],
            name=item.get("name", ""),
            birth_date=date.fromisoformat(item["birth_date"]),
            protected_identity=bool(item.get("protected_identity")),
            deceased=bool(item.get("deceased")),
            registered=bool(item.get("registered")),
            region_code=item.get("region_code"),
            municipality_code=item.get("municipality_code"),
            sex=sex_of(identity) if len(identity) == 12 else None,
            identity=identity,
        )

    def age_on(self, day: date) -> int:
        years = day.year - self.birth_date.year
        return years - ((day.month, day.day) < (self.birth_date.month, self.birth_date.day))


@dataclass(frozen=True, slots=True)
class Commission:
    """A medarbetaruppdrag: what one staff member may do, for which care unit and purpose, and when."""

    commission_id: str
    hsa_id: str
    care_unit_hsa_id: str
    care_unit_name: str
    care_provider_hsa_id: str
    care_provider_public: bool
    purpose: str
    roles: frozenset[str]
    valid_from: date
    valid_to: date | None
    revoked: bool

    def active_on(self, day: date) -> bool:
        return not self.revoked and self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> Commission:
        return cls(
            commission_id=item["commission_id"],
            hsa_id=item["hsa_id"],
            care_unit_hsa_id=item["care_unit_hsa_id"],
            care_unit_name=item.get("care_unit_name", ""),
            care_provider_hsa_id=item.get("care_provider_hsa_id", ""),
            care_provider_public=bool(item.get("care_provider_public")),
            purpose=item["purpose"],
            roles=frozenset(item.get("roles") or []),
            valid_from=date.fromisoformat(item["valid_from"]),
            valid_to=date.fromisoformat(item["valid_to"]) if item.get("valid_to") else None,
            revoked=bool(item.get("revoked")),
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.commission_id,
            "care_unit_hsa_id": self.care_unit_hsa_id,
            "care_unit_name": self.care_unit_name,
            "care_provider_hsa_id": self.care_provider_hsa_id,
            "purpose": self.purpose,
            "roles": sorted(self.roles),
            "valid_from": self.valid_from.isoformat(),
            "valid_to": self.valid_to.isoformat() if self.valid_to else None,
        }


@dataclass(frozen=True, slots=True)
class StaffMember:
    hsa_id: str
    name: str
    title: str
    removed: bool

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> StaffMember:
        return cls(item["hsa_id"], item.get("name", ""), item.get("title", ""), bool(item.get("removed")))


@dataclass(frozen=True, slots=True)
class GuardianView:
    """What decides whether one guardian may act for one child now (rules 6, 9, 10)."""

    child: Patient | None
    guardianship_active: bool
    blocked: bool


class Registry:
    PATIENT_ID_CACHE_SIZE = 10_000

    def __init__(self, table: Table) -> None:
        self.table = table
        # A patient id never changes once allocated, so a warm container need not read it again; only the
        # mapping is cached, never a marker, link or commission (those are read on every request).
        self._patient_ids: OrderedDict[str, str] = OrderedDict()
        self._lock = threading.Lock()  # the local runtime serves requests from several threads

    def patient_id_of(self, identity: PersonalIdentity) -> str | None:
        """The opaque patient id of a personal identity, if the platform knows the person: one GetItem the
        first time a container sees the person, none after."""
        with self._lock:
            cached = self._patient_ids.get(identity.value)
            if cached is not None:
                self._patient_ids.move_to_end(identity.value)
                return cached
        item = self.table.get(identity_key(identity))
        if not item:
            return None
        with self._lock:
            self._patient_ids[identity.value] = item["patient_id"]
            if len(self._patient_ids) > self.PATIENT_ID_CACHE_SIZE:
                self._patient_ids.popitem(last=False)
        return str(item["patient_id"])

    def patient(self, patient_id: str) -> Patient | None:
        """One GetItem."""
        item = self.table.get(profile_key(patient_id))
        return Patient.from_item(item) if item else None

    def patients(self, patient_ids: Sequence[str]) -> dict[str, Patient | None]:
        """One BatchGetItem per hundred ids: each id's profile, None for an id the platform does not know."""
        ids = list(dict.fromkeys(patient_ids))
        found: dict[Key, dict[str, Any]] = {}
        for start in range(0, len(ids), MAX_BATCH_GET):
            found |= self.table.get_many([profile_key(p) for p in ids[start : start + MAX_BATCH_GET]])
        return {p: Patient.from_item(item) if (item := found.get(profile_key(p))) else None for p in ids}

    def guardian_view(self, child_id: str, guardian_id: str) -> tuple[Patient | None, GuardianView]:
        """One BatchGetItem: the guardian's profile and everything about their link to the child."""
        found = self.table.get_many(
            [
                profile_key(guardian_id),
                profile_key(child_id),
                guardian_key(child_id, guardian_id),
                block_key(child_id, guardian_id),
            ]
        )
        guardian = found.get(profile_key(guardian_id))
        child = found.get(profile_key(child_id))
        link = found.get(guardian_key(child_id, guardian_id))
        return (
            Patient.from_item(guardian) if guardian else None,
            GuardianView(
                child=Patient.from_item(child) if child else None,
                guardianship_active=bool(link and link.get("active")),
                blocked=block_key(child_id, guardian_id) in found,
            ),
        )

    def household(self, patient_id: str) -> tuple[Patient | None, list[str]]:
        """One Query of the person's partition: their profile and the children the register names them
        guardian of (links still active)."""
        partition, _ = profile_key(patient_id)
        profile: Patient | None = None
        children: list[str] = []
        for item in self.table.query_all(partition):
            if item["sk"] == "PROFILE":
                profile = Patient.from_item(item)
            elif item["sk"].startswith("CHILD#") and item.get("active"):
                children.append(item["sk"].removeprefix("CHILD#"))
        return profile, children

    def last_seen(self, patient_id: str) -> date | None:
        """The last day (Stockholm) the person logged in to the e-services, if ever."""
        item = self.table.get(seen_key(patient_id), consistent=False)
        return date.fromisoformat(item["seen_on"]) if item else None

    def guardians(self, child_id: str) -> list[str]:
        """One Query: the patient ids the register names guardians of the child (links still active); whether
        each may act now is `guardianship.guardian_access`'s decision."""
        partition, _ = profile_key(child_id)
        items = self.table.query_all(partition, prefix="GUARDIAN#")
        return [i["sk"].removeprefix("GUARDIAN#") for i in items if i.get("active")]

    def guardian_views(self, guardian_id: str, child_ids: list[str]) -> dict[str, GuardianView]:
        """One BatchGetItem for all of a guardian's children (at most 33 children per call)."""
        keys: list[Key] = []
        for child_id in child_ids:
            keys += [
                profile_key(child_id),
                guardian_key(child_id, guardian_id),
                block_key(child_id, guardian_id),
            ]
        found: dict[Key, dict[str, Any]] = {}
        for start in range(0, len(keys), 99):
            found |= self.table.get_many(keys[start : start + 99])
        views = {}
        for child_id in child_ids:
            child = found.get(profile_key(child_id))
            link = found.get(guardian_key(child_id, guardian_id))
            views[child_id] = GuardianView(
                child=Patient.from_item(child) if child else None,
                guardianship_active=bool(link and link.get("active")),
                blocked=block_key(child_id, guardian_id) in found,
            )
        return views

    def staff_view(
        self, hsa_id: str, commission_id: str, patient_id: str | None
    ) -> tuple[StaffMember | None, Commission | None, Patient | None]:
        """One BatchGetItem: the staff member, the commission they act under, and the patient."""
        keys = [staff_key(hsa_id), commission_key(hsa_id, commission_id)]
        if patient_id:
            keys.append(profile_key(patient_id))
        found = self.table.get_many(keys)
        member = found.get(staff_key(hsa_id))
        commission = found.get(commission_key(hsa_id, commission_id))
        if commission and commission.get("revoked"):
            commission = None
        patient = found.get(profile_key(patient_id)) if patient_id else None
        return (
            StaffMember.from_item(member) if member else None,
            Commission.from_item(commission) if commission else None,
            Patient.from_item(patient) if patient else None,
        )

    def staff_view_many(
        self, hsa_id: str, commission_id: str, patient_ids: Sequence[str]
    ) -> tuple[StaffMember | None, Commission | None, dict[str, Patient]]:
        """`staff_view` for many patients at once: one BatchGetItem per 98 of them (a list staff see)."""
        wanted = list(dict.fromkeys(patient_ids))
        first = [staff_key(hsa_id), commission_key(hsa_id, commission_id)]
        found: dict[Key, dict[str, Any]] = {}
        for start in range(0, max(len(wanted), 1), 98):
            keys = [profile_key(p) for p in wanted[start : start + 98]]
            found |= self.table.get_many(first + keys if start == 0 else keys)
        member = found.get(staff_key(hsa_id))
        commission = found.get(commission_key(hsa_id, commission_id))
        if commission and commission.get("revoked"):
            commission = None
        patients = {p: Patient.from_item(found[profile_key(p)]) for p in wanted if profile_key(p) in found}
        return (
            StaffMember.from_item(member) if member else None,
            Commission.from_item(commission) if commission else None,
            patients,
        )

    def staff_member(self, hsa_id: str) -> tuple[StaffMember | None, list[Commission]]:
        """One Query: a staff member's profile and all their commissions."""
        partition, _ = staff_key(hsa_id)
        member: StaffMember | None = None
        commissions: list[Commission] = []
        for item in self.table.query_all(partition):
            if item["sk"] == "PROFILE":
                member = StaffMember.from_item(item)
            elif item["sk"].startswith("COMMISSION#") and not item.get("revoked"):
                commissions.append(Commission.from_item(item))
        return member, commissions
