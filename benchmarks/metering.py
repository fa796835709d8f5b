"""What each function invocation asks of AWS, attributed to the invocation running in the calling thread.

`Meter.wrap(runner)` makes every invocation through the local runtime's `FunctionRunner` a metered
`Invocation` (wall time, and each AWS call its handler makes: service, operation, time spent waiting on the
emulator). With `capacity` on, DynamoDB calls also carry `ReturnConsumedCapacity=TOTAL` (injected in
`before-parameter-build`, read in `after-call`) and get capacity units computed from item sizes as AWS bills
them (`benchmarks.capacity`): the items before and after each write and every item a Query evaluated are
looked up with a separate, unmetered client. Those look-ups take time, so capacity is measured in passes of
its own and timings in passes without it.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from benchmarks.capacity import (
    TableShape,
    Units,
    item_size,
    key_condition_only,
    moto_reported,
    read_units,
    write_units,
)

SERVICES = ("dynamodb", "sqs", "stepfunctions", "events", "s3", "sns", "ses", "scheduler", "kms")
CAPACITY_OPERATIONS = frozenset(
    {
        "GetItem",
        "PutItem",
        "UpdateItem",
        "DeleteItem",
        "Query",
        "Scan",
        "BatchGetItem",
        "BatchWriteItem",
        "TransactGetItems",
        "TransactWriteItems",
    }
)
WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"})
CHUNK = 64 * 1024  # SQS and EventBridge bill each started 64 KB of a request or event as one


@dataclass
class Invocation:
    function: str
    thread: int
    label: str | None = None  # e.g. the workflow task's action
    seconds: float = 0.0
    waited: float = 0.0  # on AWS calls (the local emulator)
    calls: Counter[str] = field(default_factory=Counter)  # "service:Operation"
    units: Units = field(default_factory=Units)
    billed: Counter[str] = field(default_factory=Counter)  # sqs_requests, events, sfn_starts ...
    error: str | None = None
    metered: bool = False  # capacity units were computed for the whole invocation

    def round_trips(self, service: str) -> int:
        return sum(n for k, n in self.calls.items() if k.startswith(f"{service}:"))


@dataclass
class _Pending:
    started: float
    operation: str
    params: dict[str, Any]
    before: dict[tuple[str, str], dict[str, Any] | None] = field(default_factory=dict)


class Meter:
    def __init__(self) -> None:
        self.capacity = False
        self.finished: list[Invocation] = []
        self._local = threading.local()
        self._lock = threading.Lock()
        self._shapes: dict[str, TableShape] = {}
        self._plain_client: Any = None

    # ---- invocations ------------------------------------------------------------------------------------------
    def wrap(self, runner: Any, label: Callable[[str, Any], str | None] = lambda fn, event: None) -> None:
        """Meter every invocation the runner makes from now on (the gateway's, the pollers', the workflow's);
        `label(function, event)` names what kind of invocation it was, if that matters."""
        invoke = runner.invoke

        def metered(logical_id: str, event: dict[str, Any]) -> Any:
            with self.invocation(logical_id, label(logical_id, event)):
                return invoke(logical_id, event)

        runner.invoke = metered

    @contextmanager
    def invocation(self, function: str, label: str | None = None) -> Iterator[Invocation]:
        record = Invocation(function, threading.get_ident(), label, metered=self.capacity)
        stack = self._stack()
        stack.append(record)
        started = time.perf_counter()
        try:
            yield record
        except BaseException as error:
            record.error = type(error).__name__
            raise
        finally:
            record.seconds = time.perf_counter() - started
            record.metered = record.metered and self.capacity
            stack.pop()
            with self._lock:
                self.finished.append(record)

    def mark(self) -> int:
        with self._lock:
            return len(self.finished)

    def since(self, mark: int, *, thread: int | None = None, function: str | None = None) -> list[Invocation]:
        with self._lock:
            found = self.finished[mark:]
        return [
            i
            for i in found
            if (thread is None or i.thread == thread) and (function is None or i.function == function)
        ]

    def _stack(self) -> list[Invocation]:
        if not hasattr(self._local, "stack"):
            self._local.stack = []
            self._local.pending = None
        stack: list[Invocation] = self._local.stack
        return stack

    def _current(self) -> Invocation | None:
        stack = self._stack()
        return stack[-1] if stack else None

    # ---- botocore hooks -----------------------------------------------------------------------------------------
    @contextmanager
    def watching(self) -> Iterator[None]:
        from eservices_core import aws

        with ExitStack() as stack:
            for service in SERVICES:
                stack.enter_context(
                    aws.watching(service, "before-parameter-build", partial(self._parameters, service))
                )
                stack.enter_context(aws.watching(service, "before-call", partial(self._before, service)))
                stack.enter_context(aws.watching(service, "after-call", partial(self._after, service)))
            yield

    def _parameters(
        self, service: str, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any
    ) -> None:
        """The call's API parameters (`before-call` sees only the serialised request), kept in its context."""
        if self._current() is None:
            return
        if service == "dynamodb" and self.capacity and model.name in CAPACITY_OPERATIONS:
            params["ReturnConsumedCapacity"] = "TOTAL"
        context["bench_params"] = params

    def _before(self, service: str, model: Any, context: dict[str, Any], **_: Any) -> None:
        record = self._current()
        if record is None:
            return
        params: dict[str, Any] = context.get("bench_params", {})
        record.calls[f"{service}:{model.name}"] += 1
        _bill(record, service, model.name, params)
        pending = _Pending(0.0, model.name, params)
        if service == "dynamodb" and self.capacity and model.name in WRITES:
            pending.before = {key: self._get(*key) for key in self._written_keys(model.name, params)}
        pending.started = time.perf_counter()
        self._local.pending = pending

    def _after(self, service: str, model: Any, parsed: Mapping[str, Any], **_: Any) -> None:
        record = self._current()
        pending: _Pending | None = getattr(self._local, "pending", None)
        if record is None or pending is None:
            return
        record.waited += time.perf_counter() - pending.started
        self._local.pending = None
        if service == "dynamodb" and self.capacity and model.name in CAPACITY_OPERATIONS:
            record.units.moto_reported += moto_reported(parsed)
            self._units(record.units, pending, parsed)

    # ---- capacity from item sizes -------------------------------------------------------------------------------
    def _units(self, units: Units, call: _Pending, parsed: Mapping[str, Any]) -> None:
        op, params = call.operation, call.params
        failed = "Error" in parsed
        if op == "GetItem":
            item = self._get(params["TableName"], _key_text(params["Key"]))
            units.add(params["TableName"], read=read_units(item_size(item), consistent=_consistent(params)))
        elif op == "BatchGetItem":
            for table, request in params["RequestItems"].items():
                unprocessed = {
                    _key_text(k) for k in (parsed.get("UnprocessedKeys", {}).get(table, {}).get("Keys", []))
                }
                for key in request["Keys"]:
                    if _key_text(key) in unprocessed:
                        continue
                    size = item_size(self._get(table, _key_text(key)))
                    units.add(table, read=read_units(size, consistent=bool(request.get("ConsistentRead"))))
        elif op == "TransactGetItems":
            for action in params["TransactItems"]:
                get = action["Get"]
                size = item_size(self._get(get["TableName"], _key_text(get["Key"])))
                units.add(get["TableName"], read=read_units(size, consistent=True, transactional=True))
        elif op in ("Query", "Scan"):
            if failed:
                return
            evaluated = self._evaluated(op, params)
            units.add(params["TableName"], read=read_units(evaluated, consistent=_consistent(params)))
        elif op in ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem"):
            for (table, key), old in call.before.items():
                new = None if op == "DeleteItem" or _deletes(params, table, key) else self._get(table, key)
                if failed:
                    units.add(table, write=write_units(item_size(old)))
                    continue
                units.add(
                    table,
                    write=write_units(max(item_size(old), item_size(new))),
                    index_write=self._shape(table).index_write_units(old, new),
                )
        elif op == "TransactWriteItems":
            kinds = {_action_key(a, self._shape): kind for a in params["TransactItems"] for kind in a}
            for (table, key), old in call.before.items():
                kind = kinds[(table, key)]
                if failed:
                    units.add(table, write=write_units(item_size(old)))
                    continue
                new = None if kind == "Delete" else self._get(table, key)
                size = item_size(old) if kind == "ConditionCheck" else max(item_size(old), item_size(new))
                index = 0.0 if kind == "ConditionCheck" else self._shape(table).index_write_units(old, new)
                units.add(table, write=write_units(size, transactional=True), index_write=index)

    def _evaluated(self, op: str, params: Mapping[str, Any]) -> int:
        """The bytes a Query or Scan read: the same request without filter or projection, whole items."""
        request = key_condition_only(params)
        shape = self._shape(params["TableName"])
        index = shape.index(params.get("IndexName"))
        items = getattr(self._plain(), "query" if op == "Query" else "scan")(**request).get("Items", [])
        if index is not None:
            items = [shape.projected(i, index) or i for i in items]
        return sum(item_size(i) for i in items)

    def _written_keys(self, op: str, params: Mapping[str, Any]) -> list[tuple[str, str]]:
        if op == "PutItem":
            return [(params["TableName"], _key_text(self._shape(params["TableName"]).key_of(params["Item"])))]
        if op in ("UpdateItem", "DeleteItem"):
            return [(params["TableName"], _key_text(params["Key"]))]
        if op == "BatchWriteItem":
            keys = []
            for table, requests in params["RequestItems"].items():
                for request in requests:
                    if "PutRequest" in request:
                        key = self._shape(table).key_of(request["PutRequest"]["Item"])
                    else:
                        key = request["DeleteRequest"]["Key"]
                    keys.append((table, _key_text(key)))
            return keys
        return [_action_key(action, self._shape) for action in params["TransactItems"]]

    def _get(self, table: str, key: str) -> dict[str, Any] | None:
        item: dict[str, Any] | None = (
            self._plain().get_item(TableName=table, Key=json.loads(key), ConsistentRead=True).get("Item")
        )
        return item

    def _shape(self, table: str) -> TableShape:
        if table not in self._shapes:
            self._shapes[table] = TableShape.from_description(
                self._plain().describe_table(TableName=table)["Table"]
            )
        return self._shapes[table]

    def _plain(self) -> Any:
        """A client of our own (not one of the handlers', so not metered) for the look-ups."""
        if self._plain_client is None:
            import boto3

            self._plain_client = boto3.session.Session().client("dynamodb")
        return self._plain_client


def _bill(record: Invocation, service: str, operation: str, params: Mapping[str, Any]) -> None:
    """What the service bills for this call, beside the call itself."""
    if service == "sqs" and operation in ("SendMessage", "SendMessageBatch"):
        bodies = (
            [params["MessageBody"]]
            if operation == "SendMessage"
            else [e["MessageBody"] for e in params["Entries"]]
        )
        record.billed["sqs_requests"] += max(1, -(-sum(len(b.encode()) for b in bodies) // CHUNK))
        record.billed["sqs_messages"] += len(bodies)
    elif service == "sqs":
        record.billed["sqs_requests"] += 1
    elif service == "events" and operation == "PutEvents":
        record.billed["events"] += sum(
            max(1, -(-len(json.dumps(e).encode()) // CHUNK)) for e in params.get("Entries", [])
        )
    elif service == "stepfunctions" and operation == "StartExecution":
        record.billed["sfn_standard_starts"] += 1
    elif service == "s3":
        tier = "s3_get_requests" if operation.startswith(("Get", "Head")) else "s3_put_requests"
        record.billed[tier] += 1
    elif service == "sns" and operation == "Publish":
        record.billed["sms" if "PhoneNumber" in params else "sns_publishes"] += 1
    elif service == "ses" and operation.startswith("Send"):
        record.billed["emails"] += 1


def _key_text(key: Mapping[str, Any]) -> str:
    return json.dumps(dict(key), sort_keys=True)


def _action_key(action: Mapping[str, Any], shape: Callable[[str], TableShape]) -> tuple[str, str]:
    ((kind, body),) = action.items()
    key = shape(body["TableName"]).key_of(body["Item"]) if kind == "Put" else body["Key"]
    return body["TableName"], _key_text(key)


def _deletes(params: Mapping[str, Any], table: str, key: str) -> bool:
    for request in params.get("RequestItems", {}).get(table, []):
        if "DeleteRequest" in request and _key_text(request["DeleteRequest"]["Key"]) == key:
            return True
    return False


def _consistent(params: Mapping[str, Any]) -> bool:
    return bool(params.get("ConsistentRead"))
