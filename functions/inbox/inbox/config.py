"""The inbox e-service's settings, exactly the environment variables template.yaml gives its functions."""

from __future__ import annotations

from dataclasses import dataclass

from eservices_core.config import Settings, setting


@dataclass(frozen=True, slots=True)
class ApiConfig(Settings):
    table_name: str = setting("INBOX_TABLE_NAME")
    event_bus_name: str = setting("EVENT_BUS_NAME")


@dataclass(frozen=True, slots=True)
class DeliveryConfig(Settings):
    table_name: str = setting("INBOX_TABLE_NAME")
    event_bus_name: str = setting("EVENT_BUS_NAME")
    dead_letter_queue_url: str = setting("INBOX_DLQ_URL")
    retention_days: int = setting("INBOX_RETENTION_DAYS")
