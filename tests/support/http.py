"""Talking to a running local runtime over HTTP, as a client would."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RegisteredResident:
    """A resident the running runtime knows, with a bearer token to call its API as them."""

    personnummer: str
    name: str
    patient_id: str
    token: str


def call(
    rt: Any, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    data = json.dumps(body).encode() if isinstance(body, dict) else body
    request = urllib.request.Request(rt.base_url + path, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def get_json(rt: Any, path: str, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    status, _, body = call(rt, "GET", path, headers=headers)
    return status, json.loads(body)


def send_json(
    rt: Any, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    status, _, raw = call(rt, method, path, body, {"content-type": "application/json", **(headers or {})})
    return status, json.loads(raw) if raw else None


def resident_token(rt: Any, personnummer: str, **extra: Any) -> str:
    status, _, body = call(rt, "POST", "/dev/idp/resident/token", {"personnummer": personnummer, **extra})
    assert status == 200, body
    return str(json.loads(body)["access_token"])


def staff_token(rt: Any, hsa_id: str) -> str:
    status, _, body = call(rt, "POST", "/dev/idp/staff/token", {"hsa_id": hsa_id})
    assert status == 200, body
    return str(json.loads(body)["access_token"])
