"""The reference web client's staff pages, in Chromium against the local runtime and its demo data: log in
through the development SITHS provider (authorization code + PKCE), choose a commission, answer a resident's
case from the unit's work queue (the resident then reads the answer in their own pages), decide prescription
renewals, publish times (one-off and recurring), close and reopen one and see who booked; the API's field
errors next to the fields, a clear message on 403, and no WCAG 2.1 A/AA violations (axe-core) on each main
staff page at phone and desktop size (screenshots in test-artifacts/screenshots/staff-<page>-<size>.png)."""

# ruff: noqa: RUF001 - the pages write ranges and names with the typographic en dash, as the tests read them

from __future__ import annotations

import re
import time
import uuid
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from playwright.sync_api import Page, expect

from local_runtime import demo
from tests.e2e.web_support import DESKTOP, PHONE, axe_violations, go, heading, log_in, resident_me, screenshot
from tests.support.http import get_json, send_json, staff_token

STOCKHOLM = ZoneInfo("Europe/Stockholm")
CLINIC = demo.DEMO_CLINIC["name"]
CLINIC_ID = demo.DEMO_CLINIC["hsa_id"]
NURSE = "Sjuksköterska Demo Vårdare"
NURSE_HSA_ID = "SE2321000016-S0002"
NURSE_VISIT = "Besök hos sjuksköterska, 15 min"
CARE_COMMISSION = f"{CLINIC} – Vård och behandling"


def resident_api(runtime, name: str) -> tuple[dict[str, str], dict[str, str]]:
    """A bearer header for the demo resident and the patient ids they may act for, by name."""
    headers, me = resident_me(runtime, name)
    return headers, {p["name"]: p["patient_id"] for p in me["patients"]}


def send_case(runtime, headers: dict[str, str], patient: str, type_id: str, answers: dict[str, Any]) -> str:
    body = {"clinic_id": CLINIC_ID, "case_type_id": type_id, "form_version": 1, "answers": answers}
    status, case = send_json(
        runtime,
        "POST",
        f"/v1/patients/{patient}/cases",
        body,
        {**headers, "idempotency-key": uuid.uuid4().hex},
    )
    assert status == 201, case
    return str(case["case_id"])


def renewal(runtime, headers: dict[str, str], patient: str, medicines: str) -> str:
    answers = {"medicines": medicines, "dispensing": "any_pharmacy", "health_changed": False}
    return send_case(runtime, headers, patient, "renew-prescription", answers)


def staff_log_in(page: Page, base_url: str, name: str, path: str = "/staff") -> None:
    """Open a staff page and log in as the demo staff member `name` through the development SITHS provider."""
    page.goto(base_url + path)
    expect(heading(page)).to_have_text("Logga in")
    page.get_by_role("button", name="Logga in med SITHS-kort").click()
    page.wait_for_url("**/dev/idp/staff/authorize?**")
    page.get_by_role("button", name=name, exact=True).click()
    page.wait_for_url(base_url + path)


def choose_care_commission(page: Page) -> None:
    """The nurse has two commissions: the pages ask which one before showing anything of a unit."""
    expect(heading(page)).to_have_text("Välj medarbetaruppdrag")
    page.get_by_label(CARE_COMMISSION).check()
    page.get_by_role("button", name="Arbeta under uppdraget").click()
    expect(page.locator(".session-bar")).to_contain_text(f"Uppdrag: {CARE_COMMISSION}")


def expect_field_error(page: Page, label: str, text: str | re.Pattern[str]) -> None:
    """The field is marked invalid and its error is read out with it (aria-describedby)."""
    field = page.get_by_label(label, exact=True)
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_have_accessible_description(re.compile(text) if isinstance(text, str) else text)


def weekday_on_or_after(day: date, *, also_next: bool = False) -> date:
    """The first Monday-Friday (with the next day a weekday too, if asked) on or after `day`."""
    while day.isoweekday() > (4 if also_next else 5):
        day += timedelta(days=1)
    return day


