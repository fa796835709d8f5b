"""Register, deactivate and list the systems that may deliver to residents' inboxes (rule 24).

Only a registered, active sending system may put messages on InboxDeliveryQueue: a message from any other
`system_id` goes to the DLQ as `unknown-sending-system`. Each registration is one item in the InboxTable
(`SYSTEM#<id>` / `SYSTEM`, written by `inbox.store.InboxStore`, the same code the delivery function reads
it with).

Against the local runtime (`make run` in another terminal; its table is found by name on its AWS endpoint):

    PYTHONPATH=layers/shared:infra .venv/bin/python -m ops.sending_systems list
    PYTHONPATH=layers/shared:infra .venv/bin/python -m ops.sending_systems register demo-lab "Laboratoriet (demo)"
    PYTHONPATH=layers/shared:infra .venv/bin/python -m ops.sending_systems deactivate demo-lab

Against a deployed stack (the table is the stack's InboxTable, `<stack>-InboxTable-...`; AWS credentials and
region come from the usual chain, e.g. AWS_PROFILE and AWS_DEFAULT_REGION):

    ... -m ops.sending_systems --table <InboxTable> register <system-id> "<name>"

`register` creates the system or renames and re-activates it; `deactivate` keeps the item (the name stays
for the record) but refuses the system's messages from then on. Delivery containers cache what they read
of a system for up to a minute, so a change applies within a minute. `list` scans the whole table (it
holds the messages too): run it off-peak on a large table.

Exit status: 0 done, 1 `deactivate` of a system that is not registered, 2 the table could not be used
(usage, connection, credentials, unknown table).
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eservices_core.dynamo import from_item
from eservices_core.table import Table
from ops import cli
from ops.cli import UsageError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from inbox.store import InboxStore

TABLE_MARK = "InboxTable"  # the local runtime names each table <stack>-<logical id>
SYSTEM_ID = re.compile(r"^[a-z0-9-]{1,64}$")  # the contract's pattern (inbox-message.v1 system_id)
INBOX_CODE = Path(__file__).resolve().parents[2] / "functions" / "inbox"


class NotRegistered(Exception):
    """The system has never been registered (exit status 1)."""


def store(client: DynamoDBClient, table_name: str) -> InboxStore:
    """The inbox's own store over `table_name` (its code is imported from functions/inbox, as Lambda has it)."""
    if str(INBOX_CODE) not in sys.path:
        sys.path.append(str(INBOX_CODE))
    from inbox.store import InboxStore

    return InboxStore(Table(client, table_name))


def register(inbox: InboxStore, system_id: str, name: str) -> None:
    if not SYSTEM_ID.match(system_id):
        raise UsageError(
            f"system id {system_id!r} must be 1-64 of a-z, 0-9 and '-' (the contract refuses any other)"
        )
    if not name.strip() or len(name) > 200:
        raise UsageError("the name must be 1-200 characters, not only spaces")
    inbox.register_system(system_id, name.strip())


def deactivate(inbox: InboxStore, system_id: str) -> None:
    found = inbox.system(system_id)
    if found is None:
        raise NotRegistered(system_id)
    inbox.register_system(system_id, str(found["name"]), active=False)


def systems(inbox: InboxStore) -> list[dict[str, Any]]:
    """Every registration (active or not), by id: a filtered scan of the whole table."""
    from inbox.store import system_key

    pk_prefix = system_key("")[0]
    sk = system_key("")[1]
    found: list[dict[str, Any]] = []
    paginator = inbox.table.client.get_paginator("scan")
    for page in paginator.paginate(
        TableName=inbox.table.name,
        FilterExpression="begins_with(pk, :prefix) AND sk = :sk",
        ExpressionAttributeValues={":prefix": {"S": pk_prefix}, ":sk": {"S": sk}},
        ConsistentRead=True,
    ):
        found += [from_item(item) for item in page.get("Items", [])]  # type: ignore[arg-type]
    return sorted(found, key=lambda item: str(item["system_id"]))


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = cli.parser(
        "python -m ops.sending_systems",
        "Register, deactivate or list the systems that may deliver inbox messages. "
        "Exit 0 done, 1 no such system, 2 the table could not be used.",
        table_variable="INBOX_TABLE",
        table_help="the inbox table (a deployed stack's InboxTable; default $INBOX_TABLE, else the local "
        "runtime's table, found by name at the endpoint)",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    add = commands.add_parser("register", help="register a system, or rename and re-activate it")
    add.add_argument("system_id", help="as messages name it in system_id, e.g. demo-ehr")
    add.add_argument("name", help="what residents see as the sending system, e.g. 'Journalsystem'")
    off = commands.add_parser("deactivate", help="refuse the system's messages from now on")
    off.add_argument("system_id")
    commands.add_parser("list", help="every registered system, active or not")
    return parser.parse_args(argv)


def run(args: argparse.Namespace) -> int:
    target = cli.Target.of(args.table, args.endpoint_url)
    where = target.where
    try:
        with target.explained(lambda: "use the inbox table"):
            client = target.client()
            table_name = target.table_name(client, TABLE_MARK)
            inbox = store(client, table_name)
            if args.command == "register":
                register(inbox, args.system_id, args.name)
                print(f"registered {args.system_id} ({args.name.strip()}) in {table_name} at {where}")
            elif args.command == "deactivate":
                deactivate(inbox, args.system_id)
                print(f"deactivated {args.system_id} in {table_name} at {where} (applies within a minute)")
            else:
                found = systems(inbox)
                print(f"{len(found)} sending system(s) in {table_name} at {where}")
                for item in found:
                    state = "active" if item.get("active") else "inactive"
                    print(f"  {item['system_id']:32} {state:8} {item['name']}")
    except NotRegistered as missing:
        print(f"sending-systems: {missing} is not registered", file=sys.stderr)
        return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return cli.main("sending-systems", parse, run, argv)


if __name__ == "__main__":
    sys.exit(main())
