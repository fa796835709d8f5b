"""Web booking end to end over HTTP against `make run`'s runtime with its demo data: a demo resident logs in
through the development e-ID provider, finds nurse visits at the demo clinic (times in the platform) and doctor
visits at the second demo clinic (times in its own booking system, the runtime's simulated one), books one of
each and sees both in the one list of appointments (rule 23)."""

from __future__ import annotations

import pytest

from local_runtime import demo
from tests.support.http import get_json, resident_token, send_json


@pytest.fixture(scope="module")
def residents(runtime):
    _, identities = get_json(runtime, "/dev/identities")
    return {p["name"]: p for p in identities["residents"]}


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def own_patient_id(runtime, token: str) -> str:
    status, me = get_json(runtime, "/v1/me", bearer(token))
    assert status == 200, me
    [patient_id] = [p["patient_id"] for p in me["patients"] if p["relation"] == "self"]
    return str(patient_id)


def times(runtime, token: str, booking_type: str, clinic: dict, query: str = "") -> list[dict]:
    path = f"/v1/times?booking_type={booking_type}&clinic_id={clinic['hsa_id']}{query}"
    status, found = get_json(runtime, path, bearer(token))
    assert status == 200, found
    return list(found["items"])


def test_a_resident_books_at_a_built_in_and_an_external_clinic_and_sees_both(runtime, residents):
    token = resident_token(runtime, residents["Maja Demoberg"]["personnummer"])
    patient_id = own_patient_id(runtime, token)

    doctor = times(runtime, token, "doctor-visit-30", demo.EXTERNAL_CLINIC)
    nurse = times(runtime, token, "nurse-visit-15", demo.DEMO_CLINIC)
    assert doctor and nurse, "both demo clinics offer times for the coming days"
    assert {t["clinic"]["id"] for t in doctor} == {demo.EXTERNAL_CLINIC["hsa_id"]}
    assert {t["clinic"]["id"] for t in nurse} == {demo.DEMO_CLINIC["hsa_id"]}

    booked = {}
    for n, found in enumerate((doctor, nurse)):
        status, appointment = send_json(
            runtime,
            "POST",
            f"/v1/patients/{patient_id}/appointments",
            {"time_id": found[0]["time_id"]},
            {**bearer(token), "idempotency-key": f"e2e-booking-{n}"},
        )
        assert status == 201, appointment
        booked[appointment["booking_type"]] = appointment

    assert booked["doctor-visit-30"]["system"] == "external"
    assert booked["nurse-visit-15"]["system"] == "built-in"
    [external] = [
        b
        for b in runtime.scheduling.bookings()
        if b["external_reference"] == booked["doctor-visit-30"]["appointment_id"]
    ]
    assert external["unit"] == demo.EXTERNAL_CLINIC["hsa_id"], "the clinic's own system holds the booking"

    status, listed = get_json(runtime, f"/v1/patients/{patient_id}/appointments", bearer(token))
    assert status == 200, listed
    assert {(a["appointment_id"], a["unit_name"]) for a in listed["items"]} == {
        (booked["doctor-visit-30"]["appointment_id"], demo.EXTERNAL_CLINIC["name"]),
        (booked["nurse-visit-15"]["appointment_id"], demo.DEMO_CLINIC["name"]),
    }


def test_the_demo_clinic_s_vaccinations_follow_their_eligibility(runtime, residents):
    """Influenza is open to all; pneumococcal vaccination is for those 65 and over (rule 22)."""
    young = resident_token(runtime, residents["Anna Demosson"]["personnummer"])
    old = resident_token(runtime, residents["Gustav Demogren"]["personnummer"])
    for token, pneumococcal_offered in ((young, False), (old, True)):
        patient = f"&patient_id={own_patient_id(runtime, token)}"
        assert times(runtime, token, "influenza-vaccination", demo.DEMO_CLINIC, patient)
        offered = times(runtime, token, "pneumococcal-vaccination", demo.DEMO_CLINIC, patient)
        assert bool(offered) is pneumococcal_offered