def stockholm(day: date, clock: str) -> str:
    """A Stockholm wall-clock time as the API answers instants (UTC, ISO 8601, Z)."""
    local = datetime.combine(day, datetime.strptime(clock, "%H:%M").time(), tzinfo=STOCKHOLM)
    return local.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%dT%H:%M:%SZ")


def today() -> date:
    return datetime.now(STOCKHOLM).date()


# ---- cases ------------------------------------------------------------------------------------------------------


def test_staff_answer_a_case_from_the_work_queue_and_the_resident_reads_it(runtime, new_page):
    headers, people = resident_api(runtime, "Anna Demosson")
    anna = people["Anna Demosson"]
    answers = {
        "question": "Min son har utslag på armarna.",
        "duration": "under_a_week",
        "symptoms_worsened": False,
    }
    case_id = send_case(runtime, headers, anna, "advice", answers)

    page = new_page(DESKTOP)
    staff_log_in(page, runtime.base_url, NURSE, "/staff/cases")
    choose_care_commission(page)
    expect(heading(page)).to_have_text("Ärenden")
    page.get_by_label("Ärendetyp").select_option("advice")
    page.get_by_role("button", name="Visa ärenden").click()
    page.wait_for_url("**/staff/cases?status=waiting_for_staff&type=advice")
    entry = page.locator(f'a[href="/staff/cases/{anna}/{case_id}"]')
    expect(entry).to_have_text("Anna Demosson – Rådgivning")
    entry.click()

    expect(heading(page)).to_have_text("Anna Demosson – Rådgivning")
    expect(heading(page)).to_be_focused()
    expect(page.locator("main .facts").first).to_contain_text("Att besvara")
    expect(page.locator("main")).to_contain_text("Min son har utslag på armarna.")
    expect(page.get_by_role("heading", name="Beslut om receptförnyelse")).to_have_count(0)  # not a renewal

    page.get_by_role("button", name="Skicka", exact=True).click()  # nothing written, no standard answer
    expect(page.locator(".error-summary")).to_be_focused()
    expect_field_error(page, "Din text (frivilligt)", "Skriv en text eller välj ett standardsvar")

    page.get_by_role("button", name="Tilldela mig").click()
    expect(page.get_by_role("status").filter(has_text="Ärendet är nu tilldelat dig.")).to_be_visible()
    expect(page.locator("main")).to_contain_text("Ärendet är tilldelat dig.")

    page.get_by_label("Standardsvar (frivilligt)").select_option("call-1177")
    expect(page.locator(".standard-preview")).to_contain_text("Om du blir sämre, ring 1177")
    page.get_by_label("Din text (frivilligt)").fill("Smörj med mild kräm i en vecka.")
    page.get_by_label("Avsluta ärendet när svaret har skickats").check()
    page.get_by_role("button", name="Skicka", exact=True).click()

    expect(
        page.get_by_role("status").filter(has_text="Svaret skickades och ärendet avslutades.")
    ).to_be_visible()
    expect(page.locator("main .facts").first).to_contain_text("Avslutat")
    reply = page.locator(".thread .message-staff").last
    expect(reply).to_contain_text(NURSE)
    expect(reply).to_contain_text("Om du blir sämre, ring 1177")
    expect(reply).to_contain_text("Smörj med mild kräm i en vecka.")
    expect(page.get_by_role("button", name="Öppna ärendet igen")).to_be_visible()

    nurse = {"authorization": f"Bearer {staff_token(runtime, NURSE_HSA_ID)}", "x-commission-id": "C-S0002-1"}
    status, stored = get_json(runtime, f"/v1/staff/patients/{anna}/cases/{case_id}", nurse)
    assert status == 200, stored
    assert (stored["status"], stored["assignee_hsa_id"]) == ("closed", NURSE_HSA_ID)
    assert stored["messages"][-1]["kind"] == "reply"
    assert stored["messages"][-1]["text"] == (
        "Om du blir sämre, ring 1177 för sjukvårdsrådgivning eller 112 vid akut fara.\n\n"
        "Smörj med mild kräm i en vecka."
    )

    resident = new_page(PHONE)
    log_in(resident, runtime.base_url, "Anna Demosson")
    go(resident, f"/cases/{case_id}")
    expect(heading(resident)).to_have_text("Rådgivning")
    answer = resident.locator(".thread .message-staff").last
    expect(answer).to_contain_text("Smörj med mild kräm i en vecka.")
    expect(answer).to_contain_text("Om du blir sämre, ring 1177")


