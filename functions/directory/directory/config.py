"""The directory's settings, exactly the environment variables template.yaml gives its functions."""

from __future__ import annotations

from dataclasses import dataclass

from eservices_core.config import Settings, setting


@dataclass(frozen=True, slots=True)
class ApiConfig(Settings):
    table_name: str = setting("DIRECTORY_TABLE_NAME")


@dataclass(frozen=True, slots=True)
class FeedConfig(Settings):
    table_name: str = setting("DIRECTORY_TABLE_NAME")
    dead_letter_queue_url: str = setting("HSA_FEED_DLQ_URL")
