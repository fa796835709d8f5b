"""The access policy's services, the identity store and the PDL audit log, built once per function from the
settings every patient-scoped function is given.

Kept apart from `eservices_core.routing` (which re-exports it for the API routes) so that functions without
HTTP routes (queue consumers, `ActiveUserFunction`) do not import Powertools' HTTP resolver at cold start:
make bench measured about 15 ms of the inbox delivery consumer's import going to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from eservices_core import aws
from eservices_core.audit import AuditLog
from eservices_core.config import require, require_int
from eservices_core.registry import Registry
from eservices_core.table import Table
from eservices_core.wiring import composition_root


@dataclass(frozen=True, slots=True)
class AccessServices:
    registry: Registry
    audit: AuditLog
    minimum_resident_assurance: int


@composition_root
def access_services() -> AccessServices:
    """The identity store and the audit log, from the settings every patient-scoped function is given."""
    client = aws.dynamodb()
    return AccessServices(
        registry=Registry(Table(client, require("IDENTITY_TABLE_NAME"))),
        audit=AuditLog(
            Table(client, require("AUDIT_TABLE_NAME")), timedelta(days=require_int("AUDIT_RETENTION_DAYS"))
        ),
        minimum_resident_assurance=require_int("MINIMUM_RESIDENT_ASSURANCE"),
    )
