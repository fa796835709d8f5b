"""Who is calling: actors built from the JWT claims the HTTP API authorizer has already verified.

The gateway checks signature, issuer, audience and expiry; what it cannot check (the e-ID assurance level,
rule 5) is checked here. Claim names follow the Swedish OIDC profile for e-ID (id.oidc.se).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from eservices_core.clock import today_stockholm
from eservices_core.errors import InvalidInput, Unauthenticated
from eservices_core.identifiers import PersonalIdentity, is_hsa_id, parse_personal_identity

PERSONAL_IDENTITY_NUMBER_CLAIM = "https://id.oidc.se/claim/personalIdentityNumber"
HSA_ID_CLAIM = "https://id.oidc.se/claim/hsaId"
LOA_PREFIX = "http://id.elegnamnden.se/loa/1.0/loa"
STAFF_MINIMUM_ASSURANCE = 3


def assurance_level(acr: object) -> int:
    """The level of an `acr` such as `http://id.elegnamnden.se/loa/1.0/loa3`; 0 when absent or unknown."""
    if isinstance(acr, str) and acr.startswith(LOA_PREFIX) and acr[len(LOA_PREFIX) :].isdigit():
        return int(acr[len(LOA_PREFIX) :])
    return 0


@dataclass(frozen=True, slots=True)
class Resident:
    subject: str
    identity: PersonalIdentity = field(repr=False)
    name: str
    assurance_level: int


def resident_from_claims(claims: dict[str, Any] | None, *, minimum_assurance: int) -> Resident:
    """The logged-in resident; 401 for a token without a valid identity or below `minimum_assurance`."""
    if not claims or not claims.get("sub"):
        raise Unauthenticated("A resident e-ID token is required")
    level = assurance_level(claims.get("acr"))
    if level < minimum_assurance:
        raise Unauthenticated(f"Log in with e-ID at assurance level {minimum_assurance} or higher")
    try:
        identity = parse_personal_identity(
            str(claims.get(PERSONAL_IDENTITY_NUMBER_CLAIM, "")), today=today_stockholm()
        )
    except InvalidInput:
        raise Unauthenticated("The token carries no valid personal identity number") from None
    return Resident(
        subject=str(claims["sub"]), identity=identity, name=str(claims.get("name", "")), assurance_level=level
    )


@dataclass(frozen=True, slots=True)
class Staff:
    """A logged-in staff member (SITHS, rule 13) and the commission they say they act under (rule 14)."""

    subject: str
    hsa_id: str
    name: str
    commission_id: str | None


def staff_from_claims(claims: dict[str, Any] | None, *, commission_id: str | None = None) -> Staff:
    """The logged-in staff member; 401 for a token without an HSA-ID or below assurance level 3."""
    if not claims or not claims.get("sub"):
        raise Unauthenticated("A SITHS token is required")
    if assurance_level(claims.get("acr")) < STAFF_MINIMUM_ASSURANCE:
        raise Unauthenticated("Log in with SITHS at assurance level 3")
    hsa_id = str(claims.get(HSA_ID_CLAIM, ""))
    if not is_hsa_id(hsa_id):
        raise Unauthenticated("The token carries no valid HSA-ID")
    return Staff(
        subject=str(claims["sub"]),
        hsa_id=hsa_id,
        name=str(claims.get("name", "")),
        commission_id=commission_id,
    )
