"""The reference web client for residents, in Chromium against the local runtime and its demo data: log in
through the development e-ID (authorization code + PKCE), send a case with an attachment and reply in it, act
for a child and book a time, see a clear message when someone else takes a time first, be told to log in again
when the API refuses the login, and no WCAG 2.1 A/AA violations (axe-core) on each main page at phone and
desktop size (screenshots in test-artifacts/screenshots/)."""

from __future__ import annotations

import base64
import re
from datetime import timedelta
from typing import Any

from playwright.sync_api import Page, expect

from eservices_core.clock import today_stockholm
from local_runtime import demo
from tests.e2e.web_support import DESKTOP, PHONE, axe_violations, go, heading, log_in, resident_me, screenshot
from tests.support.http import call, get_json, send_json

# A 1x1 PNG: an attachment whose bytes are what it says it is.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGD4DwABBAEAwS2OUAAAAABJRU5ErkJggg=="
)
CLINIC = demo.DEMO_CLINIC["name"]
NURSE_VISIT = "Besök hos sjuksköterska, 15 min"


def patient_id(me: dict[str, Any], name: str) -> str:
    return str(next(p["patient_id"] for p in me["patients"] if p["name"] == name))


def test_the_runtime_serves_the_app_with_its_security_headers(runtime, web_dist):
    status, headers, body = call(runtime, "GET", "/cases/anything")  # an app route: index.html
    assert status == 200 and b'<div id="app">' in body
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert headers["Cache-Control"] == "no-cache"
    csp = headers["Content-Security-Policy"]
    for directive in (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "frame-ancestors 'none'",
    ):
        assert directive in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert headers["Strict-Transport-Security"].startswith("max-age=")
    script = re.search(rb'src="(/assets/[^"]+\.js)"', body)
    assert script, body
    status, headers, _ = call(runtime, "GET", script[1].decode())
    assert status == 200
    assert headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert call(runtime, "GET", "/assets/missing-0000.js")[0] == 404  # never the page for a missing file
    assert call(runtime, "GET", "/v1/no-such-route")[0] == 404  # the API's paths stay the API's
    status, config = get_json(runtime, "/config.json")
    assert status == 200 and config["idps"]["resident"]["issuer"] == f"{runtime.base_url}/dev/idp/resident"


