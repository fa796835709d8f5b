"""Creates the template's keys, buckets, tables and queues in moto and resolves each function's environment."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import boto3

from local_runtime.template import PSEUDO_PARAMETERS, REPO_ROOT, Template, resolve

REGION = PSEUDO_PARAMETERS["AWS::Region"]
ACCOUNT = PSEUDO_PARAMETERS["AWS::AccountId"]
STACK = PSEUDO_PARAMETERS["AWS::StackName"]

# Table properties moto understands and the local runtime keeps; encryption and PITR are the cloud's business.
_TABLE_KEYS = (
    "AttributeDefinitions",
    "KeySchema",
    "GlobalSecondaryIndexes",
    "LocalSecondaryIndexes",
    "StreamSpecification",
)


@dataclass
class Deployment:
    """Physical names of what was created, by logical id, and the session that reaches them."""

    template: Template
    session: boto3.session.Session
    refs: dict[str, Any] = field(default_factory=dict)
    function_names: dict[str, str] = field(default_factory=dict)  # physical name -> logical id
    attributes: dict[tuple[str, str], Any] = field(default_factory=dict)

    def lookup(self, logical_id: str, attribute: str | None) -> Any:
        if attribute is None:
            if logical_id not in self.refs:
                raise KeyError(f"{logical_id} is not provisioned locally")
            return self.refs[logical_id]
        if (logical_id, attribute) not in self.attributes:
            raise KeyError(f"{logical_id}.{attribute} is not provisioned locally")
        return self.attributes[(logical_id, attribute)]

    def resolve(self, value: Any) -> Any:
        return resolve(value, self.lookup, self.template.parameters, self.template.data.get("Conditions"))

    def function_environment(self, logical_id: str) -> dict[str, str]:
        fn = self.template.functions[logical_id]
        return {k: str(v) for k, v in self.resolve(fn.environment).items()}


def physical_name(logical_id: str) -> str:
    return f"{STACK}-{logical_id}"


def provision(template: Template, session: boto3.session.Session) -> Deployment:
    """Resources of the kinds below are created; any other kind (log groups, alarms, policies, the web
    client's CloudFront distribution, origin access control and headers policy: locally the runtime serves
    web/dist itself) gets its physical name as its Ref and nothing else."""
    deployment = Deployment(template, session)
    _provision_kms_keys(deployment)
    _provision_buckets(deployment)
    _provision_tables(deployment)
    _provision_queues(deployment)
    _provision_event_buses(deployment)
    _provision_event_rules(deployment)
    _provision_email_identities(deployment)
    _provision_functions(deployment)
    _provision_state_machines(deployment)
    for logical_id, resource in template.resources.items():
        deployment.refs.setdefault(logical_id, physical_name(logical_id))
        if resource["Type"] == "AWS::Logs::LogGroup":
            deployment.attributes[(logical_id, "Arn")] = (
                f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{logical_id}"
            )
    return deployment


LOCAL_ROLE = "eservices-local-role"


def _provision_functions(deployment: Deployment) -> None:
    """Register each function with the emulator (its code runs in-process: see moto_patches.dispatch_lambda)."""
    import io
    import zipfile

    functions = deployment.template.functions
    if not functions:
        return
    role = deployment.session.client("iam").create_role(
        RoleName=LOCAL_ROLE, AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []})
    )["Role"]["Arn"]
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("README.txt", "runs in-process in the local runtime")
    lambda_client = deployment.session.client("lambda")
    for logical_id, fn in functions.items():
        name = physical_name(logical_id)
        arn = lambda_client.create_function(
            FunctionName=name,
            Runtime="python3.13",
            Role=role,
            Handler=fn.handler,
            Code={"ZipFile": archive.getvalue()},
            Timeout=fn.timeout,
        )["FunctionArn"]
        deployment.refs[logical_id] = name
        deployment.attributes[(logical_id, "Arn")] = arn
        deployment.function_names[name] = logical_id


def _provision_state_machines(deployment: Deployment) -> None:
    """State machines from their `DefinitionUri` files, with `DefinitionSubstitutions` resolved."""
    machines = deployment.template.of_type("AWS::Serverless::StateMachine")
    if not machines:
        return
    sfn = deployment.session.client("stepfunctions")
    role = f"arn:aws:iam::{ACCOUNT}:role/{LOCAL_ROLE}"
    for logical_id, props in machines.items():
        definition = (REPO_ROOT / props["DefinitionUri"]).read_text(encoding="utf-8")
        for key, value in deployment.resolve(props.get("DefinitionSubstitutions", {})).items():
            definition = definition.replace("${" + key + "}", str(value))
        name = str(deployment.resolve(props["Name"])) if "Name" in props else physical_name(logical_id)
        arn = sfn.create_state_machine(
            name=name,
            definition=definition,
            roleArn=role,
            type=props.get("Type", "STANDARD"),
        )["stateMachineArn"]
        deployment.refs[logical_id] = arn
        deployment.attributes[(logical_id, "Arn")] = arn
        deployment.attributes[(logical_id, "Name")] = name


def _provision_kms_keys(deployment: Deployment) -> None:
    """Keys, then their aliases (a bucket may name its key by alias). Key policies are not applied."""
    kms = deployment.session.client("kms")
    for logical_id in deployment.template.of_type("AWS::KMS::Key"):
        key = kms.create_key(Description=f"local {logical_id}")["KeyMetadata"]
        deployment.refs[logical_id] = key["KeyId"]
        deployment.attributes[(logical_id, "Arn")] = key["Arn"]
    for logical_id, props in deployment.template.of_type("AWS::KMS::Alias").items():
        name = str(deployment.resolve(props["AliasName"]))
        kms.create_alias(AliasName=name, TargetKeyId=str(deployment.resolve(props["TargetKeyId"])))
        deployment.refs[logical_id] = name


def _provision_tables(deployment: Deployment) -> None:
    dynamodb = deployment.session.client("dynamodb")
    for logical_id, props in deployment.template.of_type("AWS::DynamoDB::Table").items():
        name = physical_name(logical_id)
        params: dict[str, Any] = {k: props[k] for k in _TABLE_KEYS if k in props}
        dynamodb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST", **params)
        ttl = props.get("TimeToLiveSpecification")
        if ttl:
            dynamodb.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)
        description = dynamodb.describe_table(TableName=name)["Table"]
        deployment.refs[logical_id] = name
        deployment.attributes[(logical_id, "Arn")] = description["TableArn"]
        if "LatestStreamArn" in description:
            deployment.attributes[(logical_id, "StreamArn")] = description["LatestStreamArn"]


def _provision_queues(deployment: Deployment) -> None:
    """Queues are created dead-letter queues first, so redrive policies can name them."""
    sqs = deployment.session.client("sqs")
    queues = deployment.template.of_type("AWS::SQS::Queue")
    ordered = sorted(queues, key=lambda lid: "RedrivePolicy" in queues[lid])
    for logical_id in ordered:
        props = queues[logical_id]
        fifo = bool(props.get("FifoQueue"))
        name = physical_name(logical_id) + (".fifo" if fifo else "")
        attributes: dict[Any, str] = {
            key: str(props[prop]).lower() if isinstance(props[prop], bool) else str(props[prop])
            for prop, key in (
                ("VisibilityTimeout", "VisibilityTimeout"),
                ("MessageRetentionPeriod", "MessageRetentionPeriod"),
                ("DelaySeconds", "DelaySeconds"),
                ("FifoQueue", "FifoQueue"),
                ("ContentBasedDeduplication", "ContentBasedDeduplication"),
            )
            if prop in props
        }
        if "RedrivePolicy" in props:
            attributes["RedrivePolicy"] = json.dumps(deployment.resolve(props["RedrivePolicy"]))
        url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        deployment.refs[logical_id] = url
        deployment.attributes[(logical_id, "Arn")] = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}"
        deployment.attributes[(logical_id, "QueueName")] = name


def bucket_name(logical_id: str) -> str:
    """The stack's physical name made valid for S3: lower case, letters, digits, dots and hyphens, 3-63."""
    name = re.sub(r"[^a-z0-9.-]+", "-", physical_name(logical_id).lower())[:63].strip("-.")
    if len(name) < 3:
        raise ValueError(f"{logical_id} gives no valid bucket name")
    return name


