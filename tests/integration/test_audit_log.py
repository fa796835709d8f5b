"""The PDL audit log in the template's AuditTable (moto): appends, tampering found by verify_table, concurrent
appends, a failing DynamoDB, retention, and `make audit-verify` (ops.audit_verify) end to end."""

from __future__ import annotations

import itertools
import threading
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from eservices_core import aws
from eservices_core.audit import APPEND_ATTEMPTS, GENESIS, AuditEntry, AuditLog, Finding, Verb, verify_table
from eservices_core.clock import FixedClock, use_clock
from eservices_core.errors import ServiceUnavailable
from eservices_core.table import Table
from local_runtime import moto_patches
from local_runtime.provision import physical_name
from local_runtime.runtime import free_port
from ops import audit_verify
from tests.support.aws import count_calls, fail_calls

ANNA = "3f2b8c1e-0000-4000-8000-00000000a11a"
LIV = "3f2b8c1e-0000-4000-8000-0000000011f0"
RETENTION = timedelta(days=1827)
T0 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def entry(patient_id: str, n: int) -> AuditEntry:
    return AuditEntry(
        patient_id=patient_id,
        actor_kind="resident",
        actor_id=ANNA,
        actor_name="Anna Demotest",
        acting_for=None if patient_id == ANNA else LIV,
        relation="self" if patient_id == ANNA else "guardian",
        verb=Verb.READ,
        resource=f"/v1/patients/{patient_id}/notes/{n}",
        request_id=f"request-{patient_id[-4:]}-{n}",
    )


@pytest.fixture
def clock() -> Iterator[FixedClock]:
    fixed = FixedClock(T0)
    with use_clock(fixed):
        yield fixed


@pytest.fixture
def table(stack) -> Table:
    """The audit table through the shared client that fault injection and call counting watch."""
    return Table(aws.dynamodb(), stack.ref("AuditTable"))


@pytest.fixture
def raw(stack) -> Any:
    """A client of its own, for reading and tampering as someone with direct table access would."""
    return stack.session.client("dynamodb")


def append(table: Table, clock: FixedClock, patient_id: str, count: int) -> list[dict[str, Any]]:
    log = AuditLog(table, RETENTION)
    written = []
    for n in range(count):
        written.append(log.append(entry(patient_id, n)))
        clock.advance(timedelta(minutes=7))
    return written


def items(table: Table, patient_id: str) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    stored = table.query_all(f"PATIENT#{patient_id}")
    return [i for i in stored if i["sk"] != "HEAD"], next((i for i in stored if i["sk"] == "HEAD"), None)


def key(patient_id: str, sk: str) -> dict[str, Any]:
    return {"pk": {"S": f"PATIENT#{patient_id}"}, "sk": {"S": sk}}


def test_appends_are_numbered_from_1_linked_by_hash_and_the_head_names_the_newest(table, clock):
    written = append(table, clock, ANNA, 4)

    records, head = items(table, ANNA)
    assert records == written, "what append returns is exactly what was stored"
    assert [(r["sk"], r["seq"]) for r in records] == [(f"REC#{n:012d}", n) for n in (1, 2, 3, 4)]
    assert records[0]["prev_hash"] == GENESIS
    assert all(r["prev_hash"] == p["hash"] for p, r in itertools.pairwise(records))
    assert all(r["prev_expires_at"] == p["expires_at"] for p, r in itertools.pairwise(records))
    assert head == {
        "pk": f"PATIENT#{ANNA}",
        "sk": "HEAD",
        "seq": 4,
        "hash": records[-1]["hash"],
        "newest_expires_at": records[-1]["expires_at"],
    }


def test_an_append_costs_two_round_trips(table, clock):
    append(table, clock, ANNA, 1)
    with count_calls() as calls:
        AuditLog(table, RETENTION).append(entry(ANNA, 1))
    assert calls == ["GetItem", "TransactWriteItems"]


def test_an_intact_table_has_no_findings(table, clock):
    append(table, clock, ANNA, 4)
    append(table, clock, LIV, 2)
    assert verify_table(table, clock.now()) == (2, 6, [])


