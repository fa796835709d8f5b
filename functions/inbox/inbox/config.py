"""The inbox e-service's settings, exactly the environment variables template.yaml gives its functions."""

from __future__ import annotations

from dataclasses import dataclass

from eservices_core.config import require, require_int


@dataclass(frozen=True, slots=True)
class ApiConfig:
    table_name: str
    event_bus_name: str

    @classmethod
    def from_env(cls) -> ApiConfig:
        return cls(table_name=require("INBOX_TABLE_NAME"), event_bus_name=require("EVENT_BUS_NAME"))


@dataclass(frozen=True, slots=True)
class DeliveryConfig:
    table_name: str
    event_bus_name: str
    dead_letter_queue_url: str
    retention_days: int

    @classmethod
    def from_env(cls) -> DeliveryConfig:
        return cls(
            table_name=require("INBOX_TABLE_NAME"),
            event_bus_name=require("EVENT_BUS_NAME"),
            dead_letter_queue_url=require("INBOX_DLQ_URL"),
            retention_days=require_int("INBOX_RETENTION_DAYS"),
        )
