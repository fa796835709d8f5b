"""The notifications part's settings, exactly the environment variables template.yaml gives its functions."""

from __future__ import annotations

from dataclasses import dataclass

from eservices_core.config import require


@dataclass(frozen=True, slots=True)
class NotificationsConfig:
    table_name: str
    send_queue_url: str

    @classmethod
    def from_env(cls) -> NotificationsConfig:
        return cls(
            table_name=require("NOTIFICATIONS_TABLE_NAME"),
            send_queue_url=require("NOTIFICATION_SEND_QUEUE_URL"),
        )


@dataclass(frozen=True, slots=True)
class SenderConfig:
    table_name: str
    sender_email: str

    @classmethod
    def from_env(cls) -> SenderConfig:
        return cls(
            table_name=require("NOTIFICATIONS_TABLE_NAME"), sender_email=require("NOTIFICATION_SENDER_EMAIL")
        )


@dataclass(frozen=True, slots=True)
class ActiveUserConfig:
    table_name: str

    @classmethod
    def from_env(cls) -> ActiveUserConfig:
        return cls(table_name=require("NOTIFICATIONS_TABLE_NAME"))
