"""The cases e-service's settings, exactly the environment variables template.yaml gives its functions."""

from __future__ import annotations

from dataclasses import dataclass

from eservices_core.config import Settings, setting


@dataclass(frozen=True, slots=True)
class ApiConfig(Settings):
    table_name: str = setting("CASES_TABLE_NAME")
    directory_table_name: str = setting("DIRECTORY_TABLE_NAME")
    attachments_bucket: str = setting("ATTACHMENTS_BUCKET_NAME")
    state_machine_arn: str = setting("CASE_WORKFLOW_ARN")
    event_bus_name: str = setting("EVENT_BUS_NAME")


@dataclass(frozen=True, slots=True)
class WorkflowConfig(Settings):
    table_name: str = setting("CASES_TABLE_NAME")
    identity_table_name: str = setting("IDENTITY_TABLE_NAME")
    prescription_queue_url: str = setting("PRESCRIPTION_QUEUE_URL")
    event_bus_name: str = setting("EVENT_BUS_NAME")


@dataclass(frozen=True, slots=True)
class OutboxConfig(Settings):
    table_name: str = setting("CASES_TABLE_NAME")
    event_bus_name: str = setting("EVENT_BUS_NAME")
