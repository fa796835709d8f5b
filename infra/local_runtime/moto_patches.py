"""Corrections to moto that make it behave like DynamoDB where the platform depends on it.

moto 5.2 backs up every table a TransactWriteItems touches with a deep copy before applying it, so each
transaction costs time proportional to the table (feeding 12,000 care units took hours). DynamoDB's
semantics are simpler: every condition is evaluated against the state before the transaction, then all
writes apply or none. This replacement does exactly that and snapshots only the items it touches.

moto's SQS also recomputes every queue attribute (walking all messages) for each message it receives, to
read the retention period: receiving from a queue of n messages cost O(n) per message. The replacement reads
the one attribute it needs. Sending did the same (to read ContentBasedDeduplication), three walks of the queue
per message sent, and GetQueueAttributes recomputed them all for each name asked and again for its value: with
10,000 messages queued a SendMessageBatch took 336 ms and a GetQueueAttributes 203 ms of CPU (inbox burst,
tests/e2e/test_inbox_burst.py). Sends now skip the message counts, and GetQueueAttributes computes the
attributes once, with the counts only when asked for.

moto's Query on a table (not an index) sorts every item of the table to find one partition; the replacement
hands it just that partition, so a query costs what it costs in DynamoDB: the size of what it reads.

moto builds an item attribute by attribute, re-adding the sizes of all earlier attributes at each one to
enforce the 400 KB limit: quadratic in the attributes. A directory cell item holds one attribute per care unit
in its square (up to some 230 in the national catalogue), so each change to it cost tens of thousands of size
walks. The replacement checks the same limit once, on the whole item.

moto is pinned to 5.2.x for these and for the Lambda patch point; tests/unit/test_moto_patches.py guards them.
"""

from __future__ import annotations

import copy
import threading
from typing import Any

_installed = False
_query_scope = threading.local()


def install() -> None:
    global _installed
    if _installed:
        return
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table
    from moto.sqs.models import Queue, SQSBackend

    DynamoDBBackend.transact_write_items = _transact_write_items  # type: ignore[method-assign]
    SQSBackend.is_message_valid_based_on_retention_period = _is_retained  # type: ignore[method-assign]
    _patch_queue_counts(Queue, SQSBackend)
    _patch_partition_query(Table)
    _patch_item_size_check()
    _installed = True


def _patch_item_size_check() -> None:
    from moto.dynamodb.exceptions import ItemSizeTooLarge
    from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict
    from moto.dynamodb.models.utilities import bytesize

    def init(self: Any, hash_key: Any, range_key: Any, attrs: dict[str, Any]) -> None:
        self.hash_key, self.range_key = hash_key, range_key
        converted = {key: DynamoType(value) for key, value in attrs.items()}
        if sum(bytesize(key) + value.size() for key, value in converted.items()) > ITEM_SIZE_LIMIT:
            raise ItemSizeTooLarge
        self.attrs = LimitedSizeDict(converted)  # its __init__ adds without the per-attribute walk

    Item.__init__ = init  # type: ignore[method-assign]


ITEM_SIZE_LIMIT = 405_000  # moto's own limit (DynamoDB refuses between 409 and 410 KB)


