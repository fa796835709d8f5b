"""Fault injection for integration tests: count the AWS calls a handler makes, fail the k-th one with an AWS
error code, snapshot and restore what moto stores, and make generated ids repeatable so that a retried request
can be compared item by item with a clean run of the same request."""

from __future__ import annotations

import copy
import json
import random
import secrets
import sys
import threading
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

from botocore.exceptions import ClientError

from eservices_core import aws
from tests.support.aws import Stack

ACCOUNT, REGION = "123456789012", "eu-north-1"

# Per service, a throttling error and a service fault, as AWS answers them.
FAULTS: dict[str, tuple[str, ...]] = {
    "dynamodb": ("ProvisionedThroughputExceededException", "ThrottlingException", "InternalServerError"),
    "s3": ("SlowDown", "InternalError"),
    "sqs": ("ThrottlingException", "InternalFailure"),
    "events": ("ThrottlingException", "InternalException"),
    "stepfunctions": ("ThrottlingException", "InternalFailure"),
    "sns": ("Throttling", "InternalError"),
    "ses": ("Throttling", "ServiceUnavailable"),
}
# Calls whose effect leaves the stored items (they are compared through what moto stores instead).
EFFECTS = frozenset(
    {
        "StartExecution",
        "SendTaskSuccess",
        "SendTaskFailure",
        "PutEvents",
        "SendMessage",
        "Publish",
        "SendEmail",
    }
)
# Modules whose uuid4 / randomness is made repeatable (never botocore's or moto's own).
OWN_PACKAGES = frozenset(
    {"cases", "booking", "identity", "inbox", "notifications", "directory", "eservices_core", "local_runtime"}
)


@dataclass
class Calls:
    """The AWS calls of one thread, in order; `fail_at` (1-based) makes that call raise `code`."""

    thread: int
    fail_at: int | None = None
    code: str = ""
    made: list[tuple[str, str]] = field(default_factory=list)
    effects: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    injected: tuple[str, str] | None = None
    injected_params: dict[str, Any] = field(default_factory=dict)
    tables: set[str] = field(default_factory=set)  # every DynamoDB table a call named ("s3" for any S3 call)
    only_while: Any = None  # a callable: count only while it answers True (e.g. one record of a batch)
    _params: dict[str, Any] = field(default_factory=dict)
    _pending: dict[int, tuple[str, str, dict[str, Any]]] = field(default_factory=dict)

    def counting(self) -> bool:
        return threading.get_ident() == self.thread and (self.only_while is None or self.only_while())

    def before_parameter_build(self, model: Any, params: Any = None, **_: Any) -> None:
        if threading.get_ident() == self.thread:
            self.tables |= _table_names(params or {})
            if model.service_model.service_name == "s3":
                self.tables.add("s3")
        if self.counting():
            self._params = copy.deepcopy(params or {})

    def before_call(self, model: Any, **_: Any) -> None:
        if not self.counting():
            return
        service = model.service_model.service_name
        self.made.append((service, model.name))
        if len(self.made) == self.fail_at:
            self.injected, self.injected_params = (service, model.name), self._params
            status = 500 if "Internal" in self.code or "Unavailable" in self.code else 400
            response: Any = {
                "Error": {"Code": self.code, "Message": "injected by the test"},
                "ResponseMetadata": {"HTTPStatusCode": status},
            }
            raise ClientError(response, model.name)
        if model.name in EFFECTS:
            self._pending[len(self.made)] = (service, model.name, self._params)

    def after_call(self, model: Any, parsed: Any = None, **_: Any) -> None:
        if not self.counting() or model.name not in EFFECTS:
            return
        call = self._pending.pop(len(self.made), None)
        error = (parsed or {}).get("Error", {}).get("Code")
        if call is not None and (error is None or error == "ExecutionAlreadyExists"):
            self.effects.append(call)


def _table_names(params: Any) -> set[str]:
    """The tables a DynamoDB request names, wherever it names them (TableName, RequestItems, TransactItems)."""
    if isinstance(params, dict):
        found = {params["TableName"]} if isinstance(params.get("TableName"), str) else set()
        if isinstance(params.get("RequestItems"), dict):
            found |= set(params["RequestItems"])
        return found.union(*(_table_names(v) for v in params.values()))
    if isinstance(params, list):
        return set().union(*(_table_names(v) for v in params))
    return set()


@contextmanager
def watching(calls: Calls) -> Iterator[Calls]:
    """Count (and fail) the calls of every handler client of the services in FAULTS."""
    with ExitStack() as stack:
        for service in FAULTS:
            stack.enter_context(aws.watching(service, "before-parameter-build", calls.before_parameter_build))
            stack.enter_context(aws.watching(service, "before-call", calls.before_call))
            stack.enter_context(aws.watching(service, "after-call", calls.after_call))
        yield calls


@contextmanager
def repeatable(seed: int | str = 0) -> Iterator[random.Random]:
    """The platform's own uuid4, `random` and `secrets.randbelow` draw from one seeded generator, so the same
    request run twice writes the same ids (case, appointment, outbox entry, request id, code)."""
    rng = random.Random(seed)
    real_uuid4, real_randbelow = uuid.uuid4, secrets.randbelow
    saved = random.getstate()

    def own(depth: int = 2) -> bool:
        return sys._getframe(depth).f_globals.get("__name__", "").split(".")[0] in OWN_PACKAGES

    def uuid4() -> uuid.UUID:
        return uuid.UUID(int=rng.getrandbits(128), version=4) if own() else real_uuid4()

    def randbelow(n: int) -> int:
        return rng.randrange(n) if own() else real_randbelow(n)

    random.seed(seed)
    try:
        with mock.patch.object(uuid, "uuid4", uuid4), mock.patch.object(secrets, "randbelow", randbelow):
            yield rng
    finally:
        random.setstate(saved)


