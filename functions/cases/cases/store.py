"""DynamoDB access of the cases e-service (one table, `CasesTable`).

Keys:
    PATIENT#<id>  CASE#<case id>            a case, under its patient: another patient's case cannot be read
                                             by id alone (object-level authorization is structural)
    PATIENT#<id>  MSG#<case id>#<seq>       its message thread, in order
    PATIENT#<id>  IDEM#<key>                an Idempotency-Key already used to create a case (24 h)
    UNIT#<hsa-id> TYPE#<type id>            a case type as the clinic offers it
    UNIT#<hsa-id> HANDED#<type id>#<patient> a restricted type handed to one patient
    UNIT#<hsa-id> STATS#<yyyy-mm>           monthly counters and the first-answer histogram
Index `UnitQueue` (queue_pk = UNIT#<hsa-id>, queue_sk = <status>#<created at>#<case id>): a unit's work
queue by status, oldest first, projecting only QUEUE_FIELDS (what the queue shows and filters on; answers,
messages and the workflow's task token stay out). Case ids sort by creation time, so a patient's cases list
newest first.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eservices_core.table import ConditionFailed, Key, Page, Table

QUEUE_INDEX = "UnitQueue"
# The attributes the UnitQueue index projects (template.yaml must say the same; a test checks it).
QUEUE_FIELDS = (
    "case_id",
    "patient_id",
    "patient_name",
    "unit_hsa_id",
    "unit_name",
    "type_id",
    "type_name",
    "status",
    "created_at",
    "updated_at",
    "due_at",
    "closed_at",
    "assignee_hsa_id",
)
IDEMPOTENCY_HOURS = 24
# Attempts of a transaction that another one was writing at the same moment (e.g. the unit's month counters).
CONFLICT_ATTEMPTS = 3
Counts = tuple[str, str, dict[str, int]]  # unit HSA-ID, month (yyyy-mm), counter -> amount


class StaleCase(Exception):
    """The case changed between read and write; the caller reads again and retries."""


class DuplicateRequest(Exception):
    def __init__(self, existing: dict[str, Any]) -> None:
        super().__init__("idempotency key already used")
        self.existing = existing


def patient_partition(patient_id: str) -> str:
    return f"PATIENT#{patient_id}"


def case_key(patient_id: str, case_id: str) -> Key:
    return patient_partition(patient_id), f"CASE#{case_id}"


def message_key(patient_id: str, case_id: str, seq: int) -> Key:
    return patient_partition(patient_id), f"MSG#{case_id}#{seq:05d}"


def idempotency_key(patient_id: str, key: str) -> Key:
    return patient_partition(patient_id), f"IDEM#{key}"


def unit_partition(unit_hsa_id: str) -> str:
    return f"UNIT#{unit_hsa_id}"


def type_key(unit_hsa_id: str, type_id: str) -> Key:
    return unit_partition(unit_hsa_id), f"TYPE#{type_id}"


def handed_key(unit_hsa_id: str, type_id: str, patient_id: str) -> Key:
    return unit_partition(unit_hsa_id), f"HANDED#{type_id}#{patient_id}"


def stats_key(unit_hsa_id: str, month: str) -> Key:
    return unit_partition(unit_hsa_id), f"STATS#{month}"


def queue_fields(case: dict[str, Any]) -> dict[str, str]:
    return {
        "queue_pk": unit_partition(case["unit_hsa_id"]),
        "queue_sk": f"{case['status']}#{case['created_at']}#{case['case_id']}",
    }


class CaseStore:
    def __init__(self, table: Table) -> None:
        self.table = table

    # ---- case types -----------------------------------------------------------------------------------------
    def unit_types(self, unit_hsa_id: str) -> list[dict[str, Any]]:
        """One Query: every case type the unit configured (active or not)."""
        return self.table.query_all(unit_partition(unit_hsa_id), prefix="TYPE#")

    def unit_type(self, unit_hsa_id: str, type_id: str) -> dict[str, Any] | None:
        return self.table.get(type_key(unit_hsa_id, type_id))

    def put_unit_type(self, item: dict[str, Any]) -> None:
        pk, sk = type_key(item["unit_hsa_id"], item["type_id"])
        self.table.put_item({"pk": pk, "sk": sk, **item})

    def handed_to(self, unit_hsa_id: str, type_ids: list[str], patient_id: str) -> set[str]:
        """One BatchGetItem: which of the restricted types were handed to the patient."""
        found = self.table.get_many([handed_key(unit_hsa_id, t, patient_id) for t in type_ids])
        return {sk.split("#")[1] for _, sk in found}

    def hand(self, unit_hsa_id: str, type_id: str, patient_id: str, by_hsa_id: str, at: str) -> None:
        pk, sk = handed_key(unit_hsa_id, type_id, patient_id)
        self.table.put_item({"pk": pk, "sk": sk, "handed_by": by_hsa_id, "handed_at": at})

    # ---- cases ----------------------------------------------------------------------------------------------
    def create(
        self,
        case: dict[str, Any],
        first_message: dict[str, Any] | None,
        idempotency: tuple[str, str, int] | None,
        outbox: Sequence[dict[str, Any]] = (),
        counts: Counts | None = None,
    ) -> None:
        """One transaction: the case, its first message, its events (outbox), the idempotency record and the
        unit's month counters, or nothing.

        `idempotency` is (key, request fingerprint, expiry epoch); a key already used raises DuplicateRequest
        with what it created."""
        patient_id, case_id = case["patient_id"], case["case_id"]
        pk, sk = case_key(patient_id, case_id)
        actions = [
            self.table.put({"pk": pk, "sk": sk, **case, **queue_fields(case)}, "attribute_not_exists(pk)")
        ]
        if first_message:
            mpk, msk = message_key(patient_id, case_id, 1)
            actions.append(
                self.table.put({"pk": mpk, "sk": msk, **first_message}, "attribute_not_exists(pk)")
            )
        actions += [self.table.put(item) for item in outbox]
        if idempotency:
            key, fingerprint, expires_at = idempotency
            ipk, isk = idempotency_key(patient_id, key)
            record = {
                "pk": ipk,
                "sk": isk,
                "case_id": case_id,
                "fingerprint": fingerprint,
                "expires_at": expires_at,
            }
            actions.append(self.table.put(record, "attribute_not_exists(pk)"))
        key_at = len(actions) - 1
        if counts:
            actions.append(self._count(*counts))
        try:
            self.table.transact(actions, attempts=CONFLICT_ATTEMPTS)
        except ConditionFailed as failed:
            if idempotency and key_at in failed.indexes:
                existing = self.table.get(idempotency_key(patient_id, idempotency[0]))
                if existing:
                    raise DuplicateRequest(existing) from None
            raise StaleCase("a case with this id exists") from None

    def undo_create(
        self,
        case: dict[str, Any],
        idempotency: tuple[str, str, int] | None,
        outbox: Sequence[dict[str, Any]] = (),
        counts: Counts | None = None,
    ) -> None:
        """Take back what `create` wrote (if the case was not changed since): one transaction."""
        key = case_key(case["patient_id"], case["case_id"])
        actions = [self.table.delete(key, "version = :v", v=case["version"])]
        if idempotency:
            actions.append(self.table.delete(idempotency_key(case["patient_id"], idempotency[0])))
        actions += [self.table.delete((event["pk"], event["sk"])) for event in outbox]
        if counts:
            actions.append(self._count(*counts, sign=-1))
        self.table.transact(actions, attempts=CONFLICT_ATTEMPTS)

    def get(self, patient_id: str, case_id: str) -> dict[str, Any] | None:
        """One GetItem."""
        return self.table.get(case_key(patient_id, case_id))

    def with_messages(
        self, patient_id: str, case_id: str
    ) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
        """Two reads: the case, then its thread (messages sort after cases, so they are a separate Query)."""
        case = self.get(patient_id, case_id)
        if case is None:
            return None, []
        messages = self.table.query_all(patient_partition(patient_id), prefix=f"MSG#{case_id}#")
        return case, messages

    def list_for_patient(
        self, patient_id: str, *, status: str | None, limit: int, start: dict[str, Any] | None
    ) -> Page:
        """One Query: the patient's cases, newest first, optionally of one status."""
        return self.table.query(
            patient_partition(patient_id),
            prefix="CASE#",
            newest_first=True,
            limit=limit,
            start=start,
            where=[("status", "=", status)] if status else (),
        )

    def save(
        self,
        case: dict[str, Any],
        message: dict[str, Any] | None = None,
        outbox: Sequence[dict[str, Any]] = (),
        counts: Counts | None = None,
    ) -> dict[str, Any]:
        """Write a changed case (optimistic lock on `version`) and, in the same transaction, a new message, the
        events that report the change (outbox) and the unit's month counters it moves."""
        expected = case["version"]
        updated = {**case, "version": expected + 1}
        if message:
            updated["message_count"] = case.get("message_count", 0) + 1
        pk, sk = case_key(case["patient_id"], case["case_id"])
        item = {**updated, "pk": pk, "sk": sk, **queue_fields(updated)}
        actions = [self.table.put(item, "version = :version", version=expected)]
        if message:
            mpk, msk = message_key(case["patient_id"], case["case_id"], updated["message_count"])
            actions.append(self.table.put({"pk": mpk, "sk": msk, **message}, "attribute_not_exists(pk)"))
        actions += [self.table.put(event) for event in outbox]
        if counts:
            actions.append(self._count(*counts))
        try:
            if len(actions) > 1:
                self.table.transact(actions, attempts=CONFLICT_ATTEMPTS)
            else:
                self.table.put_item(item, "version = :version", version=expected)
        except ConditionFailed:
            raise StaleCase("the case changed meanwhile") from None
        return item

    def undo_save(
        self,
        original: dict[str, Any],
        saved: dict[str, Any],
        outbox: Sequence[dict[str, Any]] = (),
        counts: Counts | None = None,
    ) -> None:
        """Put a case back as it was before `save` (if nothing changed it since), taking back its new message,
        events and counters: one transaction."""
        actions = [self.table.put(original, "version = :v", v=saved["version"])]
        if saved.get("message_count", 0) != original.get("message_count", 0):
            actions.append(
                self.table.delete(message_key(saved["patient_id"], saved["case_id"], saved["message_count"]))
            )
        actions += [self.table.delete((event["pk"], event["sk"])) for event in outbox]
        if counts:
            actions.append(self._count(*counts, sign=-1))
        self.table.transact(actions, attempts=CONFLICT_ATTEMPTS)

    def queue(
        self,
        unit_hsa_id: str,
        *,
        status: str | None,
        where: list[tuple[str, str, Any]],
        limit: int,
        start: dict[str, Any] | None,
    ) -> Page:
        """One Query of the unit's work queue (oldest first within a status)."""
        return self.table.query(
            unit_partition(unit_hsa_id),
            index=QUEUE_INDEX,
            partition_key="queue_pk",
            sort_key="queue_sk",
            prefix=f"{status}#" if status else None,
            limit=limit,
            start=start,
            where=where,
        )

    # ---- statistics -----------------------------------------------------------------------------------------
    def _count(self, unit_hsa_id: str, month: str, counts: dict[str, int], sign: int = 1) -> dict[str, Any]:
        """The Update action of a transaction that adds `counts` (times `sign`) to the unit's month counters."""
        names = {f"#c{i}": name for i, name in enumerate(counts)}
        values: dict[str, Any] = {f"c{i}": sign * n for i, n in enumerate(counts.values())}
        expression = "ADD " + ", ".join(f"#c{i} :c{i}" for i in range(len(counts)))
        return self.table.update(stats_key(unit_hsa_id, month), expression, names=names, **values)

    def stats(self, unit_hsa_id: str, month: str) -> dict[str, Any]:
        return self.table.get(stats_key(unit_hsa_id, month)) or {}
