"""The local runtime holds each function to its template policy (local_runtime.iam), as AWS does and moto does not:
which action and resource each call needs, how IAM's wildcards match, and a denial through the runner."""

from __future__ import annotations

import copy
import logging
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from eservices_core import aws, wiring
from local_runtime.functions import FunctionRunner
from local_runtime.iam import Need, function_policy, needs
from local_runtime.provision import Deployment, provision
from local_runtime.template import Template
from tests.support.aws import Stack

ACCOUNT_REGION = "eu-north-1:123456789012"
ORDERS = f"arn:aws:dynamodb:{ACCOUNT_REGION}:table/orders"
LEDGER = f"arn:aws:dynamodb:{ACCOUNT_REGION}:table/ledger"
QUEUE = f"arn:aws:sqs:{ACCOUNT_REGION}:jobs"
SENDER = "noreply@example.se"


def arn(service: str, resource: str) -> str:
    return f"arn:aws:{service}:{ACCOUNT_REGION}:{resource}"


def on_object(operation: str, action: str, **params: str) -> tuple[Any, ...]:
    """A MAPPING row: an S3 call on object `a/b` of bucket `files`."""
    return (
        "s3",
        operation,
        {"Bucket": "files", "Key": "a/b", **params},
        [(action, "arn:aws:s3:::files/a/b")],
    )


MAPPING = [
    ("dynamodb", "GetItem", {"TableName": "orders"}, [("dynamodb:GetItem", ORDERS)]),
    ("dynamodb", "GetItem", {"TableName": ORDERS}, [("dynamodb:GetItem", ORDERS)]),
    (
        "dynamodb",
        "Query",
        {"TableName": "orders", "IndexName": "ByDay"},
        [("dynamodb:Query", f"{ORDERS}/index/ByDay")],
    ),
    (
        "dynamodb",
        "BatchGetItem",
        {"RequestItems": {"orders": {}, "ledger": {}}},
        [("dynamodb:BatchGetItem", ORDERS), ("dynamodb:BatchGetItem", LEDGER)],
    ),
    ("dynamodb", "BatchWriteItem", {"RequestItems": {"orders": []}}, [("dynamodb:BatchWriteItem", ORDERS)]),
    (
        "dynamodb",
        "TransactWriteItems",
        {
            "TransactItems": [
                {"Put": {"TableName": "orders"}},
                {"Update": {"TableName": "ledger"}},
                {"ConditionCheck": {"TableName": "orders"}},
                {"Delete": {"TableName": "ledger"}},
            ]
        },
        [
            ("dynamodb:PutItem", ORDERS),
            ("dynamodb:UpdateItem", LEDGER),
            ("dynamodb:ConditionCheckItem", ORDERS),
            ("dynamodb:DeleteItem", LEDGER),
        ],
    ),
    (
        "sqs",
        "SendMessageBatch",
        {"QueueUrl": "https://sqs.eu-north-1.amazonaws.com/123456789012/jobs"},
        [("sqs:SendMessage", QUEUE)],
    ),
    (
        "sqs",
        "DeleteMessageBatch",
        {"QueueUrl": "http://127.0.0.1:4566/123456789012/jobs"},
        [("sqs:DeleteMessage", QUEUE)],
    ),
    (
        "sqs",
        "ReceiveMessage",
        {"QueueUrl": "http://localhost/123456789012/jobs"},
        [("sqs:ReceiveMessage", QUEUE)],
    ),
    (
        "events",
        "PutEvents",
        {"Entries": [{"EventBusName": "platform"}, {}, {"EventBusName": "platform"}]},
        [
            ("events:PutEvents", arn("events", "event-bus/platform")),
            ("events:PutEvents", arn("events", "event-bus/default")),
        ],
    ),
    (
        "stepfunctions",
        "StartExecution",
        {"stateMachineArn": arn("states", "stateMachine:case")},
        [("states:StartExecution", arn("states", "stateMachine:case"))],
    ),
    (
        "stepfunctions",
        "DescribeExecution",
        {"executionArn": arn("states", "execution:case:run-1")},
        [("states:DescribeExecution", arn("states", "execution:case:run-1"))],
    ),
    # a token no running execution holds: the resource is unknown, any the action is allowed on will do
    ("stepfunctions", "SendTaskSuccess", {"taskToken": "stale"}, [("states:SendTaskSuccess", None)]),
    on_object("HeadObject", "s3:GetObject"),
    on_object("HeadObject", "s3:GetObjectVersion", VersionId="v1"),  # a version needs the version's action
    on_object("GetObjectTagging", "s3:GetObjectTagging"),
    on_object("PutObjectTagging", "s3:PutObjectVersionTagging", VersionId="v1"),
    on_object("DeleteObject", "s3:DeleteObjectVersion", VersionId="v1"),
    on_object("PutObject", "s3:PutObject"),
    ("s3", "ListObjectsV2", {"Bucket": "files", "Prefix": "a/"}, [("s3:ListBucket", "arn:aws:s3:::files")]),
    (
        "s3",
        "CopyObject",
        {"Bucket": "files", "Key": "to", "CopySource": "files/from"},
        [("s3:GetObject", "arn:aws:s3:::files/from"), ("s3:PutObject", "arn:aws:s3:::files/to")],
    ),
    ("sns", "Publish", {"PhoneNumber": "+46701234567"}, [("sns:Publish", "*")]),
    ("sns", "Publish", {"TopicArn": arn("sns", "alarms")}, [("sns:Publish", arn("sns", "alarms"))]),
    (
        "ses",
        "SendEmail",
        {"Source": f"1177 <{SENDER}>"},
        [("ses:SendEmail", arn("ses", f"identity/{SENDER}"))],
    ),
    (
        "sesv2",
        "SendEmail",
        {"FromEmailAddress": SENDER},
        [("ses:SendEmail", arn("ses", f"identity/{SENDER}"))],
    ),
    ("kms", "Decrypt", {"KeyId": "k-1"}, [("kms:Decrypt", arn("kms", "key/k-1"))]),
    ("lambda", "Invoke", {"FunctionName": "f"}, [("lambda:InvokeFunction", arn("lambda", "function:f"))]),
    (
        "scheduler",
        "DeleteSchedule",
        {"Name": "n"},
        [("scheduler:DeleteSchedule", arn("scheduler", "schedule/default/n"))],
    ),
]


