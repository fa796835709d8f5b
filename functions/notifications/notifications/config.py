"""The notifications part's settings, exactly the environment variables template.yaml gives its functions."""

from __future__ import annotations

from dataclasses import dataclass

from eservices_core.config import Settings, setting


@dataclass(frozen=True, slots=True)
class NotificationsConfig(Settings):
    table_name: str = setting("NOTIFICATIONS_TABLE_NAME")
    send_queue_url: str = setting("NOTIFICATION_SEND_QUEUE_URL")


@dataclass(frozen=True, slots=True)
class SenderConfig(Settings):
    table_name: str = setting("NOTIFICATIONS_TABLE_NAME")
    sender_email: str = setting("NOTIFICATION_SENDER_EMAIL")


@dataclass(frozen=True, slots=True)
class ActiveUserConfig(Settings):
    table_name: str = setting("NOTIFICATIONS_TABLE_NAME")