def test_staff_decide_prescription_renewals(runtime, new_page):
    headers, people = resident_api(runtime, "Anna Demosson")
    liv, siri = people["Liv Demosson"], people["Siri Demosson"]
    approved = renewal(runtime, headers, liv, "Demoxin 10 mg")
    denied = renewal(runtime, headers, siri, "Sömnmedel Demo 5 mg")

    page = new_page(PHONE)
    staff_log_in(page, runtime.base_url, NURSE, f"/staff/cases/{liv}/{approved}")
    choose_care_commission(page)
    expect(heading(page)).to_have_text("Liv Demosson – Förnya recept")
    expect(page.locator("main")).to_contain_text("Anna Demosson (vårdnadshavare)")
    renewed = page.get_by_label("Förnyade läkemedel", exact=True)
    expect(renewed).to_be_hidden()  # until the outcome is chosen
    page.get_by_role("radio", name="Förnya receptet").check()
    expect(renewed).to_have_value("Demoxin 10 mg")  # what the resident asked for, to edit

    renewed.fill("Demoxin 10 mg, " + "x" * 200)  # over 200 characters: the API names the entry
    page.get_by_role("button", name="Spara beslutet").click()
    expect(page.locator(".error-summary")).to_be_focused()
    expect_field_error(page, "Förnyade läkemedel", "must be a text of 1-200 characters")

    renewed.fill("Demoxin 10 mg, 100 st\nDemoxal 5 mg, 30 st")
    page.get_by_role("button", name="Spara beslutet").click()
    expect(page.get_by_role("status").filter(has_text="Receptet förnyades")).to_be_visible()
    decided = page.locator("section", has=page.get_by_role("heading", name="Beslut om receptförnyelse"))
    expect(decided).to_contain_text("Förnyat")
    expect(decided.locator("li")).to_have_text(["Demoxin 10 mg, 100 st", "Demoxal 5 mg, 30 st"])
    expect(page.get_by_role("radio", name="Förnya receptet")).to_have_count(0)  # decided once

    deadline = time.monotonic() + 15  # the workflow sends the renewal on and closes the case
    while True:
        status, case = get_json(runtime, f"/v1/patients/{liv}/cases/{approved}", headers)
        assert status == 200, case
        if case["status"] == "closed" or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert case["decision"]["outcome"] == "approved"
    assert case["decision"]["renewed"] == ["Demoxin 10 mg, 100 st", "Demoxal 5 mg, 30 st"]
    assert (case["status"], case["prescription"]["status"]) == ("closed", "sent")

    go(page, f"/staff/cases/{siri}/{denied}")
    expect(heading(page)).to_have_text("Siri Demosson – Förnya recept")
    page.get_by_role("radio", name="Avslå förnyelsen").check()
    page.get_by_role("button", name="Spara beslutet").click()
    expect_field_error(page, "Skäl till avslaget", "Skriv ett skäl")
    page.get_by_label("Skäl till avslaget", exact=True).fill("Vi behöver träffa Siri innan vi förnyar.")
    page.get_by_role("button", name="Spara beslutet").click()
    expect(
        page.get_by_role("status").filter(has_text="Förnyelsen avslogs och ärendet avslutades.")
    ).to_be_visible()
    expect(page.locator("main .facts").first).to_contain_text("Avslutat")
    status, case = get_json(runtime, f"/v1/patients/{siri}/cases/{denied}", headers)
    assert (case["status"], case["decision"]["outcome"], case["prescription"]) == ("closed", "denied", None)
    assert (case["messages"][-1]["kind"], case["messages"][-1]["text"]) == (
        "decision",
        "Vi behöver träffa Siri innan vi förnyar.",
    )  # the reason reaches the resident in the thread