@pytest.mark.parametrize(("service", "operation", "params", "expected"), MAPPING, ids=lambda v: str(v)[:40])
def test_each_call_needs_its_iam_action_on_its_resources(service, operation, params, expected):
    assert needs(service, operation, params) == [Need(action, resource) for action, resource in expected]


@pytest.mark.parametrize(
    ("service", "operation", "params"),
    [("cloudwatch", "PutMetricData", {}), ("events", "PutRule", {"Name": "r"}), ("sqs", "ListQueues", {})],
)
def test_a_call_the_runtime_cannot_map_fails_loudly(service, operation, params):
    with pytest.raises(NotImplementedError, match=r"extend infra/local_runtime/iam.py"):
        needs(service, operation, params)


# ---------------------------------------------------------------- policies from a small template


def statement(action: Any, resource: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource}


def small_deployment(*statements: dict[str, Any], policies: list[Any] | None = None) -> Deployment:
    data = {
        "Resources": {
            "Orders": {"Type": "AWS::DynamoDB::Table"},
            "Ledger": {"Type": "AWS::DynamoDB::Table"},
            "Files": {"Type": "AWS::S3::Bucket"},
            "Fn": {
                "Type": "AWS::Serverless::Function",
                "Properties": {
                    "Handler": "app.handler",
                    "CodeUri": "functions/x/",
                    "Policies": policies if policies is not None else [{"Statement": list(statements)}],
                },
            },
        }
    }
    deployment = Deployment(Template(data), boto3.session.Session())
    deployment.attributes |= {("Orders", "Arn"): ORDERS, ("Ledger", "Arn"): LEDGER}
    deployment.attributes[("Files", "Arn")] = "arn:aws:s3:::files"
    return deployment


