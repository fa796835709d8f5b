"""Whether a person uses the e-services, for external systems (invoked with IAM, never with a resident's
token): `{"personal_identity_number": "<12 digits>"}` -> `{"active_user": bool, "channels": [...]}`.
It answers nothing else (rule 26): never an address, a number or a name. A person is an active user when
they have logged in within the last 13 months; `channels` are the kinds they verified ("email", "mobile")."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from eservices_core import aws
from eservices_core.clock import today_stockholm
from eservices_core.errors import InvalidInput
from eservices_core.identifiers import parse_personal_identity
from eservices_core.registry import Registry
from eservices_core.services import access_services  # not routing: no HTTP resolver here
from eservices_core.table import Table
from eservices_core.wiring import composition_root
from notifications.config import ActiveUserConfig
from notifications.store import NotificationStore

logger = Logger(service="notifications-active-users")
ACTIVE_WITHIN = timedelta(days=396)


def active_user(registry: Registry, store: NotificationStore, request: Any) -> dict[str, Any]:
    number = request.get("personal_identity_number") if isinstance(request, dict) else None
    try:
        identity = parse_personal_identity(number if isinstance(number, str) else "", today=today_stockholm())
    except InvalidInput:
        return {"error": "invalid-request", "detail": "personal_identity_number must be 12 valid digits"}
    patient_id = registry.patient_id_of(identity)
    seen = registry.last_seen(patient_id) if patient_id else None
    if patient_id is None or seen is None or seen < today_stockholm() - ACTIVE_WITHIN:
        return {"active_user": False, "channels": []}
    settings = store.settings(patient_id) or {}
    return {
        "active_user": True,
        "channels": [c for c in ("email", "mobile") if settings.get(f"{c}_verified")],
    }


@composition_root
def _wiring() -> tuple[Registry, NotificationStore]:
    config = ActiveUserConfig.from_env()
    return access_services().registry, NotificationStore(Table(aws.dynamodb(), config.table_name))


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    registry, store = _wiring()
    return active_user(registry, store, event)
