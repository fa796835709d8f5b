"""The booking e-service's settings, exactly the environment variables template.yaml gives its functions."""

from __future__ import annotations

from dataclasses import dataclass

from eservices_core.config import optional, require


@dataclass(frozen=True, slots=True)
class ApiConfig:
    table_name: str
    directory_table_name: str
    event_bus_name: str
    scheduling_platform_url: str | None  # the service platform to clinics' own booking systems, if any

    @classmethod
    def from_env(cls) -> ApiConfig:
        return cls(
            table_name=require("BOOKING_TABLE_NAME"),
            directory_table_name=require("DIRECTORY_TABLE_NAME"),
            event_bus_name=require("EVENT_BUS_NAME"),
            scheduling_platform_url=optional("SCHEDULING_PLATFORM_URL"),
        )


@dataclass(frozen=True, slots=True)
class SweeperConfig:
    table_name: str
    event_bus_name: str

    @classmethod
    def from_env(cls) -> SweeperConfig:
        return cls(table_name=require("BOOKING_TABLE_NAME"), event_bus_name=require("EVENT_BUS_NAME"))