def _provision_buckets(deployment: Deployment) -> None:
    """Buckets with their encryption, public access block, ownership, versioning and lifecycle rules.

    `AWS::S3::BucketPolicy` is deliberately not applied: moto enforces bucket policies but ignores their
    conditions, so the template's TLS-only Deny (`aws:SecureTransport` false) would deny every request.
    """
    buckets = deployment.template.of_type("AWS::S3::Bucket")
    if not buckets:
        return
    s3 = deployment.session.client("s3", region_name=REGION)
    for logical_id, props in buckets.items():
        props = deployment.resolve(props)
        name = str(props.get("BucketName") or bucket_name(logical_id))
        location = (
            {} if REGION == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": REGION}}
        )
        s3.create_bucket(Bucket=name, **location)
        if "BucketEncryption" in props:
            s3.put_bucket_encryption(
                Bucket=name,
                ServerSideEncryptionConfiguration={
                    "Rules": [
                        {
                            "ApplyServerSideEncryptionByDefault": rule["ServerSideEncryptionByDefault"],
                            **(
                                {"BucketKeyEnabled": rule["BucketKeyEnabled"]}
                                if "BucketKeyEnabled" in rule
                                else {}
                            ),
                        }
                        for rule in props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
                    ]
                },
            )
        if "PublicAccessBlockConfiguration" in props:
            s3.put_public_access_block(
                Bucket=name, PublicAccessBlockConfiguration=props["PublicAccessBlockConfiguration"]
            )
        if "OwnershipControls" in props:
            s3.put_bucket_ownership_controls(Bucket=name, OwnershipControls=props["OwnershipControls"])
        if "VersioningConfiguration" in props:
            s3.put_bucket_versioning(Bucket=name, VersioningConfiguration=props["VersioningConfiguration"])
        if "LifecycleConfiguration" in props:
            s3.put_bucket_lifecycle_configuration(
                Bucket=name,
                LifecycleConfiguration={
                    "Rules": [lifecycle_rule(rule) for rule in props["LifecycleConfiguration"]["Rules"]]
                },
            )
        deployment.refs[logical_id] = name
        deployment.attributes[(logical_id, "Arn")] = f"arn:aws:s3:::{name}"
        deployment.attributes[(logical_id, "DomainName")] = f"{name}.s3.amazonaws.com"
        deployment.attributes[(logical_id, "RegionalDomainName")] = f"{name}.s3.{REGION}.amazonaws.com"
        deployment.attributes[(logical_id, "DualStackDomainName")] = (
            f"{name}.s3.dualstack.{REGION}.amazonaws.com"
        )


