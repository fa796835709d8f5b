"""The booking e-service's settings, exactly the environment variables template.yaml gives its functions."""

from __future__ import annotations

from dataclasses import dataclass

from eservices_core.config import Settings, setting


@dataclass(frozen=True, slots=True)
class ApiConfig(Settings):
    table_name: str = setting("BOOKING_TABLE_NAME")
    directory_table_name: str = setting("DIRECTORY_TABLE_NAME")
    event_bus_name: str = setting("EVENT_BUS_NAME")
    # the service platform to clinics' own booking systems, if any
    scheduling_platform_url: str | None = setting("SCHEDULING_PLATFORM_URL")


@dataclass(frozen=True, slots=True)
class SweeperConfig(Settings):
    table_name: str = setting("BOOKING_TABLE_NAME")
    event_bus_name: str = setting("EVENT_BUS_NAME")
