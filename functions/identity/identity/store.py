"""The identity store, write side: what the register and HSA feeds say, and the blocks staff place.

Every change is versioned by the source's `changed_at` (microseconds since the epoch): a write is conditional
on the stored version being older, so redelivered and out-of-order messages never roll anything back, and a
change that touches two items (a guardianship seen from both sides) is one transaction.
"""

from __future__ import annotations

import contextlib
import uuid
from datetime import date, datetime
from typing import Any

from eservices_core.clock import now_utc
from eservices_core.errors import NotFound
from eservices_core.identifiers import PersonalIdentity
from eservices_core.registry import (
    block_key,
    child_key,
    commission_key,
    guardian_key,
    identity_key,
    profile_key,
    seen_key,
    staff_key,
)
from eservices_core.table import ConditionFailed, Table

NEWER = "attribute_not_exists(version) OR version < :version"


def version_of(changed_at: str) -> int:
    instant = datetime.fromisoformat(changed_at.upper().replace("Z", "+00:00"))  # RFC 3339 allows "t", "z"
    return int(instant.timestamp() * 1_000_000)


class IdentityStore:
    def __init__(self, table: Table) -> None:
        self.table = table

    # ---- residents ----------------------------------------------------------------------------------------
    def ensure_patient(self, identity: PersonalIdentity) -> str:
        """The person's patient id, allocated on first sight (1 GetItem; +1 transaction the first time)."""
        key = identity_key(identity)
        existing = self.table.get(key)
        if existing:
            return str(existing["patient_id"])
        patient_id = str(uuid.uuid4())
        pk, sk = key
        ppk, psk = profile_key(patient_id)
        try:
            self.table.transact(
                [
                    self.table.put(
                        {"pk": pk, "sk": sk, "patient_id": patient_id}, "attribute_not_exists(pk)"
                    ),
                    self.table.put(
                        {
                            "pk": ppk,
                            "sk": psk,
                            "patient_id": patient_id,
                            "identity": identity.value,
                            "birth_date": identity.birth_date.isoformat(),
                            "registered": False,
                        },
                        "attribute_not_exists(pk)",
                    ),
                ]
            )
        except ConditionFailed:  # another delivery allocated it first
            winner = self.table.get(key)
            assert winner is not None
            return str(winner["patient_id"])
        return patient_id

    def record_seen(self, patient_id: str, day: date) -> None:
        """That the person logged in on `day` (at most one write a day counts; an older day never wins)."""
        pk, sk = seen_key(patient_id)
        with contextlib.suppress(ConditionFailed):
            self.table.put_item(
                {"pk": pk, "sk": sk, "seen_on": day.isoformat()},
                "attribute_not_exists(pk) OR seen_on < :day",
                day=day.isoformat(),
            )

    def apply_person(self, identity: PersonalIdentity, person: dict[str, Any], version: int) -> bool:
        """Store the register's view of a person; False when a newer change is already stored."""
        patient_id = self.ensure_patient(identity)
        pk, sk = profile_key(patient_id)
        profile = {
            "pk": pk,
            "sk": sk,
            "patient_id": patient_id,
            "identity": identity.value,
            "birth_date": identity.birth_date.isoformat(),
            "name": person["name"],
            "region_code": person.get("region_code"),
            "municipality_code": person.get("municipality_code"),
            "protected_identity": person["protected_identity"],
            "deceased": person["deceased"],
            "registered": True,
            "version": version,
        }
        try:
            self.table.put_item(profile, NEWER, version=version)
        except ConditionFailed:
            return False
        return True

    def apply_guardianship(
        self, guardian: PersonalIdentity, child: PersonalIdentity, *, active: bool, version: int
    ) -> bool:
        """Add or remove a guardianship, on both sides at once; False when a newer change is stored."""
        guardian_id, child_id = self.ensure_patient(guardian), self.ensure_patient(child)
        common = {"active": active, "version": version}
        gpk, gsk = guardian_key(child_id, guardian_id)
        cpk, csk = child_key(guardian_id, child_id)
        try:
            self.table.transact(
                [
                    self.table.put({"pk": gpk, "sk": gsk, **common}, NEWER, version=version),
                    self.table.put({"pk": cpk, "sk": csk, **common}, NEWER, version=version),
                ]
            )
        except ConditionFailed:
            return False
        return True

    # ---- guardian blocks (staff) --------------------------------------------------------------------------
    def guardians(self, child_id: str) -> list[dict[str, Any]]:
        """The register's guardians of a child (current and former) with their block, names included.

        2 round trips: one Query of the child's partition, one BatchGetItem of the guardians' profiles.
        """
        partition, _ = profile_key(child_id)
        items = self.table.query_all(partition)
        links = {i["sk"].removeprefix("GUARDIAN#"): i for i in items if i["sk"].startswith("GUARDIAN#")}
        blocks = {i["sk"].removeprefix("BLOCK#"): i for i in items if i["sk"].startswith("BLOCK#")}
        profiles = self.table.get_many([profile_key(g) for g in links])
        result = []
        for guardian_id, link in sorted(links.items()):
            profile = profiles.get(profile_key(guardian_id), {})
            block = blocks.get(guardian_id)
            result.append(
                {
                    "patient_id": guardian_id,
                    "name": profile.get("name", ""),
                    "guardian_now": bool(link.get("active")),
                    "blocked": block is not None,
                    "blocked_at": block["blocked_at"] if block else None,
                    "blocked_by_care_unit": block["care_unit_hsa_id"] if block else None,
                }
            )
        return result

    def block_guardian(
        self, child_id: str, guardian_id: str, *, by_hsa_id: str, care_unit_hsa_id: str
    ) -> bool:
        """Block a guardian of the child (rule 9); False when already blocked. 404 for someone not a guardian."""
        if self.table.get(guardian_key(child_id, guardian_id)) is None:
            raise NotFound("The register names no such guardian of this patient")
        pk, sk = block_key(child_id, guardian_id)
        block = {
            "pk": pk,
            "sk": sk,
            "blocked_at": now_utc().isoformat(timespec="seconds").replace("+00:00", "Z"),
            "blocked_by": by_hsa_id,
            "care_unit_hsa_id": care_unit_hsa_id,
        }
        try:
            self.table.put_item(block, "attribute_not_exists(pk)")
        except ConditionFailed:
            return False
        return True

    def lift_block(self, child_id: str, guardian_id: str) -> None:
        """Lift a block; 404 when there is none."""
        try:
            self.table.delete_item(block_key(child_id, guardian_id), "attribute_exists(pk)")
        except ConditionFailed:
            raise NotFound("This guardian is not blocked for this patient") from None

    # ---- staff (HSA) --------------------------------------------------------------------------------------
    def apply_employee(self, hsa_id: str, employee: dict[str, Any] | None, version: int) -> bool:
        """Store an employee, or mark them removed (`employee` None): removed staff act under no commission."""
        pk, sk = staff_key(hsa_id)
        item = {"pk": pk, "sk": sk, "hsa_id": hsa_id, "version": version, "removed": employee is None}
        if employee:
            item |= {"name": employee["name"], "title": employee["title"]}
        return self._put_versioned(item, version)

    def apply_commission(
        self, hsa_id: str, commission_id: str, commission: dict[str, Any] | None, version: int
    ) -> bool:
        """Store a commission, or revoke it (`commission` None; kept as a tombstone so it cannot come back)."""
        pk, sk = commission_key(hsa_id, commission_id)
        item: dict[str, Any] = {
            "pk": pk,
            "sk": sk,
            "hsa_id": hsa_id,
            "commission_id": commission_id,
            "version": version,
            "revoked": commission is None,
        }
        if commission:
            item |= {
                "care_unit_hsa_id": commission["care_unit"]["hsa_id"],
                "care_unit_name": commission["care_unit"]["name"],
                "care_provider_hsa_id": commission["care_provider"]["hsa_id"],
                "care_provider_public": commission["care_provider"]["public"],
                "purpose": commission["purpose"],
                "roles": sorted(commission.get("roles", [])),
                "valid_from": commission["valid_from"],
                "valid_to": commission.get("valid_to"),
            }
        return self._put_versioned(item, version)

    def _put_versioned(self, item: dict[str, Any], version: int) -> bool:
        try:
            self.table.put_item(item, NEWER, version=version)
        except ConditionFailed:
            return False
        return True