def lifecycle_rule(rule: dict[str, Any]) -> dict[str, Any]:
    """A CloudFormation lifecycle rule in the shape of the S3 API (`PutBucketLifecycleConfiguration`).

    A property this does not know fails loudly: dropping one (a tag filter, say) would silently widen
    what the rule expires.
    """
    rest = dict(rule)
    api: dict[str, Any] = {"Status": rest.pop("Status")}
    if "Id" in rest:
        api["ID"] = rest.pop("Id")
    conditions: dict[str, Any] = {}
    if "Prefix" in rest:
        conditions["Prefix"] = rest.pop("Prefix")
    if "TagFilters" in rest:
        conditions["Tags"] = [{"Key": t["Key"], "Value": t["Value"]} for t in rest.pop("TagFilters")]
    for size in ("ObjectSizeGreaterThan", "ObjectSizeLessThan"):
        if size in rest:
            conditions[size] = int(rest.pop(size))
    if len(conditions) > 1 or len(conditions.get("Tags", [])) > 1:
        api["Filter"] = {"And": conditions}
    elif "Tags" in conditions:
        api["Filter"] = {"Tag": conditions["Tags"][0]}
    else:
        api["Filter"] = conditions or {"Prefix": ""}
    expiration = {
        key: rest.pop(prop)
        for prop, key in (
            ("ExpirationInDays", "Days"),
            ("ExpirationDate", "Date"),
            ("ExpiredObjectDeleteMarker", "ExpiredObjectDeleteMarker"),
        )
        if prop in rest
    }
    if expiration:
        api["Expiration"] = expiration
    if "AbortIncompleteMultipartUpload" in rest:
        api["AbortIncompleteMultipartUpload"] = rest.pop("AbortIncompleteMultipartUpload")
    if "NoncurrentVersionExpirationInDays" in rest:
        api["NoncurrentVersionExpiration"] = {"NoncurrentDays": rest.pop("NoncurrentVersionExpirationInDays")}
    if "NoncurrentVersionExpiration" in rest:
        api["NoncurrentVersionExpiration"] = rest.pop("NoncurrentVersionExpiration")
    if "Transitions" in rest:
        api["Transitions"] = [
            _renamed(t, {"TransitionInDays": "Days", "TransitionDate": "Date"})
            for t in rest.pop("Transitions")
        ]
    if "NoncurrentVersionTransitions" in rest:
        api["NoncurrentVersionTransitions"] = [
            _renamed(t, {"TransitionInDays": "NoncurrentDays"})
            for t in rest.pop("NoncurrentVersionTransitions")
        ]
    if rest:
        raise NotImplementedError(
            f"the local runtime does not translate lifecycle rule properties {sorted(rest)}; "
            "extend infra/local_runtime/provision.py"
        )
    return api


