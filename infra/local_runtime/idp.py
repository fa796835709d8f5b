"""Development identity providers (local runtime only): e-ID for residents, SITHS for staff.

Each signs RS256 access tokens with a key made at start-up and publishes OIDC discovery and JWKS documents,
so the gateway verifies them exactly as the HTTP API's JWT authorizer verifies the real providers' tokens.

Two ways to a token: the OIDC authorization code flow with PKCE, as the web client uses against the real
providers (`GET …/authorize` shows the development e-ID or SITHS page, the chosen demo identity comes back
to the client's redirect URI as a one-time code, `POST …/token` with `grant_type=authorization_code` and the
`code_verifier` answers the tokens), and, for scripts and tests, `POST …/token` with a JSON body naming the
identity (`local_runtime.runtime`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from eservices_core.actors import HSA_ID_CLAIM, LOA_PREFIX, PERSONAL_IDENTITY_NUMBER_CLAIM

TOKEN_LIFETIME_SECONDS = 3600
WEB_CLIENT_ID = "open-eservices-web"  # the reference web client, a public client (PKCE, no secret)
CODE_LIFETIME_SECONDS = 60
CALLBACK_PATH = "/auth/callback"
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "[::1]"})


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class AuthorizationError(Exception):
    """An authorization request refused (RFC 6749 4.1.2.1). `request` is set when the client and redirect URI
    were good, so the error goes back to the client; otherwise the provider shows it and redirects nowhere."""

    def __init__(self, error: str, description: str, request: AuthorizationRequest | None = None) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.request = request


class TokenError(Exception):
    """A token request refused (RFC 6749 5.2): answered 400 (401 for an unknown client) with `error`."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error
        self.description = description

    @property
    def status(self) -> int:
        return 401 if self.error == "invalid_client" else 400

    def body(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


@dataclass(frozen=True)
class AuthorizationRequest:
    """An authorization code request with PKCE (S256 only; PKCE is required, `plain` is refused)."""

    client_id: str
    redirect_uri: str
    state: str | None
    code_challenge: str
    nonce: str | None
    scope: str

    @classmethod
    def parse(cls, params: Mapping[str, str], clients: frozenset[str]) -> AuthorizationRequest:
        client_id = params.get("client_id", "")
        if client_id not in clients:
            raise AuthorizationError("unauthorized_client", "Unknown client_id")
        redirect_uri = params.get("redirect_uri", "")
        if not is_registered_redirect(redirect_uri):
            raise AuthorizationError(
                "invalid_request",
                f"redirect_uri must be a loopback address (127.0.0.1 or localhost, any port) with the path "
                f"{CALLBACK_PATH}",
            )
        request = cls(
            client_id=client_id,
            redirect_uri=redirect_uri,
            state=params.get("state") or None,
            code_challenge=params.get("code_challenge", ""),
            nonce=params.get("nonce") or None,
            scope=params.get("scope") or "openid",
        )
        if params.get("response_type") != "code":
            raise AuthorizationError(
                "unsupported_response_type", "Only response_type=code is supported", request
            )
        if params.get("code_challenge_method") != "S256":
            raise AuthorizationError(
                "invalid_request", "PKCE with code_challenge_method=S256 is required", request
            )
        if not (43 <= len(request.code_challenge) <= 128 and _is_base64url(request.code_challenge)):
            raise AuthorizationError(
                "invalid_request", "code_challenge must be a base64url S256 digest", request
            )
        return request

    def fields(self) -> dict[str, str]:
        """The request as form fields, to carry it through the login page."""
        fields = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "code_challenge": self.code_challenge,
            "code_challenge_method": "S256",
            "scope": self.scope,
        }
        if self.state is not None:
            fields["state"] = self.state
        if self.nonce is not None:
            fields["nonce"] = self.nonce
        return fields

    def redirect(self, **params: str) -> str:
        """The client's redirect URI with `params` and the state added to its query."""
        query = params | ({"state": self.state} if self.state is not None else {})
        separator = "&" if urlsplit(self.redirect_uri).query else "?"
        return f"{self.redirect_uri}{separator}{urlencode(query)}"


def is_registered_redirect(uri: str) -> bool:
    """The development providers accept the web client on any loopback origin (the local runtime's own, or
    Vite's dev server) at its callback path; nothing else."""
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        return False
    return (
        parts.scheme in ("http", "https")
        and parts.hostname is not None
        and (parts.hostname in LOOPBACK_HOSTS or f"[{parts.hostname}]" in LOOPBACK_HOSTS)
        and parts.path == CALLBACK_PATH
        and not parts.fragment
        and not parts.username
    )


def _is_base64url(value: str) -> bool:
    return all(c.isascii() and (c.isalnum() or c in "-_") for c in value)


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class _Grant:
    request: AuthorizationRequest
    claims: dict[str, Any]
    expires_at: float