def change_resource(raw: Any, name: str) -> None:
    raw.update_item(
        TableName=name,
        Key=key(ANNA, "REC#000000000002"),
        UpdateExpression="SET #r = :r",
        ExpressionAttributeNames={"#r": "resource"},
        ExpressionAttributeValues={":r": {"S": f"/v1/patients/{ANNA}/nothing-to-see"}},
    )


TAMPERING = {
    "a record's resource changed": (
        change_resource,
        Finding(ANNA, 2, "record content does not match its hash (changed)"),
    ),
    "the oldest record deleted": (
        lambda raw, name: raw.delete_item(TableName=name, Key=key(ANNA, "REC#000000000001")),
        Finding(ANNA, 2, "earlier records are missing before their retention ended (deleted)"),
    ),
    "a middle record deleted": (
        lambda raw, name: raw.delete_item(TableName=name, Key=key(ANNA, "REC#000000000002")),
        Finding(ANNA, 2, "records are missing from the chain (deleted)"),
    ),
    "the newest record deleted": (
        lambda raw, name: raw.delete_item(TableName=name, Key=key(ANNA, "REC#000000000004")),
        Finding(ANNA, 4, "the newest records are missing or the head was changed (deleted or rewound)"),
    ),
    "the head deleted": (
        lambda raw, name: raw.delete_item(TableName=name, Key=key(ANNA, "HEAD")),
        Finding(ANNA, None, "the chain head is missing (deleted)"),
    ),
}


@pytest.mark.parametrize("tampering", TAMPERING)
def test_tampering_in_the_table_is_found_for_that_patient_only(table, clock, raw, tampering):
    append(table, clock, ANNA, 4)
    append(table, clock, LIV, 3)
    tamper, expected = TAMPERING[tampering]

    tamper(raw, table.name)

    _, _, findings = verify_table(table, clock.now())
    assert findings == [expected]


def test_two_records_exchanging_their_content_is_found(table, clock, raw):
    """Each item keeps its key but holds the other's content: read in key order, the log is reordered."""
    append(table, clock, ANNA, 4)
    append(table, clock, LIV, 2)
    second, third = (
        raw.get_item(TableName=table.name, Key=key(ANNA, f"REC#{n:012d}"))["Item"] for n in (2, 3)
    )
    raw.put_item(TableName=table.name, Item=second | {"sk": third["sk"]})
    raw.put_item(TableName=table.name, Item=third | {"sk": second["sk"]})

    _, _, findings = verify_table(table, clock.now())
    assert {f.patient_id for f in findings} == {ANNA}
    assert {f.problem for f in findings if f.seq in (2, 3)} >= {
        "the item at REC#000000000002 is not stored under its own key (moved, swapped or copied)",
        "the item at REC#000000000003 is not stored under its own key (moved, swapped or copied)",
    }


def test_twenty_concurrent_appends_for_one_patient_make_one_linear_chain(table):
    # DynamoDB's conditional transactions have exactly one winner; moto's only with requests serialised.
    moto_patches.serialise_dynamodb()
    start = threading.Barrier(20, timeout=10)
    results: list[dict[str, Any]] = []
    errors: list[BaseException] = []

    def one(n: int) -> None:
        log = AuditLog(Table(table.client, table.name), RETENTION)
        start.wait()
        try:
            results.append(log.append(entry(LIV, n)))
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=one, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    records, head = items(table, LIV)
    assert [r["seq"] for r in records] == list(range(1, 21))
    assert sorted(r["request_id"] for r in records) == sorted(entry(LIV, n).request_id for n in range(20))
    assert sorted(r["seq"] for r in results) == list(range(1, 21)), "each append got its own place"
    assert head is not None and head["seq"] == 20
    assert verify_table(table, datetime.now(UTC)) == (1, 20, [])


@pytest.mark.parametrize(
    "code",
    [
        "InternalServerError",
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "AccessDeniedException",
    ],
)
def test_a_failing_dynamodb_makes_append_raise_service_unavailable_and_write_nothing(table, clock, code):
    log = AuditLog(table, RETENTION)
    with fail_calls("dynamodb", code), pytest.raises(ServiceUnavailable):
        log.append(entry(ANNA, 0))
    assert items(table, ANNA) == ([], None)


