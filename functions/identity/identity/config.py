"""The identity e-service's settings, exactly the environment variables template.yaml gives its functions."""

from __future__ import annotations

from dataclasses import dataclass

from eservices_core.config import Settings, setting


@dataclass(frozen=True, slots=True)
class FeedConfig(Settings):
    table_name: str = setting("IDENTITY_TABLE_NAME")
    dead_letter_queue_url: str = setting("FEED_DLQ_URL")
