"""Cold starts stay lean (make bench, benchmarks/functions.py): what a handler module must not load at import,
and the AWS clients a function makes before it serves a read. Each check runs in a fresh interpreter with only
the layer and the function's own directory to import from, as in Lambda."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from local_runtime.template import Template

ROOT = Path(__file__).resolve().parents[2]


def fresh(function: str, code: str) -> dict[str, object]:
    """Run `code` (which prints one JSON line) as the function's Lambda would import its handler."""
    fn = Template().functions[function]
    env = {k: os.environ[k] for k in ("PATH", "HOME", "LANG") if k in os.environ}
    env |= {name: dummy(name) for name in fn.environment}
    env |= {
        "PYTHONPATH": os.pathsep.join([str(ROOT / "layers/shared"), str(fn.code_uri)]),
        "AWS_DEFAULT_REGION": "eu-north-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "POWERTOOLS_LOG_LEVEL": "ERROR",
    }
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def dummy(name: str) -> str:
    """A stand-in for a template environment variable: a URL where the function expects one."""
    return f"https://example.invalid/{name.lower()}" if name.endswith("_URL") else f"test-{name.lower()}"


@pytest.mark.parametrize(
    ("function", "module", "unwanted"),
    [
        # urllib.request (http.client, email, ...) only for clinics with their own booking system
        ("BookingApiFunction", "booking.api", "urllib.request"),
        # the inbox API does not load the delivery consumer (its contract and batch machinery)
        ("InboxApiFunction", "inbox.api", "inbox.delivery"),
        # no handler creates boto3 clients (or imports boto3) at import
        ("CasesApiFunction", "cases.api", "boto3"),
        # functions without HTTP routes do not load Powertools' HTTP resolver (eservices_core.services)
        ("InboxDeliveryFunction", "inbox.delivery", "aws_lambda_powertools.event_handler"),
        ("NotificationCollectorFunction", "notifications.collector", "aws_lambda_powertools.event_handler"),
        ("ActiveUserFunction", "notifications.active_users", "aws_lambda_powertools.event_handler"),
    ],
)
def test_a_handler_module_does_not_load_at_import_what_only_some_paths_need(function, module, unwanted):
    code = f"import json, sys, {module}; print(json.dumps({{'loaded': {unwanted!r} in sys.modules}}))"
    assert fresh(function, code) == {"loaded": False}


@pytest.mark.parametrize(
    ("function", "module", "root"),
    [
        ("CasesApiFunction", "cases.api", "_cases"),
        ("BookingApiFunction", "booking.api", "_booking"),
        ("NotificationsApiFunction", "notifications.api", "_wiring"),
    ],
)
def test_wiring_a_function_makes_only_the_dynamodb_client_a_read_needs(function, module, root):
    """Step Functions, EventBridge, S3 and SQS clients (10-35 ms each to make) wait for the first write."""
    code = (
        f"import json, {module} as m\n"
        "from eservices_core import aws\n"
        f"m.{root}()\n"
        "print(json.dumps({'clients': sorted(c.meta.service_model.service_name for c in aws.current_clients())}))"
    )
    assert fresh(function, code) == {"clients": ["dynamodb"]}
