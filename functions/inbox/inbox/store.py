"""The inbox table (`InboxTable`).

Keys:
    PATIENT#<id>                 MSG#<message id>   a message, under its recipient (ids sort by arrival)
    DELIVERED#<system>#<their id> DELIVERED         that a system's message was stored (duplicates ack)
    SYSTEM#<system id>           SYSTEM             a registered sending system (rule 24)
    OUTBOX#<shard>               <at>#<event id>    events not yet delivered (`eservices_core.outbox`)
Local index `UnreadFirst` (pk, view_sk = 1#<message id> while unread, 0#<message id> once read): a
patient's inbox unread first, each group newest first, in one Query. Deleting from view hides a message; it
stays until `purge_at` (the retention period, TTL).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from eservices_core.table import ConditionFailed, Key, Page, Table

UNREAD_INDEX = "UnreadFirst"


class AlreadyDelivered(Exception):
    """This (system, message id) was stored before: the redelivery is acknowledged, nothing is added."""


def iso(instant: datetime) -> str:
    """An instant as the inbox stores and compares it (UTC, seconds, `Z`)."""
    return instant.isoformat(timespec="seconds").replace("+00:00", "Z")


def message_key(patient_id: str, message_id: str) -> Key:
    return f"PATIENT#{patient_id}", f"MSG#{message_id}"


def delivered_key(system_id: str, external_id: str) -> Key:
    return f"DELIVERED#{system_id}#{external_id}", "DELIVERED"


def system_key(system_id: str) -> Key:
    return f"SYSTEM#{system_id}", "SYSTEM"


def view_sk(message_id: str, *, unread: bool) -> str:
    return f"{1 if unread else 0}#{message_id}"


class InboxStore:
    def __init__(self, table: Table) -> None:
        self.table = table

    # ---- sending systems ------------------------------------------------------------------------------------
    def system(self, system_id: str) -> dict[str, Any] | None:
        return self.table.get(system_key(system_id), consistent=False)

    def register_system(self, system_id: str, name: str, *, active: bool = True) -> None:
        pk, sk = system_key(system_id)
        self.table.put_item({"pk": pk, "sk": sk, "system_id": system_id, "name": name, "active": active})

    # ---- delivery -------------------------------------------------------------------------------------------
    def deliver(self, message: dict[str, Any], events: Sequence[dict[str, Any]]) -> None:
        """One transaction: the message, the record that it was delivered, its event; or AlreadyDelivered."""
        pk, sk = message_key(message["patient_id"], message["message_id"])
        dpk, dsk = delivered_key(message["system_id"], message["external_id"])
        marker = {
            "pk": dpk,
            "sk": dsk,
            "patient_id": message["patient_id"],
            "message_id": message["message_id"],
        }
        try:
            self.table.transact(
                [
                    self.table.put(marker | {"purge_at": message["purge_at"]}, "attribute_not_exists(pk)"),
                    self.table.put({"pk": pk, "sk": sk, **message}, "attribute_not_exists(pk)"),
                    *(self.table.put(event) for event in events),
                ],
                attempts=3,
            )
        except ConditionFailed:
            raise AlreadyDelivered from None

    # ---- residents ------------------------------------------------------------------------------------------
    def page(
        self,
        patient_id: str,
        *,
        unread_first: bool,
        where: Sequence[tuple[str, str, Any]],
        limit: int,
        start: dict[str, Any] | None,
    ) -> Page:
        """One Query: newest first, or unread first (the local index, strongly consistent like the table)."""
        if unread_first:
            return self.table.query(
                f"PATIENT#{patient_id}",
                index=UNREAD_INDEX,
                sort_key="view_sk",
                newest_first=True,
                limit=limit,
                start=start,
                where=where,
            )
        return self.table.query(
            f"PATIENT#{patient_id}", prefix="MSG#", newest_first=True, limit=limit, start=start, where=where
        )

    def message(self, patient_id: str, message_id: str) -> dict[str, Any] | None:
        return self.table.get(message_key(patient_id, message_id))

    def change(self, message: dict[str, Any], changes: dict[str, Any], removed: Sequence[str] = ()) -> None:
        """Set (and remove) attributes of a message still shown (not deleted from view)."""
        names = {f"#a{i}": name for i, name in enumerate(changes)} | {
            f"#r{i}": n for i, n in enumerate(removed)
        }
        expression = "SET " + ", ".join(f"#a{i} = :a{i}" for i in range(len(changes)))
        if removed:
            expression += " REMOVE " + ", ".join(f"#r{i}" for i in range(len(removed)))
        values = {f"a{i}": value for i, value in enumerate(changes.values())}
        self.table.transact(
            [
                self.table.update(
                    message_key(message["patient_id"], message["message_id"]),
                    expression,
                    "attribute_exists(pk) AND attribute_not_exists(deleted_at)",
                    names=names,
                    **values,
                )
            ]
        )
