"""Each function's IAM policy from template.yaml, enforced on every AWS call its handler makes (moto enforces none).

A call the function's `Policies` do not allow fails as it would in AWS: a botocore ClientError with the service's
access-denied code and a message naming the role, the action and the resource. Only the handlers' clients
(`eservices_core.aws`) are checked, and only while `FunctionRunner.invoke` runs a handler on the thread: set-up
code, pollers and the emulator's own calls are not a function's. Presigned URLs and POST forms make no call in
the function and are not checked (the browser's request is signed with the role and checked then, in AWS).

Not modelled: resource and key policies, and the KMS permissions services need on the caller's behalf (SQS and
DynamoDB encrypted with DataKey). A policy this cannot enforce (a managed policy, a SAM policy template, a Deny,
a Condition) fails loudly when the runner starts, so the template change is noticed.
"""

from __future__ import annotations

import functools
import logging
import re
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from email.utils import parseaddr
from typing import Any
from urllib.parse import unquote, urlparse

from eservices_core import aws
from local_runtime.provision import ACCOUNT, REGION, Deployment, physical_name

logger = logging.getLogger(__name__)


@functools.cache
def _wildcard(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    """IAM's wildcards: `*` any run of characters (`/` and `:` included), `?` any one character."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(regex, re.IGNORECASE if ignore_case else 0)


@dataclass(frozen=True)
class Grant:
    action: str  # "dynamodb:GetItem"; action names are case-insensitive in IAM
    resource: str  # an ARN, "*" or an ARN pattern such as "arn:aws:s3:::bucket/patients/*"

    def covers(self, action: str, resource: str | None) -> bool:
        return _wildcard(self.action, True).fullmatch(action) is not None and (
            resource is None or _wildcard(self.resource, False).fullmatch(resource) is not None
        )


@dataclass(frozen=True)
class Need:
    """One (action, resource) a call needs. `resource` None: the request does not say which (a task token that
    no running execution holds), and any resource the action is allowed on will do."""

    action: str
    resource: str | None


@dataclass(frozen=True)
class Policy:
    function: str  # logical id
    role: str  # the assumed-role ARN a denial names
    grants: tuple[Grant, ...]

    def allows(self, need: Need) -> bool:
        return any(grant.covers(need.action, need.resource) for grant in self.grants)


def function_policy(deployment: Deployment, logical_id: str) -> Policy:
    """The (action, resource) pairs the function's inline policy statements allow, resources resolved."""
    fn = deployment.template.functions[logical_id]
    if "Role" in fn.properties:
        raise NotImplementedError(
            f"{logical_id} names its own Role; the local runtime enforces Policies only"
        )
    policies = fn.properties.get("Policies", [])
    grants = []
    for policy in policies if isinstance(policies, list) else [policies]:
        if not (isinstance(policy, dict) and "Statement" in policy):
            raise NotImplementedError(
                f"{logical_id}: the local runtime enforces inline policy statements only, not {policy!r}; "
                "extend infra/local_runtime/iam.py"
            )
        for statement in _listed(policy["Statement"]):
            if statement.get("Effect") != "Allow" or set(statement) - {"Sid", "Effect", "Action", "Resource"}:
                raise NotImplementedError(
                    f"{logical_id}: only Allow statements of Action and Resource are enforced: {statement}"
                )
            resources = [str(r) for r in _listed(deployment.resolve(statement["Resource"]))]
            grants += [Grant(a, r) for a in _listed(statement["Action"]) for r in resources]
    name = physical_name(logical_id)
    return Policy(logical_id, f"arn:aws:sts::{ACCOUNT}:assumed-role/{name}Role/{name}", tuple(grants))


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


# ---------------------------------------------------------------- what a call needs

# botocore service name -> IAM service prefix
IAM_PREFIX = {
    "dynamodb": "dynamodb",
    "sqs": "sqs",
    "events": "events",
    "stepfunctions": "states",
    "s3": "s3",
    "sns": "sns",
    "ses": "ses",
    "sesv2": "ses",  # SES v2 is authorized with v1's actions (ses:SendEmail)
    "scheduler": "scheduler",
    "kms": "kms",
    "lambda": "lambda",
}

# Operations whose IAM action is not their own name. Any other operation needs `<prefix>:<operation>`.
ACTIONS = {
    # A batch is authorized as its single-message action (there is no sqs:SendMessageBatch).
    ("sqs", "SendMessageBatch"): "SendMessage",
    ("sqs", "DeleteMessageBatch"): "DeleteMessage",
    ("sqs", "ChangeMessageVisibilityBatch"): "ChangeMessageVisibility",
    ("s3", "HeadObject"): "GetObject",  # HEAD reads what GET reads, without the body
    ("s3", "HeadBucket"): "ListBucket",
    ("s3", "ListObjects"): "ListBucket",
    ("s3", "ListObjectsV2"): "ListBucket",
    ("s3", "ListObjectVersions"): "ListBucketVersions",
    ("s3", "DeleteObjects"): "DeleteObject",  # checked for each key
    ("s3", "CreateMultipartUpload"): "PutObject",  # the parts of an upload are one PutObject to IAM
    ("s3", "UploadPart"): "PutObject",
    ("s3", "CompleteMultipartUpload"): "PutObject",
    ("lambda", "Invoke"): "InvokeFunction",
}

# S3 operations on one version of an object (VersionId given) need the version's own action.
S3_VERSIONED = {
    "GetObject": "GetObjectVersion",
    "DeleteObject": "DeleteObjectVersion",
    "GetObjectTagging": "GetObjectVersionTagging",
    "PutObjectTagging": "PutObjectVersionTagging",
    "DeleteObjectTagging": "DeleteObjectVersionTagging",
}

# A DynamoDB transaction has no action of its own: each item needs its single-item action on its table.
TRANSACTION_ITEM_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
    "Get": "GetItem",
}


