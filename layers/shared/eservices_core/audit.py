"""The PDL audit log (rule 15): an append-only, tamper-evident record of every access to patient data.

Each patient's records form a hash chain: record n carries the hash of record n-1 and its own hash over all
its fields, and the patient's HEAD item holds the sequence number and hash of the newest record. Appending is
one read of HEAD and one transaction (the new record + HEAD moved on, conditional on HEAD not having moved),
so concurrent requests for one patient serialise and never fork the chain. `verify_chain` detects a changed,
inserted or deleted record; records removed by the retention TTL are recognised as such.

Keys (own table): PATIENT#<id> / HEAD, PATIENT#<id> / REC#<seq, 12 digits>. Staff records also carry
`staff_access_pk` (= pk), the key of the sparse index `StaffAccesses` from which residents read their
access log in one Query however many of their own accesses the chain holds.
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from eservices_core.aws import error_code
from eservices_core.clock import now_utc
from eservices_core.errors import ServiceUnavailable
from eservices_core.table import ConditionFailed, Page, Table

GENESIS = "0" * 64
# Enough for 20 requests appending for one patient at the same moment (about 0.7 s of pauses at most).
APPEND_ATTEMPTS = 10
LONGEST_PAUSE = 0.1
RECORD_PREFIX = "REC#"
STAFF_ACCESS_INDEX = "StaffAccesses"
STAFF_ACCESS_KEY = "staff_access_pk"
BATCH_ENTRIES = 50  # a transaction takes 100 actions: a record and its HEAD each


class Verb(StrEnum):
    READ = "read"
    WRITE = "write"
    PRINT = "print"
    EMERGENCY = "emergency-access"
    LOOKUP = "lookup"


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """What happened: who (and for whom), under which commission, to which patient, which resource."""

    patient_id: str
    actor_kind: str  # "resident" or "staff"
    actor_id: str  # the resident's patient id or the staff member's HSA-ID: never a personnummer
    actor_name: str
    acting_for: str | None  # the child's patient id when a guardian acts
    relation: str  # "self", "guardian" or "staff"
    verb: Verb
    resource: str
    request_id: str
    care_unit_hsa_id: str | None = None
    care_unit_name: str | None = None
    care_provider_hsa_id: str | None = None
    care_provider_public: bool | None = None
    purpose: str | None = None
    commission_id: str | None = None


def record_hash(record: dict[str, Any]) -> str:
    """SHA-256 over the canonical JSON of every field except the hash itself and the table keys."""
    fields = {k: v for k, v in record.items() if k not in {"hash", "pk", "sk"}}
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def partition(patient_id: str) -> str:
    return f"PATIENT#{patient_id}"


def record_sk(seq: int) -> str:
    return f"{RECORD_PREFIX}{seq:012d}"


class AuditLog:
    def __init__(self, table: Table, retention: timedelta) -> None:
        self.table = table
        self.retention = retention

    def append(self, entry: AuditEntry) -> dict[str, Any]:
        """Store `entry` as the patient's next record (2 round trips when uncontended); 503 if impossible.

        The caller must not return patient data unless this returns: an access that leaves no trace must not
        happen (PDL 4:3).
        """
        for attempt in range(APPEND_ATTEMPTS):
            try:
                return self._try_append(entry)
            except ConditionFailed:
                _pause(attempt)
            except ServiceUnavailable as error:
                if not _conflicted(error):
                    raise
                _pause(attempt)
            except Exception as error:
                raise ServiceUnavailable("The audit log cannot be written; no data was returned") from error
        raise ServiceUnavailable("The audit log is busy for this patient; try again")

    def append_many(self, entries: Sequence[AuditEntry]) -> list[dict[str, Any]]:
        """Store many entries, each as its patient's next record, in few round trips: one BatchGetItem of the
        patients' HEADs and one transaction (each record with its HEAD) per 50 entries, when uncontended. A
        transaction refused because a HEAD moved meanwhile wrote nothing: its entries are appended one by one
        (`append`), as are entries of a patient already in the batch. 503 if impossible, as `append`."""
        first: list[AuditEntry] = []
        later: list[AuditEntry] = []
        for entry in entries:
            (later if any(e.patient_id == entry.patient_id for e in first) else first).append(entry)
        records: list[dict[str, Any]] = []
        for start in range(0, len(first), BATCH_ENTRIES):
            chunk = first[start : start + BATCH_ENTRIES]
            try:
                heads = self.table.get_many([(partition(e.patient_id), "HEAD") for e in chunk])
                built = [self._next(e, heads.get((partition(e.patient_id), "HEAD"))) for e in chunk]
                self.table.transact([action for _, actions in built for action in actions])
                records.extend(record for record, _ in built)
            except ConditionFailed:
                records.extend(self.append(e) for e in chunk)
            except ServiceUnavailable as error:
                if not _conflicted(error):
                    raise
                records.extend(self.append(e) for e in chunk)
            except Exception as error:
                raise ServiceUnavailable("The audit log cannot be written; no data was returned") from error
        records.extend(self.append(e) for e in later)
        return records

    def _try_append(self, entry: AuditEntry) -> dict[str, Any]:
        pk = partition(entry.patient_id)
        record, actions = self._next(entry, self.table.get((pk, "HEAD")))
        self.table.transact(actions)
        return record

    def _next(
        self, entry: AuditEntry, head: dict[str, Any] | None
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """The record that follows `head` in the patient's chain, and the transaction's two conditional puts."""
        pk = partition(entry.patient_id)
        seq = int(head["seq"]) + 1 if head else 1
        recorded_at = now_utc()
        expires = recorded_at + self.retention
        record: dict[str, Any] = {
            "pk": pk,
            "sk": record_sk(seq),
            "seq": seq,
            "recorded_at": recorded_at.isoformat(timespec="microseconds").replace("+00:00", "Z"),
            **{k: v for k, v in _entry_fields(entry).items() if v is not None},
            "prev_hash": head["hash"] if head else GENESIS,
            "prev_expires_at": int(head["newest_expires_at"]) if head else 0,
            "expires_at": int(expires.timestamp()),
        }
        if entry.actor_kind == "staff":
            record[STAFF_ACCESS_KEY] = pk  # the sparse index residents read their access log from
        record["hash"] = record_hash(record)
        new_head = {
            "pk": pk,
            "sk": "HEAD",
            "seq": seq,
            "hash": record["hash"],
            # Not `expires_at`: TTL must never remove HEAD, or the chain would restart at seq 1 over records
            # TTL has not yet deleted, and every access to the patient would fail until it had.
            "newest_expires_at": record["expires_at"],
        }
        return record, [
            self.table.put(record, "attribute_not_exists(pk)"),
            self.table.put(new_head, "seq = :seq", seq=seq - 1)
            if head
            else self.table.put(new_head, "attribute_not_exists(pk)"),
        ]

    def records(self, patient_id: str, *, limit: int, start: dict[str, Any] | None = None) -> Page:
        """One Query: a patient's records, newest first."""
        return self.table.query(
            partition(patient_id), prefix=RECORD_PREFIX, newest_first=True, limit=limit, start=start
        )

    def staff_accesses(self, patient_id: str, *, limit: int, start: dict[str, Any] | None = None) -> Page:
        """One Query of the sparse staff-access index: staff records only, newest first (rule 16).

        The index is eventually consistent: an access from the last second may show on the next read.
        """
        return self.table.query(
            partition(patient_id),
            index=STAFF_ACCESS_INDEX,
            partition_key=STAFF_ACCESS_KEY,
            newest_first=True,
            limit=limit,
            start=start,
        )


