"""The identity e-service's settings, exactly the environment variables template.yaml gives its functions."""

from __future__ import annotations

from dataclasses import dataclass

from eservices_core.config import require


@dataclass(frozen=True, slots=True)
class FeedConfig:
    table_name: str
    dead_letter_queue_url: str

    @classmethod
    def from_env(cls) -> FeedConfig:
        return cls(table_name=require("IDENTITY_TABLE_NAME"), dead_letter_queue_url=require("FEED_DLQ_URL"))
