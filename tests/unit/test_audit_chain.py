"""verify_chain on chains written by the real AuditLog.append (into an in-memory table): tampering is found,
TTL expiry is not."""

from __future__ import annotations

import copy
import itertools
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest

from eservices_core.audit import AuditEntry, AuditLog, Verb, partition, record_hash, verify_chain
from eservices_core.clock import FixedClock, use_clock
from eservices_core.table import ConditionFailed, Table

PATIENT = "7f3c2a91-0000-4000-8000-000000000001"
START = datetime(2026, 1, 10, 8, 0, tzinfo=UTC)
STEP = timedelta(days=1)
RETENTION = timedelta(days=10)
LENGTH = 5
HEAD_KEY = (partition(PATIENT), "HEAD")


class MemoryTable:
    """The part of `Table` that AuditLog.append uses, with DynamoDB's all-or-nothing conditional transaction."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], dict[str, Any]] = {}

    def get(self, key: tuple[str, str], *, consistent: bool = True) -> dict[str, Any] | None:
        item = self.items.get(key)
        return copy.deepcopy(item) if item else None

    def put(self, item: dict[str, Any], condition: str | None = None, **values: Any) -> dict[str, Any]:
        return {"item": copy.deepcopy(item), "condition": condition, "values": values}

    def transact(self, actions: list[dict[str, Any]]) -> None:
        for index, action in enumerate(actions):
            current = self.items.get((action["item"]["pk"], action["item"]["sk"]))
            condition = action["condition"]
            if condition == "attribute_not_exists(pk)":
                holds = current is None
            elif condition == "seq = :seq":
                holds = current is not None and current["seq"] == action["values"]["seq"]
            else:
                raise AssertionError(f"unexpected condition {condition}")
            if not holds:
                raise ConditionFailed(index)
        for action in actions:
            self.items[(action["item"]["pk"], action["item"]["sk"])] = action["item"]


def entry(n: int) -> AuditEntry:
    """An entry with every optional field set, so every field of a record is present to be tampered with."""
    return AuditEntry(
        patient_id=PATIENT,
        actor_kind="staff",
        actor_id="SE2321000016-A1B2",
        actor_name="Doktor Demoöppen",
        acting_for=f"child-{n}",
        relation="staff",
        verb=Verb.READ,
        resource=f"/v1/patients/{PATIENT}/notes/{n}",
        request_id=f"request-{n}",
        care_unit_hsa_id="SE2321000016-UNIT",
        care_unit_name="Vårdcentralen Demo",
        care_provider_hsa_id="SE2321000016-CARE",
        care_provider_public=True,
        purpose="care",
        commission_id=f"commission-{n}",
    )


def written_chain(length: int = LENGTH) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """`length` records appended one a day from START (retention 10 days), and the HEAD, as stored."""
    table = MemoryTable()
    log = AuditLog(cast("Table", table), RETENTION)
    clock = FixedClock(START)
    with use_clock(clock):
        for n in range(length):
            log.append(entry(n))
            clock.advance(STEP)
    records = sorted((v for k, v in table.items.items() if k[1] != "HEAD"), key=lambda r: r["seq"])
    return records, table.items[HEAD_KEY]


@pytest.fixture
def chain() -> tuple[list[dict[str, Any]], dict[str, Any]]:
    return written_chain()


NOW = START + timedelta(days=LENGTH)  # the day after the last append: nothing has expired yet


def problems(records: list[dict[str, Any]], head: dict[str, Any] | None, now: datetime = NOW) -> list[str]:
    return [f"{f.seq}: {f.problem}" for f in verify_chain(PATIENT, records, head, now)]


def seqs_found(records: list[dict[str, Any]], head: dict[str, Any] | None, now: datetime = NOW) -> set[Any]:
    return {f.seq for f in verify_chain(PATIENT, records, head, now)}


def test_the_written_chain_is_linked_and_the_head_names_its_newest_record(chain):
    records, head = chain
    assert [r["seq"] for r in records] == [1, 2, 3, 4, 5]
    assert records[0]["prev_hash"] == "0" * 64 and records[0]["prev_expires_at"] == 0
    for previous, record in itertools.pairwise(records):
        assert record["prev_hash"] == previous["hash"]
        assert record["prev_expires_at"] == previous["expires_at"]
    assert all(record_hash(r) == r["hash"] for r in records)
    assert (head["seq"], head["hash"], head["newest_expires_at"]) == (
        5,
        records[-1]["hash"],
        records[-1]["expires_at"],
    )


def test_an_intact_chain_has_no_findings(chain):
    records, head = chain
    assert problems(records, head) == []
    assert problems([], None) == [], "a patient without records"
    one, one_head = written_chain(1)
    assert problems(one, one_head) == []


def test_the_order_records_are_given_in_does_not_matter(chain):
    records, head = chain
    assert problems(list(reversed(records)), head) == []


RECORD_FIELDS = sorted(written_chain(1)[0][0])
POSITIONS = range(LENGTH)


def altered(value: Any) -> Any:
    """A different value of the same type."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    assert isinstance(value, str)
    return value[:-1] + ("x" if value[-1:] != "x" else "y")


