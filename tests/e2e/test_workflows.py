"""Step Functions in the local runtime: state machines from the template, Lambda tasks run in-process."""

from __future__ import annotations

import copy
import json
import time
import uuid
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import boto3
import pytest

from local_runtime.runtime import LocalRuntime, free_port
from local_runtime.template import Template


@pytest.fixture(scope="module")
def runtime():
    """The real template plus a test-only function and state machine: the runtime needs no change for them."""
    data = copy.deepcopy(Template().data)
    data["Resources"]["ProbeFunction"] = {
        "Type": "AWS::Serverless::Function",
        "Properties": {
            "CodeUri": "tests/fixtures/functions/workflow_probe/",
            "Handler": "workflow_probe.handler.handler",
            "Environment": {"Variables": {"PROBE_LABEL": "from-the-template"}},
            "Events": {
                "Nightly": {
                    "Type": "ScheduleV2",
                    "Properties": {
                        "ScheduleExpression": "cron(0 2 * * ? *)",
                        "ScheduleExpressionTimezone": "Europe/Stockholm",
                        "Input": '{"value": 5}',
                    },
                }
            },
        },
    }
    data["Resources"]["ProbeStateMachine"] = {
        "Type": "AWS::Serverless::StateMachine",
        "Properties": {
            "DefinitionUri": "tests/fixtures/statemachines/probe.asl.json",
            "DefinitionSubstitutions": {"ProbeFunctionArn": {"Fn::GetAtt": ["ProbeFunction", "Arn"]}},
        },
    }
    rt = LocalRuntime(port=free_port(), aws_port=free_port(), load_demo_data=False, template=Template(data))
    with rt.running():
        yield rt


def run(rt, payload):
    sfn = boto3.client(
        "stepfunctions",
        endpoint_url=rt.aws_url,
        region_name="eu-north-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    arn = sfn.start_execution(
        stateMachineArn=rt.deployment.lookup("ProbeStateMachine", None),
        name=uuid.uuid4().hex,
        input=json.dumps(payload),
    )["executionArn"]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        execution = sfn.describe_execution(executionArn=arn)
        if execution["status"] != "RUNNING":
            return execution
        time.sleep(0.1)
    raise AssertionError("the execution did not finish")


def test_a_lambda_task_runs_the_real_handler_in_process_with_its_environment(runtime):
    execution = run(runtime, {"value": 21})
    assert execution["status"] == "SUCCEEDED"
    assert json.loads(execution["output"]) == {"doubled": 42, "label": "from-the-template"}
    assert runtime.runner.invocations["ProbeFunction"] >= 1


def test_a_failing_task_takes_its_catch_path(runtime):
    execution = run(runtime, {"value": 1, "fail": True})
    assert execution["status"] == "SUCCEEDED"
    output = json.loads(execution["output"])
    assert output["outcome"] == "compensated"
    assert "asked to fail" in json.dumps(output["error"])


def test_schedules_from_the_template_fire_their_function_when_due(runtime):
    [target] = [t for t in runtime.scheduler.targets if t.name == "ProbeFunction.Nightly"]
    assert target.next_run.astimezone(ZoneInfo("Europe/Stockholm")).hour == 2
    before = runtime.runner.invocations["ProbeFunction"]

    fired = runtime.scheduler.run_due(target.next_run)
    assert "ProbeFunction.Nightly" in fired  # with whatever else of the template was due by then
    assert runtime.runner.invocations["ProbeFunction"] == before + 1
    assert target.next_run > datetime.now(UTC)
    _, health = runtime_health(runtime)
    assert "ProbeFunction.Nightly" in health["parts"]["schedules"]


def runtime_health(rt):
    import urllib.request

    with urllib.request.urlopen(rt.base_url + "/health", timeout=10) as response:
        return response.status, json.loads(response.read())