def test_a_resident_logs_in_and_sends_a_case_with_an_attachment(runtime, new_page):
    page = new_page(PHONE)
    log_in(page, runtime.base_url, "Maja Demoberg")
    page.get_by_role("link", name="Skriv till en mottagning").click()
    expect(heading(page)).to_have_text("Skriv till en mottagning")
    expect(heading(page)).to_be_focused()  # focus follows navigation

    page.get_by_label("Mottagningens namn").fill("Öjevik")
    page.get_by_role("button", name="Sök", exact=True).click()
    page.get_by_role("button", name=f"Välj {CLINIC}").click()
    page.get_by_role("radio", name="Rådgivning").check()
    page.get_by_role("button", name="Fortsätt").click()
    expect(heading(page)).to_have_text("Rådgivning")
    expect(page.get_by_role("heading", name=f"Villkor hos {CLINIC}")).to_be_visible()

    page.get_by_role("button", name="Skicka ärendet").click()  # nothing answered yet
    summary = page.locator(".error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Vad vill du ha råd om?: Svara på frågan")
    question = page.get_by_label("Vad vill du ha råd om?")
    expect(question).to_have_attribute("aria-invalid", "true")
    described = question.get_attribute("aria-describedby") or ""
    assert any("Svara på frågan" in page.locator(f"#{i}").inner_text() for i in described.split()), described
    worsening = page.get_by_label("Beskriv hur besvären har blivit värre")
    expect(worsening).to_be_hidden()  # asked only after a "yes"

    question.fill("Jag har haft ont i halsen i tre dagar.")
    page.get_by_role("radio", name="Mindre än en vecka").check()
    page.get_by_role("group", name="Har besvären blivit värre den senaste tiden?").get_by_label("Ja").check()
    worsening.fill("Det gör ondare att svälja.")
    page.get_by_label("Bifoga filer").set_input_files(
        {"name": "halsen.png", "mimeType": "image/png", "buffer": PNG}
    )
    expect(page.locator(".file-list")).to_contain_text("halsen.png uppladdad")
    page.get_by_role("button", name="Skicka ärendet").click()

    expect(page.get_by_role("status").filter(has_text="Ditt ärende är skickat")).to_contain_text(CLINIC)
    expect(heading(page)).to_have_text("Rådgivning")
    expect(page.locator("main")).to_contain_text("Väntar på svar från mottagningen")
    expect(page.get_by_role("button", name="Hämta halsen.png")).to_be_visible()

    headers, me = resident_me(runtime, "Maja Demoberg")
    maja = patient_id(me, "Maja Demoberg")
    status, cases = get_json(runtime, f"/v1/patients/{maja}/cases", headers)
    assert status == 200
    [case] = cases["items"]
    assert page.url.endswith(f"/cases/{case['case_id']}")
    status, stored = get_json(runtime, f"/v1/patients/{maja}/cases/{case['case_id']}", headers)
    assert stored["case_type"]["id"] == "advice"
    assert stored["clinic"]["hsa_id"] == demo.DEMO_CLINIC["hsa_id"]
    assert stored["answers"] == {
        "question": "Jag har haft ont i halsen i tre dagar.",
        "duration": "under_a_week",
        "symptoms_worsened": True,
        "worsening": "Det gör ondare att svälja.",
    }
    assert [(a["filename"], a["content_type"]) for a in stored["attachments"]] == [
        ("halsen.png", "image/png")
    ]

    page.get_by_label("Ditt meddelande").fill("Jag glömde: jag har också feber.")
    page.get_by_role("button", name="Skicka svaret").click()
    expect(page.get_by_role("status").filter(has_text="Ditt meddelande är skickat.")).to_be_visible()
    expect(page.locator(".thread")).to_contain_text("Jag glömde: jag har också feber.")
    _, stored = get_json(runtime, f"/v1/patients/{maja}/cases/{case['case_id']}", headers)
    assert [m["text"] for m in stored["messages"]] == ["Jag glömde: jag har också feber."]


def test_a_guardian_acts_for_a_child_and_books_a_time(runtime, new_page):
    page = new_page(DESKTOP)
    log_in(page, runtime.base_url, "Erik Demosson")
    page.get_by_role("button", name="Sköt ärenden för Liv Demosson").click()
    expect(heading(page)).to_have_text("Liv Demosson")
    expect(page.locator(".session-bar")).to_contain_text("Du sköter ärenden för ditt barn: Liv Demosson")

    page.get_by_role("link", name="Boka en tid").click()
    expect(heading(page)).to_have_text("Boka tid")
    expect(page.locator("main")).to_contain_text("Tiden bokas för Liv Demosson.")
    page.get_by_label("Vad vill du boka?").select_option(label=NURSE_VISIT)
    page.get_by_role("button", name="Sök lediga tider").click()
    expect(page.locator("#times-title")).to_be_focused()
    first = page.locator(".time-book").first
    label = first.get_attribute("aria-label") or ""
    assert label.startswith("Boka ") and CLINIC in label
    first.click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("för Liv Demosson?")
    dialog.get_by_role("button", name="Ja, boka").click()

    expect(heading(page)).to_have_text("Bokade tider")
    expect(page.get_by_role("status").filter(has_text="är bokad för Liv Demosson")).to_be_visible()
    expect(page.locator(".appointment")).to_have_count(1)
    expect(page.locator(".appointment")).to_contain_text(CLINIC)

    headers, me = resident_me(runtime, "Erik Demosson")
    _, liv = get_json(runtime, f"/v1/patients/{patient_id(me, 'Liv Demosson')}/appointments", headers)
    [booked] = liv["items"]
    assert (booked["booking_type"], booked["status"]) == ("nurse-visit-15", "active")
    assert booked["booked_by"]["relation"] == "guardian"
    _, own = get_json(runtime, f"/v1/patients/{patient_id(me, 'Erik Demosson')}/appointments", headers)
    assert own["items"] == []  # booked for the child, not for the guardian


