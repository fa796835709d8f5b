"""A single-table DynamoDB helper: plain-JSON items under (pk, sk), typed failures, one round trip per call.

Throttling and service faults become `ServiceUnavailable` (503, retry later); a failed condition becomes
`ConditionFailed` naming which action of a transaction failed, so callers never parse AWS error text.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from eservices_core.aws import error_code, is_transient
from eservices_core.dynamo import Item, from_item, to_attr, to_item
from eservices_core.errors import ServiceUnavailable

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

Key = tuple[str, str]
MAX_BATCH_GET = 100
FILTER_OPERATORS = frozenset({"=", "<>", "<", "<=", ">", ">="})


class ConditionFailed(Exception):
    """A condition of a write did not hold: `indexes` are the transaction's failed actions (0 for a single
    write), `index` the first of them."""

    def __init__(self, *indexes: int) -> None:
        super().__init__(f"condition of action(s) {', '.join(map(str, indexes))} failed")
        self.indexes = frozenset(indexes)
        self.index = min(indexes)


@dataclass(frozen=True, slots=True)
class Page:
    items: list[dict[str, Any]]
    last_key: dict[str, Any] | None


def key_item(key: Key) -> Item:
    return {"pk": {"S": key[0]}, "sk": {"S": key[1]}}


class Table:
    def __init__(
        self, client: DynamoDBClient, name: str, *, busy_message: str = "The service is busy"
    ) -> None:
        self.client = client
        self.name = name
        self._busy = busy_message

    def get(self, key: Key, *, consistent: bool = True) -> dict[str, Any] | None:
        response = self._call(
            self.client.get_item, TableName=self.name, Key=key_item(key), ConsistentRead=consistent
        )
        item: Item | None = response.get("Item")
        return from_item(item) if item else None

    def get_many(self, keys: Sequence[Key], *, consistent: bool = True) -> dict[Key, dict[str, Any]]:
        """One BatchGetItem (up to 100 keys); unprocessed keys are fetched again until none are left."""
        wanted = list(dict.fromkeys(keys))
        if not wanted:
            return {}
        if len(wanted) > MAX_BATCH_GET:
            raise ValueError(f"at most {MAX_BATCH_GET} keys per batch")
        found: dict[Key, dict[str, Any]] = {}
        request: dict[str, Any] = {
            self.name: {"Keys": [key_item(k) for k in wanted], "ConsistentRead": consistent}
        }
        while request:
            response = self._call(self.client.batch_get_item, RequestItems=request)
            for item in response.get("Responses", {}).get(self.name, []):
                plain = from_item(item)
                found[(plain["pk"], plain["sk"])] = plain
            request = response.get("UnprocessedKeys") or {}
        return found

    def query(
        self,
        partition: str,
        *,
        prefix: str | None = None,
        newest_first: bool = False,
        limit: int | None = None,
        start: dict[str, Any] | None = None,
        consistent: bool = True,
        index: str | None = None,
        partition_key: str = "pk",
        sort_key: str = "sk",
        where: Sequence[tuple[str, str, Any]] = (),
        between: tuple[str, str] | None = None,
    ) -> Page:
        """One Query of one partition (of the table, or of `index` keyed by `partition_key` and `sort_key`),
        in sort-key order or reversed, optionally from `start`. Index reads are eventually consistent.

        `where` filters items after they are read, e.g. `[("type_id", "=", "advice"), ("due_at", "<", now)]`
        (filtered items still cost read capacity; a page may come back short with `last_key` set).
        `between` (low, high) bounds the sort key, both inclusive.
        """
        condition = f"{partition_key} = :pk" + (f" AND begins_with({sort_key}, :prefix)" if prefix else "")
        values: dict[str, Any] = {":pk": {"S": partition}}
        if prefix:
            values[":prefix"] = {"S": prefix}
        if between:
            condition += f" AND {sort_key} BETWEEN :low AND :high"
            values[":low"], values[":high"] = {"S": between[0]}, {"S": between[1]}
        params: dict[str, Any] = {
            "TableName": self.name,
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": values,
            "ScanIndexForward": not newest_first,
            "ConsistentRead": consistent and index is None,
        }
        if index:
            params["IndexName"] = index
        if where:
            if any(op not in FILTER_OPERATORS for _, op, _ in where):
                raise ValueError(f"filter operators are {sorted(FILTER_OPERATORS)}")
            params["FilterExpression"] = " AND ".join(
                f"#f{i} {op} :f{i}" for i, (_, op, _) in enumerate(where)
            )
            params["ExpressionAttributeNames"] = {f"#f{i}": name for i, (name, _, _) in enumerate(where)}
            values.update({f":f{i}": to_attr(value) for i, (_, _, value) in enumerate(where)})
        if limit:
            params["Limit"] = limit
        if start:
            params["ExclusiveStartKey"] = to_item(start)
        response = self._call(self.client.query, **params)
        last = response.get("LastEvaluatedKey")
        return Page([from_item(i) for i in response.get("Items", [])], from_item(last) if last else None)

    def query_all(self, partition: str, *, prefix: str | None = None) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        start: dict[str, Any] | None = None
        while True:
            page = self.query(partition, prefix=prefix, start=start)
            items.extend(page.items)
            if not page.last_key:
                return items
            start = page.last_key

    def scan(self) -> Iterator[dict[str, Any]]:
        """Every item (operations tools only, never a request path)."""
        paginator = self.client.get_paginator("scan")
        for page in paginator.paginate(TableName=self.name, ConsistentRead=True):
            for item in page.get("Items", []):
                yield from_item(cast("Item", item))

    def transact(self, actions: list[dict[str, Any]], *, attempts: int = 1) -> None:
        """One TransactWriteItems of actions built with `put` / `delete`; all or nothing.

        Up to `attempts` tries when DynamoDB cancels it only because another transaction was writing one
        of its items at that moment (TransactionConflict: try again, with full jitter), then 503."""
        for attempt in range(attempts):
            try:
                self.client.transact_write_items(TransactItems=actions)  # type: ignore[arg-type]
                return
            except Exception as error:
                reasons = getattr(error, "response", {}).get("CancellationReasons", [])
                codes = {reason.get("Code") for reason in reasons}
                if error_code(error) == "TransactionCanceledException":
                    failed = [i for i, r in enumerate(reasons) if r.get("Code") == "ConditionalCheckFailed"]
                    if failed:
                        raise ConditionFailed(*failed) from None
                if "TransactionConflict" in codes and attempt + 1 < attempts:
                    time.sleep(random.uniform(0, 0.01 * 2**attempt))  # noqa: S311 - jitter, not security
                    continue
                if is_transient(error) or error_code(error) == "TransactionCanceledException":
                    raise ServiceUnavailable(self._busy) from error
                raise

    def put_many(self, items: Sequence[dict[str, Any]]) -> None:
        """BatchWriteItem puts, 25 per call, unprocessed items sent again (new items with fresh keys only:
        a batch write takes no condition)."""
        self._batch_write([{"PutRequest": {"Item": to_item(i)}} for i in items])

    def delete_many(self, keys: Sequence[Key]) -> None:
        """BatchWriteItem deletes, 25 per call, unprocessed ones sent again (no condition: for items nobody
        else changes, such as delivered outbox entries)."""
        self._batch_write([{"DeleteRequest": {"Key": key_item(k)}} for k in keys])

    def _batch_write(self, requests: list[dict[str, Any]]) -> None:
        for start in range(0, len(requests), 25):
            request: dict[str, Any] = {self.name: requests[start : start + 25]}
            while request:
                response = self._call(self.client.batch_write_item, RequestItems=request)
                request = response.get("UnprocessedItems") or {}

    def put(self, item: dict[str, Any], condition: str | None = None, **values: Any) -> dict[str, Any]:
        """A Put action for `transact`; `condition` uses `:name` placeholders given as keyword values."""
        put: dict[str, Any] = {"TableName": self.name, "Item": to_item(item)}
        if condition:
            put["ConditionExpression"] = condition
            if values:
                put["ExpressionAttributeValues"] = {f":{k}": to_attr(v) for k, v in values.items()}
        return {"Put": put}

    def delete(self, key: Key, condition: str | None = None, **values: Any) -> dict[str, Any]:
        delete: dict[str, Any] = {"TableName": self.name, "Key": key_item(key)}
        if condition:
            delete["ConditionExpression"] = condition
            if values:
                delete["ExpressionAttributeValues"] = {f":{k}": to_attr(v) for k, v in values.items()}
        return {"Delete": delete}

    def update(
        self, key: Key, expression: str, condition: str | None = None, *, names: dict[str, str], **values: Any
    ) -> dict[str, Any]:
        """An Update action for `transact`: `expression` and `condition` use `#name` and `:value`
        placeholders (attribute names such as `status` are reserved words in DynamoDB)."""
        update: dict[str, Any] = {
            "TableName": self.name,
            "Key": key_item(key),
            "UpdateExpression": expression,
            "ExpressionAttributeNames": names,
        }
        if condition:
            update["ConditionExpression"] = condition
        if values:
            update["ExpressionAttributeValues"] = {f":{k}": to_attr(v) for k, v in values.items()}
        return {"Update": update}

    def put_item(self, item: dict[str, Any], condition: str | None = None, **values: Any) -> None:
        """One conditional PutItem (half the write units of a one-item transaction)."""
        self._write(self.client.put_item, self.put(item, condition, **values)["Put"])

    def delete_item(self, key: Key, condition: str | None = None, **values: Any) -> None:
        self._write(self.client.delete_item, self.delete(key, condition, **values)["Delete"])

    def update_item(
        self, key: Key, expression: str, condition: str | None = None, *, names: dict[str, str], **values: Any
    ) -> None:
        """One UpdateItem (see `update`), outside a transaction."""
        update = self.update(key, expression, condition, names=names, **values)["Update"]
        if not update["ExpressionAttributeNames"]:
            del update["ExpressionAttributeNames"]
        self._write(self.client.update_item, update)

    def increment(self, key: Key, counts: dict[str, int]) -> None:
        """One UpdateItem adding to numeric attributes (created at 0 when absent): counters, histograms."""
        names = {f"#c{i}": name for i, name in enumerate(counts)}
        values = {f":c{i}": {"N": str(n)} for i, n in enumerate(counts.values())}
        self._write(
            self.client.update_item,
            {
                "TableName": self.name,
                "Key": key_item(key),
                "UpdateExpression": "ADD " + ", ".join(f"#c{i} :c{i}" for i in range(len(counts))),
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": values,
            },
        )

    def _write(self, operation: Callable[..., Any], params: dict[str, Any]) -> None:
        try:
            operation(**params)
        except Exception as error:
            if error_code(error) == "ConditionalCheckFailedException":
                raise ConditionFailed(0) from None
            if is_transient(error):
                raise ServiceUnavailable(self._busy) from error
            raise

    def _call(self, operation: Callable[..., Any], **params: Any) -> Any:
        try:
            return operation(**params)
        except Exception as error:
            if is_transient(error):
                raise ServiceUnavailable(self._busy) from error
            raise
