"""Browser tests of the reference web client: Playwright driving Debian's Chromium against the local runtime.

- `web_dist`: web/dist, built with npm when missing or older than its sources (or a clear failure saying how).
- `browser`: one headless Chromium per module; `new_page` opens a page in a fresh context (nothing shared,
  so tokens, which live in memory only, are per page) and fails the test on any CSP violation or page error.
- `log_in`: through the real authorization code flow with PKCE: the app's login button, the development
  e-ID page, the chosen demo identity, back to the app.
- `go`: in-app navigation (history API, no reload: a reload would forget the in-memory token).
- `axe_violations`: axe-core (web/node_modules/axe-core) with the WCAG 2.1 A and AA rules.
- `screenshot`: test-artifacts/screenshots/<page>-<phone|desktop>.png.
- `resident_me`: a bearer header for a demo resident and their /v1/me, for what a test sets up or checks over HTTP.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect, sync_playwright

from local_runtime.runtime import LocalRuntime
from tests.support.http import get_json, resident_token

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "web"
DIST = WEB / "dist"
AXE = WEB / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE: ViewportSize = {"width": 390, "height": 844}
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BUILD_HINT = "build it with `make web` (or `cd web && npm ci && npm run build`; needs Node >= 20.19 and npm)"


def _sources() -> list[Path]:
    files = [WEB / "index.html", WEB / "package.json", WEB / "package-lock.json", WEB / "vite.config.ts"]
    return files + [p for p in (WEB / "src").rglob("*") if p.is_file()] + list((WEB / "public").rglob("*"))


def _stale() -> bool:
    index = DIST / "index.html"
    if not index.is_file():
        return True
    built = index.stat().st_mtime
    return any(p.stat().st_mtime > built for p in _sources() if p.exists())


def build_web() -> None:
    """Build web/dist when it is missing or older than its sources; fail clearly when that cannot be done."""
    if not _stale() and AXE.is_file():
        return
    npm = shutil.which("npm")
    if npm is None:
        pytest.fail(f"web/dist is missing or out of date and npm is not on PATH: {BUILD_HINT}")
    steps = [[npm, "ci", "--no-audit", "--no-fund"]] if not AXE.is_file() else []
    steps.append([npm, "run", "build"])
    for step in steps:
        done = subprocess.run(step, cwd=WEB, capture_output=True, text=True, timeout=600, check=False)
        if done.returncode != 0:
            pytest.fail(
                f"`{' '.join(step[1:])}` failed in web/ ({BUILD_HINT}):\n{done.stdout}\n{done.stderr}"
            )


@pytest.fixture(scope="module")
def web_dist() -> Path:
    build_web()
    return DIST


@pytest.fixture(scope="module")
def browser(web_dist: Path) -> Iterator[Browser]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@dataclass
class Watched:
    """What went wrong in a page that the user would not necessarily see: CSP violations, script errors."""

    page: Page
    problems: list[str] = field(default_factory=list)


@pytest.fixture
def new_page(browser: Browser) -> Iterator[Callable[..., Page]]:
    watched: list[Watched] = []

    def open_page(viewport: ViewportSize = PHONE, locale: str = "sv-SE") -> Page:
        context = browser.new_context(viewport=viewport, locale=locale, timezone_id="Europe/Stockholm")
        context.set_default_timeout(15_000)
        page = context.new_page()
        seen = Watched(page)
        page.on("pageerror", lambda error: seen.problems.append(f"page error: {error}"))
        page.on(
            "console",
            lambda message: (
                seen.problems.append(f"console: {message.text}")
                if message.type == "error" and "Content Security Policy" in message.text
                else None
            ),
        )
        watched.append(seen)
        return page

    yield open_page
    problems = [problem for seen in watched for problem in seen.problems]
    for seen in watched:
        seen.page.context.close()
    assert not problems, "the pages broke their CSP or raised errors:\n" + "\n".join(problems)


def heading(page: Page) -> Any:
    return page.locator("main h1")


def log_in(page: Page, base_url: str, name: str, *, assurance_level: str | None = None) -> None:
    """Open the app and log in as the demo resident `name` through the development e-ID provider."""
    page.goto(base_url + "/")
    page.get_by_role("button", name="Logga in med e-legitimation").first.click()
    page.wait_for_url("**/dev/idp/resident/authorize?**")
    if assurance_level is not None:
        page.get_by_label("Tillitsnivå / Assurance level").select_option(assurance_level)
    page.get_by_role("button", name=name, exact=True).click()
    page.wait_for_url(base_url + "/")
    if assurance_level is None:
        expect(heading(page)).to_have_text(f"Hej {name}")


def go(page: Page, path: str) -> None:
    """Navigate inside the app (pushState + popstate), as its own links do: no reload."""
    page.evaluate(
        "path => { history.pushState(null, '', path); dispatchEvent(new PopStateEvent('popstate')); }", path
    )
    page.wait_for_function(
        "path => { const u = new URL(path, location.origin); return location.href === u.href; }", arg=path
    )
    expect(page.locator("main .loading")).to_have_count(0)


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's WCAG 2.1 A/AA violations on the page as it is now (injected through the DevTools protocol,
    so the page's strict CSP stays in force)."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    result: dict[str, Any] = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
        WCAG_21_AA,
    )
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n["target"] for n in v["nodes"]][:5],
        }
        for v in result["violations"]
    ]


def screenshot(page: Page, name: str) -> Path:
    """test-artifacts/screenshots/<name>-<phone|desktop>.png, named by the page's current width."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    kind = "phone" if (page.viewport_size or PHONE)["width"] < 800 else "desktop"
    path = SCREENSHOTS / f"{name}-{kind}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def resident_me(runtime: LocalRuntime, name: str) -> tuple[dict[str, str], dict[str, Any]]:
    """A bearer header for the demo resident `name` (one the development e-ID offers) and their /v1/me."""
    _, identities = get_json(runtime, "/dev/identities")
    person = next(p for p in identities["residents"] if p["name"] == name)
    headers = {"authorization": f"Bearer {resident_token(runtime, person['personnummer'])}"}
    status, me = get_json(runtime, "/v1/me", headers)
    assert status == 200, me
    return headers, me
