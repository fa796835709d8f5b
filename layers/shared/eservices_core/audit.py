"""The PDL audit log (rule 15): an append-only, tamper-evident record of every access to patient data.

Each patient's records form a hash chain: record n carries the hash of record n-1 and its own hash over all
its fields, and the patient's HEAD item holds the sequence number and hash of the newest record. Appending is
one read of HEAD and one transaction (the new record + HEAD moved on, conditional on HEAD not having moved),
so concurrent requests for one patient serialise and never fork the chain. `verify_chain` detects a changed,
inserted or deleted record; records removed by the retention TTL (oldest first) are recognised as such.

Keys (own table): PATIENT#<id> / HEAD, PATIENT#<id> / REC#<seq, 12 digits>.
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from eservices_core.clock import now_utc
from eservices_core.errors import ServiceUnavailable
from eservices_core.table import ConditionFailed, Page, Table

GENESIS = "0" * 64
APPEND_ATTEMPTS = 6
RECORD_PREFIX = "REC#"


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
                time.sleep(random.uniform(0, 0.005 * 2**attempt))  # noqa: S311 - jitter, not security
            except ServiceUnavailable:
                raise
            except Exception as error:
                raise ServiceUnavailable("The audit log cannot be written; no data was returned") from error
        raise ServiceUnavailable("The audit log is busy for this patient; try again")

    def _try_append(self, entry: AuditEntry) -> dict[str, Any]:
        pk = partition(entry.patient_id)
        head = self.table.get((pk, "HEAD"))
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
            "prev_expires_at": int(head["expires_at"]) if head else 0,
            "expires_at": int(expires.timestamp()),
        }
        record["hash"] = record_hash(record)
        new_head = {"pk": pk, "sk": "HEAD", "seq": seq, "hash": record["hash"], "expires_at": record["expires_at"]}
        self.table.transact(
            [
                self.table.put(record, "attribute_not_exists(pk)"),
                self.table.put(new_head, "seq = :seq", seq=seq - 1)
                if head
                else self.table.put(new_head, "attribute_not_exists(pk)"),
            ]
        )
        return record

    def records(
        self, patient_id: str, *, limit: int, start: dict[str, Any] | None = None
    ) -> Page:
        """One Query: a patient's records, newest first."""
        return self.table.query(
            partition(patient_id), prefix=RECORD_PREFIX, newest_first=True, limit=limit, start=start
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

    Detected: a record whose content no longer matches its hash; a gap in the sequence; a record whose
    prev_hash is not its predecessor's hash; a missing or rewound HEAD; missing oldest records that had not
    yet expired (TTL removes records oldest first, and each record says when its predecessor expires).
    """
    findings: list[Finding] = []

    def found(seq: int | None, problem: str) -> None:
        findings.append(Finding(patient_id, seq, problem))

    ordered = sorted(records, key=lambda r: int(r["seq"]))
    for record in ordered:
        if record_hash(record) != record.get("hash"):
            found(int(record["seq"]), "record content does not match its hash (changed)")
    if ordered:
        first = ordered[0]
        if int(first["seq"]) != 1 and int(first.get("prev_expires_at", 0)) > now.timestamp():
            found(int(first["seq"]), "earlier records are missing before their retention ended (deleted)")
        if int(first["seq"]) == 1 and first.get("prev_hash") != GENESIS:
            found(1, "the first record does not start the chain")
    for previous, record in zip(ordered, ordered[1:], strict=False):
        if int(record["seq"]) != int(previous["seq"]) + 1:
            found(int(previous["seq"]) + 1, "records are missing from the chain (deleted)")
        elif record.get("prev_hash") != previous.get("hash"):
            found(int(record["seq"]), "the previous record's hash does not match (changed or replaced)")
    if head is None:
        if ordered:
            found(None, "the chain head is missing (deleted)")
        return findings
    last_seq = int(ordered[-1]["seq"]) if ordered else 0
    if int(head["seq"]) != last_seq or (ordered and head.get("hash") != ordered[-1].get("hash")):
        found(int(head["seq"]), "the newest records are missing or the head was changed (deleted or rewound)")
    return findings


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
