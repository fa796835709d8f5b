"""Web booking with a clinic's own booking system (crm:scheduling through the service platform) against the
local runtime's simulated one: the resident API is the same whichever system holds the times; the clinic's
system being down is a 503 problem, never a 500, and does not hide other clinics' times; an external booking
the platform cannot record is cancelled again. And the simulator itself refuses malformed requests.

The stack is the usual one built from template.yaml, provisioned with the template parameter
`SchedulingPlatformUrl` set to the simulator's URL, so the booking function's SCHEDULING_PLATFORM_URL comes
through `!Ref SchedulingPlatformUrl` exactly as when deployed (nothing patched in the function's environment).
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws

from booking.model import BUILT_IN, EXTERNAL
from eservices_core import wiring
from eservices_core.clock import STOCKHOLM
from local_runtime.provision import provision
from local_runtime.scheduling_simulator import SchedulingSimulator
from local_runtime.template import Template
from tests.support.aws import Stack
from tests.support.people import OTHER_UNIT, UNIT, Resident, StaffMember, World

TYPE = "doctor-visit-30"
MONDAY = "2026-11-30"  # five days ahead
LATER = "2026-12-07"
SYSTEMS = [BUILT_IN, EXTERNAL]


@pytest.fixture
def simulator() -> Iterator[SchedulingSimulator]:
    with SchedulingSimulator().running() as simulator:
        yield simulator


@pytest.fixture
def stack(template, simulator) -> Iterator[Stack]:
    """A fresh moto account from template.yaml whose SchedulingPlatformUrl parameter is the simulator."""
    with_platform = Template(template.data, parameters={"SchedulingPlatformUrl": simulator.url})
    with mock_aws():
        wiring.reset()
        yield Stack(provision(with_platform, boto3.session.Session()))
    wiring.reset()


@dataclass
class Clinic:
    """A clinic's setup of TYPE, its times held by the platform or by its own (simulated) booking system."""

    world: World
    simulator: SchedulingSimulator
    system: str
    unit: dict[str, Any]
    admin: StaffMember

    def publish(self, starts: list[str], *, capacity: int = 1) -> None:
        """Times from `starts` (Stockholm time): through the platform's API, or in the clinic's own system."""
        if self.system == BUILT_IN:
            self.world.publish_times(self.admin, TYPE, starts, capacity=capacity)
        else:
            instants = [datetime.fromisoformat(s).replace(tzinfo=STOCKHOLM) for s in starts]
            self.simulator.add_timeslots(self.unit["hsa_id"], TYPE, instants, 30, capacity)


def set_up(
    world: World, simulator: SchedulingSimulator, system: str, unit: dict[str, Any] = UNIT, **settings: Any
) -> Clinic:
    admin = world.bookable(TYPE, unit=unit, system=system, **settings)
    return Clinic(world, simulator, system, unit, admin)


def search(world: World, person: Resident, query: str = "") -> list[dict[str, Any]]:
    status, found = world.stack.call(
        "GET", "/v1/times", token=world.token(person), query=f"booking_type={TYPE}&from={MONDAY}&to={LATER}{query}"
    )  # fmt: skip
    assert status == 200, found
    return list(found["items"])


def time_ids(world: World, person: Resident, query: str = "") -> list[str]:
    return [t["time_id"] for t in search(world, person, query)]


def appointments_path(world: World, person: Resident) -> str:
    return f"/v1/patients/{world.patient_id(person)}/appointments"


def post(world: World, person: Resident, path: str, body: Any = None, **headers: str) -> tuple[int, Any]:
    return world.stack.call("POST", path, token=world.token(person), body=body, headers=headers)


def timeslot_of(time_id: str) -> str:
    """The clinic system's timeslot id inside a platform time id (`<unit>~<type>~<start>-<timeslot>`)."""
    return time_id.rsplit("-", 1)[1]


def available(simulator: SchedulingSimulator, unit: dict[str, Any] = UNIT) -> dict[str, int]:
    return {t["timeslotId"]: t["numberOfAvailable"] for t in simulator.timeslots(unit["hsa_id"], TYPE)}