@dataclass
class DevIdentityProvider:
    name: str  # "resident" or "staff"
    issuer: str
    audience: str
    key: rsa.RSAPrivateKey = field(default_factory=new_key, repr=False)
    kid: str = field(default_factory=lambda: uuid.uuid4().hex[:16])
    clients: frozenset[str] = frozenset({WEB_CLIENT_ID})
    _codes: dict[str, _Grant] = field(default_factory=dict, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def jwks(self) -> dict[str, Any]:
        public = json.loads(RSAAlgorithm.to_jwk(self.key.public_key()))
        return {"keys": [public | {"kid": self.kid, "use": "sig", "alg": "RS256"}]}

    def discovery(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/jwks.json",
            "scopes_supported": ["openid", "profile"],
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["none"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "subject_types_supported": ["pairwise"],
            "claims_supported": [
                "sub",
                "name",
                "acr",
                PERSONAL_IDENTITY_NUMBER_CLAIM if self.name == "resident" else HSA_ID_CLAIM,
            ],
        }

    def authorization_code(self, request: AuthorizationRequest, claims: dict[str, Any]) -> str:
        """A one-time code for `claims`, bound to the request's client, redirect URI and PKCE challenge."""
        code = secrets.token_urlsafe(32)
        now = time.monotonic()
        with self._lock:
            for expired in [c for c, g in self._codes.items() if g.expires_at < now]:
                del self._codes[expired]
            self._codes[code] = _Grant(request, claims, now + CODE_LIFETIME_SECONDS)
        return code

    def redeem(self, form: Mapping[str, str]) -> dict[str, Any]:
        """The token response for `grant_type=authorization_code` (RFC 6749 4.1.3, RFC 7636 4.6)."""
        if form.get("grant_type") != "authorization_code":
            raise TokenError("unsupported_grant_type", "Only grant_type=authorization_code is supported")
        missing = [k for k in ("code", "redirect_uri", "client_id", "code_verifier") if not form.get(k)]
        if missing:
            raise TokenError("invalid_request", f"Missing {', '.join(missing)}")
        if form["client_id"] not in self.clients:
            raise TokenError("invalid_client", "Unknown client_id")
        with self._lock:
            grant = self._codes.pop(form["code"], None)  # one use, whatever the outcome
        if grant is None or grant.expires_at < time.monotonic():
            raise TokenError("invalid_grant", "The code is unknown, used or expired")
        if form["client_id"] != grant.request.client_id or form["redirect_uri"] != grant.request.redirect_uri:
            raise TokenError("invalid_grant", "The code was issued to another client or redirect_uri")
        if not hmac.compare_digest(s256(form["code_verifier"]), grant.request.code_challenge):
            raise TokenError("invalid_grant", "The code_verifier does not match the code_challenge")
        access_token = self.issue(
            grant.claims | {"client_id": grant.request.client_id, "scope": grant.request.scope}
        )
        id_claims = {k: v for k, v in grant.claims.items() if k in ("sub", "name", "acr")}
        id_claims |= {"aud": grant.request.client_id, "auth_time": int(time.time())}
        if grant.request.nonce is not None:
            id_claims["nonce"] = grant.request.nonce
        return {
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": TOKEN_LIFETIME_SECONDS,
            "id_token": self.issue(id_claims),
            "scope": grant.request.scope,
        }

    def issue(
        self, claims: dict[str, Any], *, lifetime: int = TOKEN_LIFETIME_SECONDS, now: float | None = None
    ) -> str:
        issued = int(now if now is not None else time.time())
        payload = {
            "iss": self.issuer,
            "aud": self.audience,
            "iat": issued,
            "nbf": issued,
            "exp": issued + lifetime,
            "jti": uuid.uuid4().hex,
        } | claims
        return jwt.encode(payload, self.key, algorithm="RS256", headers={"kid": self.kid})


def resident_claims(personnummer: str, name: str, assurance_level: int = 3) -> dict[str, Any]:
    """Claims of the Swedish OIDC profile; `sub` is pairwise and opaque, never the personnummer."""
    return {
        "sub": uuid.uuid5(uuid.NAMESPACE_OID, "resident:" + personnummer).hex,
        PERSONAL_IDENTITY_NUMBER_CLAIM: personnummer,
        "name": name,
        "acr": f"{LOA_PREFIX}{assurance_level}",
    }


def staff_claims(hsa_id: str, name: str) -> dict[str, Any]:
    return {
        "sub": uuid.uuid5(uuid.NAMESPACE_OID, "staff:" + hsa_id).hex,
        HSA_ID_CLAIM: hsa_id,
        "name": name,
        "acr": f"{LOA_PREFIX}3",
    }
