"""The notifications table (`NotificationsTable`).

Keys:
    PATIENT#<id>   SETTINGS             e-mail and mobile number (each verified or not), which events notify
    PATIENT#<id>   CODE#<channel>       a verification code's hash, expiry (TTL) and attempts
    PENDING#<id>   PENDING              events waiting to become one notification (the coalescing window)
    SENT#<id>      <sent at>#<id>       notifications sent (a day, TTL): the per-recipient rate limit
Index `Due` (due_pk = DUE#<yyyy-mm-ddThh:mm>, due_sk = <due at>#<patient id>): sparse, the pending
notifications by the minute they are due.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from eservices_core.table import ConditionFailed, Key, Table

DUE_INDEX = "Due"
KINDS = ("inbox", "cases", "booking")


def iso(instant: datetime) -> str:
    return instant.isoformat(timespec="seconds").replace("+00:00", "Z")


def settings_key(patient_id: str) -> Key:
    return f"PATIENT#{patient_id}", "SETTINGS"


def code_key(patient_id: str, channel: str) -> Key:
    return f"PATIENT#{patient_id}", f"CODE#{channel}"


def pending_key(patient_id: str) -> Key:
    return f"PENDING#{patient_id}", "PENDING"


def due_fields(due: datetime, patient_id: str) -> dict[str, str]:
    return {"due_pk": f"DUE#{due:%Y-%m-%dT%H:%M}", "due_sk": f"{iso(due)}#{patient_id}"}


class NotificationStore:
    def __init__(self, table: Table) -> None:
        self.table = table

    # ---- settings ---------------------------------------------------------------------------------------------
    def settings(self, patient_id: str) -> dict[str, Any] | None:
        return self.table.get(settings_key(patient_id))

    def settings_of(self, patient_ids: list[str]) -> dict[str, dict[str, Any]]:
        """One BatchGetItem: the settings of those who have any."""
        found = self.table.get_many([settings_key(p) for p in patient_ids], consistent=False)
        return {item["patient_id"]: item for item in found.values()}

    def save_settings(self, settings: dict[str, Any], codes: dict[str, dict[str, Any]]) -> None:
        """The settings and the new verification codes (by channel) in one transaction."""
        pk, sk = settings_key(settings["patient_id"])
        actions = [self.table.put({"pk": pk, "sk": sk, **settings})]
        for channel, code in codes.items():
            cpk, csk = code_key(settings["patient_id"], channel)
            actions.append(self.table.put({"pk": cpk, "sk": csk, **code}))
        self.table.transact(actions)

    def settings_and_codes(self, patient_id: str, channels: Sequence[str]) -> dict[Key, dict[str, Any]]:
        """One BatchGetItem: the settings and the pending codes of `channels`, by key (absent: none)."""
        keys = [settings_key(patient_id), *(code_key(patient_id, c) for c in channels)]
        return self.table.get_many(keys)

    def restore(self, patient_id: str, channels: Sequence[str], stored: dict[Key, dict[str, Any]]) -> None:
        """Put the settings and the codes of `channels` back as `stored` (from `settings_and_codes`) had them."""
        keys = [settings_key(patient_id), *(code_key(patient_id, c) for c in channels)]
        self.table.transact(
            [self.table.put(stored[key]) if key in stored else self.table.delete(key) for key in keys]
        )

    def code(self, patient_id: str, channel: str) -> dict[str, Any] | None:
        return self.table.get(code_key(patient_id, channel))

    def count_attempt(self, patient_id: str, channel: str) -> None:
        self.table.increment(code_key(patient_id, channel), {"attempts": 1})

    def verified(self, patient_id: str, channel: str, address: str) -> None:
        """The channel is verified (if the address is still the one the code was sent to); the code goes."""
        self.table.transact(
            [
                self.table.update(
                    settings_key(patient_id),
                    "SET #verified = :yes",
                    "#address = :address",
                    names={"#verified": f"{channel}_verified", "#address": channel},
                    yes=True,
                    address=address,
                ),
                self.table.delete(code_key(patient_id, channel)),
            ]
        )

    # ---- pending notifications ----------------------------------------------------------------------------------
    def add_pending(self, patient_id: str, kind: str, now: datetime, window: timedelta) -> None:
        """One UpdateItem: the first event of a window fixes when it is due; later ones only mark their kind.
        A flag, not a count: a redelivered event (at least once) changes nothing."""
        due = due_fields(now + window, patient_id)
        self.table.update_item(
            pending_key(patient_id),
            "SET patient_id = :p, first_at = if_not_exists(first_at, :now), "
            "due_pk = if_not_exists(due_pk, :dpk), due_sk = if_not_exists(due_sk, :dsk), #kind = :one",
            names={"#kind": kind},
            p=patient_id,
            now=iso(now),
            dpk=due["due_pk"],
            dsk=due["due_sk"],
            one=1,
        )

    def due(self, minute: datetime, now: datetime) -> list[dict[str, Any]]:
        page = self.table.query(
            f"DUE#{minute:%Y-%m-%dT%H:%M}",
            index=DUE_INDEX,
            partition_key="due_pk",
            sort_key="due_sk",
            between=("0", iso(now) + "~"),
        )
        return page.items

    def postpone(self, pending: dict[str, Any], until: datetime) -> None:
        fields = due_fields(until, pending["patient_id"])
        with contextlib.suppress(ConditionFailed):  # another sweep moved it already
            self.table.update_item(
                pending_key(pending["patient_id"]),
                "SET #dpk = :dpk, #dsk = :dsk",
                "#dsk = :was",
                names={"#dpk": "due_pk", "#dsk": "due_sk"},
                dpk=fields["due_pk"],
                dsk=fields["due_sk"],
                was=pending["due_sk"],
            )

    def sent(self, patient_id: str, since: datetime) -> list[str]:
        """When the recipient was notified since `since` (one Query)."""
        items = self.table.query(f"SENT#{patient_id}", between=(iso(since), "~")).items
        return [i["sk"].split("#")[0] for i in items]

    def mark_sent(self, pending: dict[str, Any], notification_id: str, now: datetime) -> bool:
        """The pending notification is done (if nothing moved it meanwhile), and counted for the rate limit."""
        patient_id = pending["patient_id"]
        record = {
            "pk": f"SENT#{patient_id}",
            "sk": f"{iso(now)}#{notification_id}",
            "expires_at": int((now + timedelta(days=2)).timestamp()),
        }
        pk, sk = pending_key(patient_id)
        try:
            self.table.transact(
                [
                    self.table.delete((pk, sk), "due_sk = :was", was=pending["due_sk"]),
                    self.table.put(record),
                ]
            )
        except ConditionFailed:
            return False
        return True

    def drop(self, pending: dict[str, Any]) -> None:
        """Nothing to send (no verified channel wants these events): the events are done."""
        with contextlib.suppress(ConditionFailed):
            self.table.delete_item(pending_key(pending["patient_id"]), "due_sk = :was", was=pending["due_sk"])