def test_every_field_of_an_entry_and_of_the_chain_is_in_a_record():
    expected = {"pk", "sk", "seq", "recorded_at", "prev_hash", "prev_expires_at", "expires_at", "hash"}
    expected.add("staff_access_pk")  # staff records are also in the access-log index
    assert expected | {"patient_id", "actor_kind", "action", "resource", "care_provider_public"} <= set(
        RECORD_FIELDS
    )
    assert len(RECORD_FIELDS) == 9 + 15, "every AuditEntry field (verb stored as action) and the chain's"


@pytest.mark.parametrize("position", POSITIONS)
@pytest.mark.parametrize("field", RECORD_FIELDS)
def test_changing_any_field_of_any_record_is_detected(chain, field, position):
    records, head = chain
    records[position][field] = altered(records[position][field])
    assert problems(records, head), f"changed {field} of record {position + 1} went unnoticed"


@pytest.mark.parametrize("position", POSITIONS)
@pytest.mark.parametrize("field", RECORD_FIELDS)
def test_replacing_any_field_of_any_record_with_text_is_detected(chain, field, position):
    records, head = chain
    records[position][field] = "tampered"
    assert problems(records, head), f"{field} of record {position + 1} replaced, unnoticed"


@pytest.mark.parametrize("position", POSITIONS)
@pytest.mark.parametrize("field", [f for f in RECORD_FIELDS if f not in {"pk", "sk"}])
def test_removing_any_field_of_any_record_is_detected(chain, field, position):
    records, head = chain
    del records[position][field]
    assert problems(records, head), f"{field} of record {position + 1} removed, unnoticed"


@pytest.mark.parametrize("position", POSITIONS)
def test_a_changed_record_with_a_recomputed_hash_is_detected_by_its_successor_or_the_head(chain, position):
    records, head = chain
    records[position]["resource"] = "/v1/patients/someone-else"
    records[position]["hash"] = record_hash(records[position])
    assert seqs_found(records, head) == {position + 2 if position + 1 < LENGTH else LENGTH}


@pytest.mark.parametrize(("position", "where"), [(0, 2), (2, 3), (4, 5)], ids=["first", "middle", "last"])
def test_deleting_any_single_record_is_detected(chain, position, where):
    records, head = chain
    del records[position]
    assert seqs_found(records, head) == {where}, problems(records, head)


def test_deleting_every_record_is_detected(chain):
    _, head = chain
    assert problems([], head) == [
        "5: the newest records are missing or the head was changed (deleted or rewound)"
    ]


def test_deleting_the_head_is_detected(chain):
    records, _ = chain
    assert problems(records, None) == ["None: the chain head is missing (deleted)"]


@pytest.mark.parametrize("field", ["seq", "hash"])
def test_a_rewound_or_changed_head_is_detected(chain, field):
    records, head = chain
    head[field] = altered(head[field]) if field == "hash" else 4
    assert problems(records, head)


