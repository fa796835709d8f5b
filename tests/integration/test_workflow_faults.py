"""Faults in the workflows (statemachines/*.asl.json): every Task retries transient failures with backoff and
full jitter and has a Catch; executed in moto with the real task function in-process, a task whose DynamoDB
or SQS calls fail is retried, succeeds when the fault passes, and takes its Catch path when it does not.

The executions run the template's definition with one change: every retrier waits at most a second
(`MaxDelaySeconds: 1`), so the tests do not sleep through real backoff; which errors are retried, how often,
and where each Catch leads are the definition's own."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from eservices_core import aws
from tests.conftest import _stack
from tests.support.aws import Stack
from tests.support.people import World

STATE_MACHINES = sorted((Path(__file__).parents[2] / "statemachines").glob("*.asl.json"))
# What a Lambda task raises when AWS throttles or fails it: the platform's typed error, and Lambda's own.
TRANSIENT = ("ServiceUnavailable", "Lambda.ServiceException", "Lambda.TooManyRequestsException")


def states_of(definition: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every state, including those inside Parallel branches and Map iterations."""
    for name, state in definition["States"].items():
        yield name, state
        for branch in state.get("Branches", []):
            yield from states_of(branch)
        for key in ("ItemProcessor", "Iterator"):
            if key in state:
                yield from states_of(state[key])


@pytest.mark.parametrize("path", STATE_MACHINES, ids=lambda p: p.name)
def test_every_task_retries_transient_errors_with_backoff_and_full_jitter_and_has_a_catch(path):
    tasks = [
        (n, s) for n, s in states_of(json.loads(path.read_text(encoding="utf-8"))) if s["Type"] == "Task"
    ]
    assert tasks
    for name, task in tasks:
        retriers = task.get("Retry", [])
        assert retriers, f"{name} has no Retry"
        for retrier in retriers:
            assert retrier.get("JitterStrategy") == "FULL", name
            assert retrier.get("BackoffRate", 2.0) > 1 and retrier.get("MaxAttempts", 3) >= 1, name
            assert retrier.get("IntervalSeconds", 1) >= 1, name
        retried = {e for r in retriers for e in r["ErrorEquals"]}
        assert "States.ALL" in retried or set(TRANSIENT) <= retried, f"{name} does not retry {TRANSIENT}"
        catchers = task.get("Catch", [])
        assert catchers and "States.ALL" in catchers[-1]["ErrorEquals"], (
            f"{name} has no Catch for every error"
        )
        assert all(c["Next"] in _names(path) for c in catchers), name


def _names(path: Path) -> set[str]:
    return {n for n, _ in states_of(json.loads(path.read_text(encoding="utf-8")))}


# ---- executed ---------------------------------------------------------------------------------------------------------
class TaskFaults:
    """Counts the case workflow function's invocations by action, and fails the AWS calls those of one action
    make (`operation`), the first `times` times or always."""

    def __init__(self, stack: Stack) -> None:
        self.invocations: Counter[str] = Counter()
        self._local = threading.local()
        self._rules: dict[str, tuple[str, int | None]] = {}
        self._failed: Counter[str] = Counter()
        invoke = stack.runner.invoke

        def invoke_marked(logical_id: str, event: dict[str, Any]) -> Any:
            action = event.get("action") if logical_id == "CaseWorkflowFunction" else None
            if action:
                self.invocations[action] += 1
            self._local.action = action
            try:
                return invoke(logical_id, event)
            finally:
                self._local.action = None

        stack.runner.invoke = invoke_marked  # type: ignore[method-assign]

    def fail(self, action: str, operation: str, code: str, times: int | None = None) -> None:
        self._rules[action] = (operation, times)
        self._code = code

    def before_call(self, model: Any, **_: Any) -> None:
        action = getattr(self._local, "action", None)
        rule = self._rules.get(action or "")
        if rule is None or model.name != rule[0]:
            return
        if rule[1] is not None and self._failed[action or ""] >= rule[1]:
            return
        self._failed[action or ""] += 1
        raise ClientError({"Error": {"Code": self._code, "Message": "injected by the test"}}, model.name)


@pytest.fixture(scope="module")
def running(template) -> Iterator[tuple[Stack, World]]:
    """One account whose state machines execute, the case workflow's retriers capped at a second."""
    for stack in _stack(template, workflows=True):
        sfn = stack.session.client("stepfunctions")
        arn = stack.ref("CaseWorkflow")
        definition = json.loads(sfn.describe_state_machine(stateMachineArn=arn)["definition"])
        for _, state in states_of(definition):
            for retrier in state.get("Retry", []):
                retrier["MaxDelaySeconds"] = 1
        sfn.update_state_machine(stateMachineArn=arn, definition=json.dumps(definition))
        world = World(stack, date.today())
        world.offer("renew-prescription")
        yield stack, world


