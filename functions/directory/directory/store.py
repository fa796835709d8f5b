"""DynamoDB access of the directory. Round trips are counted by design: see each method's docstring."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from directory import keys
from directory.model import CareProvider, CareUnit
from eservices_core.aws import error_code, is_transient
from eservices_core.dynamo import Item, from_attr, from_item, to_attr, to_item
from eservices_core.errors import ServiceUnavailable
from eservices_core.geo import cell_of

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


# The stored objects a feed batch changes, by key (None: not stored yet), read before its changes are applied.
ReadAhead = dict[tuple[str, str], dict[str, Any] | None]


class StaleChange(Exception):
    """The stored object already reflects this change or a newer one."""


@dataclass(frozen=True, slots=True)
class Page:
    items: list[dict[str, Any]]
    last_key: str | None


def unit_summary(unit: CareUnit) -> dict[str, Any]:
    """What a search result shows of a unit; copied into every index entry so a search reads nothing else."""
    return {
        "id": unit.hsa_id,
        "name": unit.name,
        "kind": unit.kind.value,
        "region": unit.region_code,
        "municipality": unit.municipality.code,
        "municipality_name": unit.municipality.name,
        "lat": unit.lat,
        "lon": unit.lon,
        "terms": " " + " ".join(unit.terms) + " ",
    }


class DirectoryStore:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._db = client
        self._table = table_name

    # ---- reads (API) ------------------------------------------------------------------------------------
    def get_unit(self, hsa_id: str) -> dict[str, Any] | None:
        """One GetItem. Removed units (tombstones) read as absent."""
        return self._get_live(keys.unit_key(hsa_id))

    def get_provider(self, hsa_id: str) -> dict[str, Any] | None:
        return self._get_live(keys.provider_key(hsa_id))

    def query_entries(
        self, partition: str, *, prefix: str | None, after: str | None, limit: int, required_terms: list[str]
    ) -> Page:
        """One Query on one index partition, in sort-key order, starting after sort key `after`.

        `required_terms` must each begin some word of the unit's name (a DynamoDB filter: they still count as
        read capacity, which is why the most selective word is the key condition).
        """
        names = {"#pk": "pk"}
        values: dict[str, Any] = {":pk": {"S": partition}}
        condition = "#pk = :pk"
        if prefix:
            names["#sk"] = "sk"
            condition += " AND begins_with(#sk, :prefix)"
            values[":prefix"] = {"S": prefix}
        params: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": condition,
            "ExpressionAttributeNames": names,
            "Limit": limit,
        }
        if required_terms:
            names["#terms"] = "terms"
            params["FilterExpression"] = " AND ".join(
                f"contains(#terms, :t{i})" for i in range(len(required_terms))
            )
            values.update({f":t{i}": {"S": " " + term} for i, term in enumerate(required_terms)})
        params["ExpressionAttributeValues"] = values
        if after is not None:
            params["ExclusiveStartKey"] = {"pk": {"S": partition}, "sk": {"S": after}}
        response = self._call(self._db.query, **params)
        last = response.get("LastEvaluatedKey")
        return Page(
            items=[from_item(item) for item in response.get("Items", [])],
            last_key=last["sk"]["S"] if last else None,
        )

    def units_in_cells(self, cells: list[str]) -> list[dict[str, Any]]:
        """One BatchGetItem per 100 cells (a second only for keys DynamoDB left unprocessed)."""
        summaries: list[dict[str, Any]] = []
        for start in range(0, len(cells), 100):
            found = self._get_many(
                [keys.cell_key(cell) for cell in cells[start : start + 100]], consistent=False
            )
            for item in found:
                summaries.extend(from_attr(v) for k, v in item.items() if k not in ("pk", "sk"))
        return summaries

    def _get_many(self, wanted: list[tuple[str, str]], *, consistent: bool) -> list[Item]:
        """One BatchGetItem of at most 100 keys, a second for the keys DynamoDB left unprocessed; raw items."""
        request: dict[str, Any] = {
            self._table: {"Keys": [self._key(k) for k in wanted], "ConsistentRead": consistent}
        }
        items: list[Item] = []
        for _attempt in range(2):
            response = self._call(self._db.batch_get_item, RequestItems=request)
            items += response.get("Responses", {}).get(self._table, [])
            request = response.get("UnprocessedKeys") or {}
            if not request:
                return items
        raise ServiceUnavailable("The directory is busy; try again shortly")

    # ---- writes (HSA feed) ------------------------------------------------------------------------------
    def read_ahead(self, objects: list[tuple[str, str]]) -> ReadAhead:
        """The stored versions of the objects a feed batch changes, in one consistent BatchGetItem instead of a
        GetItem per change; empty if DynamoDB is busy (each change then reads its own)."""
        wanted = list(dict.fromkeys(objects))[:100]
        if not wanted:
            return {}
        try:
            found = {(i["pk"]["S"], i["sk"]["S"]): i for i in self._get_many(wanted, consistent=True)}
        except ServiceUnavailable:
            return {}
        return {key: from_item(found[key]) if key in found else None for key in wanted}

    def apply_unit(self, unit: CareUnit, version: int, known: ReadAhead | None = None) -> None:
        """Store a unit and re-index it atomically: one TransactWriteItems, after the stored unit was read (ahead,
        with the batch's other objects, or with one GetItem).

        Raises StaleChange when the stored version is the same or newer (duplicates and late deliveries).
        """
        current = self._current_version(keys.unit_key(unit.hsa_id), version, known)
        new_keys = keys.index_keys(unit)
        summary = unit_summary(unit)
        cell = cell_of(unit.lat, unit.lon) if unit.active else None
        record = {
            **dict(zip(("pk", "sk"), keys.unit_key(unit.hsa_id), strict=True)),
            "hsa_id": unit.hsa_id,
            "name": unit.name,
            "care_provider_hsa_id": unit.care_provider_hsa_id,
            "region": unit.region_code,
            "municipality": unit.municipality.code,
            "municipality_name": unit.municipality.name,
            "kind": unit.kind.value,
            "active": unit.active,
            "lat": unit.lat,
            "lon": unit.lon,
            "address": unit.address,
            "phone": unit.phone,
            "opening_hours": unit.opening_hours,
            "opening_hours_note": unit.opening_hours_note,
            "version": version,
            "index_keys": [list(k) for k in new_keys],
            "cell": cell,
        }
        actions = [self._put_versioned(record, current)]
        actions += self._reindex(current, new_keys, summary, cell, unit.hsa_id)
        self._transact(actions)

    def remove_unit(self, hsa_id: str, version: int, known: ReadAhead | None = None) -> None:
        """Replace the unit with a tombstone (so an older upsert arriving later cannot revive it)."""
        current = self._current_version(keys.unit_key(hsa_id), version, known)
        pk, sk = keys.unit_key(hsa_id)
        tombstone = {
            "pk": pk,
            "sk": sk,
            "hsa_id": hsa_id,
            "removed": True,
            "version": version,
            "index_keys": [],
        }
        actions = [self._put_versioned(tombstone, current)]
        actions += self._reindex(current, [], {}, None, hsa_id)
        self._transact(actions)

    def apply_provider(self, provider: CareProvider, version: int, known: ReadAhead | None = None) -> None:
        current = self._current_version(keys.provider_key(provider.hsa_id), version, known)
        pk, sk = keys.provider_key(provider.hsa_id)
        record = {
            "pk": pk,
            "sk": sk,
            "hsa_id": provider.hsa_id,
            "name": provider.name,
            "organisation_number": provider.organisation_number,
            "version": version,
        }
        self._transact([self._put_versioned(record, current)])

    def remove_provider(self, hsa_id: str, version: int, known: ReadAhead | None = None) -> None:
        current = self._current_version(keys.provider_key(hsa_id), version, known)
        pk, sk = keys.provider_key(hsa_id)
        tombstone = {"pk": pk, "sk": sk, "hsa_id": hsa_id, "removed": True, "version": version}
        self._transact([self._put_versioned(tombstone, current)])

    # ---- internals --------------------------------------------------------------------------------------
    def _current_version(
        self, key: tuple[str, str], version: int, known: ReadAhead | None
    ) -> dict[str, Any] | None:
        """The stored object, read ahead or now. What was read ahead is used once: a second change of the same
        object in the batch reads again, after the first was written."""
        current = known.pop(key) if known is not None and key in known else self._get(key, consistent=True)
        if current is not None and current["version"] >= version:
            raise StaleChange
        return current

    def _put_versioned(self, record: dict[str, Any], current: dict[str, Any] | None) -> dict[str, Any]:
        """A Put that succeeds only if nobody wrote the object since we read it (optimistic locking)."""
        put: dict[str, Any] = {"TableName": self._table, "Item": to_item(record)}
        if current is None:
            put["ConditionExpression"] = "attribute_not_exists(pk)"
        else:
            put["ConditionExpression"] = "version = :read_version"
            put["ExpressionAttributeValues"] = {":read_version": to_attr(current["version"])}
        return {"Put": put}

    def _reindex(
        self,
        current: dict[str, Any] | None,
        new_keys: list[tuple[str, str]],
        summary: dict[str, Any],
        new_cell: str | None,
        hsa_id: str,
    ) -> list[dict[str, Any]]:
        old_keys = {tuple(k) for k in (current or {}).get("index_keys", [])}
        actions: list[dict[str, Any]] = [
            {"Delete": {"TableName": self._table, "Key": self._key(k)}}
            for k in sorted(old_keys - set(new_keys))
        ]
        actions += [
            {"Put": {"TableName": self._table, "Item": {**self._key(k), **to_item(summary)}}}
            for k in new_keys
        ]
        old_cell = (current or {}).get("cell")
        if old_cell and old_cell != new_cell:
            actions.append(self._cell_update(old_cell, hsa_id, None))
        if new_cell:
            actions.append(self._cell_update(new_cell, hsa_id, summary))
        return actions

    def _cell_update(self, cell: str, hsa_id: str, summary: dict[str, Any] | None) -> dict[str, Any]:
        update: dict[str, Any] = {
            "TableName": self._table,
            "Key": self._key(keys.cell_key(cell)),
            "ExpressionAttributeNames": {"#unit": hsa_id},
        }
        if summary is None:
            update["UpdateExpression"] = "REMOVE #unit"
        else:
            update["UpdateExpression"] = "SET #unit = :summary"
            update["ExpressionAttributeValues"] = {":summary": to_attr(summary)}
        return {"Update": update}

    def _transact(self, actions: list[dict[str, Any]]) -> None:
        try:
            self._db.transact_write_items(TransactItems=actions)  # type: ignore[arg-type]
        except Exception as error:
            if error_code(error) == "TransactionCanceledException":
                reasons = getattr(error, "response", {}).get("CancellationReasons", [])
                if reasons and reasons[0].get("Code") == "ConditionalCheckFailed":
                    raise ConcurrentChange("the object changed while this change was applied") from error
            raise

    def _get(self, key: tuple[str, str], *, consistent: bool = False) -> dict[str, Any] | None:
        response = self._call(
            self._db.get_item, TableName=self._table, Key=self._key(key), ConsistentRead=consistent
        )
        item: Item | None = response.get("Item")
        return from_item(item) if item else None

    def _get_live(self, key: tuple[str, str]) -> dict[str, Any] | None:
        item = self._get(key)
        return None if item is None or item.get("removed") else item

    @staticmethod
    def _key(key: tuple[str, str] | list[str]) -> Item:
        return {"pk": {"S": key[0]}, "sk": {"S": key[1]}}

    @staticmethod
    def _call(operation: Any, **params: Any) -> Any:
        """Run a read; throttling and service faults become a 503 the caller can retry."""
        try:
            return operation(**params)
        except Exception as error:
            if is_transient(error):
                raise ServiceUnavailable("The directory is busy; try again shortly") from error
            raise


class ConcurrentChange(Exception):
    """Another writer changed the object between our read and write; the message is retried."""
