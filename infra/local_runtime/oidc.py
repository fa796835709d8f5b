"""The development identity providers' authorization code flow over HTTP: the authorize endpoint (the login
page and the choice made on it) and the form-encoded token endpoint. The providers' logic is in `idp.py`,
the pages in `pages.py`; the runtime registers these as local routes."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from local_runtime.gateway import Response
from local_runtime.idp import (
    LOOPBACK_HOSTS,
    AuthorizationError,
    AuthorizationRequest,
    DevIdentityProvider,
    TokenError,
)
from local_runtime.pages import AUTHORIZE_CSS, authorize_error_page, authorize_page

FORM = "application/x-www-form-urlencoded"
# Claims for the identity chosen on the login page (the submitted form), or None if it names nobody valid.
ClaimsFor = Callable[[Mapping[str, str]], dict[str, Any] | None]


def _form(body: bytes) -> dict[str, str]:
    try:
        return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    except UnicodeDecodeError:
        return {}


def _html(status: int, page: str, csp: str, extra: dict[str, str] | None = None) -> Response:
    headers = {
        "Content-Type": "text/html; charset=utf-8",
        "Content-Security-Policy": csp,
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
    }
    return Response(status, headers | (extra or {}), page.encode())


def _page_csp(request: AuthorizationRequest | None) -> str:
    # form-action also governs where the form's POST may redirect to: the client's origin.
    target = ""
    if request is not None:
        parts = urlsplit(request.redirect_uri)
        target = f" {parts.scheme}://{parts.netloc}"
    return (
        "default-src 'none'; style-src 'self'; img-src 'self' data:; "
        f"form-action 'self'{target}; frame-ancestors 'none'; base-uri 'none'"
    )


def _refused(error: AuthorizationError) -> Response:
    if error.request is None:  # no trusted redirect URI: say so here, send the browser nowhere
        return _html(400, authorize_error_page(error.error, error.description), _page_csp(None))
    location = error.request.redirect(error=error.error, error_description=error.description)
    return Response(303, {"Location": location, "Cache-Control": "no-store"}, b"")


def authorize_get(idp: DevIdentityProvider, query: str, identities: dict[str, Any]) -> Response:
    """GET /dev/idp/{name}/authorize: check the request, show the login page with it in hidden fields."""
    try:
        request = AuthorizationRequest.parse(dict(parse_qsl(query, keep_blank_values=True)), idp.clients)
    except AuthorizationError as error:
        return _refused(error)
    page = authorize_page(idp.name, identities, request.fields(), f"/dev/idp/{idp.name}/authorize")
    return _html(200, page, _page_csp(request))


def authorize_post(idp: DevIdentityProvider, body: bytes, claims_for: ClaimsFor) -> Response:
    """POST /dev/idp/{name}/authorize: the identity chosen (or cancel); back to the client with a code."""
    form = _form(body)
    try:
        request = AuthorizationRequest.parse(form, idp.clients)
        if form.get("cancel"):
            raise AuthorizationError("access_denied", "The user cancelled the login", request)
        claims = claims_for(form)
        if claims is None:
            raise AuthorizationError("access_denied", "No valid identity was chosen", request)
    except AuthorizationError as error:
        return _refused(error)
    location = request.redirect(code=idp.authorization_code(request, claims))
    return Response(303, {"Location": location, "Cache-Control": "no-store"}, b"")


def is_grant(headers: Mapping[str, str], body: bytes) -> bool:
    """A form-encoded OAuth token request, rather than the JSON body scripts send (which curl -d and urllib
    also label form-encoded, so the body decides)."""
    kind = headers.get("content-type", FORM).split(";")[0].strip().lower()
    return kind == FORM and not body.lstrip().startswith(b"{")


def token(idp: DevIdentityProvider, body: bytes, headers: Mapping[str, str]) -> Response:
    """POST /dev/idp/{name}/token, form-encoded: the authorization code grant. A browser client on a loopback
    origin may read the answer (CORS), as a real provider allows its registered web clients."""
    cors = {}
    origin = headers.get("origin", "")
    if origin and urlsplit(origin).hostname in {h.strip("[]") for h in LOOPBACK_HOSTS}:
        cors = {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}
    no_store = {"Cache-Control": "no-store", "Pragma": "no-cache"}
    try:
        answer = idp.redeem(_form(body))
    except TokenError as error:
        return Response(
            error.status,
            {"Content-Type": "application/json"} | no_store | cors,
            json.dumps(error.body()).encode(),
        )
    return Response.json(200, answer, no_store | cors)


def stylesheet() -> Response:
    return Response(
        200,
        {
            "Content-Type": "text/css; charset=utf-8",
            "Cache-Control": "no-cache",
            "X-Content-Type-Options": "nosniff",
        },
        AUTHORIZE_CSS.encode(),
    )
