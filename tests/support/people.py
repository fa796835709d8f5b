"""A population for access tests: generated residents, guardianships and staff, delivered through the feeds."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from eservices_core.identifiers import parse_personal_identity
from eservices_core.registry import Registry
from eservices_core.table import Table
from local_runtime import population
from local_runtime.demo import personnummer, years_ago
from local_runtime.generate import catalogue, feed
from local_runtime.idp import resident_claims, staff_claims
from tests.support.aws import Stack
from tests.support.events import sqs_event

TODAY = date(2026, 11, 25)  # a Wednesday: the day of the `world` fixture (tests/conftest.py)
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)  # where the `clock` fixture stands
CARE = "Vård och behandling"
CATALOGUE = catalogue(12, seed=7)
_ACTIVE = [u for u in CATALOGUE.units if u["active"]]
UNIT = next(u for u in _ACTIVE if u["care_provider_hsa_id"].startswith("SE2321"))
OTHER_UNIT = next(
    u for u in _ACTIVE if u["care_provider_hsa_id"] == UNIT["care_provider_hsa_id"] and u is not UNIT
)
PRIVATE_UNIT = next(u for u in _ACTIVE if u["care_provider_hsa_id"].startswith("SE5599"))
ANSWERS = {
    "renew-prescription": {
        "medicines": "Demoxin 10 mg, en tablett dagligen",
        "dispensing": "any_pharmacy",
        "health_changed": False,
    },
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

    def local_administrator(self, name: str, unit: dict[str, Any]) -> StaffMember:
        """A local administrator of `unit`, once the directory knows the unit."""
        self.directory()
        return self.staff(name, unit=unit, roles=["local-administrator"])

    # ---- clinics and their case types ----------------------------------------------------------------------
    def directory(self) -> None:
        """The test catalogue (UNIT, OTHER_UNIT, PRIVATE_UNIT and more) through the directory's HSA feed."""
        if not getattr(self, "_directory_fed", False):
            self._feed("DirectoryFeedFunction", "HsaFeedQueue", tuple(feed(CATALOGUE)))
            self._directory_fed = True

    def offer(self, *type_ids: str, unit: dict[str, Any] = UNIT, **settings: Any) -> StaffMember:
        """The unit's local administrator activates standard case types through the API."""
        admin = self.local_administrator("Demo Lokaladministratör", unit)
        for type_id in type_ids:
            body = {"terms": {"sv": "Vi svarar inom 2 dagar.", "en": "We answer within 2 days."}} | settings
            self.as_staff(admin, "PUT", f"/v1/staff/case-types/{type_id}", body)
        return admin

    def send_case(
        self,
        sender: Resident,
        patient: Resident,
        type_id: str = "renew-prescription",
        unit: dict[str, Any] = UNIT,
    ) -> str:
        """A case sent through the API; its id."""
        body = {
            "clinic_id": unit["hsa_id"],
            "case_type_id": type_id,
            "form_version": 1,
            "answers": ANSWERS[type_id],
        }
        status, answer = self.stack.call(
            "POST", f"/v1/patients/{self.patient_id(patient)}/cases", token=self.token(sender), body=body
        )
        assert status == 201, answer
        return str(answer["case_id"])

    # ---- booking -------------------------------------------------------------------------------------------
    def bookable(
        self, booking_type: str = "nurse-visit-15", *, unit: dict[str, Any] = UNIT, **settings: Any
    ) -> StaffMember:
        """The unit's local administrator sets up a booking type (`settings` as in the API) for the web."""
        admin = self.local_administrator("Demo Bokningsadministratör", unit)
        self.as_staff(admin, "PUT", f"/v1/staff/booking-types/{booking_type}", settings)
        return admin

    def publish_times(
        self, member: StaffMember, booking_type: str, starts: list[str], *, capacity: int = 1
    ) -> list[str]:
        """Times published through the API (`starts` in Stockholm time unless they carry an offset); their ids."""
        body = {"starts": starts, "capacity": capacity}
        answer = self.as_staff(
            member, "POST", f"/v1/staff/booking-types/{booking_type}/times", body, expect=201
        )
        return [t["time_id"] for t in answer["items"]]

    def book(self, sender: Resident, patient: Resident, time_id: str) -> dict[str, Any]:
        status, answer = self.stack.call(
            "POST",
            f"/v1/patients/{self.patient_id(patient)}/appointments",
            token=self.token(sender),
            body={"time_id": time_id},
        )
        assert status == 201, answer
        return dict(answer)

    # ---- callers ------------------------------------------------------------------------------------------
    def token(self, person: Resident, *, assurance_level: int = 3, lifetime: int = 3600) -> str:
        claims = resident_claims(person.personnummer, person.name, assurance_level)
        return self.stack.idps["resident"].issue(claims, lifetime=lifetime)

    def staff_token(self, member: StaffMember) -> str:
        return self.stack.idps["staff"].issue(staff_claims(member.hsa_id, member.name))

    def as_staff(self, member: StaffMember, method: str, path: str, body: Any, *, expect: int = 200) -> Any:
        """`member` calls the API in their first commission; the answer, which must come with status `expect`."""
        status, answer = self.stack.call(
            method,
            path,
            token=self.staff_token(member),
            headers={"X-Commission-Id": member.commission_ids[0]},
            body=body,
        )
        assert status == expect, answer
        return answer

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
