"""Development identity providers (local runtime only): e-ID for residents, SITHS for staff.

Each signs RS256 access tokens with a key made at start-up and publishes OIDC discovery and JWKS documents,
so the gateway verifies them exactly as the HTTP API's JWT authorizer verifies the real providers' tokens.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from eservices_core.actors import HSA_ID_CLAIM, LOA_PREFIX, PERSONAL_IDENTITY_NUMBER_CLAIM

TOKEN_LIFETIME_SECONDS = 3600


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass
class DevIdentityProvider:
    name: str  # "resident" or "staff"
    issuer: str
    audience: str
    key: rsa.RSAPrivateKey = field(default_factory=new_key, repr=False)
    kid: str = field(default_factory=lambda: uuid.uuid4().hex[:16])

    def jwks(self) -> dict[str, Any]:
        public = json.loads(RSAAlgorithm.to_jwk(self.key.public_key()))
        return {"keys": [public | {"kid": self.kid, "use": "sig", "alg": "RS256"}]}

    def discovery(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "jwks_uri": f"{self.issuer}/jwks.json",
            "token_endpoint": f"{self.issuer}/token",
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["token"],
            "subject_types_supported": ["pairwise"],
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
