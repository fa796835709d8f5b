"""Web time booking through the gateway: what clinics and residents see and get back, what is stored and
published. Rules 20-23 (and 8, 11, 14-15 through the shared policy)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from booking.store import BookingStore
from eservices_core.table import Table
from tests.support.aws import count_calls
from tests.support.events import subscribe
from tests.support.people import OTHER_UNIT, UNIT, StaffMember, World

TYPE = "nurse-visit-15"
VACCINATION = "covid-19-vaccination"
MONDAY = "2026-11-30"  # five days ahead
LATER = "2026-12-07"


@pytest.fixture
def admin(world) -> StaffMember:
    return world.bookable(TYPE)


@pytest.fixture
def times(world, admin) -> list[str]:
    return world.publish_times(admin, TYPE, [f"{MONDAY}T09:00", f"{MONDAY}T09:15", f"{LATER}T09:00"])


@pytest.fixture
def anna(world):
    return world.resident("Anna Testsson")


def staff_call(world: World, member: StaffMember, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
    headers = {"X-Commission-Id": member.commission_ids[0]}
    return world.stack.call(method, path, token=world.staff_token(member), headers=headers, **kwargs)


def appointments_path(world: World, person) -> str:
    return f"/v1/patients/{world.patient_id(person)}/appointments"


def stored(world: World) -> BookingStore:
    return BookingStore(Table(world.stack.session.client("dynamodb"), world.stack.ref("BookingTable")))


@pytest.fixture
def events(stack):
    return subscribe(stack, "eservices.booking")


# ---- clinics -----------------------------------------------------------------------------------------------------
def test_a_local_administrator_sets_up_a_booking_type_with_the_defaults_of_the_rules(world):
    admin = world.bookable(TYPE)
    status, answer = staff_call(world, admin, "GET", "/v1/staff/booking-types")
    assert status == 200
    [setup] = [t for t in answer["items"] if t["booking_type"] == TYPE]
    assert setup["settings"] == {
        "unit_hsa_id": UNIT["hsa_id"],
        "unit_name": UNIT["name"],
        "region": UNIT["region_code"],
        "lat": UNIT["location"]["lat"],
        "lon": UNIT["location"]["lon"],
        "booking_type": TYPE,
        "active": True,
        "system": "built-in",
        "deadline_hours": 24,  # primary care (rule 21)
        "horizon_days": 60,
        "web": {"book": True, "rebook": True, "cancel": True},
        "max_active": 1,
        "eligibility": {"min_age": None, "max_age": None, "regions": []},
    }


def test_staff_publish_a_recurrence_of_times_as_long_as_the_visit(world, admin):
    body = {
        "recurrence": {"from": MONDAY, "to": "2026-12-06", "weekdays": [1, 3], "first_start": "08:00", "last_start": "08:45"},
        "capacity": 2,
    }  # fmt: skip
    status, answer = staff_call(world, admin, "POST", f"/v1/staff/booking-types/{TYPE}/times", body=body)
    assert status == 201, answer
    assert answer["created"] == 8  # Monday and Wednesday, 08:00-08:45 every 15 minutes
    first = answer["items"][0]
    assert first["start"] == "2026-11-30T07:00:00Z" and first["end"] == "2026-11-30T07:15:00Z"  # CET
    assert first["capacity"] == 2 and first["booked"] == 0 and first["open"] is True
    status, listed = staff_call(
        world, admin, "GET", f"/v1/staff/booking-types/{TYPE}/times", query=f"from={MONDAY}&to=2026-12-06"
    )
    assert status == 200 and len(listed["items"]) == 8


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"starts": ["2026-11-20T09:00"]}, "starts"),
        ({"starts": ["tomorrow"]}, "starts[0]"),
        ({"starts": [f"{MONDAY}T09:00"], "capacity": 0}, "capacity"),
        ({"recurrence": {"from": MONDAY, "to": "2028-01-01", "first_start": "08:00", "last_start": "09:00"}}, "recurrence"),
        ({}, "starts"),
    ],
)  # fmt: skip
def test_bad_times_are_refused_with_the_field_named(world, admin, body, field):
    status, answer = staff_call(world, admin, "POST", f"/v1/staff/booking-types/{TYPE}/times", body=body)
    assert status == 400, answer
    assert answer["invalid_params"][0]["name"] == field


def test_only_a_local_administrator_configures_and_only_the_unit_s_staff_publish(world, admin):
    nurse = world.staff("Sara Demosköterska")
    status, answer = staff_call(world, nurse, "PUT", f"/v1/staff/booking-types/{TYPE}", body={})
    assert status == 403, answer
    other = world.staff("Olle Annanenhet", unit=OTHER_UNIT)
    status, answer = staff_call(
        world, other, "POST", f"/v1/staff/booking-types/{TYPE}/times", body={"starts": [f"{MONDAY}T09:00"]}
    )
    assert status == 404, "another unit has not set up the type"
    status, _ = staff_call(
        world, nurse, "POST", f"/v1/staff/booking-types/{TYPE}/times", body={"starts": [f"{MONDAY}T09:00"]}
    )
    assert status == 201


# ---- residents: search, book, list ---------------------------------------------------------------------------------
def test_a_resident_finds_free_times_books_one_and_sees_it_in_one_list(world, times, anna, events):
    status, found = world.stack.call(
        "GET", "/v1/times", token=world.token(anna), query=f"booking_type={TYPE}&from={MONDAY}"
    )
    assert status == 200
    assert [t["time_id"] for t in found["items"]] == times
    assert found["items"][0]["clinic"]["id"] == UNIT["hsa_id"] and found["items"][0]["free"] == 1

    status, appointment = world.stack.call(
        "POST",
        appointments_path(world, anna),
        token=world.token(anna),
        body={"time_id": times[0]},
        headers={"Idempotency-Key": "k-1"},
    )
    assert status == 201, appointment
    assert appointment["status"] == "active" and appointment["start"] == "2026-11-30T08:00:00Z"
    assert (
        appointment["unit_name"] == UNIT["name"]
        and appointment["booking_type_name"]["en"] == "Nurse visit, 15 min"
    )
    assert "patient_name" not in appointment and "remind_pk" not in appointment

    status, listed = world.stack.call("GET", appointments_path(world, anna), token=world.token(anna))
    assert [a["appointment_id"] for a in listed["items"]] == [appointment["appointment_id"]]
    status, found = world.stack.call(
        "GET", "/v1/times", token=world.token(anna), query=f"booking_type={TYPE}&from={MONDAY}"
    )
    assert [t["time_id"] for t in found["items"]] == times[1:], "a full time is not offered"
    [event] = events()
    assert event["detail-type"] == "booking.booked"
    assert event["detail"]["appointment_id"] == appointment["appointment_id"]


def test_a_retry_with_the_same_idempotency_key_answers_the_same_appointment(world, times, anna):
    def attempt(body: dict[str, Any]) -> tuple[int, Any]:
        return world.stack.call(
            "POST",
            appointments_path(world, anna),
            token=world.token(anna),
            body=body,
            headers={"Idempotency-Key": "same"},
        )

    first_status, first = attempt({"time_id": times[0]})
    again_status, again = attempt({"time_id": times[0]})
    assert (first_status, again_status) == (201, 200)
    assert again["appointment_id"] == first["appointment_id"]
    status, other = attempt({"time_id": times[1]})
    assert status == 409 and other["code"] == "idempotency-key-reused"
    assert len(stored(world).appointments_of(world.patient_id(anna))) == 1


def test_one_active_booking_per_type_and_a_full_time_is_409_with_the_reason(world, times, anna):
    world.book(anna, anna, times[0])
    status, answer = world.stack.call(
        "POST", appointments_path(world, anna), token=world.token(anna), body={"time_id": times[1]}
    )
    assert status == 409 and answer["code"] == "already-booked"
    erik = world.resident("Erik Testsson")
    status, answer = world.stack.call(
        "POST", appointments_path(world, erik), token=world.token(erik), body={"time_id": times[0]}
    )
    assert status == 409 and answer["code"] == "time-unavailable"


@pytest.mark.parametrize("time_id", ["nonsense", "A~b~c", f"{UNIT['hsa_id']}~{TYPE}~20261130T0800Z-nosuch"])
def test_a_time_id_not_from_a_search_is_refused(world, admin, anna, time_id):
    status, answer = world.stack.call(
        "POST", appointments_path(world, anna), token=world.token(anna), body={"time_id": time_id}
    )
    assert status in (400, 404), answer
    assert answer["code"] in ("invalid-input", "not-found")


# ---- rebook and cancel ----------------------------------------------------------------------------------------------
def test_rebooking_moves_the_appointment_and_releases_the_old_time(world, times, anna):
    appointment = world.book(anna, anna, times[0])
    path = f"{appointments_path(world, anna)}/{appointment['appointment_id']}"
    status, moved = world.stack.call(
        "POST", f"{path}/rebooking", token=world.token(anna), body={"time_id": times[2]}
    )
    assert status == 200, moved
    assert moved["time_id"] == times[2].split("~")[2] and moved["start"] == "2026-12-07T08:00:00Z"
    _, listed = world.stack.call("GET", appointments_path(world, anna), token=world.token(anna))
    assert [a["start"] for a in listed["items"]] == ["2026-12-07T08:00:00Z"]
    store = stored(world)
    free = {t["time_id"]: t["booked"] for t in store.times(UNIT["hsa_id"], TYPE, "0", "~")}
    assert list(free.values()) == [0, 0, 1]


def test_rebooking_to_a_taken_time_changes_nothing(world, times, anna):
    erik = world.resident("Erik Testsson")
    world.book(erik, erik, times[2])
    appointment = world.book(anna, anna, times[0])
    path = f"{appointments_path(world, anna)}/{appointment['appointment_id']}"
    status, answer = world.stack.call(
        "POST", f"{path}/rebooking", token=world.token(anna), body={"time_id": times[2]}
    )
    assert status == 409 and answer["code"] == "time-unavailable"
    status, kept = world.stack.call("GET", path, token=world.token(anna))
    assert kept["start"] == appointment["start"] and kept["status"] == "active"


def test_cancelling_gives_the_time_back_and_cancelling_again_is_409(world, times, anna):
    appointment = world.book(anna, anna, times[0])
    path = f"{appointments_path(world, anna)}/{appointment['appointment_id']}"
    status, cancelled = world.stack.call("POST", f"{path}/cancellation", token=world.token(anna))
    assert status == 200 and cancelled["status"] == "cancelled"
    status, _ = world.stack.call("POST", f"{path}/cancellation", token=world.token(anna))
    assert status == 409
    erik = world.resident("Erik Testsson")
    world.book(erik, erik, times[0])  # free again
    status, listed = world.stack.call(
        "GET", appointments_path(world, anna), token=world.token(anna), query="status=all"
    )
    assert [a["status"] for a in listed["items"]] == ["cancelled"]
    _, active = world.stack.call("GET", appointments_path(world, anna), token=world.token(anna))
    assert active["items"] == [], "the default list holds the active appointments only"


def test_changes_later_than_the_deadline_are_refused(world, anna, clock):
    admin = world.bookable(TYPE, deadline_hours=72)
    times = world.publish_times(admin, TYPE, [f"{MONDAY}T09:00", f"{MONDAY}T10:00"])
    appointment = world.book(anna, anna, times[0])
    path = f"{appointments_path(world, anna)}/{appointment['appointment_id']}"
    clock.set(datetime(2026, 11, 27, 8, 1, tzinfo=UTC))  # 72 h before 2026-11-30 08:00 UTC has passed
    for action, body in (("cancellation", None), ("rebooking", {"time_id": times[1]})):
        status, answer = world.stack.call("POST", f"{path}/{action}", token=world.token(anna), body=body)
        assert status == 409 and answer["code"] == "deadline-passed", answer
        assert answer["deadline_hours"] == 72


def test_switches_off_on_the_web_are_409_with_the_reason(world, anna):
    admin = world.bookable(TYPE, web={"book": True, "rebook": False, "cancel": False})
    times = world.publish_times(admin, TYPE, [f"{MONDAY}T09:00", f"{MONDAY}T10:00"])
    appointment = world.book(anna, anna, times[0])
    path = f"{appointments_path(world, anna)}/{appointment['appointment_id']}"
    for action, body in (("cancellation", None), ("rebooking", {"time_id": times[1]})):
        status, answer = world.stack.call("POST", f"{path}/{action}", token=world.token(anna), body=body)
        assert status == 409 and answer["code"] == "not-allowed-on-the-web"
    world.bookable(TYPE, web={"book": False})
    erik = world.resident("Erik Testsson")
    status, answer = world.stack.call(
        "POST", appointments_path(world, erik), token=world.token(erik), body={"time_id": times[1]}
    )
    assert status == 409 and answer["code"] == "not-allowed-on-the-web"
    status, found = world.stack.call(
        "GET", "/v1/times", token=world.token(erik), query=f"booking_type={TYPE}"
    )
    assert found["items"] == [], "a type not bookable on the web is not searchable"


# ---- eligibility (rule 22) ------------------------------------------------------------------------------------------
def test_a_64_year_old_cannot_book_a_65_plus_vaccination_whatever_the_client_sends(world):
    admin = world.bookable(VACCINATION, eligibility={"min_age": 65})
    [time_id] = world.publish_times(admin, VACCINATION, [f"{MONDAY}T09:00"])
    young = world.resident(
        "Ung Testsson", born=date(1961, 12, 1)
    )  # 64 on the day of the visit, 65 the day after
    old = world.resident("Gammal Testsson", born=date(1961, 11, 30))  # 65 on the day of the visit
    path = appointments_path(world, young)
    for body in (
        {"time_id": time_id},
        {"time_id": time_id, "age": 70, "eligible": True, "birth_date": "1950-01-01"},
    ):
        status, answer = world.stack.call("POST", path, token=world.token(young), body=body)
        assert status == 403 and answer["code"] == "not-eligible", answer
    status, found = world.stack.call(
        "GET",
        "/v1/times",
        token=world.token(young),
        query=f"booking_type={VACCINATION}&patient_id={world.patient_id(young)}",
    )
    assert found["items"] == [], "a search for the patient shows only times they may book"
    assert world.book(old, old, time_id)["status"] == "active"


def test_region_of_registration_is_enforced(world):
    admin = world.bookable(VACCINATION, eligibility={"regions": ["99"]})
    [time_id] = world.publish_times(admin, VACCINATION, [f"{MONDAY}T09:00"])
    anna = world.resident("Anna Testsson")
    status, answer = world.stack.call(
        "POST", appointments_path(world, anna), token=world.token(anna), body={"time_id": time_id}
    )
    assert status == 403 and answer["code"] == "not-eligible"


def test_a_guardian_books_for_a_child_and_the_child_s_age_counts(world):
    admin = world.bookable(VACCINATION, eligibility={"max_age": 12})
    [time_id] = world.publish_times(admin, VACCINATION, [f"{MONDAY}T09:00"])
    parent, child = world.resident("Förälder Testsson"), world.resident("Barn Testsson", age=8)
    world.family(parent, children=[child])
    status, _ = world.stack.call(
        "POST", appointments_path(world, parent), token=world.token(parent), body={"time_id": time_id}
    )
    assert status == 403, "the parent is too old"
    appointment = world.book(parent, child, time_id)
    assert appointment["booked_by"] == {"relation": "guardian", "name": "Förälder Testsson"}


# ---- staff see who booked what, audited ---------------------------------------------------------------------------------
def test_staff_see_who_booked_what_and_each_patient_shown_is_audited(world, admin, times, anna):
    world.book(anna, anna, times[0])
    nurse = world.staff("Sara Demosköterska")
    status, answer = staff_call(world, nurse, "GET", "/v1/staff/appointments", query=f"date={MONDAY}")
    assert status == 200, answer
    [shown] = answer["items"]
    assert shown["patient_name"] == "Anna Testsson" and shown["patient_id"] == world.patient_id(anna)
    status, log = world.stack.call(
        "GET", f"/v1/patients/{world.patient_id(anna)}/access-log", token=world.token(anna)
    )
    assert [r["resource"].split("/")[0] for r in log["items"]] == ["appointments"]
    other = world.staff("Olle Annanenhet", unit=OTHER_UNIT)
    status, answer = staff_call(world, other, "GET", "/v1/staff/appointments", query=f"date={MONDAY}")
    assert answer["items"] == [], "another unit sees nothing of it"


# ---- reminders ------------------------------------------------------------------------------------------------------
def test_a_reminder_24_hours_before_the_visit_and_none_for_a_cancelled_appointment(
    world, times, anna, clock, events
):
    erik = world.resident("Erik Testsson")
    kept = world.book(anna, anna, times[0])
    cancelled = world.book(erik, erik, times[1])
    world.stack.call(
        "POST",
        f"{appointments_path(world, erik)}/{cancelled['appointment_id']}/cancellation",
        token=world.token(erik),
    )
    clock.set(datetime(2026, 11, 29, 7, 59, tzinfo=UTC))
    assert world.stack.invoke("BookingSweeperFunction", {})["reminded"] == 0, "not yet"
    clock.set(datetime(2026, 11, 29, 8, 1, tzinfo=UTC))
    assert world.stack.invoke("BookingSweeperFunction", {})["reminded"] == 1
    assert world.stack.invoke("BookingSweeperFunction", {})["reminded"] == 0, "once"
    reminders = [e["detail"] for e in events() if e["detail-type"] == "booking.reminder"]
    assert [r["appointment_id"] for r in reminders] == [kept["appointment_id"]]
    assert set(reminders[0]) == {
        "appointment_id",
        "patient_id",
        "care_unit_hsa_id",
        "booking_type",
        "start",
        "status",
    }


# ---- round trips ------------------------------------------------------------------------------------------------------
def test_a_booking_is_one_transaction_after_one_batch_read(world, times, anna):
    path, token = appointments_path(world, anna), world.token(anna)
    world.stack.call("GET", path, token=token)  # warm: the caller's patient id is cached
    with count_calls() as dynamodb, count_calls("events") as events:
        status, _ = world.stack.call("POST", path, token=token, body={"time_id": times[0]})
    assert status == 201
    # the access check (GetItem of the profile), the audit record (GetItem HEAD, TransactWriteItems), the
    # settings and the time (BatchGetItem), the booking (TransactWriteItems), the event leaving the outbox
    assert sorted(dynamodb) == sorted(
        ["GetItem", "GetItem", "TransactWriteItems", "BatchGetItem", "TransactWriteItems", "BatchWriteItem"]
    )
    assert events == ["PutEvents"]


def test_times_across_clinics_come_earliest_first_or_nearest_first(world, admin):
    other_admin = world.bookable(TYPE, unit=OTHER_UNIT)
    [late] = world.publish_times(admin, TYPE, [f"{LATER}T09:00"])
    [early] = world.publish_times(other_admin, TYPE, [f"{MONDAY}T09:00"])
    anna = world.resident("Anna Testsson")
    _, found = world.stack.call(
        "GET", "/v1/times", token=world.token(anna), query=f"booking_type={TYPE}&from={MONDAY}"
    )
    assert [t["time_id"] for t in found["items"]] == [early, late]
    _, near = world.stack.call(
        "GET",
        "/v1/times",
        token=world.token(anna),
        query=f"booking_type={TYPE}&near={UNIT['location']['lat']},{UNIT['location']['lon']}&radius_km=200",
    )
    assert (
        near["items"][0]["clinic"]["id"] == UNIT["hsa_id"]
        and near["items"][0]["clinic"]["distance_km"] == 0.0
    )


def test_staff_close_and_reopen_a_time_and_another_unit_cannot(world, admin, times, anna):
    nurse = world.staff("Sara Demosköterska")
    status, closed = staff_call(world, nurse, "POST", f"/v1/staff/times/{times[0]}/closure")
    assert status == 200 and closed["open"] is False and closed["time_id"] == times[0]
    status, answer = world.stack.call(
        "POST", appointments_path(world, anna), token=world.token(anna), body={"time_id": times[0]}
    )
    assert status == 409 and answer["code"] == "time-unavailable"
    _, found = world.stack.call("GET", "/v1/times", token=world.token(anna), query=f"booking_type={TYPE}")
    assert times[0] not in [t["time_id"] for t in found["items"]]
    other = world.staff("Olle Annanenhet", unit=OTHER_UNIT)
    status, _ = staff_call(world, other, "POST", f"/v1/staff/times/{times[0]}/opening")
    assert status == 404
    status, reopened = staff_call(world, nurse, "POST", f"/v1/staff/times/{times[0]}/opening")
    assert status == 200 and reopened["open"] is True
    assert world.book(anna, anna, times[0])["status"] == "active"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("", "booking_type"),
        ("booking_type=massage", "booking_type"),
        (f"booking_type={TYPE}&from=tomorrow", "from"),
        (f"booking_type={TYPE}&from=2026-12-01&to=2026-11-30", "to"),
        (f"booking_type={TYPE}&from=2026-12-01&to=2027-02-01", "to"),
        (f"booking_type={TYPE}&near=59.3", "near"),
        (f"booking_type={TYPE}&near=91,18", "near"),
        (f"booking_type={TYPE}&radius_km=1000", "radius_km"),
        (f"booking_type={TYPE}&region=Stockholm", "region"),
        (f"booking_type={TYPE}&clinic_id=<script>", "clinic_id"),
        (f"booking_type={TYPE}&limit=0", "limit"),
    ],
)
def test_a_bad_search_is_a_400_naming_the_parameter(world, anna, query, field):
    status, answer = world.stack.call("GET", "/v1/times", token=world.token(anna), query=query)
    assert status == 400, answer
    assert answer["invalid_params"][0]["name"] == field


@pytest.mark.parametrize(
    "body", [None, b"not json", [], {"time_id": 7}, {"time_id": "x" * 500}], ids=lambda b: str(b)[:20]
)
def test_a_bad_booking_body_is_a_400(world, anna, body):
    status, answer = world.stack.call(
        "POST", appointments_path(world, anna), token=world.token(anna), body=body
    )
    assert status == 400 and answer["code"] == "invalid-input", answer


def test_a_search_needs_a_resident_token_and_patient_id_is_under_the_policy(world, times, anna):
    assert world.stack.call("GET", "/v1/times", query=f"booking_type={TYPE}")[0] == 401
    stranger = world.resident("Främling Testsson")
    status, _ = world.stack.call(
        "GET",
        "/v1/times",
        token=world.token(stranger),
        query=f"booking_type={TYPE}&patient_id={world.patient_id(anna)}",
    )
    assert status == 404, "another resident's eligibility is not for a stranger to probe"


def test_a_search_for_a_patient_is_an_audited_read_of_their_data(world, times, anna):
    audit = Table(world.stack.session.client("dynamodb"), world.stack.ref("AuditTable"))

    def seq() -> int:
        head = audit.get((f"PATIENT#{world.patient_id(anna)}", "HEAD"))
        return int(head["seq"]) if head else 0

    before = seq()
    query = f"booking_type={TYPE}&patient_id={world.patient_id(anna)}"
    status, _ = world.stack.call("GET", "/v1/times", token=world.token(anna), query=query)
    assert status == 200 and seq() == before + 1
    world.stack.call("GET", "/v1/times", token=world.token(anna), query=f"booking_type={TYPE}")
    assert seq() == before + 1, "a search for nobody in particular reads no patient data"
