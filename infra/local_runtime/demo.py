"""Demo data of the local runtime: generated, clearly fictional people and clinics.

Identities are made for today's date, so the family always has one child just under 13 and one just over
(guardian access ends at 13, rule 7). Every personnummer has a valid check digit and belongs to nobody
known: the names say "Demo". Everything enters as real systems' data would: clinics through the HSA feed
queue, people and guardianships through the population register queue, staff and commissions through the
HSA staff feed queue; the one guardian block is placed by demo staff through the API.

Who shows which rule (see the README's curl examples):
- Anna and Erik Demosson: guardians of Liv (turns 13 in 40 days), Vilgot (turned 13: rule 7) and Siri (3).
- Karin and Olle Demolund: guardians of Nils; Karin is blocked for Nils (rule 9), Olle is not.
- Skyddad Demoperson has protected identity: no guardian access to her child Tove (rule 10).
- Doktor Demo Läkare may block guardians and administers the demo clinic's case types (renew prescription,
  contact me, advice, journal copy, book and cancel a time, feedback); Sjuksköterska Demo Vårdare works its
  case queue (and a private clinic's); Kvalitet Demo Granskare has only an administration commission
  (no access to patient data, rule 14); Admin Demo Utan Uppdrag has no commission at all.
- Web booking: the demo clinic's administrator sets up nurse visits, influenza vaccination (open to all)
  and pneumococcal vaccination (65 and over, rule 22) and publishes weekday times for the next 14 days
  through the API; a second clinic (Vårdadministratör Demo Tidbok is its local administrator) keeps its
  doctor visits in its own booking system, the runtime's simulated one, seeded with times for those days.
  Gustav Demogren (101) may book the pneumococcal vaccination; the others may not.
- Inbox: three sending systems are registered at start (through the operator command ops.sending_systems)
  and deliver a few messages through InboxDeliveryQueue, as a registered system would: Anna has a call-up
  and a test result, Liv (12, so Anna and Erik see it too) a vaccination call-up, Gustav a questionnaire.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from eservices_core.clock import STOCKHOLM
from eservices_core.identifiers import luhn_check_digit
from local_runtime import population
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
    blocked_for: list[str] = field(default_factory=list)  # children this guardian is blocked for

    def as_json(self) -> dict[str, Any]:
        return {
            "personnummer": self.personnummer,
            "name": self.name,
            "birth_date": self.birth_date.isoformat(),
            "guardian_of": self.guardian_of,
            "protected_identity": self.protected_identity,
            "blocked_for": self.blocked_for,
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
    nils = Person(personnummer(years_ago(today, 8, 30), 973), "Nils Demolund", years_ago(today, 8, 30))
    tove = Person(personnummer(years_ago(today, 6, 12), 975), "Tove Demoperson", years_ago(today, 6, 12))
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
            [tove.personnummer],
            protected_identity=True,
        ),
        tove,
        Person(
            personnummer(years_ago(today, 38, 61), 962),
            "Karin Demolund",
            years_ago(today, 38, 61),
            [nils.personnummer],
            blocked_for=[nils.personnummer],
        ),
        Person(
            personnummer(years_ago(today, 40, 9), 979),
            "Olle Demolund",
            years_ago(today, 40, 9),
            [nils.personnummer],
        ),
        nils,
        Person(personnummer(years_ago(today, 101, 3), 997), "Gustav Demogren", years_ago(today, 101, 3)),
    ]


CATALOGUE = catalogue(DEMO_UNITS, seed=DEMO_SEED)
DEMO_CLINIC = next(u for u in CATALOGUE.units if u["active"] and u["region_code"] == "01")
PRIVATE_CLINIC = next(
    u for u in CATALOGUE.units if u["active"] and u["care_provider_hsa_id"].startswith("SE5599")
)
# A public primary care clinic near the demo clinic whose doctor visits are in its own booking system.
EXTERNAL_CLINIC = next(
    u
    for u in CATALOGUE.units
    if u["active"]
    and u["region_code"] == "01"
    and u["kind"] == "primary_care"
    and u["care_provider_hsa_id"] == DEMO_CLINIC["care_provider_hsa_id"]
    and u is not DEMO_CLINIC
)
PUBLIC_PROVIDERS = {p["hsa_id"] for p in CATALOGUE.providers if p["organisation_number"].startswith("2")}
CARE = "Vård och behandling"


def _commission(
    commission_id: str, unit: dict[str, Any], purpose: str = CARE, roles: list[str] | None = None
) -> dict[str, Any]:
    return {
        "id": commission_id,
        "care_unit_hsa_id": unit["hsa_id"],
        "care_unit_name": unit["name"],
        "care_provider_hsa_id": unit["care_provider_hsa_id"],
        "purpose": purpose,
        "roles": roles or [],
    }


def staff() -> list[dict[str, Any]]:
    return [
        {
            "hsa_id": "SE2321000016-S0001",
            "name": "Doktor Demo Läkare",
            "title": "Läkare",
            "commissions": [
                _commission("C-S0001-1", DEMO_CLINIC, roles=["block-guardians", "local-administrator"])
            ],
        },
        {
            "hsa_id": "SE2321000016-S0002",
            "name": "Sjuksköterska Demo Vårdare",
            "title": "Sjuksköterska",
            "commissions": [_commission("C-S0002-1", DEMO_CLINIC), _commission("C-S0002-2", PRIVATE_CLINIC)],
        },
        {
            "hsa_id": "SE2321000016-S0004",
            "name": "Kvalitet Demo Granskare",
            "title": "Kvalitetssamordnare",
            "commissions": [_commission("C-S0004-1", DEMO_CLINIC, purpose="Administration")],
        },
        {
            "hsa_id": "SE2321000016-S0003",
            "name": "Admin Demo Utan Uppdrag",
            "title": "Administratör",
            "commissions": [],
        },
        {
            "hsa_id": "SE2321000016-S0005",
            "name": "Vårdadministratör Demo Tidbok",
            "title": "Vårdadministratör",
            "commissions": [_commission("C-S0005-1", EXTERNAL_CLINIC, roles=["local-administrator"])],
        },
    ]


TERMS = {
    "sv": "Vi svarar inom två arbetsdagar. Vid akuta besvär, ring 1177 eller 112.",
    "en": "We answer within two working days. For urgent problems, call 1177 or 112.",
}
# The demo clinic's case types, activated by its local administrator (Doktor Demo Läkare) through the API.
CASE_TYPES: dict[str, dict[str, Any]] = {
    "renew-prescription": {"terms": TERMS, "answer_days": 2},
    "contact-me": {"terms": TERMS, "answer_days": 2},
    "advice": {"terms": TERMS, "answer_days": 2},
    "journal-copy": {"terms": TERMS, "answer_days": 14},
    "book-time": {"terms": TERMS, "answer_days": 3},
    "cancel-time": {
        "terms": {
            "sv": "Avboka senast 24 timmar innan besöket.",
            "en": "Cancel at least 24 hours before the visit.",
        },
        "answer_days": 1,
    },
    "feedback": {"terms": TERMS, "answer_days": 10},
}


@dataclass(frozen=True)
class DemoBookingType:
    """A booking type the demo clinic sets up (`settings` as in the API) and the weekday times it publishes
    from `first_start` to `last_start` (Stockholm time, one time after the other) with `capacity` places."""

    settings: dict[str, Any]
    first_start: str
    last_start: str
    capacity: int

    def times(self, today: date) -> dict[str, Any]:
        """The body of `POST /v1/staff/booking-types/{type}/times`: one recurrence over the booking days."""
        days = booking_days(today)
        return {
            "recurrence": {
                "from": days[0].isoformat(),
                "to": days[-1].isoformat(),
                "weekdays": [1, 2, 3, 4, 5],
                "first_start": self.first_start,
                "last_start": self.last_start,
            },
            "capacity": self.capacity,
        }


BOOKING_DAYS = 14
# The demo clinic's booking types, set up and published by its local administrator through the API.
BOOKING_TYPES: dict[str, DemoBookingType] = {
    "nurse-visit-15": DemoBookingType({}, "08:00", "09:45", 1),
    "influenza-vaccination": DemoBookingType({}, "13:00", "13:25", 3),
    "pneumococcal-vaccination": DemoBookingType({"eligibility": {"min_age": 65}}, "14:00", "14:25", 2),
}
# The external clinic's booking type, its times held by its own (simulated) booking system.
EXTERNAL_BOOKING_TYPE = "doctor-visit-30"
EXTERNAL_SETTINGS: dict[str, Any] = {"system": "external"}
EXTERNAL_MINUTES = 30
EXTERNAL_STARTS = ("09:00", "09:30", "10:00", "10:30", "14:00", "14:30")


def booking_days(today: date) -> list[date]:
    """The days demo times are offered: from tomorrow, for BOOKING_DAYS days (all of them in the future)."""
    return [today + timedelta(days=n) for n in range(1, BOOKING_DAYS + 1)]


def external_timeslots(today: date) -> list[datetime]:
    """The starts of the external clinic's doctor visits: weekdays of the booking days, Stockholm time."""
    return [
        datetime.combine(day, time.fromisoformat(start), tzinfo=STOCKHOLM)
        for day in booking_days(today)
        if day.isoweekday() <= 5
        for start in EXTERNAL_STARTS
    ]