def _renamed(value: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    return {names.get(k, k): v for k, v in value.items()}


def _provision_event_rules(deployment: Deployment) -> None:
    """Rules on the buses with their queue targets (moto delivers to SQS). Queue policies that let
    EventBridge send are not applied: moto does not enforce them."""
    rules = deployment.template.of_type("AWS::Events::Rule")
    if not rules:
        return
    events = deployment.session.client("events")
    for logical_id, props in rules.items():
        name = physical_name(logical_id)
        bus = str(deployment.resolve(props.get("EventBusName", "default")))
        pattern = json.dumps(deployment.resolve(props["EventPattern"]))
        events.put_rule(
            Name=name, EventBusName=bus, EventPattern=pattern, State=props.get("State", "ENABLED")
        )
        targets = [
            {"Id": t["Id"], "Arn": str(deployment.resolve(t["Arn"]))} for t in props.get("Targets", [])
        ]
        if targets:
            events.put_targets(Rule=name, EventBusName=bus, Targets=targets)
        deployment.refs[logical_id] = name


def _provision_email_identities(deployment: Deployment) -> None:
    """SES sender identities, verified at once (in AWS a DNS record or a click does it)."""
    identities = deployment.template.of_type("AWS::SES::EmailIdentity")
    if not identities:
        return
    ses = deployment.session.client("ses")
    for logical_id, props in identities.items():
        address = str(deployment.resolve(props["EmailIdentity"]))
        ses.verify_email_identity(EmailAddress=address)
        deployment.refs[logical_id] = address


def _provision_event_buses(deployment: Deployment) -> None:
    """Custom EventBridge buses."""
    buses = deployment.template.of_type("AWS::Events::EventBus")
    if not buses:
        return
    events = deployment.session.client("events")
    for logical_id, props in buses.items():
        name = str(deployment.resolve(props.get("Name")) or physical_name(logical_id))
        arn = events.create_event_bus(Name=name)["EventBusArn"]
        deployment.refs[logical_id] = name
        deployment.attributes[(logical_id, "Arn")] = arn
        deployment.attributes[(logical_id, "Name")] = name