def test_a_commission_without_the_purpose_gets_a_clear_message(runtime, new_page):
    page = new_page(PHONE)
    staff_log_in(page, runtime.base_url, "Kvalitet Demo Granskare", "/staff/cases")  # one commission: chosen
    expect(heading(page)).to_have_text("Ingen behörighet")
    expect(page.get_by_role("alert")).to_contain_text(
        f"Uppdraget {CLINIC} – Administration ger inte behörighet till det här. "
        "Det kräver ett uppdrag med syftet Vård och behandling."
    )
    expect(page.get_by_role("link", name="Byt uppdrag")).to_be_visible()

    nobody = new_page(PHONE)
    staff_log_in(nobody, runtime.base_url, "Admin Demo Utan Uppdrag", "/staff/cases")
    expect(heading(nobody)).to_have_text("Välj medarbetaruppdrag")
    expect(nobody.get_by_role("alert")).to_contain_text("Du har inget aktivt medarbetaruppdrag")


# ---- booking -------------------------------------------------------------------------------------------------


def test_staff_publish_times_close_one_and_see_who_booked(runtime, new_page):
    day = weekday_on_or_after(today() + timedelta(days=20), also_next=True)  # past the demo's own times
    yesterday = today() - timedelta(days=1)

    page = new_page(DESKTOP)
    staff_log_in(page, runtime.base_url, NURSE, "/staff/times/publish?type=nurse-visit-15")
    choose_care_commission(page)
    expect(heading(page)).to_have_text("Publicera tider")
    expect(page.get_by_label("Bokningstyp")).to_have_value("nurse-visit-15")

    page.get_by_label("Datum").fill(yesterday.isoformat())
    page.get_by_label("Klockslag").fill("10:00")
    page.get_by_role("button", name="Publicera").click()  # in the past: the API refuses, naming `starts`
    expect(page.locator(".error-summary")).to_be_focused()
    expect_field_error(page, "Klockslag", "must all be in the future")

    page.get_by_label("Datum").fill(day.isoformat())
    page.get_by_label("Klockslag").fill("10:00, 10:15")
    page.get_by_role("button", name="Publicera").click()
    page.wait_for_url(f"**/staff/times?type=nurse-visit-15&from={day.isoformat()}")
    expect(page.get_by_role("status").filter(has_text="2 tider publicerades.")).to_be_visible()
    first = page.locator("li.time", has_text="10:00–10:15")
    second = page.locator("li.time", has_text="10:15–10:30")
    expect(first).to_contain_text("0 av 1 platser bokade · öppen för bokning")
    expect(second).to_contain_text("öppen för bokning")

    page.get_by_role("link", name="Publicera tider").click()
    page.get_by_role("radio", name="Återkommande tider under en period").check()
    next_day = (day + timedelta(days=1)).isoformat()
    page.get_by_label("Första dagen").fill(next_day)
    page.get_by_label("Sista dagen").fill(next_day)
    page.get_by_label("Första tiden varje dag").fill("11:00")
    page.get_by_label("Sista tiden varje dag").fill("11:30")
    page.get_by_label("Platser per tid").fill("2")
    page.get_by_role("button", name="Publicera").click()
    page.wait_for_url(f"**/staff/times?type=nurse-visit-15&from={next_day}")
    expect(page.get_by_role("status").filter(has_text="3 tider publicerades.")).to_be_visible()
    for start in ("11:00–11:15", "11:15–11:30", "11:30–11:45"):
        expect(page.locator("li.time", has_text=start)).to_contain_text("0 av 2 platser bokade")

    go(page, f"/staff/times?type=nurse-visit-15&from={day.isoformat()}")
    second.get_by_role("button", name="Stäng").click()
    expect(second).to_contain_text("stängd för bokning")
    expect(page.locator("main [role=status]").last).to_contain_text("är stängd för bokning")
    reopen = second.get_by_role("button", name="Öppna igen")
    expect(reopen).to_be_focused()

    headers, people = resident_api(runtime, "Maja Demoberg")
    search = f"/v1/times?booking_type=nurse-visit-15&clinic_id={CLINIC_ID}&from={day}&to={day}"
    status, found = get_json(runtime, search, headers)
    assert status == 200, found
    starts = {t["start"]: t for t in found["items"]}
    assert stockholm(day, "10:00") in starts and stockholm(day, "10:15") not in starts  # closed: not offered
    status, booked = send_json(
        runtime,
        "POST",
        f"/v1/patients/{people['Maja Demoberg']}/appointments",
        {"time_id": starts[stockholm(day, "10:00")]["time_id"]},
        headers,
    )
    assert status == 201, booked

    reopen.click()
    expect(second).to_contain_text("öppen för bokning")
    status, found = get_json(runtime, search, headers)
    assert stockholm(day, "10:15") in {t["start"] for t in found["items"]}  # offered again

    page.get_by_role("link", name="Bokade besök").click()
    expect(heading(page)).to_have_text("Bokade besök")
    page.get_by_label("Dag").fill(day.isoformat())
    page.get_by_role("button", name="Visa besök").click()
    page.wait_for_url(f"**/staff/appointments?date={day.isoformat()}")
    visit = page.locator("main li.item", has_text="Maja Demoberg")
    expect(visit).to_contain_text(f"10:00–10:15 {NURSE_VISIT}")
    expect(visit).to_contain_text("Bokad av: Patienten själv · Bokad")
    page.reload()  # the token lives in memory only: a reload asks for a login again
    expect(heading(page)).to_have_text("Logga in")


