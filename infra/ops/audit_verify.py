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
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError

from eservices_core.audit import verify_table
from eservices_core.clock import now_utc
from eservices_core.table import Table

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

LOCAL_REGION = "eu-north-1"  # the local runtime's region
LOCAL_KEY = "local"  # the local runtime (moto) accepts any credentials
TABLE_MARK = "AuditTable"  # the local runtime names each table <stack>-<logical id>


class UsageError(Exception):
    """Something the operator must fix before the table can be verified (exit status 2)."""


def local_endpoint() -> str:
    return f"http://127.0.0.1:{os.environ.get('AWS_PORT', '4566')}"


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m ops.audit_verify",
        description="Verify every patient's hash chain in the PDL audit table. "
        "Exit 0 intact, 1 findings, 2 the table could not be read.",
    )
    parser.add_argument(
        "--table",
        default=os.environ.get("AUDIT_TABLE") or None,
        help="the audit table (a deployed stack's AuditTableName output; default $AUDIT_TABLE, "
        "else the local runtime's table, found by name at the endpoint)",
    )
    parser.add_argument(
        "--endpoint-url",
        help="a DynamoDB endpoint (default: AWS itself with --table, else the local runtime at "
        "http://127.0.0.1:${AWS_PORT:-4566})",
    )
    return parser.parse_args(argv)


def dynamodb_client(endpoint_url: str | None, *, local: bool) -> DynamoDBClient:
    """The default credential chain and region, or the local runtime's (which never sees real credentials)."""
    config = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=3, read_timeout=60)
    if local:
        session = boto3.session.Session(
            aws_access_key_id=LOCAL_KEY, aws_secret_access_key=LOCAL_KEY, region_name=LOCAL_REGION
        )
    else:
        session = boto3.session.Session()
    return session.client("dynamodb", endpoint_url=endpoint_url, config=config)


def find_local_table(client: DynamoDBClient) -> str:
    names = [
        name
        for page in client.get_paginator("list_tables").paginate()
        for name in page.get("TableNames", [])
        if TABLE_MARK in name
    ]
    if len(names) != 1:
        found = ", ".join(names) if names else "none"
        raise UsageError(
            f"expected one table named *{TABLE_MARK}* at the endpoint, found {found}; "
            "is the local runtime running (make run)? Otherwise name it with --table"
        )
    return names[0]


def verify(table_name: str | None, endpoint_url: str | None) -> int:
    local = table_name is None
    if local and endpoint_url is None:
        endpoint_url = local_endpoint()
    where = endpoint_url or "AWS"
    try:
        client = dynamodb_client(endpoint_url, local=local)
        if table_name is None:
            table_name = find_local_table(client)
        patients, records, findings = verify_table(Table(client, table_name), now_utc())
    except EndpointConnectionError as error:
        hint = " (is the local runtime running? make run)" if local else ""
        raise UsageError(f"cannot reach {where}{hint}: {error}") from None
    except ClientError as error:
        raise UsageError(f"cannot read the audit table {table_name or ''} at {where}: {error}") from None
    except (BotoCoreError, ValueError) as error:  # no credentials, no region, a malformed endpoint, ...
        raise UsageError(f"cannot use AWS at {where}: {error}") from None
    print(f"audit table {table_name} at {where}: {patients} patients, {records} records")
    for finding in findings:
        seq = "-" if finding.seq is None else str(finding.seq)
        print(f"  patient {finding.patient_id}  seq {seq}  {finding.problem}")
    if findings:
        print(f"{len(findings)} finding(s): the audit log was changed or records were deleted")
        return 1
    print("intact: every chain verifies")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = parse(argv)
    except SystemExit as exit_:  # --help (0) or a usage error argparse has already explained (2)
        return 0 if exit_.code in (0, None) else 2
    try:
        return verify(args.table, args.endpoint_url)
    except UsageError as error:
        print(f"audit-verify: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