def test_a_record_added_after_the_head_is_detected(chain):
    records, head = chain
    forged = dict(records[-1], seq=6, sk="REC#000000000006", prev_hash=records[-1]["hash"])
    forged["hash"] = record_hash(forged)
    assert problems([*records, forged], head)


PAIRS = [(0, 1), (1, 3), (0, 4), (3, 4)]
KEYS = {"pk", "sk"}
CHAIN_FIELDS = {"seq", "prev_hash", "prev_expires_at", "expires_at", "hash", "recorded_at"}


@pytest.mark.parametrize(("a", "b"), PAIRS)
def test_swapping_what_two_records_say_happened_is_detected(chain, a, b):
    records, head = chain
    for field in set(RECORD_FIELDS) - KEYS - CHAIN_FIELDS:
        records[a][field], records[b][field] = records[b][field], records[a][field]
    assert seqs_found(records, head) == {a + 1, b + 1}


@pytest.mark.parametrize(("a", "b"), PAIRS)
def test_swapping_the_whole_content_of_two_records_is_detected(chain, a, b):
    """Two items keep their keys but exchange everything else: the log, read in key order, is reordered."""
    records, head = chain
    for field in set(RECORD_FIELDS) - KEYS:
        records[a][field], records[b][field] = records[b][field], records[a][field]
    assert problems(records, head)


def test_a_record_copied_over_another_is_detected(chain):
    records, head = chain
    records[2] = dict(records[1], sk=records[2]["sk"])
    assert problems(records, head)


def test_a_record_from_another_patients_partition_is_detected(chain):
    records, head = chain
    records[2] = dict(records[2], pk=partition("someone-else"))
    assert problems(records, head)


# ---- retention: TTL removes records once expired (in any order, days late); that is not tampering --------------
def expired_after(days: float) -> datetime:
    """The instant `days` after the first record's expiry: records 1 .. ceil(days) have expired by then."""
    return START + RETENTION + timedelta(days=days)


@pytest.mark.parametrize("removed", [1, 2, 3])
def test_expired_oldest_records_missing_are_not_a_finding(chain, removed):
    records, head = chain
    assert problems(records[removed:], head, expired_after(2.5)) == []


@pytest.mark.parametrize(("removed", "now"), [(1, NOW), (2, expired_after(0.5)), (4, expired_after(2.5))])
def test_missing_oldest_records_not_yet_expired_are_a_finding(chain, removed, now):
    records, head = chain
    assert problems(records[removed:], head, now) == [
        f"{removed + 1}: earlier records are missing before their retention ended (deleted)"
    ]


def test_a_record_expiring_exactly_now_may_be_gone():
    records, head = written_chain()
    assert problems(records[1:], head, START + RETENTION) == []


def test_expired_records_removed_out_of_order_are_not_a_finding(chain):
    """DynamoDB's TTL deletes expired items within days, in no particular order."""
    records, head = chain
    assert problems([records[0], records[2], records[4]], head, expired_after(3.5)) == []


def test_a_middle_record_missing_before_its_expiry_is_a_finding_even_when_older_ones_expired(chain):
    records, head = chain
    assert seqs_found([records[0], records[2], records[3], records[4]], head, expired_after(0.5)) == {2}


def test_when_every_record_expired_the_head_and_the_records_may_go_in_any_order(chain):
    records, head = chain
    after_all = expired_after(LENGTH)
    assert problems([], head, after_all) == [], "records gone, head not yet"
    assert problems(records[:2], None, after_all) == [], "head gone, some records not yet"
    assert problems(records[:2], head, after_all) == []
    assert problems([], None, after_all) == []


def test_deleting_the_head_or_the_newest_record_before_it_expired_is_still_found(chain):
    records, head = chain
    almost = expired_after(LENGTH - 1.5)  # all but the newest have expired
    assert problems(records, None, almost) == ["None: the chain head is missing (deleted)"]
    assert seqs_found(records[:-1], head, almost) == {5}
