"""The local runtime serving the built web client (local_runtime.web): files with their types and caching,
index.html for the app's routes, never for a missing file or the API's paths, nothing outside dist/, and the
security headers of the CloudFront policy on everything."""

from __future__ import annotations

from pathlib import Path

import pytest

from local_runtime.web import WebClient


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    (tmp_path / "dist" / "assets").mkdir(parents=True)
    (tmp_path / "dist" / "index.html").write_text('<!doctype html><div id="app"></div>')
    (tmp_path / "dist" / "assets" / "index-abc123.js").write_text("console.log(1)")
    (tmp_path / "dist" / "assets" / "index-abc123.css").write_text("body{}")
    (tmp_path / "dist" / "favicon.svg").write_text("<svg/>")
    (tmp_path / "secret.txt").write_text("outside dist")
    return tmp_path / "dist"


def test_hashed_assets_are_cached_for_good_and_the_rest_revalidated(dist):
    web = WebClient(dist)
    script = web.serve("GET", "/assets/index-abc123.js", {})
    assert script is not None and script.status == 200
    assert script.headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert script.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    css = web.serve("GET", "/assets/index-abc123.css", {})
    assert css is not None and css.headers["Content-Type"] == "text/css; charset=utf-8"
    icon = web.serve("GET", "/favicon.svg", {})
    assert icon is not None and (icon.headers["Content-Type"], icon.headers["Cache-Control"]) == (
        "image/svg+xml",
        "no-cache",
    )
    again = web.serve("GET", "/assets/index-abc123.js", {"if-none-match": script.headers["ETag"]})
    assert again is not None and (again.status, again.body) == (304, b"")


@pytest.mark.parametrize("path", ["/", "/inbox", "/cases/0123/anything", "/find-care"])
def test_the_apps_routes_answer_index_html(dist, path):
    page = WebClient(dist).serve("GET", path, {})
    assert page is not None and page.status == 200
    assert page.body.startswith(b"<!doctype html>")
    assert page.headers["Cache-Control"] == "no-cache"


@pytest.mark.parametrize("path", ["/v1/clinics/x", "/dev/anything", "/moto-api/reset"])
def test_the_apis_paths_are_left_to_the_gateway(dist, path):
    assert WebClient(dist).serve("GET", path, {}) is None


def test_a_missing_file_is_a_404_not_the_page(dist):
    missing = WebClient(dist).serve("GET", "/assets/index-old999.js", {})
    assert missing is not None and missing.status == 404


@pytest.mark.parametrize("path", ["/../secret.txt", "/assets/../../secret.txt", "/%2e%2e/secret.txt"])
def test_nothing_outside_dist_is_served(dist, path):
    answer = WebClient(dist).serve("GET", path, {})
    assert answer is not None and b"outside dist" not in answer.body


def test_dot_files_are_not_served(dist):
    (dist / ".built").write_text("stamp")
    answer = WebClient(dist).serve("GET", "/.built", {})
    assert answer is not None and answer.status == 404


def test_writes_are_not_the_apps(dist):
    assert WebClient(dist).serve("POST", "/", {}) is None


def test_every_answer_carries_the_security_headers(dist):
    web = WebClient(dist, connect_sources=["http://127.0.0.1:4566"])
    for path in ("/", "/assets/index-abc123.js", "/nope.png"):
        answer = web.serve("GET", path, {})
        assert answer is not None
        csp = answer.headers["Content-Security-Policy"]
        assert "script-src 'self';" in csp and "style-src 'self';" in csp
        assert "connect-src 'self' http://127.0.0.1:4566;" in csp
        assert "frame-ancestors 'none'" in csp and "unsafe" not in csp
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
        assert answer.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
        assert answer.headers["Strict-Transport-Security"] == "max-age=63072000; includeSubDomains; preload"


def test_an_unbuilt_client_says_how_to_build_it(tmp_path):
    answer = WebClient(tmp_path / "dist").serve("GET", "/", {})
    assert answer is not None and answer.status == 503
    assert b"make web" in answer.body