def cancel_transactions(times: int, reason: str) -> Any:
    """A before-call hook that cancels the next `times` transactions as DynamoDB does (with reasons in order)."""
    cancelled: list[str] = []

    def before_call(model: Any, **_: Any) -> None:
        if model.name == "TransactWriteItems" and len(cancelled) < times:
            cancelled.append(reason)
            raise ClientError(
                {
                    "Error": {"Code": "TransactionCanceledException", "Message": "cancelled"},
                    "CancellationReasons": [{"Code": "None"}, {"Code": reason}],
                },
                model.name,
            )

    return cancelled, before_call


def test_a_transaction_conflict_with_another_append_is_retried(table, clock):
    """Two transactions on one HEAD at the same moment: DynamoDB cancels one with TransactionConflict."""
    append(table, clock, ANNA, 1)
    cancelled, hook = cancel_transactions(2, "TransactionConflict")

    with aws.watching("dynamodb", "before-call", hook):
        record = AuditLog(table, RETENTION).append(entry(ANNA, 1))

    assert len(cancelled) == 2 and record["seq"] == 2
    assert verify_table(table, clock.now()) == (1, 2, [])


def test_an_append_that_keeps_conflicting_gives_up_with_service_unavailable(table, clock):
    cancelled, hook = cancel_transactions(100, "TransactionConflict")
    with aws.watching("dynamodb", "before-call", hook), pytest.raises(ServiceUnavailable):
        AuditLog(table, RETENTION).append(entry(ANNA, 0))
    assert len(cancelled) == APPEND_ATTEMPTS
    assert items(table, ANNA) == ([], None)


def test_a_throttled_transaction_is_not_retried_by_the_log(table, clock):
    cancelled, hook = cancel_transactions(100, "ThrottlingError")
    with aws.watching("dynamodb", "before-call", hook), pytest.raises(ServiceUnavailable):
        AuditLog(table, RETENTION).append(entry(ANNA, 0))
    assert len(cancelled) == 1


@pytest.mark.parametrize("days", [1827, 3653])
def test_records_expire_the_retention_after_they_were_recorded(table, clock, days):
    clock.set(datetime(2027, 3, 31, 22, 30, 15, 123456, tzinfo=UTC))
    record = AuditLog(table, timedelta(days=days)).append(entry(ANNA, 0))

    assert record["recorded_at"] == "2027-03-31T22:30:15.123456Z"
    recorded = datetime.fromisoformat(record["recorded_at"])
    assert record["expires_at"] == int((recorded + timedelta(days=days)).timestamp())
    _, head = items(table, ANNA)
    assert head is not None and head["newest_expires_at"] == record["expires_at"]


def test_the_template_keeps_records_at_least_five_years_and_lets_ttl_remove_them(template, stack):
    retention = template.data["Parameters"]["AuditRetentionDays"]
    assert int(retention["MinValue"]) >= 1827, "PDL 4:3 and rule 15: at least 5 years"
    assert int(retention["Default"]) >= int(retention["MinValue"])
    environment = template.data["Globals"]["Function"]["Environment"]["Variables"]
    assert environment["AUDIT_RETENTION_DAYS"] == {"Ref": "AuditRetentionDays"}
    assert environment["AUDIT_TABLE_NAME"] == {"Ref": "AuditTable"}
    audit_table = template.resources["AuditTable"]
    assert audit_table["Properties"]["TimeToLiveSpecification"] == {
        "AttributeName": "expires_at",
        "Enabled": True,
    }
    assert audit_table["DeletionPolicy"] == "Retain"
    ttl = stack.session.client("dynamodb").describe_time_to_live(TableName=stack.ref("AuditTable"))
    assert ttl["TimeToLiveDescription"] == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires_at"}