def identities(today: date) -> dict[str, Any]:
    return {"residents": [p.as_json() for p in residents(today)], "staff": staff()}


def hsa_catalogue_feed() -> list[dict[str, Any]]:
    """The simulated HSA catalogue's initial export, as feed messages."""
    return [feed_message("care_provider.upserted", p) for p in CATALOGUE.providers] + [
        feed_message("care_unit.upserted", u) for u in CATALOGUE.units
    ]


def population_register_feed(today: date) -> list[dict[str, Any]]:
    """The simulated population register's export: every demo person, then every guardianship."""
    people = residents(today)
    return [
        population.person(p.personnummer, p.name, protected_identity=p.protected_identity) for p in people
    ] + [population.guardianship(p.personnummer, child) for p in people for child in p.guardian_of]


def hsa_staff_feed() -> list[dict[str, Any]]:
    """The simulated HSA catalogue's staff export: employees and their commissions."""
    messages = []
    units = {u["hsa_id"]: u for u in CATALOGUE.units}
    for member in staff():
        messages.append(population.employee(member["hsa_id"], member["name"], member["title"]))
        for c in member["commissions"]:
            messages.append(
                population.commission(
                    c["id"],
                    member["hsa_id"],
                    units[c["care_unit_hsa_id"]],
                    purpose=c["purpose"],
                    roles=c["roles"],
                    provider_public=c["care_provider_hsa_id"] in PUBLIC_PROVIDERS,
                )
            )
    return messages


