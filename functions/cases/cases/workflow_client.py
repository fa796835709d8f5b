"""The case workflow (Step Functions Standard) and case events (EventBridge), as the API and tasks use them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aws_lambda_powertools import Logger

from cases.model import Next
from eservices_core.aws import error_code
from eservices_core.clock import now_utc
from eservices_core.errors import ServiceUnavailable
from eservices_core.outbox import event_entry, put_events

logger = Logger(child=True)
EVENT_SOURCE = "eservices.cases"


def seconds_until(iso_instant: str, minimum: int = 1) -> int:
    instant = datetime.fromisoformat(iso_instant.replace("Z", "+00:00"))
    return max(minimum, int((instant - now_utc()).total_seconds()))


@dataclass
class Workflow:
    stepfunctions: Any
    events: Any
    event_bus_name: str
    state_machine_arn: str | None = None  # only the API starts runs; the tasks only answer and publish

    def start(self, case: dict[str, Any]) -> None:
        """Start the case's run (one per opening of the case); starting it twice is harmless."""
        if self.state_machine_arn is None:
            raise RuntimeError("this Workflow was built without the state machine")
        payload = {
            "patient_id": case["patient_id"],
            "case_id": case["case_id"],
            "answer_timeout_seconds": seconds_until(case["due_at"]),
            "auto_close_seconds": int(case["auto_close_days"]) * 86400,
        }
        try:
            self.stepfunctions.start_execution(
                stateMachineArn=self.state_machine_arn,
                name=f"{case['case_id']}-{case.get('runs', 1)}",
                input=json.dumps(payload),
            )
        except Exception as error:
            if error_code(error) == "ExecutionAlreadyExists":
                return
            raise ServiceUnavailable("The case was stored but its workflow could not start; retry") from error

    def advance(self, token: str, next_step: Next) -> None:
        """Complete the workflow's wait with what comes next. A token the workflow no longer waits on (it timed
        out and moved on) is not an error: the case's own state already says what happened."""
        try:
            self.stepfunctions.send_task_success(
                taskToken=token, output=json.dumps({"next": next_step.value})
            )
        except Exception as error:
            if error_code(error) in ("TaskTimedOut", "InvalidToken", "TaskDoesNotExist"):
                logger.warning("workflow no longer waiting", extra={"error": error_code(error)})
                return
            raise ServiceUnavailable("The case was saved but its workflow did not answer; retry") from error

    def entry(self, detail_type: str, case: dict[str, Any]) -> dict[str, Any]:
        """A case event without content (ids, unit, type, status): notifications and statistics follow it."""
        detail = {
            "case_id": case["case_id"],
            "patient_id": case["patient_id"],
            "care_unit_hsa_id": case["unit_hsa_id"],
            "case_type_id": case["type_id"],
            "status": case["status"],
        }
        return event_entry(EVENT_SOURCE, detail_type, detail, self.event_bus_name)

    def put(self, entries: list[dict[str, Any]]) -> list[bool]:
        return put_events(self.events, entries)