def needs(service: str, operation: str, params: Mapping[str, Any], region: str = REGION) -> list[Need]:
    """The IAM (action, resource) pairs a call of `operation` with API parameters `params` needs."""
    prefix = IAM_PREFIX.get(service)
    resources = _RESOURCES.get(service)
    if prefix is None or resources is None:
        raise NotImplementedError(
            f"the local runtime does not know the IAM actions of {service}; extend infra/local_runtime/iam.py"
        )
    action = ACTIONS.get((service, operation), operation)
    pairs = resources(action, params, _Arns(region))
    return list(dict.fromkeys(Need(f"{prefix}:{a}", r) for a, r in pairs))


@dataclass(frozen=True)
class _Arns:
    region: str

    def of(self, service: str, kind: str, name: str) -> str:
        """The ARN of resource `name` (which may be given as its ARN already) of this account and region."""
        return name if name.startswith("arn:") else f"arn:aws:{service}:{self.region}:{ACCOUNT}:{kind}{name}"


Pairs = list[tuple[str, str | None]]


def _dynamodb(action: str, params: Mapping[str, Any], arns: _Arns) -> Pairs:
    def table(name: str) -> str:
        return arns.of("dynamodb", "table/", name)

    if action in ("BatchGetItem", "BatchWriteItem"):
        return [(action, table(name)) for name in params["RequestItems"]]
    if action in ("TransactWriteItems", "TransactGetItems"):
        return [
            (TRANSACTION_ITEM_ACTIONS[kind], table(item[kind]["TableName"]))
            for item in params["TransactItems"]
            for kind in item
        ]
    if "TableName" in params:
        index = params.get("IndexName")
        return [(action, table(params["TableName"]) + (f"/index/{index}" if index else ""))]
    return [(action, _unknown(action, params))]


