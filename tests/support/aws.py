"""A moto account with the template's resources, and handlers invoked as Lambda would with their own env."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import boto3

from eservices_core import aws
from eservices_core.registry import Registry
from eservices_core.table import Table
from local_runtime import population
from local_runtime.functions import FunctionRunner
from local_runtime.gateway import Gateway, template_authorizers, template_routes
from local_runtime.idp import DevIdentityProvider
from local_runtime.poller import SqsEventSource, event_sources, send_all
from local_runtime.provision import Deployment


@dataclass
class Stack:
    deployment: Deployment

    @property
    def session(self) -> boto3.session.Session:
        return self.deployment.session

    def ref(self, logical_id: str) -> Any:
        return self.deployment.lookup(logical_id, None)

    def arn(self, logical_id: str) -> str:
        return str(self.deployment.lookup(logical_id, "Arn"))

    @cached_property
    def runner(self) -> FunctionRunner:
        return FunctionRunner(self.deployment)

    def invoke(self, function_logical_id: str, event: dict[str, Any]) -> dict[str, Any]:
        """Call the function's real handler with exactly its template environment, as the local runtime does.

        Like a warm Lambda container, what the function built on first use is kept between invocations.
        """
        result: dict[str, Any] = self.runner.invoke(function_logical_id, event)
        return result

    @cached_property
    def idps(self) -> dict[str, DevIdentityProvider]:
        """Development identity providers with the template's issuers, trusted by `gateway`."""
        parameters = self.deployment.template.parameters
        return {
            name: DevIdentityProvider(name, parameters[f"{prefix}IssuerUrl"], parameters[f"{prefix}Audience"])
            for name, prefix in (("resident", "Resident"), ("staff", "Staff"))
        }

    @cached_property
    def gateway(self) -> Gateway:
        """The local runtime's HTTP API in-process: template routes, JWT authorizers, real handlers."""
        return Gateway(
            template_routes(self.deployment),
            template_authorizers(self.deployment, self.idps.values()),
            self.runner,
        )

    def call(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        body: Any = None,
        headers: dict[str, str] | None = None,
        query: str = "",
    ) -> tuple[int, Any]:
        """One request through the gateway: (status, JSON body or None)."""
        sent = {"host": "localhost", **{k.lower(): v for k, v in (headers or {}).items()}}
        if token is not None:
            sent["authorization"] = f"Bearer {token}"
        raw = b"" if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
        response = self.gateway.handle(method, path, query, sent, raw)
        return response.status, _maybe_json(response.body.decode()) if response.body else None

    def event_source(self, function_logical_id: str) -> SqsEventSource:
        """The function's SQS event source from the template, polled in-process."""
        [source] = [s for fn, s in event_sources(self.deployment, self.invoke) if fn == function_logical_id]
        return source

    def drain(self, queue_logical_id: str, max_messages: int = 100) -> list[dict[str, Any]]:
        """Receive (and delete) what is on a queue, with message attributes."""
        sqs = self.session.client("sqs")
        url = self.ref(queue_logical_id)
        messages: list[dict[str, Any]] = []
        while len(messages) < max_messages:
            got: list[dict[str, Any]] = sqs.receive_message(  # type: ignore[assignment]
                QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"], WaitTimeSeconds=0
            ).get("Messages", [])
            if not got:
                break
            for m in got:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
                m["Json"] = _maybe_json(m["Body"])
            messages.extend(got)
        return messages


def _maybe_json(body: str) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return None


@contextmanager
def count_calls(service: str = "dynamodb") -> Iterator[list[str]]:
    """Record every API call (one round trip each) that handlers' `service` clients make from this thread (the
    request's), via botocore events: pollers or workflow tasks running meanwhile are not counted."""
    calls: list[str] = []
    requester = threading.get_ident()

    def before_call(model: Any, **_: Any) -> None:
        if threading.get_ident() == requester:
            calls.append(model.name)

    with aws.watching(service, "before-call", before_call):
        yield calls


@contextmanager
def fail_calls(service: str, code: str, *, operation: str | None = None) -> Iterator[None]:
    """Make every call (or every `operation` call) of handlers' `service` clients fail with AWS error `code`."""
    from botocore.exceptions import ClientError

    def before_call(model: Any, **_: Any) -> None:
        if operation is None or model.name == operation:
            raise ClientError({"Error": {"Code": code, "Message": "injected"}}, model.name)

    with aws.watching(service, "before-call", before_call):
        yield


def upload(s3: Any, bucket: str, presigned: dict[str, Any], body: bytes) -> str:
    """What the browser's POST to a presigned upload stores (the policy fixes key, Content-Type, file name and
    tag); returns the key."""
    fields = presigned["upload"]["fields"]
    s3.put_object(
        Bucket=bucket,
        Key=fields["key"],
        Body=body,
        ContentType=fields["Content-Type"],
        Metadata={"filename": fields["x-amz-meta-filename"]},
        Tagging="state=uploaded",
    )
    return str(fields["key"])


@contextmanager
def fail_first_call(service: str, operation: str, code: str) -> Iterator[list[str]]:
    """The first `operation` call of handlers' `service` clients from this thread fails with AWS error `code`;
    the list yielded names the call once it failed."""
    from botocore.exceptions import ClientError

    failed: list[str] = []
    caller = threading.get_ident()

    def before_call(model: Any, **_: Any) -> None:
        if model.name == operation and not failed and threading.get_ident() == caller:
            failed.append(operation)
            raise ClientError({"Error": {"Code": code, "Message": "injected"}}, operation)

    with aws.watching(service, "before-call", before_call):
        yield failed


def emulator_client(runtime: Any, service: str) -> Any:
    """A boto3 client of the running local runtime's moto, as an integration outside it would have."""
    return boto3.client(
        service,  # type: ignore[call-overload]
        endpoint_url=runtime.aws_url,
        region_name="eu-north-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )


def queue_depth(sqs: Any, url: str) -> int:
    """Messages waiting or in flight on a queue."""
    attributes = sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return sum(int(v) for v in attributes.values())


def send_to_population_register(runtime: Any, people: list[tuple[str, str]]) -> tuple[Any, str]:
    """Register (personnummer, name) pairs through the running local runtime's population register queue, as
    the register would: (the SQS client, the queue's URL), to watch the queue drain."""
    sqs = emulator_client(runtime, "sqs")
    queue = str(runtime.deployment.lookup("PopulationRegisterQueue", None))
    send_all(sqs, queue, [population.person(pnr, name) for pnr, name in people])
    return sqs, queue


def emulator_registry(runtime: Any) -> Registry:
    """The running local runtime's identity store, read as an integration outside it would."""
    return Registry(
        Table(emulator_client(runtime, "dynamodb"), runtime.deployment.lookup("IdentityTable", None))
    )