# ---- accessibility and screenshots -------------------------------------------------------------------------


def test_staff_pages_pass_axe_at_phone_and_desktop_size(runtime, new_page):
    headers, people = resident_api(runtime, "Gustav Demogren")
    gustav = people["Gustav Demogren"]
    case_id = renewal(runtime, headers, gustav, "Demoprofen 400 mg")
    status, found = get_json(
        runtime, f"/v1/times?booking_type=nurse-visit-15&clinic_id={CLINIC_ID}&limit=1", headers
    )
    assert status == 200 and found["items"], found
    time_item = found["items"][0]
    status, booked = send_json(
        runtime, "POST", f"/v1/patients/{gustav}/appointments", {"time_id": time_item["time_id"]}, headers
    )
    assert status == 201, booked
    visit_day = datetime.fromisoformat(time_item["start"].replace("Z", "+00:00")).astimezone(STOCKHOLM).date()

    pages = {
        "commission": ("/staff/commission", "Välj medarbetaruppdrag"),
        "cases": ("/staff/cases", "Ärenden"),
        "case": (f"/staff/cases/{gustav}/{case_id}", "Gustav Demogren – Förnya recept"),
        "times": (f"/staff/times?type=nurse-visit-15&from={visit_day}", "Bokningsbara tider"),
        "publish": ("/staff/times/publish", "Publicera tider"),
        "appointments": (f"/staff/appointments?date={visit_day}", "Bokade besök"),
    }
    page = new_page(PHONE)
    staff_log_in(page, runtime.base_url, NURSE)
    choose_care_commission(page)
    problems: dict[str, list[dict[str, Any]]] = {}
    for size in (PHONE, DESKTOP):
        page.set_viewport_size(size)
        for name, (path, title) in pages.items():
            go(page, path)
            expect(heading(page)).to_have_text(title)
            if name == "appointments":
                expect(page.locator("main li.item", has_text="Gustav Demogren")).to_be_visible()
            if name == "publish" and size is PHONE:  # the form with its errors shown, too
                page.get_by_role("button", name="Publicera").click()
                expect_field_error(page, "Klockslag", "Skriv minst ett klockslag")
            violations = axe_violations(page)
            if violations:
                problems[f"{name} {size['width']}"] = violations
            screenshot(page, f"staff-{name}")
    page.get_by_role("button", name="In English").click()  # the staff texts follow the language switch
    expect(heading(page)).to_have_text("Booked visits")
    expect(page.locator(".session-bar")).to_contain_text(f"Commission: {CARE_COMMISSION}")
    if violations := axe_violations(page):
        problems["appointments en"] = violations
    assert not problems, problems