def _pause(attempt: int) -> None:
    """Full jitter, doubling from 5 ms up to LONGEST_PAUSE, so the requests that lost a race spread out."""
    time.sleep(random.uniform(0, min(0.005 * 2**attempt, LONGEST_PAUSE)))  # noqa: S311 - jitter, not security


def _conflicted(error: ServiceUnavailable) -> bool:
    """Whether DynamoDB refused because another request was writing the patient's HEAD at that moment.

    Concurrent transactions on one item are cancelled with reason TransactionConflict (not a failed
    condition) and a write racing a transaction gets TransactionConflictException: both mean "try again".
    """
    cause = error.__cause__
    if cause is None:
        return False
    code = error_code(cause)
    reasons = getattr(cause, "response", {}).get("CancellationReasons", [])
    return code == "TransactionConflictException" or (
        code == "TransactionCanceledException"
        and any(r.get("Code") == "TransactionConflict" for r in reasons)
    )


def _entry_fields(entry: AuditEntry) -> dict[str, Any]:
    return {
        "patient_id": entry.patient_id,
        "actor_kind": entry.actor_kind,
        "actor_id": entry.actor_id,
        "actor_name": entry.actor_name,
        "acting_for": entry.acting_for,
        "relation": entry.relation,
        "action": entry.verb.value,
        "resource": entry.resource,
        "request_id": entry.request_id,
        "care_unit_hsa_id": entry.care_unit_hsa_id,
        "care_unit_name": entry.care_unit_name,
        "care_provider_hsa_id": entry.care_provider_hsa_id,
        "care_provider_public": entry.care_provider_public,
        "purpose": entry.purpose,
        "commission_id": entry.commission_id,
    }


