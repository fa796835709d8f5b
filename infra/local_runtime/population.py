"""The simulated population register and HSA staff feed: the messages those systems send, built for tests
and for the demo data, exactly as the contracts under functions/identity/identity/contracts/ define them."""

from __future__ import annotations

from typing import Any

from local_runtime.generate import message


def person(
    personnummer: str,
    name: str,
    *,
    protected_identity: bool = False,
    deceased: bool = False,
    region_code: str | None = "01",
    municipality_code: str | None = "0180",
    seconds: int = 0,
) -> dict[str, Any]:
    registration = {"region_code": region_code, "municipality_code": municipality_code}
    return message(
        "person.upserted",
        seconds,
        person={
            "personal_identity_number": personnummer,
            "name": name,
            "protected_identity": protected_identity,
            "deceased": deceased,
            **{k: v for k, v in registration.items() if v is not None},
        },
    )


def guardianship(guardian: str, child: str, *, added: bool = True, seconds: int = 0) -> dict[str, Any]:
    kind = "guardianship.added" if added else "guardianship.removed"
    return message(kind, seconds, guardianship={"guardian": guardian, "child": child})


def employee(hsa_id: str, name: str, title: str, *, seconds: int = 0) -> dict[str, Any]:
    return message("employee.upserted", seconds, employee={"hsa_id": hsa_id, "name": name, "title": title})


def employee_removed(hsa_id: str, *, seconds: int = 0) -> dict[str, Any]:
    return message("employee.removed", seconds, employee_hsa_id=hsa_id)


def commission(
    commission_id: str,
    hsa_id: str,
    care_unit: dict[str, Any],
    *,
    purpose: str = "Vård och behandling",
    roles: list[str] | None = None,
    provider_public: bool = True,
    valid_from: str = "2020-01-01",
    valid_to: str | None = None,
    seconds: int = 0,
) -> dict[str, Any]:
    """`care_unit` as the catalogue has it (hsa_id, name, care_provider_hsa_id)."""
    body: dict[str, Any] = {
        "id": commission_id,
        "employee_hsa_id": hsa_id,
        "care_unit": {"hsa_id": care_unit["hsa_id"], "name": care_unit["name"]},
        "care_provider": {"hsa_id": care_unit["care_provider_hsa_id"], "public": provider_public},
        "purpose": purpose,
        "roles": roles or [],
        "valid_from": valid_from,
    }
    if valid_to:
        body["valid_to"] = valid_to
    return message("commission.added", seconds, commission=body)


def commission_revoked(hsa_id: str, commission_id: str, *, seconds: int = 0) -> dict[str, Any]:
    return message("commission.revoked", seconds, employee_hsa_id=hsa_id, commission_id=commission_id)