@contextmanager
def records_apart(rng: random.Random) -> Iterator[dict[str, str | None]]:
    """While Powertools' BatchProcessor handles a record, `current["id"]` is its message id, and ids drawn while
    handling it depend on that record only (so a redelivered record writes what it wrote in its batch)."""
    from aws_lambda_powertools.utilities.batch import BatchProcessor

    current: dict[str, str | None] = {"id": None}
    process = BatchProcessor._process_record

    def one_record(self: Any, record: dict[str, Any]) -> Any:
        current["id"] = record["messageId"]
        rng.seed(record["messageId"])
        random.seed(record["messageId"])
        try:
            return process(self, record)
        finally:
            current["id"] = None

    with mock.patch.object(BatchProcessor, "_process_record", one_record):
        yield current


# ---- what moto stores ---------------------------------------------------------------------------------------------
@dataclass
class State:
    """Every item of every table of the template, and the tags of every attachment version."""

    tables: dict[str, Any]  # table name -> moto's items structure (deep copy)
    tags: dict[tuple[str, str, str], tuple[tuple[str, str], ...]]

    def items(self, name: str) -> dict[tuple[str, str], dict[str, Any]]:
        found: dict[tuple[str, str], dict[str, Any]] = {}
        for hashed in self.tables[name].values():
            for item in hashed.values() if isinstance(hashed, dict) else [hashed]:
                key = (str(item.hash_key.value), str(item.range_key.value if item.range_key else ""))
                found[key] = item.to_json()["Attributes"]
        return found


def _dynamodb() -> Any:
    from moto.dynamodb.models import dynamodb_backends

    return dynamodb_backends[ACCOUNT][REGION]


def table_names(stack: Stack) -> dict[str, str]:
    """Logical id -> physical name of every DynamoDB table of the template."""
    return {t: stack.ref(t) for t in stack.deployment.template.of_type("AWS::DynamoDB::Table")}


def bucket_names(stack: Stack) -> list[str]:
    return [stack.ref(b) for b in stack.deployment.template.of_type("AWS::S3::Bucket")]


def snapshot(stack: Stack, since: State | None = None, touched: set[str] | None = None) -> State:
    """What is stored now. With `since` and what calls `touched` since then (table names, "s3"), only that is
    read again (nothing else writes to the emulator while a test runs a request)."""
    backend = _dynamodb()
    tables = {
        name: copy.deepcopy(backend.tables[name].items)
        if since is None or touched is None or name in touched
        else since.tables[name]
        for name in table_names(stack).values()
    }
    tags = (
        since.tags
        if since is not None and touched is not None and "s3" not in touched
        else object_tags(stack)
    )
    return State(tables, tags)


def object_tags(stack: Stack) -> dict[tuple[str, str, str], tuple[tuple[str, str], ...]]:
    """(bucket, key, version) -> the version's tags, for every object version in the template's buckets."""
    s3 = stack.session.client("s3")
    tags = {}
    for bucket in bucket_names(stack):
        for version in s3.list_object_versions(Bucket=bucket).get("Versions", []):
            key, version_id = version["Key"], version["VersionId"]
            tagging = s3.get_object_tagging(Bucket=bucket, Key=key, VersionId=version_id)["TagSet"]
            tags[(bucket, key, version_id)] = tuple(sorted((t["Key"], t["Value"]) for t in tagging))
    return tags


def restore(stack: Stack, state: State, touched: set[str] | None = None) -> None:
    """Put every table (or those `touched`) and tag back as `state` has them (as moto restores a backup)."""
    backend = _dynamodb()
    for name, items in state.tables.items():
        if touched is None or name in touched:
            backend.tables[name].items = copy.deepcopy(items)
    s3 = stack.session.client("s3")
    now = object_tags(stack)
    for (bucket, key, version_id), tags in state.tags.items():
        if now.get((bucket, key, version_id)) != tags:
            s3.put_object_tagging(
                Bucket=bucket,
                Key=key,
                VersionId=version_id,
                Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in tags]},
            )


def differences(before: State, after: State) -> dict[str, dict[tuple[str, str], tuple[Any, Any]]]:
    """Per table, the items added, changed or removed: key -> (before, after)."""
    changed: dict[str, dict[tuple[str, str], tuple[Any, Any]]] = {}
    for name in before.tables:
        if before.tables[name] is after.tables[name]:
            continue
        old, new = before.items(name), after.items(name)
        diff = {k: (old.get(k), new.get(k)) for k in old.keys() | new.keys() if old.get(k) != new.get(k)}
        if diff:
            changed[name] = diff
    return changed


def effect_view(effect: tuple[str, str, dict[str, Any]]) -> str:
    """A call's effect, comparable between runs (EventBridge entries and messages as parsed JSON)."""
    service, operation, params = effect
    if operation == "PutEvents":
        params = {"Entries": [e | {"Detail": json.loads(e["Detail"])} for e in params.get("Entries", [])]}
    elif operation == "SendMessage":
        params = params | {"MessageBody": json.loads(params["MessageBody"])}
    return json.dumps([service, operation, params], sort_keys=True, default=str)