def test_a_time_taken_first_by_someone_else_gets_a_clear_message(runtime, new_page):
    page = new_page(PHONE)
    log_in(page, runtime.base_url, "Anna Demosson")
    go(page, "/booking")
    page.get_by_label("Vad vill du boka?").select_option(label=NURSE_VISIT)
    page.get_by_role("button", name="Sök lediga tider").click()
    first = page.locator(".time-book").first
    expect(first).to_be_visible()
    wanted = first.get_attribute("aria-label")

    # Meanwhile another resident books the very time at the top of Anna's list.
    anna_headers, anna = resident_me(runtime, "Anna Demosson")
    anna_id = patient_id(anna, "Anna Demosson")
    _, listed = get_json(
        runtime, f"/v1/times?booking_type=nurse-visit-15&patient_id={anna_id}&limit=40", anna_headers
    )
    maja_headers, maja = resident_me(runtime, "Maja Demoberg")
    status, taken = send_json(
        runtime,
        "POST",
        f"/v1/patients/{patient_id(maja, 'Maja Demoberg')}/appointments",
        {"time_id": listed["items"][0]["time_id"]},
        maja_headers,
    )
    assert status == 201, taken

    first.click()
    page.get_by_role("dialog").get_by_role("button", name="Ja, boka").click()
    message = page.get_by_role("alert").filter(has_text="Tiden hann bokas av någon annan")
    expect(message).to_have_text("Tiden hann bokas av någon annan. Välj en annan tid i listan nedan.")
    expect(message).to_be_focused()
    expect(heading(page)).to_have_text("Boka tid")  # still here, with a fresh list without that time
    expect(page.locator(".time-book").first).not_to_have_attribute("aria-label", wanted or "")
    _, appointments = get_json(runtime, f"/v1/patients/{anna_id}/appointments", anna_headers)
    assert appointments["items"] == []


def test_a_login_the_api_refuses_asks_the_resident_to_log_in_again(runtime, new_page):
    page = new_page(PHONE)
    log_in(page, runtime.base_url, "Gustav Demogren", assurance_level="2")  # the API takes only level 3
    expect(page.get_by_role("alert")).to_contain_text("Du har loggats ut")
    expect(page.get_by_role("alert")).to_contain_text("Logga in igen")
    expect(page.get_by_role("button", name="Logga in med e-legitimation")).to_be_visible()
    expect(page.get_by_role("button", name="Logga ut")).to_have_count(0)
    stored = page.evaluate("() => JSON.stringify({...localStorage}) + JSON.stringify({...sessionStorage})")
    assert "eyJ" not in stored  # no token (a JWT) kept in web storage


def test_an_expired_login_asks_the_resident_to_log_in_again(runtime, new_page):
    page = new_page(PHONE)
    page.clock.install()
    log_in(page, runtime.base_url, "Maja Demoberg")
    go(page, "/inbox")
    page.clock.fast_forward("01:00:00")  # the token's lifetime
    expect(page.get_by_role("alert")).to_contain_text("inloggningen har gått ut. Logga in igen")
    expect(heading(page)).to_have_text("Logga in")
    expect(page.get_by_role("button", name="Logga in med e-legitimation")).to_be_visible()


def sent_code(runtime, to: str) -> str | None:
    _, sent = get_json(runtime, "/dev/notifications.json")
    found = [re.findall(r"\d{6}", m["text"]) for m in sent["items"] if m["to"] == to]
    return found[0][0] if found and found[0] else None


