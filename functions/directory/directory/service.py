"""The directory's use cases: applying catalogue changes and reading a clinic. No HTTP, no SQS here."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger

from directory import keys
from directory.model import CareProvider, CareUnit
from directory.regions import REGIONS, region_of_municipality
from directory.store import DirectoryStore, ReadAhead, StaleChange
from eservices_core.errors import NotFound
from eservices_core.identifiers import is_hsa_id
from eservices_core.inbound import RejectedMessage

logger = Logger(child=True)


def change_version(changed_at: str) -> int:
    """`changed_at` as microseconds since the epoch: the order of changes to one object."""
    try:
        instant = datetime.fromisoformat(changed_at)
    except ValueError:
        raise RejectedMessage("contract-violation", "changed_at is not an RFC 3339 date-time") from None
    if instant.tzinfo is None:
        raise RejectedMessage("contract-violation", "changed_at must carry a UTC offset")
    return int(instant.astimezone(UTC).timestamp() * 1_000_000)


def check_unit(unit: CareUnit) -> None:
    """Rules the schema cannot express; a unit that breaks one is refused whole."""
    if region_of_municipality(unit.municipality.code) != unit.region_code:
        raise RejectedMessage(
            "domain-violation",
            f"municipality {unit.municipality.code} is not in region {unit.region_code} ({REGIONS[unit.region_code]})",
        )
    for hours in unit.opening_hours:
        if hours["opens"] >= hours["closes"]:
            raise RejectedMessage(
                "domain-violation", f"opening hours on {hours['day']} close before they open"
            )


def apply_change(store: DirectoryStore, message: dict[str, Any], known: ReadAhead | None = None) -> None:
    """Apply one validated feed message; duplicates and out-of-order older changes are ignored."""
    version = change_version(message["changed_at"])
    kind = message["type"]
    try:
        if kind == "care_unit.upserted":
            unit = CareUnit.from_message(message["care_unit"])
            check_unit(unit)
            store.apply_unit(unit, version, known)
        elif kind == "care_unit.removed":
            store.remove_unit(message["hsa_id"], version, known)
        elif kind == "care_provider.upserted":
            data = message["care_provider"]
            store.apply_provider(
                CareProvider(data["hsa_id"], data["name"].strip(), data["organisation_number"]),
                version,
                known,
            )
        else:
            store.remove_provider(message["hsa_id"], version, known)
    except StaleChange:
        logger.info("stale change ignored", extra={"message_id": message["message_id"], "type": kind})


def changed_objects(bodies: list[str]) -> list[tuple[str, str]]:
    """The stored objects a batch of feed messages would change, for `DirectoryStore.read_ahead`; a message that
    is not readable here is skipped (the contract check refuses it later)."""
    objects = []
    for body in bodies:
        try:
            message = json.loads(body)
        except ValueError:
            continue
        if not isinstance(message, dict):
            continue
        kind = message.get("type")
        data = message.get("care_unit") if kind == "care_unit.upserted" else message.get("care_provider")
        hsa_id = data.get("hsa_id") if isinstance(data, dict) else message.get("hsa_id")
        if not isinstance(hsa_id, str) or not is_hsa_id(hsa_id):
            continue
        if kind in ("care_unit.upserted", "care_unit.removed"):
            objects.append(keys.unit_key(hsa_id))
        elif kind in ("care_provider.upserted", "care_provider.removed"):
            objects.append(keys.provider_key(hsa_id))
    return objects


def get_clinic(store: DirectoryStore, clinic_id: str) -> dict[str, Any]:
    """A clinic as residents see it: at most two GetItems (the unit, then its provider)."""
    if not is_hsa_id(clinic_id):
        raise NotFound(f"There is no clinic {clinic_id}")
    unit = store.get_unit(clinic_id)
    if unit is None:
        raise NotFound(f"There is no clinic {clinic_id}")
    provider = store.get_provider(unit["care_provider_hsa_id"])
    return {
        "id": unit["hsa_id"],
        "name": unit["name"],
        "kind": unit["kind"],
        "active": unit["active"],
        "care_provider": {"id": unit["care_provider_hsa_id"], "name": provider["name"] if provider else None},
        "region": {"code": unit["region"], "name": REGIONS[unit["region"]]},
        "municipality": {"code": unit["municipality"], "name": unit["municipality_name"]},
        "address": unit["address"],
        "location": {"lat": unit["lat"], "lon": unit["lon"]},
        "phone": unit.get("phone"),
        "opening_hours": unit.get("opening_hours", []),
        "opening_hours_note": unit.get("opening_hours_note"),
    }