# ---- make audit-verify ---------------------------------------------------------------------------------------
def test_the_command_exits_0_on_an_intact_table_and_1_naming_what_was_tampered_with(
    table, clock, raw, capsys
):
    append(table, clock, ANNA, 4)
    append(table, clock, LIV, 2)

    assert audit_verify.main(["--table", table.name]) == 0
    out = capsys.readouterr().out
    assert f"audit table {table.name} at AWS: 2 patients, 6 records" in out and "intact" in out

    change_resource(raw, table.name)
    raw.delete_item(TableName=table.name, Key=key(LIV, "HEAD"))

    assert audit_verify.main(["--table", table.name]) == 1
    out = capsys.readouterr().out
    assert f"patient {ANNA}  seq 2  record content does not match its hash (changed)" in out
    assert f"patient {LIV}  seq -  the chain head is missing (deleted)" in out
    assert "2 finding(s)" in out


def test_the_command_takes_the_table_from_audit_table_as_the_stack_output_says(
    table, clock, monkeypatch, capsys
):
    append(table, clock, ANNA, 1)
    monkeypatch.setenv("AUDIT_TABLE", table.name)
    assert audit_verify.main([]) == 0
    assert "1 patients, 1 records" in capsys.readouterr().out


def test_the_command_explains_an_unknown_table_without_a_traceback(stack, capsys):
    assert audit_verify.main(["--table", "no-such-table"]) == 2
    err = capsys.readouterr().err
    assert (
        err.startswith("audit-verify: cannot read the audit table no-such-table") and "Traceback" not in err
    )


def test_the_command_explains_an_unreachable_local_runtime(monkeypatch, capsys):
    monkeypatch.delenv("AUDIT_TABLE", raising=False)
    monkeypatch.setenv("AWS_PORT", str(free_port()))
    assert audit_verify.main([]) == 2
    err = capsys.readouterr().err
    assert "cannot reach http://127.0.0.1:" in err and "make run" in err and "Traceback" not in err


@pytest.mark.parametrize("argv", [["--bogus"], ["--table"]])
def test_the_command_refuses_bad_usage_with_2(argv, capsys):
    assert audit_verify.main(argv) == 2
    assert "usage:" in capsys.readouterr().err


def test_the_command_refuses_a_malformed_endpoint_with_2(capsys):
    assert audit_verify.main(["--endpoint-url", "not a url"]) == 2
    assert "Invalid endpoint" in capsys.readouterr().err


@pytest.fixture
def local_aws(template, monkeypatch) -> Iterator[str]:
    """A moto server like the local runtime's, on AWS_PORT, with the runtime's audit and identity tables."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    url = f"http://127.0.0.1:{port}"
    monkeypatch.delenv("AUDIT_TABLE", raising=False)
    monkeypatch.setenv("AWS_PORT", str(port))
    try:
        urllib.request.urlopen(urllib.request.Request(f"{url}/moto-api/reset", method="POST")).close()
        client = boto3.client("dynamodb", endpoint_url=url, region_name="eu-north-1")
        for logical_id in ("IdentityTable", "AuditTable"):
            props = template.resources[logical_id]["Properties"]
            indexes = (
                {"GlobalSecondaryIndexes": props["GlobalSecondaryIndexes"]}
                if "GlobalSecondaryIndexes" in props
                else {}
            )
            client.create_table(
                TableName=physical_name(logical_id),
                BillingMode="PAY_PER_REQUEST",
                AttributeDefinitions=props["AttributeDefinitions"],
                KeySchema=props["KeySchema"],
                **indexes,
            )
        yield url
    finally:
        urllib.request.urlopen(urllib.request.Request(f"{url}/moto-api/reset", method="POST")).close()
        server.stop()


def test_without_a_table_the_command_finds_the_local_runtimes_audit_table(local_aws, capsys):
    client = boto3.client("dynamodb", endpoint_url=local_aws, region_name="eu-north-1")
    name = physical_name("AuditTable")
    clock = FixedClock(T0)
    with use_clock(clock):
        append(Table(client, name), clock, ANNA, 3)

    assert audit_verify.main([]) == 0
    assert f"audit table {name} at {local_aws}: 1 patients, 3 records" in capsys.readouterr().out

    client.delete_item(TableName=name, Key=key(ANNA, "REC#000000000002"))
    assert audit_verify.main(["--endpoint-url", local_aws]) == 1
    assert f"patient {ANNA}  seq 2  records are missing from the chain (deleted)" in capsys.readouterr().out

    client.delete_table(TableName=name)
    assert audit_verify.main([]) == 2
    assert "found none" in capsys.readouterr().err
