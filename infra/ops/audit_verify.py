"""Verify the PDL audit log: every patient's hash chain in the audit table, read in full.

Against the local runtime (`make run` in another terminal; its table is found by name on its AWS endpoint):

    make audit-verify

Against a deployed stack (the table is the stack's AuditTableName output; AWS credentials and region come
from the usual chain, e.g. AWS_PROFILE and AWS_DEFAULT_REGION):

    make audit-verify AUDIT_VERIFY_ARGS="--table <AuditTableName>"    (or AUDIT_TABLE=<AuditTableName>)

Directly: `PYTHONPATH=layers/shared:infra .venv/bin/python -m ops.audit_verify [--table NAME]
[--endpoint-url URL]`. Without --table (or AUDIT_TABLE) it asks the local endpoint, by default
http://127.0.0.1:${AWS_PORT:-4566}, for the one table whose name contains "AuditTable".

Prints how many patients and records were read and one line per finding (patient id, seq, problem). Exit
status: 0 every chain is intact, 1 at least one finding (investigate: a record was changed, moved or
deleted, or a HEAD was), 2 the table could not be read (usage, connection, credentials, unknown table);
`make` turns any failure into its own status 2, so scripts that need the difference run the module.
Records missing only because their retention ended (DynamoDB TTL) are not findings. The scan reads the
whole table with strongly consistent reads: run it off-peak on a large table.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from eservices_core.audit import verify_table
from eservices_core.clock import now_utc
from eservices_core.table import Table
from ops import cli

TABLE_MARK = "AuditTable"  # the local runtime names each table <stack>-<logical id>


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    return cli.parser(
        "python -m ops.audit_verify",
        "Verify every patient's hash chain in the PDL audit table. "
        "Exit 0 intact, 1 findings, 2 the table could not be read.",
        table_variable="AUDIT_TABLE",
        table_help="the audit table (a deployed stack's AuditTableName output; default $AUDIT_TABLE, "
        "else the local runtime's table, found by name at the endpoint)",
    ).parse_args(argv)


def verify(table_name: str | None, endpoint_url: str | None) -> int:
    target = cli.Target.of(table_name, endpoint_url)
    # the message names the table found at the local endpoint too, once it is found
    with target.explained(lambda: f"read the audit table {table_name or ''}"):
        client = target.client()
        table_name = target.table_name(client, TABLE_MARK)
        patients, records, findings = verify_table(Table(client, table_name), now_utc())
    print(f"audit table {table_name} at {target.where}: {patients} patients, {records} records")
    for finding in findings:
        seq = "-" if finding.seq is None else str(finding.seq)
        print(f"  patient {finding.patient_id}  seq {seq}  {finding.problem}")
    if findings:
        print(f"{len(findings)} finding(s): the audit log was changed or records were deleted")
        return 1
    print("intact: every chain verifies")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return cli.main("audit-verify", parse, lambda args: verify(args.table, args.endpoint_url), argv)


if __name__ == "__main__":
    sys.exit(main())
