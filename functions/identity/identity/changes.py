"""What the population register and the HSA catalogue tell the identity store, one message at a time."""

from __future__ import annotations

from typing import Any

from eservices_core.clock import today_stockholm
from eservices_core.errors import InvalidInput
from eservices_core.identifiers import PersonalIdentity, parse_personal_identity
from eservices_core.inbound import RejectedMessage
from identity.store import IdentityStore, version_of


def _identity(value: str, field: str) -> PersonalIdentity:
    try:
        return parse_personal_identity(value, today=today_stockholm())
    except InvalidInput:
        raise RejectedMessage(
            "invalid-identity", f"{field} is not a valid personal identity number"
        ) from None


def _version(changed_at: str) -> int:
    try:
        return version_of(changed_at)
    except ValueError:  # RFC 3339 (so the contract) allows a leap second, :60, which no datetime holds
        raise RejectedMessage(
            "contract-violation", "changed_at is not an instant this consumer can order"
        ) from None


def apply_register_change(store: IdentityStore, message: dict[str, Any]) -> None:
    version = _version(message["changed_at"])
    kind = message["type"]
    if kind == "person.upserted":
        person = message["person"]
        store.apply_person(_identity(person["personal_identity_number"], "person"), person, version)
        return
    link = message["guardianship"]
    guardian = _identity(link["guardian"], "guardianship.guardian")
    child = _identity(link["child"], "guardianship.child")
    if guardian.value == child.value:
        raise RejectedMessage("invalid-guardianship", "a person cannot be their own guardian")
    store.apply_guardianship(guardian, child, active=kind == "guardianship.added", version=version)


def apply_staff_change(store: IdentityStore, message: dict[str, Any]) -> None:
    version = _version(message["changed_at"])
    kind = message["type"]
    if kind == "employee.upserted":
        employee = message["employee"]
        store.apply_employee(employee["hsa_id"].upper(), employee, version)
    elif kind == "employee.removed":
        store.apply_employee(message["employee_hsa_id"].upper(), None, version)
    elif kind == "commission.added":
        commission = message["commission"]
        if commission.get("valid_to") and commission["valid_to"] < commission["valid_from"]:
            raise RejectedMessage("invalid-commission", "valid_to is before valid_from")
        store.apply_commission(commission["employee_hsa_id"].upper(), commission["id"], commission, version)
    else:
        store.apply_commission(message["employee_hsa_id"].upper(), message["commission_id"], None, version)