# ---- the same resident API for both systems ---------------------------------------------------------------------
@pytest.mark.parametrize("system", SYSTEMS)
def test_the_resident_flow_is_the_same_whichever_system_holds_the_times(world, simulator, system):
    clinic = set_up(world, simulator, system)
    clinic.publish([f"{MONDAY}T09:00", f"{MONDAY}T09:30", f"{LATER}T09:00"])
    anna, erik = world.resident("Anna Testsson"), world.resident("Erik Testsson")

    found = search(world, anna, f"&clinic_id={UNIT['hsa_id']}")
    assert [(t["start"], t["end"], t["free"], t["clinic"]["id"]) for t in found] == [
        ("2026-11-30T08:00:00Z", "2026-11-30T08:30:00Z", 1, UNIT["hsa_id"]),
        ("2026-11-30T08:30:00Z", "2026-11-30T09:00:00Z", 1, UNIT["hsa_id"]),
        ("2026-12-07T08:00:00Z", "2026-12-07T08:30:00Z", 1, UNIT["hsa_id"]),
    ]
    first, second, later = (t["time_id"] for t in found)
    assert search(world, anna, f"&clinic_id={OTHER_UNIT['hsa_id']}") == []

    path = appointments_path(world, anna)
    status, appointment = post(world, anna, path, {"time_id": first}, **{"Idempotency-Key": "k-1"})
    assert status == 201, appointment
    assert appointment["status"] == "active" and appointment["system"] == system
    assert appointment["start"] == "2026-11-30T08:00:00Z" and appointment["unit_name"] == UNIT["name"]
    assert "external_booking_id" not in appointment, "the clinic system's booking id stays inside"
    status, again = post(world, anna, path, {"time_id": first}, **{"Idempotency-Key": "k-1"})
    assert status == 200 and again["appointment_id"] == appointment["appointment_id"]
    if system == EXTERNAL:
        [booking] = simulator.bookings()  # the retry did not book twice in the clinic's system
        assert booking["timeslot_id"] == timeslot_of(first)
        assert booking["logical_address"] == booking["unit"] == UNIT["hsa_id"]
        assert booking["subject_of_care_id"] == anna.personnummer
        assert booking["external_reference"] == appointment["appointment_id"]
    else:
        assert simulator.calls == [] and simulator.bookings() == []

    status, listed = world.stack.call("GET", path, token=world.token(anna))
    assert status == 200 and [a["appointment_id"] for a in listed["items"]] == [appointment["appointment_id"]]
    assert time_ids(world, anna) == [second, later], "a full time is not offered"

    for key in ({}, {"Idempotency-Key": "e-1"}):  # with a key, the booking itself finds the time full
        status, answer = post(world, erik, appointments_path(world, erik), {"time_id": first}, **key)
        assert status == 409 and answer["code"] == "time-unavailable", answer

    one = f"{path}/{appointment['appointment_id']}"
    status, moved = post(world, anna, f"{one}/rebooking", {"time_id": later})
    assert status == 200, moved
    assert (
        moved["start"] == "2026-12-07T08:00:00Z" and moved["appointment_id"] == appointment["appointment_id"]
    )
    assert time_ids(world, anna) == [first, second], "the old time is free again, the new one taken"
    if system == EXTERNAL:
        [booking] = simulator.bookings()
        assert booking["timeslot_id"] == timeslot_of(later)
        assert available(simulator) == {timeslot_of(first): 1, timeslot_of(second): 1, timeslot_of(later): 0}

    status, cancelled = post(world, anna, f"{one}/cancellation")
    assert status == 200 and cancelled["status"] == "cancelled", cancelled
    assert time_ids(world, anna) == [first, second, later]
    assert simulator.bookings() == []
    status, listed = world.stack.call("GET", path, token=world.token(anna))
    assert listed["items"] == []


