"""Runs the template's functions in-process, each with exactly its own environment variables."""

from __future__ import annotations

import importlib
import sys
import threading
import uuid
from collections import Counter
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any

from eservices_core.config import function_environment
from local_runtime import iam, powertools_patches
from local_runtime.provision import Deployment


@dataclass
class LambdaContext:
    function_name: str
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    memory_limit_in_mb: int = 1024
    invoked_function_arn: str = ""

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


# How many invocations run at once in the process (a Lambda concurrency limit): a burst of requests waits
# for a slot before its handler starts, not inside an AWS call that times out behind the emulator's lock.
CONCURRENCY = 16


class FunctionRunner:
    """Invokes handlers as Lambda would. With `enforce_iam` (the default), each handler's AWS calls are held to
    its function's template policy (local_runtime.iam): a call the policy lacks fails with AccessDenied."""

    def __init__(
        self, deployment: Deployment, concurrency: int = CONCURRENCY, *, enforce_iam: bool = True
    ) -> None:
        powertools_patches.install()
        self.deployment = deployment
        self.policies: dict[str, iam.Policy] = {}
        if enforce_iam:
            self.policies = {
                lid: iam.function_policy(deployment, lid) for lid in deployment.template.functions
            }
            iam.install()
        self.invocations: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(concurrency)
        self._handlers: dict[str, Any] = {}
        for fn in deployment.template.functions.values():
            if str(fn.code_uri) not in sys.path:
                sys.path.insert(0, str(fn.code_uri))

    def handler(self, logical_id: str) -> Any:
        with self._lock:
            if logical_id not in self._handlers:
                module_name, attribute = self.deployment.template.functions[logical_id].handler.rsplit(".", 1)
                self._handlers[logical_id] = getattr(importlib.import_module(module_name), attribute)
            return self._handlers[logical_id]

    def invoke(self, logical_id: str, event: dict[str, Any]) -> Any:
        handler = self.handler(logical_id)
        with self._lock:
            self.invocations[logical_id] += 1
        context = LambdaContext(
            function_name=logical_id, invoked_function_arn=self.deployment.lookup(logical_id, "Arn")
        )
        policy = self.policies.get(logical_id)
        with (
            self._slots,
            function_environment(self.deployment.function_environment(logical_id)),
            iam.acting_as(policy) if policy is not None else nullcontext(),
        ):
            return handler(event, context)