def test_inbox_appointments_notifications_and_logout_work_from_the_pages(runtime, new_page):
    page = new_page(DESKTOP)
    log_in(page, runtime.base_url, "Gustav Demogren")
    headers, me = resident_me(runtime, "Gustav Demogren")
    gustav = patient_id(me, "Gustav Demogren")

    # Inbox: read (marks read), mark unread, archive, delete.
    page.get_by_role("link", name="Inkorg", exact=True).click()
    page.locator(".message-item a").first.click()
    subject = heading(page).inner_text()
    _, inbox = get_json(runtime, f"/v1/patients/{gustav}/inbox", headers)
    [message] = [m for m in inbox["items"] if m["subject"] == subject]
    assert message["read"] is True
    page.get_by_role("button", name="Markera som oläst").click()
    expect(page.get_by_role("status").filter(has_text="markerat som oläst")).to_be_visible()
    expect(page.locator(".message-item.unread")).to_contain_text(subject)
    page.get_by_role("link", name=subject).click()
    page.get_by_role("button", name="Flytta till arkivet").click()
    expect(page.locator(".message-item")).to_have_count(0)
    page.get_by_role("link", name="Arkiv").click()
    page.get_by_role("link", name=subject).click()
    page.get_by_role("button", name="Ta bort").click()
    page.get_by_role("dialog").get_by_role("button", name="Ta bort").click()
    expect(page.get_by_role("status").filter(has_text="Meddelandet är borttaget.")).to_be_visible()
    for archived in ("false", "true"):
        _, left = get_json(runtime, f"/v1/patients/{gustav}/inbox?archived={archived}", headers)
        assert subject not in [m["subject"] for m in left["items"]]

    # Book near a typed place, rebook, cancel.
    page.get_by_role("link", name="Boka tid", exact=True).click()
    page.get_by_label("Vad vill du boka?").select_option(label="Vaccination mot pneumokocker")
    page.get_by_label("Nära ort eller kommun").fill("Nacka")
    # Two days ahead: a visit within the 24-hour change deadline could not be moved or cancelled on the web.
    page.get_by_label(re.compile("^Från och med datum")).fill(str(today_stockholm() + timedelta(days=2)))
    page.get_by_role("button", name="Sök lediga tider").click()
    expect(page.locator(".time-where").first).to_contain_text("km bort")
    page.locator(".time-book").first.click()
    page.get_by_role("dialog").get_by_role("button", name="Ja, boka").click()
    expect(page.locator(".appointment")).to_have_count(1)
    _, booked = get_json(runtime, f"/v1/patients/{gustav}/appointments", headers)
    [first] = booked["items"]
    page.get_by_role("link", name="Boka om").click()
    expect(heading(page)).to_have_text("Boka om tid")
    expect(page.locator(".time-book").first).to_be_visible()
    page.locator(".time-book").nth(1).click()
    page.get_by_role("dialog").get_by_role("button", name="Ja, flytta tiden").click()
    expect(page.get_by_role("status").filter(has_text="Tiden är flyttad")).to_be_visible()
    _, moved = get_json(runtime, f"/v1/patients/{gustav}/appointments", headers)
    [second] = moved["items"]
    assert second["appointment_id"] == first["appointment_id"] and second["time_id"] != first["time_id"]
    page.get_by_role("button", name=re.compile("^Avboka")).click()
    page.get_by_role("dialog").get_by_role("button", name="Ja, avboka").click()
    expect(page.get_by_role("status").filter(has_text="är avbokad")).to_be_visible()
    expect(page.locator(".appointment")).to_have_count(0)
    _, after = get_json(runtime, f"/v1/patients/{gustav}/appointments?status=all", headers)
    assert [a["status"] for a in after["items"]] == ["cancelled"]

    # Notifications: save a mobile number, type in the code the SMS brought.
    page.get_by_role("link", name="Aviseringar").click()
    page.get_by_label("Mobilnummer").fill("070-555 12 34")
    page.get_by_role("button", name="Spara").click()
    expect(page.get_by_role("heading", name="Bekräfta ditt mobilnummer")).to_be_visible()
    code = None
    for _ in range(100):
        code = sent_code(runtime, "+46705551234")
        if code:
            break
        page.wait_for_timeout(100)
    assert code, "the code SMS was sent"
    page.get_by_label("Koden vi skickade till +46705551234").fill("000000" if code != "000000" else "111111")
    page.get_by_role("button", name="Bekräfta", exact=True).click()
    expect(page.locator(".error-summary")).to_contain_text("Koden stämmer inte. Du har 4 försök kvar.")
    page.get_by_label("Koden vi skickade till +46705551234").fill(code)
    page.get_by_role("button", name="Bekräfta", exact=True).click()
    expect(page.get_by_role("status").filter(has_text="+46705551234 är bekräftad.")).to_be_visible()
    _, settings = get_json(runtime, f"/v1/patients/{gustav}/notification-settings", headers)
    assert settings["mobile"] == {"address": "+46705551234", "verified": True}

    page.get_by_role("button", name="Logga ut").click()
    expect(heading(page)).to_have_text("Välkommen till vårdens e-tjänster")
    expect(page.get_by_role("status").filter(has_text="Du är utloggad.")).to_be_visible()
    go(page, "/inbox")
    expect(heading(page)).to_have_text("Logga in")  # the token is gone