@pytest.mark.parametrize("system", SYSTEMS)
def test_eligibility_is_the_platform_s_decision_whichever_system_holds_the_times(world, simulator, system):
    clinic = set_up(world, simulator, system, eligibility={"min_age": 65})
    clinic.publish([f"{MONDAY}T09:00"])
    young = world.resident("Ung Testsson", born=date(1961, 12, 1))  # 64 on the day of the visit
    old = world.resident("Gammal Testsson", born=date(1961, 11, 30))  # 65 on the day of the visit
    [time_id] = time_ids(world, young)

    status, answer = post(world, young, appointments_path(world, young), {"time_id": time_id})
    assert status == 403 and answer["code"] == "not-eligible", answer
    assert "MakeBooking" not in simulator.calls, "the clinic's system is not asked to book"
    assert time_ids(world, young, f"&patient_id={world.patient_id(young)}") == []
    assert world.book(old, old, time_id)["status"] == "active"


# ---- the clinic's system down, or the platform's record not stored ------------------------------------------------
def test_the_clinic_s_system_down_is_a_503_problem_and_other_clinics_times_still_show(world, simulator):
    set_up(world, simulator, EXTERNAL).publish([f"{MONDAY}T09:00", f"{MONDAY}T09:30"])
    set_up(world, simulator, BUILT_IN, unit=OTHER_UNIT).publish([f"{MONDAY}T10:00"])
    anna, erik = world.resident("Anna Testsson"), world.resident("Erik Testsson")
    external_first, external_second, own = time_ids(world, anna)
    booked = world.book(anna, anna, external_first)

    simulator.stop()

    assert time_ids(world, erik) == [own], "one clinic's system down does not hide the others' times"
    headers = {"host": "localhost", "authorization": f"Bearer {world.token(erik)}"}
    body = json.dumps({"time_id": external_second}).encode()
    response = world.stack.gateway.handle("POST", appointments_path(world, erik), "", headers, body)
    problem = json.loads(response.body)
    assert response.status == 503, problem
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.headers["Retry-After"] == "30"
    assert problem["status"] == 503 and problem["code"] == "service-unavailable" and problem["detail"]

    one = f"{appointments_path(world, anna)}/{booked['appointment_id']}"
    status, answer = post(world, anna, f"{one}/cancellation")
    assert status == 503 and answer["code"] == "service-unavailable", answer
    status, kept = world.stack.call("GET", one, token=world.token(anna))
    assert kept["status"] == "active", "nothing changes on the platform when the clinic's system cannot"
    assert world.book(erik, erik, own)["status"] == "active", "the built-in clinic books as ever"


def test_an_external_booking_the_platform_cannot_record_is_cancelled_again(world, simulator):
    set_up(world, simulator, EXTERNAL).publish([f"{MONDAY}T09:00"])
    set_up(world, simulator, BUILT_IN, unit=OTHER_UNIT).publish([f"{MONDAY}T10:00"])
    anna = world.resident("Anna Testsson")
    external, own = time_ids(world, anna)
    kept = world.book(anna, anna, own)  # her one active booking of the type (max_active 1)

    status, answer = post(world, anna, appointments_path(world, anna), {"time_id": external})

    assert status == 409 and answer["code"] == "already-booked", answer
    assert simulator.calls[-2:] == ["MakeBooking", "CancelBooking"], "booked there, then undone"
    assert simulator.bookings() == []
    assert available(simulator) == {timeslot_of(external): 1}
    status, listed = world.stack.call("GET", appointments_path(world, anna), token=world.token(anna))
    assert [a["appointment_id"] for a in listed["items"]] == [kept["appointment_id"]]


# ---- the simulator alone ---------------------------------------------------------------------------------------------
def operation(simulator: SchedulingSimulator, name: str, body: Any, method: str = "POST") -> tuple[int, Any]:
    data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"{simulator.url}/{name}", data=data, method=method)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


UNIT_ID = "SE2321000016-U00099"
PNR = "194511309991"
RANGE = {"startDateInclusive": "2026-11-30T00:00:00Z", "endDateInclusive": "2026-12-01T00:00:00Z"}
WHERE = {"logicalAddress": UNIT_ID, "healthcareFacility": UNIT_ID, "timeTypeId": TYPE}
MAKE = {**WHERE, "timeslotId": "TS1", "subjectOfCareId": PNR, "externalReference": "a-1"}


