"""The development identity providers' authorization code flow with PKCE (local_runtime.idp, .oidc): what a
web client sends and gets back, and every way a request or a code is refused."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import pytest

from local_runtime import oidc
from local_runtime.idp import WEB_CLIENT_ID, DevIdentityProvider, resident_claims

ISSUER = "http://127.0.0.1:3000/dev/idp/resident"
REDIRECT = "http://127.0.0.1:3000/auth/callback"
CLAIMS = resident_claims("199001012380", "Testperson Demo")


@pytest.fixture(scope="module")
def idp() -> DevIdentityProvider:
    return DevIdentityProvider("resident", ISSUER, "open-eservices")


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def authorize_query(challenge: str, **changes: str) -> str:
    params = {
        "response_type": "code",
        "client_id": WEB_CLIENT_ID,
        "redirect_uri": REDIRECT,
        "state": "state-1",
        "nonce": "nonce-1",
        "scope": "openid",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    } | changes
    return urlencode({k: v for k, v in params.items() if v is not None})


def choose(idp: DevIdentityProvider, query: str, **form: str) -> tuple[int, dict[str, list[str]], str]:
    """Submit the login page's form (the request's fields plus the choice); answers the status, the query of
    the redirect and the redirect's location without its query."""
    body = (query + "&" + urlencode(form)).encode()
    response = oidc.authorize_post(idp, body, lambda chosen: CLAIMS if chosen.get("personnummer") else None)
    location = response.headers.get("Location", "")
    parts = urlsplit(location)
    return response.status, parse_qs(parts.query), f"{parts.scheme}://{parts.netloc}{parts.path}"


def redeem(idp: DevIdentityProvider, **form: str) -> tuple[int, dict[str, Any]]:
    response = oidc.token(idp, urlencode(form).encode(), {"content-type": oidc.FORM})
    return response.status, json.loads(response.body)


def test_discovery_names_the_authorization_and_token_endpoints(idp):
    document = idp.discovery()
    assert document["authorization_endpoint"] == f"{ISSUER}/authorize"
    assert document["token_endpoint"] == f"{ISSUER}/token"
    assert document["response_types_supported"] == ["code"]
    assert document["code_challenge_methods_supported"] == ["S256"]
    assert document["grant_types_supported"] == ["authorization_code"]


def test_a_code_comes_back_to_the_client_and_buys_tokens_once(idp):
    verifier, challenge = pkce()
    page = oidc.authorize_get(idp, authorize_query(challenge), {"residents": [], "staff": []})
    assert page.status == 200 and b'name="code_challenge"' in page.body
    assert "form-action 'self' http://127.0.0.1:3000" in page.headers["Content-Security-Policy"]

    status, query, target = choose(idp, authorize_query(challenge), personnummer="199001012380")
    assert (status, target, query["state"]) == (303, REDIRECT, ["state-1"])
    code = query["code"][0]
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "client_id": WEB_CLIENT_ID,
        "code_verifier": verifier,
    }
    status, tokens = redeem(idp, **form)
    assert status == 200, tokens
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] > 0
    key = jwt.PyJWK(idp.jwks()["keys"][0]).key
    access = jwt.decode(tokens["access_token"], key, algorithms=["RS256"], audience="open-eservices")
    assert access["https://id.oidc.se/claim/personalIdentityNumber"] == "199001012380"
    assert access["iss"] == ISSUER and access["client_id"] == WEB_CLIENT_ID
    identity = jwt.decode(tokens["id_token"], key, algorithms=["RS256"], audience=WEB_CLIENT_ID)
    assert identity["nonce"] == "nonce-1" and identity["name"] == "Testperson Demo"
    assert "https://id.oidc.se/claim/personalIdentityNumber" not in identity  # the id token carries no number

    status, again = redeem(idp, **form)
    assert (status, again["error"]) == (400, "invalid_grant")  # a code works once


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"code_verifier": "another-verifier-" + "x" * 40}, "invalid_grant"),
        ({"redirect_uri": "http://localhost:5173/auth/callback"}, "invalid_grant"),
        ({"grant_type": "password"}, "unsupported_grant_type"),
        ({"client_id": "someone-else"}, "invalid_client"),
        ({"code": "no-such-code"}, "invalid_grant"),
        ({"code_verifier": ""}, "invalid_request"),
    ],
)
def test_a_token_request_that_does_not_match_its_code_is_refused(idp, change, error):
    verifier, challenge = pkce()
    _, query, _ = choose(idp, authorize_query(challenge), personnummer="199001012380")
    form = {
        "grant_type": "authorization_code",
        "code": query["code"][0],
        "redirect_uri": REDIRECT,
        "client_id": WEB_CLIENT_ID,
        "code_verifier": verifier,
    } | change
    status, body = redeem(idp, **form)
    assert body["error"] == error
    assert status == (401 if error == "invalid_client" else 400)


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge_method": None}, "invalid_request"),
        ({"code_challenge": "short"}, "invalid_request"),
        ({"response_type": "token"}, "unsupported_response_type"),
    ],
)
def test_a_bad_request_from_a_known_client_goes_back_to_it_with_an_error(idp, change, error):
    _, challenge = pkce()
    response = oidc.authorize_get(idp, authorize_query(challenge, **change), {"residents": [], "staff": []})
    assert response.status == 303
    location = urlsplit(response.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    assert parse_qs(location.query)["error"] == [error]
    assert parse_qs(location.query)["state"] == ["state-1"]


@pytest.mark.parametrize(
    "change",
    [
        {"client_id": "unknown-client"},
        {"redirect_uri": "https://evil.example/auth/callback"},
        {"redirect_uri": "http://127.0.0.1:3000/somewhere-else"},
        {"redirect_uri": "http://127.0.0.1.evil.example/auth/callback"},
        {"redirect_uri": None},
    ],
)
def test_an_unregistered_client_or_redirect_gets_an_error_page_and_no_redirect(idp, change):
    _, challenge = pkce()
    response = oidc.authorize_get(idp, authorize_query(challenge, **change), {"residents": [], "staff": []})
    assert response.status == 400
    assert "Location" not in response.headers
    assert b"cannot be done" in response.body


def test_cancel_or_no_identity_returns_access_denied(idp):
    _, challenge = pkce()
    for form in ({"cancel": "1"}, {"personnummer": ""}):
        status, query, target = choose(idp, authorize_query(challenge), **form)
        assert (status, target) == (303, REDIRECT)
        assert query["error"] == ["access_denied"] and query["state"] == ["state-1"]
        assert "code" not in query


def test_the_token_endpoint_lets_a_loopback_web_client_read_the_answer(idp):
    response = oidc.token(idp, b"grant_type=authorization_code", {"origin": "http://localhost:5173"})
    assert response.headers["Access-Control-Allow-Origin"] == "http://localhost:5173"
    response = oidc.token(idp, b"grant_type=authorization_code", {"origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in response.headers


def test_json_bodies_keep_going_to_the_scripts_token_endpoint():
    assert oidc.is_grant({"content-type": oidc.FORM}, b"grant_type=authorization_code&code=x")
    assert not oidc.is_grant({"content-type": oidc.FORM}, b'{"personnummer": "199001012380"}')  # curl -d
    assert not oidc.is_grant({"content-type": "application/json"}, b"{}")
