"""What the operator commands share: finding the deployment's table, reaching DynamoDB, explaining failures.

A command works on one table: a deployed stack's, named with --table (or its environment variable) and
reached through the usual AWS credential chain, or else the local runtime's, found by name at the local
endpoint (http://127.0.0.1:${AWS_PORT:-4566}). Whatever the operator must fix first (usage, connection,
credentials, an unknown table) is a `UsageError`: one line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

LOCAL_REGION = "eu-north-1"  # the local runtime's region
LOCAL_KEY = "local"  # the local runtime (moto) accepts any credentials


class UsageError(Exception):
    """Something the operator must fix before the command can use its table (exit status 2)."""


def local_endpoint() -> str:
    return f"http://127.0.0.1:{os.environ.get('AWS_PORT', '4566')}"


def parser(prog: str, description: str, *, table_variable: str, table_help: str) -> argparse.ArgumentParser:
    """The command's parser with --table (default `$table_variable`) and --endpoint-url."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--table", default=os.environ.get(table_variable) or None, help=table_help)
    parser.add_argument(
        "--endpoint-url",
        help="a DynamoDB endpoint (default: AWS itself with --table, else the local runtime at "
        "http://127.0.0.1:${AWS_PORT:-4566})",
    )
    return parser


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


def find_local_table(client: DynamoDBClient, mark: str) -> str:
    """The one table whose name contains `mark` (the local runtime names each table <stack>-<logical id>)."""
    names = [
        name
        for page in client.get_paginator("list_tables").paginate()
        for name in page.get("TableNames", [])
        if mark in name
    ]
    if len(names) != 1:
        found = ", ".join(names) if names else "none"
        raise UsageError(
            f"expected one table named *{mark}* at the endpoint, found {found}; "
            "is the local runtime running (make run)? Otherwise name it with --table"
        )
    return names[0]


@dataclass(frozen=True)
class Target:
    """Where a command works: the table it was given on AWS (or an endpoint), else the local runtime's."""

    table: str | None
    endpoint_url: str | None
    local: bool

    @classmethod
    def of(cls, table: str | None, endpoint_url: str | None) -> Target:
        local = table is None
        return cls(table, endpoint_url or (local_endpoint() if local else None), local)

    @property
    def where(self) -> str:
        return self.endpoint_url or "AWS"

    def client(self) -> DynamoDBClient:
        return dynamodb_client(self.endpoint_url, local=self.local)

    def table_name(self, client: DynamoDBClient, mark: str) -> str:
        """The table given, else the local runtime's one table named *mark*."""
        return self.table or find_local_table(client, mark)

    @contextmanager
    def explained(self, cannot: Callable[[], str]) -> Iterator[None]:
        """Turns AWS failures into a UsageError; `cannot()` says what a refused request could not do."""
        try:
            yield
        except EndpointConnectionError as error:
            hint = " (is the local runtime running? make run)" if self.local else ""
            raise UsageError(f"cannot reach {self.where}{hint}: {error}") from None
        except ClientError as error:
            raise UsageError(f"cannot {cannot()} at {self.where}: {error}") from None
        except (BotoCoreError, ValueError) as error:  # no credentials, no region, a malformed endpoint, ...
            raise UsageError(f"cannot use AWS at {self.where}: {error}") from None


def main(
    name: str,
    parse: Callable[[Sequence[str] | None], argparse.Namespace],
    run: Callable[[argparse.Namespace], int],
    argv: Sequence[str] | None,
) -> int:
    """Runs a command: its own exit status, or 2 for bad usage and for a UsageError (printed as `name: ...`)."""
    try:
        args = parse(argv)
    except SystemExit as exit_:  # --help (0) or a usage error argparse has already explained (2)
        return 0 if exit_.code in (0, None) else 2
    try:
        return run(args)
    except UsageError as error:
        print(f"{name}: {error}", file=sys.stderr)
        return 2