def _sqs(action: str, params: Mapping[str, Any], arns: _Arns) -> Pairs:
    if "QueueUrl" in params:  # https://sqs.<region>.amazonaws.com/<account>/<name>, or the emulator's
        account, name = urlparse(params["QueueUrl"]).path.strip("/").split("/")[-2:]
    elif "QueueName" in params:
        account, name = params.get("QueueOwnerAWSAccountId", ACCOUNT), params["QueueName"]
    else:
        return [(action, _unknown(action, params))]
    return [(action, f"arn:aws:sqs:{arns.region}:{account}:{name}")]


def _events(action: str, params: Mapping[str, Any], arns: _Arns) -> Pairs:
    if action == "PutEvents":  # each entry on its bus, the account's default bus when it names none
        buses = [entry.get("EventBusName") or "default" for entry in params["Entries"]]
        return [(action, arns.of("events", "event-bus/", bus)) for bus in buses]
    return [(action, _unknown(action, params))]


def _stepfunctions(action: str, params: Mapping[str, Any], arns: _Arns) -> Pairs:
    if "stateMachineArn" in params:
        return [(action, params["stateMachineArn"])]
    if "executionArn" in params:  # executions are resources of their own to IAM
        return [(action, params["executionArn"])]
    if "taskToken" in params:  # answered on the state machine whose execution waits on the token
        return [(action, _state_machine_waiting_on(params["taskToken"], arns.region))]
    return [(action, _unknown(action, params))]


def _state_machine_waiting_on(token: str, region: str) -> str | None:
    """The state machine of the running execution that waits on a task token, as the emulator knows it."""
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends

    for machine in list(stepfunctions_parser_backends[ACCOUNT][region].state_machines):
        for execution in list(machine.executions):
            worker = getattr(execution, "exec_worker", None)
            if worker is not None and worker.env.callback_pool_manager.get(token) is not None:
                return str(machine.arn)
    return None


def _s3(action: str, params: Mapping[str, Any], arns: _Arns) -> Pairs:
    bucket = f"arn:aws:s3:::{params['Bucket']}"
    if action == "DeleteObject" and "Delete" in params:  # DeleteObjects
        return [
            (S3_VERSIONED[action] if "VersionId" in o else action, f"{bucket}/{o['Key']}")
            for o in params["Delete"]["Objects"]
        ]
    if action == "CopyObject":  # reads the source, writes the destination
        source = params["CopySource"]
        if isinstance(source, str):
            path, _, query = unquote(source).lstrip("/").partition("?versionId=")
            source = {"Bucket": path.split("/", 1)[0], "Key": path.split("/", 1)[1]} | (
                {"VersionId": query} if query else {}
            )
        read = "GetObjectVersion" if "VersionId" in source else "GetObject"
        return [
            (read, f"arn:aws:s3:::{source['Bucket']}/{source['Key']}"),
            ("PutObject", f"{bucket}/{params['Key']}"),
        ]
    if "Key" in params:
        return [
            (
                S3_VERSIONED.get(action, action) if "VersionId" in params else action,
                f"{bucket}/{params['Key']}",
            )
        ]
    return [(action, bucket)]


def _sns(action: str, params: Mapping[str, Any], arns: _Arns) -> Pairs:
    topic = params.get("TopicArn") or params.get("TargetArn")
    if topic:
        return [(action, topic)]
    if action == "Publish" and "PhoneNumber" in params:  # an SMS to a number has no resource ARN
        return [(action, "*")]
    return [(action, _unknown(action, params))]


def _ses(action: str, params: Mapping[str, Any], arns: _Arns) -> Pairs:
    """Sending is authorized on the sender's identity: SourceArn / FromArn, else the From address's."""
    identity_arn = (
        params.get("SourceArn") or params.get("FromArn") or params.get("FromEmailAddressIdentityArn")
    )
    if identity_arn:
        return [(action, identity_arn)]
    sender = params.get("Source") or params.get("FromEmailAddress")
    if sender:
        return [(action, arns.of("ses", "identity/", parseaddr(sender)[1]))]
    return [(action, _unknown(action, params))]


def _kms(action: str, params: Mapping[str, Any], arns: _Arns) -> Pairs:
    key = params.get("KeyId")
    if key:
        return [(action, arns.of("kms", "" if key.startswith("alias/") else "key/", key))]
    return [(action, _unknown(action, params))]