def allowed(deployment: Deployment, service: str, operation: str, params: dict[str, Any]) -> bool:
    policy = function_policy(deployment, "Fn")
    return all(policy.allows(need) for need in needs(service, operation, params))


def test_an_action_is_allowed_on_exactly_the_resources_its_statement_names():
    deployment = small_deployment(
        statement(["dynamodb:GetItem", "dynamodb:Query"], {"Fn::GetAtt": ["Orders", "Arn"]})
    )
    assert allowed(deployment, "dynamodb", "GetItem", {"TableName": "orders"})
    assert allowed(deployment, "dynamodb", "Query", {"TableName": "orders"})
    assert not allowed(deployment, "dynamodb", "GetItem", {"TableName": "ledger"})
    assert not allowed(deployment, "dynamodb", "PutItem", {"TableName": "orders"})
    assert not allowed(deployment, "dynamodb", "BatchGetItem", {"RequestItems": {"orders": {}}})
    # a table's grant does not reach its indexes
    assert not allowed(deployment, "dynamodb", "Query", {"TableName": "orders", "IndexName": "ByDay"})


def test_index_and_key_prefix_wildcards_match_as_iam_does():
    deployment = small_deployment(
        statement("dynamodb:Query", {"Fn::Sub": "${Orders.Arn}/index/*"}),
        statement(["s3:GetObject"], {"Fn::Sub": "${Files.Arn}/patients/*"}),
        statement("sns:Publish", "*"),
    )
    assert allowed(deployment, "dynamodb", "Query", {"TableName": "orders", "IndexName": "ByDay"})
    assert not allowed(deployment, "dynamodb", "Query", {"TableName": "orders"})
    assert not allowed(deployment, "dynamodb", "Query", {"TableName": "ledger", "IndexName": "ByDay"})
    assert allowed(deployment, "s3", "GetObject", {"Bucket": "files", "Key": "patients/p-1/attachments/a"})
    assert not allowed(deployment, "s3", "GetObject", {"Bucket": "files", "Key": "staff/s-1"})
    assert not allowed(deployment, "s3", "GetObject", {"Bucket": "other", "Key": "patients/p-1"})
    assert not allowed(deployment, "s3", "PutObject", {"Bucket": "files", "Key": "patients/p-1"})
    assert allowed(deployment, "sns", "Publish", {"PhoneNumber": "+46701234567"})
    assert allowed(deployment, "sns", "Publish", {"TopicArn": arn("sns", "any")})


def test_action_names_match_without_regard_to_case_and_resources_with_it():
    deployment = small_deployment(statement("DynamoDB:getitem", {"Fn::GetAtt": ["Orders", "Arn"]}))
    assert allowed(deployment, "dynamodb", "GetItem", {"TableName": "orders"})
    assert not allowed(deployment, "dynamodb", "GetItem", {"TableName": "ORDERS"})


def test_a_transaction_needs_each_items_action_on_each_of_its_tables():
    deployment = small_deployment(
        statement(["dynamodb:PutItem", "dynamodb:ConditionCheckItem"], {"Fn::GetAtt": ["Orders", "Arn"]}),
        statement("dynamodb:PutItem", {"Fn::GetAtt": ["Ledger", "Arn"]}),
    )
    puts = {"TransactItems": [{"Put": {"TableName": "orders"}}, {"Put": {"TableName": "ledger"}}]}
    assert allowed(deployment, "dynamodb", "TransactWriteItems", puts)
    checked = {
        "TransactItems": [{"ConditionCheck": {"TableName": "orders"}}, {"Put": {"TableName": "ledger"}}]
    }
    assert allowed(deployment, "dynamodb", "TransactWriteItems", checked)
    updated = {"TransactItems": [{"Put": {"TableName": "orders"}}, {"Update": {"TableName": "ledger"}}]}
    assert not allowed(deployment, "dynamodb", "TransactWriteItems", updated)


