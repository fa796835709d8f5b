"""Rules 6, 7, 9 and 10: when a guardian may act for a child. Pure, so the boundaries are tested exactly."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from eservices_core.clock import stockholm_midnight
from eservices_core.registry import GuardianView, Patient

GUARDIAN_ACCESS_AGE = 13


class NoGuardianAccess(StrEnum):
    """Why a guardian may not act for a child; never told to the caller (they get 404), but logged/tested."""

    NOT_GUARDIAN = "not-guardian"
    CHILD_UNKNOWN = "child-unknown"
    CHILD_TOO_OLD = "child-13-or-older"
    BLOCKED = "guardian-blocked"
    PROTECTED_IDENTITY = "protected-identity"
    DECEASED = "child-deceased"


@dataclass(frozen=True, slots=True)
class GuardianAccess:
    until: datetime  # the instant access ends: 00:00 Europe/Stockholm on the 13th birthday, as UTC


def access_ends(birth_date: date) -> datetime:
    """00:00 Europe/Stockholm on the 13th birthday (a 29 February child turns 13 on 1 March)."""
    try:
        birthday = birth_date.replace(year=birth_date.year + GUARDIAN_ACCESS_AGE)
    except ValueError:
        birthday = date(birth_date.year + GUARDIAN_ACCESS_AGE, 3, 1)
    return stockholm_midnight(birthday)


def guardian_access(
    guardian: Patient | None, view: GuardianView, now: datetime
) -> GuardianAccess | NoGuardianAccess:
    """Whether `guardian` may act for the child of `view` at instant `now` (UTC), and until when."""
    child = view.child
    if not view.guardianship_active:
        return NoGuardianAccess.NOT_GUARDIAN
    if child is None or guardian is None or not (child.registered and guardian.registered):
        return NoGuardianAccess.CHILD_UNKNOWN
    if view.blocked:
        return NoGuardianAccess.BLOCKED
    if child.protected_identity or guardian.protected_identity:
        return NoGuardianAccess.PROTECTED_IDENTITY
    if child.deceased:
        return NoGuardianAccess.DECEASED
    until = access_ends(child.birth_date)
    if now >= until:
        return NoGuardianAccess.CHILD_TOO_OLD
    return GuardianAccess(until)
