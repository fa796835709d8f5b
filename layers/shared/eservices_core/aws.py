"""AWS clients, created on first use and shared within the process; never at import.

boto3 itself is imported on first use too, so a module that only declares a dependency on a client costs
nothing at cold start until a request needs it. Tests and the local runtime reach the emulator through
`AWS_ENDPOINT_URL`, which boto3 honours without code changes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_sqs import SQSClient

_lock = threading.Lock()
_clients: dict[str, Any] = {}
# Called with each new client; benchmarks and tests use it to count round trips through botocore's events.
client_hooks: list[Callable[[Any], None]] = []


def _client(service: str) -> Any:
    with _lock:
        client = _clients.get(service)
        if client is None:
            import boto3
            from botocore.config import Config

            config = Config(
                retries={"mode": "standard", "max_attempts": 3}, connect_timeout=2, read_timeout=5
            )
            client = _clients[service] = boto3.session.Session().client(service, config=config)  # type: ignore[call-overload]
            for hook in client_hooks:
                hook(client)
        return client


def dynamodb() -> DynamoDBClient:
    client: DynamoDBClient = _client("dynamodb")
    return client


def sqs() -> SQSClient:
    client: SQSClient = _client("sqs")
    return client


def stepfunctions() -> Any:
    return _client("stepfunctions")


def events() -> Any:
    return _client("events")


def s3() -> Any:
    return _client("s3")


def sns() -> Any:
    return _client("sns")


def ses() -> Any:
    return _client("ses")


class Lazy:
    """A client made on its first use, for composition roots that need it only on some paths: `Lazy(aws.s3)`.

    Creating a boto3 client loads its service model (about 10 ms for Step Functions, 20 for EventBridge, 30 for
    S3 on the benchmark machine), so a cold start that serves a read pays only for the clients reads use.
    """

    __slots__ = ("_client", "_factory")

    def __init__(self, factory: Callable[[], Any]) -> None:
        self._factory = factory
        self._client: Any = None

    def __getattr__(self, name: str) -> Any:
        if self._client is None:
            self._client = self._factory()
        return getattr(self._client, name)


def current_clients() -> list[Any]:
    with _lock:
        return list(_clients.values())


@contextmanager
def watching(service: str, event: str, handler: Callable[..., Any]) -> Iterator[None]:
    """Register a botocore event handler (e.g. `before-call`) on every `service` client, existing and new.

    For benchmarks and tests that count or fault-inject round trips; production code never calls it.
    """
    name = f"{event}.{service}"
    attached: list[Any] = []

    def attach(client: Any) -> None:
        if client.meta.service_model.service_name == service:
            client.meta.events.register(name, handler)
            attached.append(client)

    for client in current_clients():
        attach(client)
    client_hooks.append(attach)
    try:
        yield
    finally:
        client_hooks.remove(attach)
        for client in attached:
            client.meta.events.unregister(name, handler)


def reset_clients() -> None:
    """Forget cached clients (tests switch endpoints and credentials between cases)."""
    with _lock:
        _clients.clear()


def error_code(error: BaseException) -> str | None:
    """The AWS error code of a botocore ClientError, or None for any other exception."""
    response = getattr(error, "response", None)
    if isinstance(response, dict):
        code = response.get("Error", {}).get("Code")
        return str(code) if code else None
    return None


THROTTLING_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
        "TransactionConflictException",
        # the same faults as other services name them (SQS, SNS, SES, EventBridge, Step Functions, S3)
        "InternalFailure",
        "InternalError",
        "InternalException",
        "Throttling",
        "Throttled",
        "RequestThrottled",
        "SlowDown",
    }
)


def is_transient(error: BaseException) -> bool:
    """Whether an AWS error is worth retrying later (throttling, conflicts, service faults)."""
    code = error_code(error)
    return code in THROTTLING_CODES or error.__class__.__name__ in {
        "EndpointConnectionError",
        "ConnectTimeoutError",
        "ConnectionClosedError",
        "ReadTimeoutError",
    }