def _lambda(action: str, params: Mapping[str, Any], arns: _Arns) -> Pairs:
    name = params.get("FunctionName")
    if name:
        return [(action, arns.of("lambda", "function:", name))]
    return [(action, _unknown(action, params))]


def _scheduler(action: str, params: Mapping[str, Any], arns: _Arns) -> Pairs:
    if "Name" in params:
        group = params.get("GroupName") or "default"
        return [(action, arns.of("scheduler", f"schedule/{group}/", params["Name"]))]
    return [(action, _unknown(action, params))]


def _unknown(action: str, params: Mapping[str, Any]) -> str:
    raise NotImplementedError(
        f"the local runtime cannot tell the IAM resource of {action} with parameters {sorted(params)}; "
        "extend infra/local_runtime/iam.py"
    )


_RESOURCES = {
    "dynamodb": _dynamodb,
    "sqs": _sqs,
    "events": _events,
    "stepfunctions": _stepfunctions,
    "s3": _s3,
    "sns": _sns,
    "ses": _ses,
    "sesv2": _ses,
    "scheduler": _scheduler,
    "kms": _kms,
    "lambda": _lambda,
}


# ---------------------------------------------------------------- enforcement

# How each service reports an IAM denial: (error code, HTTP status); others say AccessDeniedException, 400.
DENIALS = {
    "s3": ("AccessDenied", 403),
    "sqs": ("AccessDenied", 403),
    "ses": ("AccessDenied", 403),
    "sns": ("AuthorizationError", 403),
    "lambda": ("AccessDeniedException", 403),
    "sesv2": ("AccessDeniedException", 403),
}

# The policy of the function whose handler runs in this thread (or task); None outside any invocation.
_acting: ContextVar[Policy | None] = ContextVar("iam_policy", default=None)
_PARAMS = "local_runtime.iam.params"
_install_lock = threading.Lock()


@contextmanager
def acting_as(policy: Policy) -> Iterator[None]:
    """Within this block (this thread only), the handlers' AWS calls are checked against `policy`."""
    token = _acting.set(policy)
    try:
        yield
    finally:
        _acting.reset(token)


def install() -> None:
    """Check the calls of every handler client, existing and new (once per process)."""
    with _install_lock:
        if _enforce not in aws.client_hooks:
            aws.client_hooks.append(_enforce)
    for client in aws.current_clients():
        _enforce(client)


def _enforce(client: Any) -> None:
    # `before-call` sees the serialised request; the parameters IAM resources come from are kept on the way.
    client.meta.events.register("before-parameter-build", _keep_params, unique_id=_PARAMS)
    client.meta.events.register(
        "before-call", functools.partial(_check, client), unique_id="local_runtime.iam.check"
    )


def _keep_params(params: Mapping[str, Any], context: dict[str, Any], **_: Any) -> None:
    context[_PARAMS] = params


def _check(client: Any, model: Any, context: dict[str, Any], **_: Any) -> None:
    policy = _acting.get()
    if policy is None:
        return
    service = model.service_model.service_name
    for need in needs(service, model.name, context.get(_PARAMS, {}), context.get("client_region") or REGION):
        if not policy.allows(need):
            raise _denial(client, service, model.name, policy, need)


def _denial(client: Any, service: str, operation: str, policy: Policy, need: Need) -> Exception:
    """The ClientError AWS raises for a call the role may not make (and logged, for `make run` users)."""
    resource = need.resource or "*"
    message = (
        f"User: {policy.role} is not authorized to perform: {need.action} on resource: {resource} "
        f"because no identity-based policy allows the {need.action} action"
    )
    logger.error("%s (function %s, template.yaml Policies)", message, policy.function)
    code, status = DENIALS.get(service, ("AccessDeniedException", 400))
    response = {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}}
    error: Exception = client.exceptions.from_code(code)(response, operation)
    return error
