"""The set-up every benchmark shares: fake credentials, Lambda's import roots, a moto server on a free port,
`make run` as a user starts it, and where the figures go."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


@contextmanager
def local_aws(*function_dirs: str, execute_state_machines: bool = False) -> Iterator[str]:
    """The emulator's endpoint, with `functions/<dir>` importable; state machines execute if asked (that must
    be switched on before they are created: moto keeps executing machines apart)."""
    os.environ.update(
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",
        AWS_DEFAULT_REGION="eu-north-1",
        AWS_REGION="eu-north-1",
        POWERTOOLS_LOG_LEVEL="ERROR",
    )
    sys.path[:0] = [str(p) for p in import_paths(*function_dirs)]
    from moto.server import ThreadedMotoServer

    from local_runtime import moto_patches
    from local_runtime.runtime import free_port

    moto_patches.install()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    os.environ["AWS_ENDPOINT_URL"] = endpoint
    os.environ["MOTO_PORT"] = str(port)  # Step Functions service tasks call localhost:$MOTO_PORT
    try:
        if execute_state_machines:
            body = json.dumps({"stepfunctions": {"execute_state_machine": True}}).encode()
            request = urllib.request.Request(f"{endpoint}/moto-api/config", data=body, method="POST")
            urllib.request.urlopen(request, timeout=5).close()
        yield endpoint
    finally:
        server.stop()


def import_paths(*function_dirs: str) -> list[Path]:
    """What Lambda imports from: the layer, the functions' code, and (for the local runtime) infra and the root."""
    return [ROOT / "layers/shared", *(ROOT / "functions" / d for d in function_dirs), ROOT / "infra", ROOT]


def child_environment(function_environment: dict[str, str], *function_dirs: str) -> dict[str, str]:
    """The environment of a fresh interpreter importing a handler: its function's variables and paths."""
    paths = os.pathsep.join(str(p) for p in import_paths(*function_dirs))
    return {**os.environ, **function_environment, "PYTHONPATH": paths}


def eventbridge_event(detail_type: str, source: str, detail: dict[str, Any]) -> dict[str, Any]:
    """An event as EventBridge hands it to a target (a queue or a function), sent now."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": detail_type,
        "source": source,
        "account": "123456789012",
        "time": _now(),
        "region": "eu-north-1",
        "resources": [],
        "detail": detail,
    }


def inbox_message_event(patient_id: str) -> dict[str, Any]:
    """An `inbox.message-received` event as EventBridge hands it to the notification queue."""
    return eventbridge_event(
        "inbox.message-received",
        "eservices.inbox",
        {"message_id": uuid.uuid4().hex, "patient_id": patient_id, "category": "result"},
    )


def start_make_run(port: int, aws_port: int) -> subprocess.Popen[bytes]:
    """`make run` on the given ports as a user starts it (environment present), in a process group of its own;
    not told of any emulator a benchmark started before (the runtime starts its own)."""
    env = {**os.environ, "PORT": str(port), "AWS_PORT": str(aws_port)}
    env.pop("AWS_ENDPOINT_URL", None)
    return subprocess.Popen(
        ["make", "--no-print-directory", "run"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def stop_make_run(process: subprocess.Popen[bytes]) -> int:
    """Ctrl-C, as a user stops it; its exit status."""
    os.killpg(process.pid, signal.SIGINT)
    return process.wait(timeout=30)


def write_results(name: str, figures: dict[str, Any], show: Callable[[dict[str, Any]], None]) -> None:
    """benchmarks/results/<name>.json (stamped with when), then `show(report)` and where it was written."""
    report = {"when": _now(), **figures}
    out = ROOT / "benchmarks/results" / f"{name}.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    show(report)
    print(f"\nwritten to {out.relative_to(ROOT)}")


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
