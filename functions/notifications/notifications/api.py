"""Notification settings API: a resident's own e-mail and mobile number (each verified by a code before
use) and which events notify them. Guardians get notifications about a child through their own settings,
so a child's settings are the child's own (guardians excluded). Never shown to external systems."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from eservices_core import aws
from eservices_core.access import AccessGrant, Action
from eservices_core.apidoc import described
from eservices_core.audit import Verb
from eservices_core.aws import is_transient
from eservices_core.clock import now_utc
from eservices_core.errors import Conflict, InvalidInput, ServiceUnavailable
from eservices_core.requests import json_object
from eservices_core.routing import RESIDENT, EServiceResolver
from eservices_core.table import ConditionFailed, Table
from eservices_core.wiring import composition_root
from notifications import api_schemas as s
from notifications.config import NotificationsConfig
from notifications.store import KINDS, NotificationStore, iso, settings_key

logger = Logger(service="notifications")
app = EServiceResolver(logger)

READ_SETTINGS = Action(Verb.READ, "notification-settings", guardians=False)
WRITE_SETTINGS = Action(Verb.WRITE, "notification-settings", guardians=False)
SETTINGS = "/v1/patients/<patientId>/notification-settings"
CHANNELS = ("email", "mobile")
CODE_MINUTES = 15
MAX_ATTEMPTS = 5
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s.]{2,}\Z")
E164 = re.compile(r"^\+[1-9]\d{7,14}\Z", re.ASCII)


class VerificationFailed(Conflict):
    code = "verification-failed"
    title = "The code could not be verified"


@composition_root
def _wiring() -> tuple[NotificationStore, Any, str]:
    config = NotificationsConfig.from_env()
    store = NotificationStore(Table(aws.dynamodb(), config.table_name))
    return store, aws.Lazy(aws.sqs), config.send_queue_url  # SQS only when a code is sent: made on first use


def view(settings: dict[str, Any] | None) -> dict[str, Any]:
    settings = settings or {}
    return {
        channel: {"address": settings[channel], "verified": bool(settings.get(f"{channel}_verified"))}
        if settings.get(channel)
        else None
        for channel in CHANNELS
    } | {"events": {k: bool((settings.get("events") or {}).get(k, True)) for k in KINDS}}


@app.patient_route("GET", SETTINGS, action=READ_SETTINGS, audience=RESIDENT)
@described({200: s.SETTINGS})
def read_settings(grant: AccessGrant) -> dict[str, Any]:
    """The patient's own notification settings (a guardian's are their own: 403 for a child's)."""
    store, _, _ = _wiring()
    return view(store.settings(grant.patient_id))


@app.patient_route("PUT", SETTINGS, action=WRITE_SETTINGS, audience=RESIDENT)
@described({200: s.SETTINGS}, body=s.CHANGE)
def write_settings(grant: AccessGrant) -> dict[str, Any]:
    """Change the patient's own e-mail address, mobile number and which events notify them.

    `email` and `mobile` (null to remove), `events` {inbox, cases, booking}. A new address is unverified
    until its code comes back; the code is sent to it at once."""
    body = json_object(app.current_event.body)
    unknown = set(body) - {"email", "mobile", "events"}
    if unknown:
        raise InvalidInput.for_param(sorted(unknown)[0], "is not a setting")
    store, _, _ = _wiring()
    stored = store.settings_and_codes(grant.patient_id, CHANNELS)
    current = stored.get(settings_key(grant.patient_id)) or {}
    addresses = {c: _address(c, body[c]) if c in body else current.get(c) for c in CHANNELS}
    events = body.get("events", current.get("events") or {k: True for k in KINDS})
    if (
        not isinstance(events, dict)
        or set(events) - set(KINDS)
        or not all(isinstance(v, bool) for v in events.values())
    ):
        raise InvalidInput.for_param("events", f"must map {', '.join(KINDS)} to true or false")
    now = now_utc()
    settings: dict[str, Any] = {
        "patient_id": grant.patient_id,
        "events": {k: events.get(k, True) for k in KINDS},
    }
    codes: dict[str, dict[str, Any]] = {}
    plain: dict[str, str] = {}
    for channel in CHANNELS:
        address = addresses[channel]
        if not address:
            continue
        settings[channel] = address
        unchanged = address == current.get(channel)
        settings[f"{channel}_verified"] = bool(unchanged and current.get(f"{channel}_verified"))
        if not settings[f"{channel}_verified"] and channel in body:
            code = f"{secrets.randbelow(1_000_000):06d}"
            plain[channel] = code
            codes[channel] = {
                "code_hash": _hash(grant.patient_id, channel, code),
                "address": address,
                "expires_at": int((now + timedelta(minutes=CODE_MINUTES)).timestamp()),
                "attempts": 0,
            }
    settings["updated_at"] = iso(now)
    store.save_settings(settings, codes)
    if plain:
        _send_codes(grant.patient_id, plain, lambda: store.restore(grant.patient_id, CHANNELS, stored))
    return view(settings)


