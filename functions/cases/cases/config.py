"""The cases e-service's settings, exactly the environment variables template.yaml gives its functions."""

from __future__ import annotations

from dataclasses import dataclass

from eservices_core.config import require


@dataclass(frozen=True, slots=True)
class ApiConfig:
    table_name: str
    directory_table_name: str
    attachments_bucket: str
    state_machine_arn: str
    event_bus_name: str

    @classmethod
    def from_env(cls) -> ApiConfig:
        return cls(
            table_name=require("CASES_TABLE_NAME"),
            directory_table_name=require("DIRECTORY_TABLE_NAME"),
            attachments_bucket=require("ATTACHMENTS_BUCKET_NAME"),
            state_machine_arn=require("CASE_WORKFLOW_ARN"),
            event_bus_name=require("EVENT_BUS_NAME"),
        )


@dataclass(frozen=True, slots=True)
class WorkflowConfig:
    table_name: str
    identity_table_name: str
    prescription_queue_url: str
    event_bus_name: str

    @classmethod
    def from_env(cls) -> WorkflowConfig:
        return cls(
            table_name=require("CASES_TABLE_NAME"),
            identity_table_name=require("IDENTITY_TABLE_NAME"),
            prescription_queue_url=require("PRESCRIPTION_QUEUE_URL"),
            event_bus_name=require("EVENT_BUS_NAME"),
        )


@dataclass(frozen=True, slots=True)
class OutboxConfig:
    table_name: str
    event_bus_name: str

    @classmethod
    def from_env(cls) -> OutboxConfig:
        return cls(table_name=require("CASES_TABLE_NAME"), event_bus_name=require("EVENT_BUS_NAME"))
