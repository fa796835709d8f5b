"""A population for access tests: generated residents, guardianships and staff, delivered through the feeds."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from eservices_core.identifiers import parse_personal_identity
from eservices_core.registry import Registry
from eservices_core.table import Table
from local_runtime import population
from local_runtime.demo import personnummer, years_ago
from local_runtime.idp import resident_claims, staff_claims
from tests.support.aws import Stack
from tests.support.events import sqs_event

CARE = "Vård och behandling"
UNIT = {
    "hsa_id": "SE2321000016-U7001",
    "name": "Vårdcentralen Demo",
    "care_provider_hsa_id": "SE2321000016-P0",
}
OTHER_UNIT = {"hsa_id": "SE2321000016-U7002", "name": "Demo BVC", "care_provider_hsa_id": "SE2321000016-P0"}
PRIVATE_UNIT = {
    "hsa_id": "SE5599000001-U7003",
    "name": "Demo Privatklinik",
    "care_provider_hsa_id": "SE5599000001-P0",
}


@dataclass(frozen=True)
class Resident:
    personnummer: str
    name: str
    birth_date: date


@dataclass(frozen=True)
class StaffMember:
    hsa_id: str
    name: str
    commission_ids: list[str] = field(default_factory=list)


class World:
    """Builds people and staff through the real feed consumers; versions increase with every message."""

    def __init__(self, stack: Stack, today: date) -> None:
        self.stack = stack
        self.today = today
        self._serials = itertools.count(100)
        self._seconds = itertools.count(1)
        self._staff = itertools.count(1)

    # ---- population register ------------------------------------------------------------------------------
    def resident(
        self, name: str, *, age: int = 40, born: date | None = None, protected_identity: bool = False
    ) -> Resident:
        birth = born or years_ago(self.today, age, days=30)
        person = Resident(personnummer(birth, next(self._serials)), name, birth)
        self.register(person, protected_identity=protected_identity)
        return person

    def register(self, person: Resident, **markers: Any) -> None:
        self.feed_register(
            population.person(person.personnummer, person.name, seconds=self.tick(), **markers)
        )

    def guardianship(self, guardian: Resident, child: Resident, *, added: bool = True) -> None:
        self.feed_register(
            population.guardianship(
                guardian.personnummer, child.personnummer, added=added, seconds=self.tick()
            )
        )

    def family(self, *guardians: Resident, children: list[Resident]) -> None:
        for guardian in guardians:
            for child in children:
                self.guardianship(guardian, child)

    def feed_register(self, *messages: dict[str, Any]) -> None:
        self._feed("PopulationRegisterFeedFunction", "PopulationRegisterQueue", messages)

    # ---- HSA staff ----------------------------------------------------------------------------------------
    def staff(
        self, name: str, *commissions: dict[str, Any], unit: dict[str, Any] = UNIT, **commission: Any
    ) -> StaffMember:
        """A staff member with one commission (`commission` overrides its fields) or the given ones."""
        n = next(self._staff)
        hsa_id = f"SE2321000016-T{n:04d}"
        messages = [population.employee(hsa_id, name, "Sjuksköterska", seconds=self.tick())]
        specs = list(commissions) or [{"unit": unit, **commission}]
        ids = []
        for i, spec in enumerate(specs, 1):
            spec = dict(spec)
            commission_id = spec.pop("id", f"C-T{n:04d}-{i}")
            messages.append(
                population.commission(
                    commission_id, hsa_id, spec.pop("unit", unit), seconds=self.tick(), **spec
                )
            )
            ids.append(commission_id)
        self.feed_staff(*messages)
        return StaffMember(hsa_id, name, ids)

    def feed_staff(self, *messages: dict[str, Any]) -> None:
        self._feed("HsaStaffFeedFunction", "HsaStaffFeedQueue", messages)

    # ---- callers ------------------------------------------------------------------------------------------
    def token(self, person: Resident, *, assurance_level: int = 3, lifetime: int = 3600) -> str:
        claims = resident_claims(person.personnummer, person.name, assurance_level)
        return self.stack.idps["resident"].issue(claims, lifetime=lifetime)

    def staff_token(self, member: StaffMember) -> str:
        return self.stack.idps["staff"].issue(staff_claims(member.hsa_id, member.name))

    def patient_id(self, person: Resident) -> str:
        identity = parse_personal_identity(person.personnummer, today=self.today)
        found = self.registry.patient_id_of(identity)
        assert found, f"{person.name} is not in the identity store"
        return found

    @property
    def registry(self) -> Registry:
        return Registry(Table(self.stack.session.client("dynamodb"), self.stack.ref("IdentityTable")))

    def tick(self) -> int:
        return next(self._seconds)

    def _feed(self, function: str, queue: str, messages: tuple[dict[str, Any], ...]) -> None:
        result = self.stack.invoke(function, sqs_event(list(messages), self.stack.arn(queue)))
        assert result == {"batchItemFailures": []}, result