@pytest.fixture
def faults(running) -> Iterator[TaskFaults]:
    stack, _ = running
    faults = TaskFaults(stack)
    with (
        aws.watching("dynamodb", "before-call", faults.before_call),
        aws.watching("sqs", "before-call", faults.before_call),
    ):
        yield faults
    del stack.runner.invoke  # back to the runner's own method


def eventually(check: Any, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (result := check()):
        if time.monotonic() > deadline:
            raise AssertionError("the workflow did not get there in time")
        time.sleep(0.1)
    return result


def execution(stack: Stack, case_id: str) -> dict[str, Any]:
    sfn = stack.session.client("stepfunctions")
    found = sfn.list_executions(stateMachineArn=stack.ref("CaseWorkflow"))["executions"]
    [run] = [e for e in found if e["name"] == f"{case_id}-1"]
    return dict(sfn.describe_execution(executionArn=run["executionArn"]))


def entered(stack: Stack, case_id: str) -> list[str]:
    history = stack.session.client("stepfunctions").get_execution_history(
        executionArn=execution(stack, case_id)["executionArn"]
    )
    return [
        e["stateEnteredEventDetails"]["name"] for e in history["events"] if "stateEnteredEventDetails" in e
    ]


def case(stack: Stack, world: World, person: Any, case_id: str) -> dict[str, Any]:
    from eservices_core.table import Table

    table = Table(stack.session.client("dynamodb"), stack.ref("CasesTable"))
    return table.get((f"PATIENT#{world.patient_id(person)}", f"CASE#{case_id}")) or {}


def test_a_waiting_task_throttled_twice_is_retried_and_the_case_waits_for_staff(running, faults):
    stack, world = running
    faults.fail("await", "PutItem", "ProvisionedThroughputExceededException", times=2)
    anna = world.resident("Anna Retrysson")

    case_id = world.send_case(anna, anna)

    waiting = eventually(lambda: (c := case(stack, world, anna, case_id)).get("waiting_for") == "staff" and c)
    assert waiting["task_token"]
    assert faults.invocations["await"] == 3, "two failed attempts, then the one that stored the token"
    assert execution(stack, case_id)["status"] == "RUNNING"
    assert entered(stack, case_id) == ["WaitForStaff"]


def test_a_waiting_task_that_keeps_failing_takes_its_catch_path_after_its_retries(running, faults):
    stack, world = running
    faults.fail("await", "PutItem", "InternalServerError")
    anna = world.resident("Anna Felsson")

    case_id = world.send_case(anna, anna)

    run = eventually(lambda: (e := execution(stack, case_id))["status"] != "RUNNING" and e, timeout=30)
    assert run["status"] == "FAILED" and run["error"] == "CaseWorkflowFailed"
    assert faults.invocations["await"] == 5, "the first attempt and MaxAttempts (4) retries"
    assert entered(stack, case_id) == ["WaitForStaff", "Failed"]
    assert case(stack, world, anna, case_id)["status"] == "waiting_for_staff", "the case stays as stored"


def test_a_renewal_the_queue_keeps_refusing_is_retried_then_caught_and_shown_to_staff(running, faults):
    stack, world = running
    anna = world.resident("Anna Köfelsson")
    nurse = world.staff("Sköterska Köfelsson")
    case_id = world.send_case(anna, anna)
    eventually(lambda: case(stack, world, anna, case_id).get("waiting_for") == "staff")
    faults.fail("send_prescription", "SendMessage", "ThrottlingException")

    status, _ = stack.call(
        "POST",
        f"/v1/staff/patients/{world.patient_id(anna)}/cases/{case_id}/decision",
        token=world.staff_token(nurse),
        headers={"X-Commission-Id": nurse.commission_ids[0]},
        body={"outcome": "approved", "renewed": ["Demoxin 10 mg, 100 st"]},
    )
    assert status == 200

    failed = eventually(
        lambda: (
            (c := case(stack, world, anna, case_id)).get("prescription", {}).get("status") == "failed" and c
        )
    )
    assert failed["status"] == "waiting_for_staff" and failed["prescription"]["error"]
    assert faults.invocations["send_prescription"] == 5, "the first attempt and MaxAttempts (4) retries"
    eventually(lambda: entered(stack, case_id)[-1] == "WaitForStaff")
    assert entered(stack, case_id) == [
        "WaitForStaff",
        "AfterStaff",
        "SendPrescription",
        "PrescriptionFailed",
        "WaitForStaff",
    ]
    assert stack.drain("PrescriptionQueue") == []