def _patch_partition_query(table_class: Any) -> None:
    every_item, query = table_class.all_items, table_class.query

    def all_items(self: Any) -> list[Any]:
        scope = getattr(_query_scope, "partition", None)
        if scope is not None and scope[0] is self:
            return list(scope[1])
        return list(every_item(self))

    def partition_query(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = args[6] if len(args) > 6 else kwargs.get("index_name")
        if index_name is not None or hash_key is None or not self.range_key_attr:
            return query(self, hash_key, *args, **kwargs)
        partition = self.items[hash_key].values() if hash_key in self.items else []
        _query_scope.partition = (self, partition)
        try:
            return query(self, hash_key, *args, **kwargs)
        finally:
            _query_scope.partition = None

    table_class.all_items = all_items
    table_class.query = partition_query


_COUNTS = {
    "ApproximateNumberOfMessages": "approximate_number_of_messages",
    "ApproximateNumberOfMessagesNotVisible": "approximate_number_of_messages_not_visible",
    "ApproximateNumberOfMessagesDelayed": "approximate_number_of_messages_delayed",
}
_sqs_scope = threading.local()


def _patch_queue_counts(queue_class: Any, backend_class: Any) -> None:
    """The message counts (each a walk of the whole queue) only where they are read."""
    for name in _COUNTS.values():
        count = getattr(queue_class, name).fget

        def counted(self: Any, count: Any = count) -> int:
            return 0 if getattr(_sqs_scope, "uncounted", False) else int(count(self))

        setattr(queue_class, name, property(counted))
    send_message = backend_class.send_message

    def uncounted_send(self: Any, *args: Any, **kwargs: Any) -> Any:
        _sqs_scope.uncounted = True  # a send reads only ContentBasedDeduplication of the attributes
        try:
            return send_message(self, *args, **kwargs)
        finally:
            _sqs_scope.uncounted = False

    def get_queue_attributes(self: Any, queue_name: str, attribute_names: list[str]) -> dict[str, Any]:
        from moto.sqs.exceptions import InvalidAttributeName

        queue = self.get_queue(queue_name)
        if not attribute_names:
            return {}
        valid = ["All", *queue.BASE_ATTRIBUTES, *queue.FIFO_ATTRIBUTES, *queue.KMS_ATTRIBUTES]
        invalid = next((name for name in attribute_names if name not in valid), None)
        if invalid or invalid == "":
            raise InvalidAttributeName(invalid)
        _sqs_scope.uncounted = not any(name in ("All", *_COUNTS) for name in attribute_names)
        try:
            attributes: dict[str, Any] = queue.attributes  # once, not once per name asked and again per value
        finally:
            _sqs_scope.uncounted = False
        if "All" in attribute_names:
            return attributes
        return {name: attributes[name] for name in attribute_names if attributes.get(name) is not None}

    backend_class.send_message = uncounted_send
    backend_class.get_queue_attributes = get_queue_attributes


def _is_retained(self: Any, queue_name: str, message: Any) -> bool:
    from moto.core.utils import unix_time

    retention = int(self.get_queue(queue_name).message_retention_period)
    return bool(retention + message.sent_timestamp / 1000 > unix_time())


def _transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
    from moto.dynamodb.comparisons import get_filter_expression
    from moto.dynamodb.exceptions import (
        MultipleTransactionsException,
        TooManyTransactionsException,
        TransactionCanceledException,
        TransactWriteSingleOpException,
    )

    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    targets: set[tuple[str, str]] = set()
    plan: list[tuple[str, dict[str, Any], dict[str, Any], Any]] = []
    errors: list[tuple[str | None, str | None, dict[str, Any] | None]] = []
    for entry in transact_items:
        if len(entry) > 1:
            raise TransactWriteSingleOpException
        op_type, op = next(iter(entry.items()))
        if op_type not in {"ConditionCheck", "Put", "Delete", "Update"}:
            raise ValueError("Unsupported transaction operation")
        table = self.get_table(op["TableName"])
        if op_type == "Put":
            key = {table.hash_key_attr: op["Item"][table.hash_key_attr]}
            if table.range_key_attr is not None:
                key[table.range_key_attr] = op["Item"][table.range_key_attr]
        else:
            key = op["Key"]
        target = (op["TableName"], str(sorted(key.items())))
        if target in targets:
            raise MultipleTransactionsException()
        targets.add(target)
        current = self.get_item(op["TableName"], key)
        condition = op.get("ConditionExpression")
        if condition is not None:
            check = get_filter_expression(
                condition, op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
            )
            if not check.expr(current):
                old = (
                    current.to_json()["Attributes"]
                    if current and op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD"
                    else None
                )
                errors.append(("ConditionalCheckFailed", "The conditional request failed", old))
                continue
        errors.append((None, None, None))
        # Only an update changes the stored item in place; a put or delete replaces it and leaves `current` as it was.
        plan.append((op_type, op, key, copy.deepcopy(current) if op_type == "Update" else current))
    if any(code is not None for code, _, _ in errors):
        raise TransactionCanceledException(errors)

    applied: list[tuple[dict[str, Any], dict[str, Any], Any]] = []
    try:
        for op_type, op, key, before in plan:
            names, values = op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
            if op_type == "Put":
                self.put_item(op["TableName"], op["Item"])
            elif op_type == "Delete":
                self.delete_item(op["TableName"], key)
            elif op_type == "Update":
                self.update_item(
                    op["TableName"],
                    key,
                    update_expression=op["UpdateExpression"],
                    expression_attribute_names=names,
                    expression_attribute_values=values,
                )
            applied.append((op, key, before))
    except Exception:
        for op, key, before in reversed(applied):
            if before is None:
                self.delete_item(op["TableName"], key)
            else:
                self.put_item(op["TableName"], before.to_json()["Attributes"])
        raise


_dynamodb_lock = threading.RLock()
_serialised = False


def serialise_dynamodb() -> None:
    """One DynamoDB request at a time inside the emulator.

    moto's conditional writes and transactions are not atomic under concurrent threads (200 threads booking
    10 slots made 11-12 bookings); DynamoDB's are. A local runtime serving concurrent requests therefore
    passes every DynamoDB call through one lock, so a conditional write has exactly one winner.
    """
    global _serialised
    if _serialised:
        return
    from moto.dynamodb.responses import DynamoHandler

    call_action = DynamoHandler.call_action

    def locked(self: Any) -> Any:
        with _dynamodb_lock:
            return call_action(self)

    DynamoHandler.call_action = locked  # type: ignore[method-assign]
    _serialised = True


def dispatch_lambda(invoke: Any) -> None:
    """Run Lambda invocations in-process: `invoke(function_name, event) -> result`.

    moto runs functions in Docker, which is not available. Every invocation (Step Functions Lambda tasks,
    `lambda.invoke`, event source mappings) passes through the private `LambdaFunction._invoke_lambda`,
    which this replaces; tests/e2e/test_workflows.py keeps it honest against the pinned moto.
    """
    import json

    from moto.awslambda.models import LambdaFunction

    def _invoke_lambda(self: Any, event: Any = None) -> tuple[str, bool, str]:
        payload = json.loads(event) if isinstance(event, str | bytes) else (event or {})
        try:
            return json.dumps(invoke(self.function_name, payload)), False, ""
        except Exception as error:  # reported to the caller as a function error, as Lambda does
            return json.dumps({"errorType": type(error).__name__, "errorMessage": str(error)}), True, ""

    LambdaFunction._invoke_lambda = _invoke_lambda  # type: ignore[method-assign]


def serve_many_connections() -> None:
    """werkzeug's listen backlog (128) refuses the emulator's clients when many handlers call at once."""
    import werkzeug.serving

    werkzeug.serving.BaseWSGIServer.request_queue_size = 1024