@pytest.mark.parametrize(
    ("name", "body", "method"),
    [
        ("MakeBooking", b"not json", "POST"),
        ("MakeBooking", b"[1, 2]", "POST"),
        ("MakeBooking", None, "POST"),
        ("NoSuchOperation", {**WHERE, **RANGE}, "POST"),
        ("GetAvailableTimeslots", {**WHERE, **RANGE}, "GET"),
        ("GetAvailableTimeslots", {**WHERE, "startDateInclusive": RANGE["startDateInclusive"]}, "POST"),
        ("GetAvailableTimeslots", {**WHERE, **RANGE, "endDateInclusive": "tomorrow"}, "POST"),
        ("GetAvailableTimeslots", {**WHERE, **RANGE, "logicalAddress": None}, "POST"),
        ("MakeBooking", {**MAKE, "subjectOfCareId": "19451130-9991"}, "POST"),
        ("MakeBooking", {**MAKE, "timeslotId": "has-dashes"}, "POST"),
        ("MakeBooking", {k: v for k, v in MAKE.items() if k != "externalReference"}, "POST"),
        ("UpdateBooking", {"logicalAddress": UNIT_ID, "bookingId": 7, "timeslotId": "TS1"}, "POST"),
        ("CancelBooking", {"bookingId": "B1"}, "POST"),
    ],
)
def test_the_simulator_refuses_a_malformed_request_with_400_invalid_request(simulator, name, body, method):
    status, answer = operation(simulator, name, body, method)
    assert status == 400, answer
    assert answer["resultCode"] == "ERROR" and answer["errorCode"] == "INVALID_REQUEST"
    assert PNR not in json.dumps(answer)
    assert simulator.bookings() == []


def test_the_simulator_keeps_capacity_under_concurrent_bookings_and_never_logs_the_identity(
    simulator, caplog
):
    caplog.set_level(logging.DEBUG, logger="local_runtime.scheduling")
    start = datetime(2026, 11, 30, 9, 0, tzinfo=STOCKHOLM)
    [full, other] = simulator.add_timeslots(
        UNIT_ID, TYPE, [start, start + timedelta(hours=1)], 30, capacity=3
    )

    def book(n: int) -> tuple[int, Any]:
        return operation(
            simulator, "MakeBooking", {**MAKE, "timeslotId": full, "externalReference": f"a-{n}"}
        )

    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(book, range(30)))
    assert all(status == 200 for status, _ in answers)
    made = [a["bookingId"] for _, a in answers if a["resultCode"] == "OK"]
    assert len(made) == 3
    assert {a.get("errorCode") for _, a in answers if a["resultCode"] == "ERROR"} == {"TIMESLOT_UNAVAILABLE"}
    _, listed = operation(simulator, "GetAvailableTimeslots", {**WHERE, **RANGE})
    assert [(t["timeslotId"], t["numberOfAvailable"]) for t in listed["timeslots"]] == [(full, 0), (other, 3)]
    assert listed["timeslots"][0]["startTimeInclusive"] == "2026-11-30T08:00:00Z"

    assert operation(simulator, "UpdateBooking", {"logicalAddress": UNIT_ID, "bookingId": made[0], "timeslotId": "TSnone"})[1]["errorCode"] == "TIMESLOT_UNAVAILABLE"  # fmt: skip
    assert operation(simulator, "CancelBooking", {"logicalAddress": "SE2321000016-U00098", "bookingId": made[0]})[1]["errorCode"] == "BOOKING_NOT_FOUND", "another address's system does not know it"  # fmt: skip
    assert operation(simulator, "UpdateBooking", {"logicalAddress": UNIT_ID, "bookingId": made[0], "timeslotId": other})[1] == {"resultCode": "OK"}  # fmt: skip
    assert operation(simulator, "CancelBooking", {"logicalAddress": UNIT_ID, "bookingId": made[1]})[1] == {"resultCode": "OK"}  # fmt: skip
    assert operation(simulator, "CancelBooking", {"logicalAddress": UNIT_ID, "bookingId": made[1]})[1]["errorCode"] == "BOOKING_NOT_FOUND"  # fmt: skip
    assert available(simulator, {"hsa_id": UNIT_ID}) == {full: 2, other: 2}
    assert len(simulator.bookings()) == 2

    assert caplog.records, "the simulator logs what it does"
    assert all(PNR not in record.getMessage() for record in caplog.records)
