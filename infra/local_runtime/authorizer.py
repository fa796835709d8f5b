"""The HTTP API JWT authorizer, locally: the same checks before any handler runs, 401 otherwise.

Like API Gateway it reads the token from the identity source (the Authorization header, with or without
`Bearer `), requires a known `kid` in the issuer's JWKS, an allowed algorithm (RSA only), a valid
signature, the configured issuer, an audience (or `client_id`) it accepts, and `exp`/`nbf` in force; the
verified claims reach the handler as strings under requestContext.authorizer.jwt.claims.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jwt

ALLOWED_ALGORITHMS = ["RS256"]
LEEWAY_SECONDS = 0


class Unauthorized(Exception):
    pass


@dataclass
class JwtAuthorizer:
    name: str
    issuer: str
    audiences: list[str]
    jwks: Callable[[], dict[str, Any]]

    def authorize(self, headers: dict[str, str]) -> dict[str, str]:
        raw = headers.get("authorization", "")
        token = raw[7:].strip() if raw[:7].lower() == "bearer " else raw.strip()
        if not token:
            raise Unauthorized("no token")
        try:
            header = jwt.get_unverified_header(token)
            if header.get("alg") not in ALLOWED_ALGORITHMS:
                raise Unauthorized("algorithm not allowed")
            key = self._key(header.get("kid"))
            claims = jwt.decode(
                token,
                key=key,
                algorithms=ALLOWED_ALGORITHMS,
                issuer=self.issuer,
                options={"require": ["exp", "iss"], "verify_aud": False},
                leeway=LEEWAY_SECONDS,
            )
        except jwt.PyJWTError as error:
            raise Unauthorized(str(error)) from None
        audiences = claims.get("aud", [])
        audiences = [audiences] if isinstance(audiences, str) else list(audiences)
        if not {*audiences, claims.get("client_id")} & set(self.audiences):
            raise Unauthorized("audience not accepted")
        return {k: v if isinstance(v, str) else json.dumps(v) for k, v in claims.items()}

    def _key(self, kid: object) -> Any:
        for jwk in self.jwks().get("keys", []):
            if jwk.get("kid") == kid:
                return jwt.PyJWK(jwk).key
        raise Unauthorized("unknown signing key")