@dataclass(frozen=True, slots=True)
class Finding:
    patient_id: str
    seq: int | None
    problem: str


def verify_chain(
    patient_id: str, records: list[dict[str, Any]], head: dict[str, Any] | None, now: datetime
) -> list[Finding]:
    """Everything wrong with one patient's chain; empty when intact.

    Detected: a record whose content no longer matches its hash; a record not stored under its own key
    (moved, swapped or copied); a gap in the sequence; a record whose prev_hash is not its predecessor's hash;
    a missing or rewound HEAD. Not findings: records missing because they had expired (each record says when
    its predecessor expires, HEAD when the newest does), since DynamoDB's TTL deletes expired items days late
    and in no particular order, HEAD included.
    """
    findings: list[Finding] = []
    pk = partition(patient_id)
    instant = now.timestamp()

    def found(seq: int | None, problem: str) -> None:
        findings.append(Finding(patient_id, seq, problem))

    def expired(item: dict[str, Any], field: str) -> bool:
        at = _integer(item.get(field))
        return at is not None and at <= instant

    chain: list[tuple[int, dict[str, Any]]] = []
    for record in records:
        seq = _integer(record.get("seq"))
        if not _hash_matches(record):
            found(seq, "record content does not match its hash (changed)")
        in_place = (
            seq is not None
            and record.get("sk", record_sk(seq)) == record_sk(seq)
            and record.get("pk", pk) == pk
            and record.get("patient_id") == patient_id
        )
        if seq is None or not in_place:
            where = f"the item at {record['sk']}" if "sk" in record else "the record"
            found(seq, f"{where} is not stored under its own key (moved, swapped or copied)")
        else:
            chain.append((seq, record))
    chain.sort(key=lambda pair: pair[0])

    expected_seq, expected_hash = 1, GENESIS  # what the first record follows
    for seq, record in chain:
        if seq < expected_seq:
            found(seq, "the record appears more than once (copied)")
            continue
        if seq > expected_seq:
            if not expired(record, "prev_expires_at"):
                if expected_seq == 1:
                    found(seq, "earlier records are missing before their retention ended (deleted)")
                else:
                    found(expected_seq, "records are missing from the chain (deleted)")
        elif record.get("prev_hash") != expected_hash:
            if seq == 1:
                found(1, "the first record does not start the chain")
            else:
                found(seq, "the previous record's hash does not match (changed or replaced)")
        expected_seq, expected_hash = seq + 1, str(record.get("hash"))

    newest = chain[-1][1] if chain else None
    if head is None:
        if newest is not None and not expired(newest, "expires_at"):
            found(None, "the chain head is missing (deleted)")
        return findings
    head_seq = _integer(head.get("seq"))
    last_seq = chain[-1][0] if chain else 0
    if head_seq is not None and head_seq > last_seq and expired(head, "newest_expires_at"):
        return findings  # the newest record expired, so every record had: TTL has not yet removed them all
    if head_seq != last_seq or (newest is not None and head.get("hash") != newest.get("hash")):
        found(head_seq, "the newest records are missing or the head was changed (deleted or rewound)")
    return findings


def _integer(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _hash_matches(record: dict[str, Any]) -> bool:
    try:
        return record_hash(record) == record.get("hash")
    except (TypeError, ValueError):  # a value JSON cannot hold (e.g. a set) was written into the record
        return False


def verify_table(table: Table, now: datetime) -> tuple[int, int, list[Finding]]:
    """Verify every patient's chain in an audit table: (patients, records, findings)."""
    chains: dict[str, tuple[list[dict[str, Any]], list[dict[str, Any]]]] = {}
    for item in table.scan():
        records, heads = chains.setdefault(item["pk"], ([], []))
        (heads if item["sk"] == "HEAD" else records).append(item)
    findings: list[Finding] = []
    total = 0
    for pk, (records, heads) in sorted(chains.items()):
        total += len(records)
        patient_id = pk.removeprefix("PATIENT#")
        findings += verify_chain(patient_id, records, heads[0] if heads else None, now)
    return len(chains), total, findings