def test_find_care_lists_the_nearest_clinics_from_the_devices_position(runtime, new_page):
    page = new_page(PHONE)
    page.context.grant_permissions(["geolocation"], origin=runtime.base_url)
    page.context.set_geolocation({"latitude": 59.3105, "longitude": 18.1637})  # Nacka
    page.goto(runtime.base_url + "/find-care")
    page.get_by_role("button", name="Använd min position").click()
    expect(page.get_by_role("status").filter(has_text="Din position används")).to_be_visible()
    page.get_by_role("button", name="Sök", exact=True).click()
    expect(page.locator("#results-title")).to_be_focused()
    texts = page.locator(".result .meta").all_inner_texts()
    distances = [float(d.replace(",", ".")) for t in texts for d in re.findall(r"([\d,]+) km bort", t)]
    assert len(distances) == len(texts)
    assert distances and distances == sorted(distances)  # nearest first
    assert "near" not in page.url and "59.3" not in page.url  # the position stays out of the address


def check(page: Page, name: str, failures: dict[str, Any]) -> None:
    """axe at phone and desktop size, and a screenshot at each."""
    for viewport in (PHONE, DESKTOP):
        page.set_viewport_size(viewport)
        kind = "phone" if viewport is PHONE else "desktop"
        screenshot(page, name)
        violations = axe_violations(page)
        if violations:
            failures[f"{name}-{kind}"] = violations
    page.set_viewport_size(PHONE)


def test_the_main_pages_have_no_wcag_violations(runtime, new_page):
    failures: dict[str, Any] = {}
    page = new_page(PHONE)
    page.goto(runtime.base_url + "/")
    expect(heading(page)).to_have_text("Välkommen till vårdens e-tjänster")
    check(page, "welcome", failures)
    go(page, "/find-care?q=vårdcentral&place=Stockholm")
    expect(page.locator(".result").first).to_be_visible()
    check(page, "find-care", failures)
    page.locator(".result a").first.click()
    expect(page.get_by_role("heading", name="Öppettider")).to_be_visible()
    check(page, "clinic", failures)

    log_in(page, runtime.base_url, "Anna Demosson")
    check(page, "start", failures)
    go(page, "/choose-person")
    check(page, "choose-person", failures)
    go(page, "/inbox")
    expect(page.locator(".message-item").first).to_be_visible()
    check(page, "inbox", failures)
    page.locator(".message-item a").first.click()
    expect(page.get_by_role("button", name="Markera som oläst")).to_be_visible()
    check(page, "message", failures)
    go(page, "/cases")
    check(page, "cases", failures)
    go(page, f"/cases/new?clinic={demo.DEMO_CLINIC['hsa_id']}&type=advice")
    page.get_by_role("button", name="Skicka ärendet").click()
    expect(page.locator(".error-summary")).to_be_visible()
    check(page, "case-form-errors", failures)
    go(page, "/booking?type=influenza-vaccination")
    expect(page.locator(".time-book").first).to_be_visible()
    check(page, "booking", failures)
    go(page, "/appointments")
    check(page, "appointments", failures)
    go(page, "/access-log")
    check(page, "access-log", failures)
    go(page, "/settings")
    check(page, "settings", failures)

    page.get_by_role("button", name="In English").click()
    expect(heading(page)).to_have_text("Notifications")
    assert page.evaluate("() => document.documentElement.lang") == "en"
    check(page, "settings-english", failures)
    assert not failures, failures