def _send_codes(patient_id: str, plain: dict[str, str], undo: Callable[[], None]) -> None:
    """The codes to the send queue in one call. If they cannot be sent, the saved settings are put back as they
    were (no code nobody received stays waiting) and the caller is asked to try again."""
    _, sqs, queue_url = _wiring()
    messages = {
        c: {"patient_id": patient_id, "channel": c, "kind": "code", "code": code} for c, code in plain.items()
    }
    entries = [{"Id": channel, "MessageBody": json.dumps(body)} for channel, body in messages.items()]
    try:
        failed = sqs.send_message_batch(QueueUrl=queue_url, Entries=entries).get("Failed", [])
    except Exception as error:
        if not is_transient(error):
            raise
        failed = entries
    if failed:
        undo()
        raise ServiceUnavailable("The code could not be sent; nothing was changed, try again")


@app.patient_route("POST", f"{SETTINGS}/verification", action=WRITE_SETTINGS, audience=RESIDENT)
@described({200: s.SETTINGS}, body=s.VERIFICATION, problems=(409,))
def verify(grant: AccessGrant) -> dict[str, Any]:
    """Verify an address with the code sent to it: at most five attempts within 15 minutes.

    A wrong, expired or missing code is 409 `verification-failed` (with `reason`)."""
    body = json_object(app.current_event.body)
    channel, code = body.get("channel"), body.get("code")
    if channel not in CHANNELS:
        raise InvalidInput.for_param("channel", "must be email or mobile")
    if not isinstance(code, str) or not re.fullmatch(r"\d{6}", code, re.ASCII):
        raise InvalidInput.for_param("code", "must be the six digits that were sent")
    store, _, _ = _wiring()
    pending = store.code(grant.patient_id, channel)
    if pending is None or int(pending["expires_at"]) < now_utc().timestamp():
        raise VerificationFailed(
            "No code is waiting: save the address again to get a new one", reason="no-code"
        )
    if int(pending["attempts"]) >= MAX_ATTEMPTS:
        raise VerificationFailed(
            "Too many attempts: save the address again to get a new code", reason="too-many-attempts"
        )
    if not hmac.compare_digest(pending["code_hash"], _hash(grant.patient_id, channel, code)):
        store.count_attempt(grant.patient_id, channel)
        raise VerificationFailed(
            "The code is not the one sent",
            reason="wrong-code",
            attempts_left=MAX_ATTEMPTS - int(pending["attempts"]) - 1,
        )
    settings = store.settings(grant.patient_id) or {}  # read first: nothing may fail after the change
    try:
        store.verified(grant.patient_id, channel, pending["address"])
    except ConditionFailed:
        raise VerificationFailed(
            "The address changed after the code was sent: save it again to get a new code",
            reason="address-changed",
        ) from None
    return view(settings | {f"{channel}_verified": True})


def _address(channel: str, value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInput.for_param(channel, "must be a text or null")
    if channel == "email":
        address = value.strip()
        if len(address) > 254 or not EMAIL.match(address):
            raise InvalidInput.for_param("email", "is not an e-mail address")
        return address
    number = re.sub(r"[\s-]", "", value)
    if number.startswith("00"):
        number = "+" + number[2:]
    elif number.startswith("0"):
        number = "+46" + number[1:]
    if not E164.match(number) or (number.startswith("+46") and not number.startswith("+467")):
        raise InvalidInput.for_param("mobile", "is not a mobile number (e.g. 070-123 45 67 or +46701234567)")
    return number


def _hash(patient_id: str, channel: str, code: str) -> str:
    return hashlib.sha256(f"{patient_id}:{channel}:{code}".encode()).hexdigest()


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