# Systems that may deliver to residents' inboxes (rule 24), registered at start as an operator would.
SENDING_SYSTEMS = {
    "demo-quality-registry": "Nationellt kvalitetsregister (demo)",
    "demo-ehr": "Journalsystem (demo)",
    "demo-screening": "Screeningprogrammet (demo)",
}
SCREENING_UNIT = {"care_unit_hsa_id": "SE2321000016-SCR1", "care_unit_name": "Screeningenheten Demo"}
REGISTRY_UNIT = {"care_unit_hsa_id": "SE2321000016-KVR1", "care_unit_name": "Kvalitetsregistret Demo"}


def inbox_messages(today: date) -> list[dict[str, Any]]:
    """What the demo sending systems deliver at start (contract inbox-message.v1), sent yesterday morning."""
    people = {p.name: p.personnummer for p in residents(today)}
    clinic = {"care_unit_hsa_id": EXTERNAL_CLINIC["hsa_id"], "care_unit_name": EXTERNAL_CLINIC["name"]}
    morning = datetime.combine(today - timedelta(days=1), time(8, 0), tzinfo=STOCKHOLM)
    in_a_month = datetime.combine(today + timedelta(days=30), time(23, 59), tzinfo=STOCKHOLM)

    def message(n: int, system: str, sender: dict[str, str], to: str, **content: Any) -> dict[str, Any]:
        sent = (morning + timedelta(minutes=10 * n)).astimezone(UTC)
        return {
            "message_id": f"demo-{n}",
            "system_id": system,
            "sender": sender,
            "recipient": people[to],
            "replyable": False,
            "sent_at": sent.isoformat().replace("+00:00", "Z"),
        } | content

    return [
        message(
            1,
            "demo-screening",
            SCREENING_UNIT,
            "Anna Demosson",
            category="call-up",
            subject="Kallelse till mammografi",
            body="Hej!\n\nDu kallas till **mammografi**. Tiden står i kallelsen i brevlådan.\n\n"
            "- Ta med legitimation\n- Använd inte hudkräm samma dag\n\n"
            "[Om screeningprogrammet](https://www.1177.se/)",
            expires_at=in_a_month.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        ),
        message(
            2,
            "demo-ehr",
            clinic,
            "Anna Demosson",
            category="result",
            subject="Provsvar",
            body="Hej!\n\nDitt provsvar är klart och visar **normala värden**. Du behöver inte göra något.",
            replyable=True,
        ),
        message(
            3,
            "demo-ehr",
            clinic,
            "Liv Demosson",
            category="vaccination",
            subject="Dags för vaccination",
            body="Hej!\n\nLiv erbjuds vaccination enligt det nationella vaccinationsprogrammet.",
        ),
        message(
            4,
            "demo-quality-registry",
            REGISTRY_UNIT,
            "Gustav Demogren",
            category="questionnaire",
            subject="Enkät om din behandling",
            body="Hej!\n\nVi vill gärna veta hur du mår efter din behandling. Enkäten tar fem minuter.",
        ),
    ]