def test_a_task_token_of_unknown_origin_is_allowed_where_the_action_is_allowed_at_all():
    deployment = small_deployment(statement("states:SendTaskSuccess", arn("states", "stateMachine:x")))
    assert allowed(deployment, "stepfunctions", "SendTaskSuccess", {"taskToken": "stale"})
    assert not allowed(deployment, "stepfunctions", "SendTaskFailure", {"taskToken": "stale"})


@pytest.mark.parametrize(
    "policy",
    ["AWSLambdaBasicExecutionRole", {"DynamoDBCrudPolicy": {"TableName": "orders"}}],
    ids=["managed policy", "SAM policy template"],
)
def test_a_policy_the_runtime_cannot_enforce_fails_loudly(policy):
    with pytest.raises(NotImplementedError, match="inline policy statements only"):
        function_policy(small_deployment(policies=[policy]), "Fn")


def test_a_statement_with_a_condition_fails_loudly():
    conditional = statement("dynamodb:GetItem", "*") | {
        "Condition": {"Bool": {"aws:SecureTransport": "true"}}
    }
    with pytest.raises(NotImplementedError, match="only Allow statements"):
        function_policy(small_deployment(conditional), "Fn")


# ---------------------------------------------------------------- through the runner, on the real template

ACTIVE_USER = "ActiveUserFunction"
UNKNOWN_PERSON = {"personal_identity_number": "191212121212"}


@pytest.fixture
def stack_without_identity_grant(template: Template) -> Iterator[Stack]:
    """The real template, except that ActiveUserFunction may no longer read the identity store."""
    from moto import mock_aws

    data = copy.deepcopy(template.data)
    policies = data["Resources"][ACTIVE_USER]["Properties"]["Policies"]
    [document] = policies
    document["Statement"] = [
        s for s in document["Statement"] if s["Resource"] != {"Fn::GetAtt": ["IdentityTable", "Arn"]}
    ]
    with mock_aws():
        wiring.reset()
        yield Stack(provision(Template(data, template.parameters), boto3.session.Session()))
    wiring.reset()


def test_a_call_its_policy_allows_succeeds(stack: Stack):
    assert stack.invoke(ACTIVE_USER, UNKNOWN_PERSON) == {"active_user": False, "channels": []}


def test_a_call_its_policy_lacks_is_denied_as_aws_denies_it(
    stack_without_identity_grant: Stack, caplog: pytest.LogCaptureFixture
):
    stack = stack_without_identity_grant
    with caplog.at_level(logging.ERROR, logger="local_runtime.iam"), pytest.raises(ClientError) as denied:
        stack.invoke(ACTIVE_USER, UNKNOWN_PERSON)

    error = denied.value.response["Error"]
    assert error["Code"] == "AccessDeniedException"
    role = "arn:aws:sts::123456789012:assumed-role/eservices-local-ActiveUserFunctionRole/eservices-local-ActiveUserFunction"
    assert error["Message"] == (
        f"User: {role} is not authorized to perform: dynamodb:GetItem on resource: {stack.arn('IdentityTable')} "
        "because no identity-based policy allows the dynamodb:GetItem action"
    )
    assert [r.getMessage() for r in caplog.records] == [
        f"{error['Message']} (function {ACTIVE_USER}, template.yaml Policies)"
    ]

    # The same client outside an invocation (a test's set-up, a poller) is nobody's: not checked.
    found = aws.dynamodb().get_item(
        TableName=stack.ref("IdentityTable"), Key={"pk": {"S": "x"}, "sk": {"S": "y"}}
    )
    assert "Item" not in found
    # And a runner told not to enforce lets the handler through.
    unchecked = FunctionRunner(stack.deployment, enforce_iam=False)
    assert unchecked.invoke(ACTIVE_USER, UNKNOWN_PERSON) == {"active_user": False, "channels": []}


def test_every_function_of_the_template_has_an_enforceable_policy(stack: Stack):
    for logical_id in stack.deployment.template.functions:
        assert function_policy(stack.deployment, logical_id).grants, logical_id
