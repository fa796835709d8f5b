"""Demo data of the local runtime: generated, clearly fictional people and clinics.

Identities are made for today's date, so the family always has one child just under 13 and one just over
(guardian access ends at 13, rule 7). Every personnummer has a valid check digit and belongs to nobody
known: the names say "Demo". Clinics enter through the HSA feed queue, as a real catalogue's would.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from eservices_core.identifiers import luhn_check_digit
from local_runtime.generate import catalogue, feed_message

DEMO_UNITS = 400
DEMO_SEED = 1177


def personnummer(born: date, serial: int) -> str:
    """12 digits with a valid check digit; `serial` (3 digits) fixes sex by its last digit."""
    nine = born.strftime("%y%m%d") + f"{serial:03d}"
    return born.strftime("%Y%m%d") + f"{serial:03d}" + str(luhn_check_digit(nine))


def years_ago(today: date, years: int, days: int = 0) -> date:
    try:
        day = today.replace(year=today.year - years)
    except ValueError:  # 29 February
        day = today.replace(year=today.year - years, day=28)
    return day - timedelta(days=days)


@dataclass
class Person:
    personnummer: str
    name: str
    birth_date: date
    guardian_of: list[str] = field(default_factory=list)
    protected_identity: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            "personnummer": self.personnummer,
            "name": self.name,
            "birth_date": self.birth_date.isoformat(),
            "guardian_of": self.guardian_of,
            "protected_identity": self.protected_identity,
        }


def residents(today: date) -> list[Person]:
    younger = years_ago(today, 13, days=-40)  # turns 13 in 40 days
    older = years_ago(today, 13, days=40)  # turned 13 forty days ago
    toddler = years_ago(today, 3, days=100)
    children = [
        Person(personnummer(younger, 982), "Liv Demosson", younger),
        Person(personnummer(older, 991), "Vilgot Demosson", older),
        Person(personnummer(toddler, 984), "Siri Demosson", toddler),
    ]
    kids = [c.personnummer for c in children]
    return [
        Person(personnummer(years_ago(today, 41, 20), 986), "Anna Demosson", years_ago(today, 41, 20), kids),
        Person(
            personnummer(years_ago(today, 43, 200), 995), "Erik Demosson", years_ago(today, 43, 200), kids
        ),
        *children,
        Person(personnummer(years_ago(today, 29, 5), 993), "Maja Demoberg", years_ago(today, 29, 5)),
        Person(
            personnummer(years_ago(today, 35, 77), 988),
            "Skyddad Demoperson",
            years_ago(today, 35, 77),
            protected_identity=True,
        ),
        Person(personnummer(years_ago(today, 101, 3), 997), "Gustav Demogren", years_ago(today, 101, 3)),
    ]


CATALOGUE = catalogue(DEMO_UNITS, seed=DEMO_SEED)
DEMO_CLINIC = next(u for u in CATALOGUE.units if u["active"] and u["region_code"] == "01")


def staff() -> list[dict[str, Any]]:
    clinic = DEMO_CLINIC["hsa_id"]
    return [
        {
            "hsa_id": "SE2321000016-S0001",
            "name": "Doktor Demo Läkare",
            "title": "Läkare",
            "commissions": [
                {"id": "C-S0001-1", "care_unit_hsa_id": clinic, "purpose": "Vård och behandling"}
            ],
        },
        {
            "hsa_id": "SE2321000016-S0002",
            "name": "Sjuksköterska Demo Vårdare",
            "title": "Sjuksköterska",
            "commissions": [
                {"id": "C-S0002-1", "care_unit_hsa_id": clinic, "purpose": "Vård och behandling"},
                {
                    "id": "C-S0002-2",
                    "care_unit_hsa_id": CATALOGUE.units[7]["hsa_id"],
                    "purpose": "Vård och behandling",
                },
            ],
        },
        {
            "hsa_id": "SE2321000016-S0003",
            "name": "Admin Demo Utan Uppdrag",
            "title": "Administratör",
            "commissions": [],
        },
    ]


def identities(today: date) -> dict[str, Any]:
    return {"residents": [p.as_json() for p in residents(today)], "staff": staff()}


def hsa_catalogue_feed() -> list[dict[str, Any]]:
    """The simulated HSA catalogue's initial export, as feed messages."""
    return [feed_message("care_provider.upserted", p) for p in CATALOGUE.providers] + [
        feed_message("care_unit.upserted", u) for u in CATALOGUE.units
    ]
