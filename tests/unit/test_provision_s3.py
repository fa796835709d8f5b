"""The local runtime creates the template's buckets as the template configures them."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from local_runtime.provision import bucket_name, lifecycle_rule


@pytest.fixture
def s3(stack):
    return stack.session.client("s3")


def test_the_attachments_bucket_exists_in_the_stacks_region_with_its_attributes(stack, s3):
    name = stack.ref("AttachmentsBucket")
    assert name == "eservices-local-attachmentsbucket"
    s3.head_bucket(Bucket=name)
    assert s3.get_bucket_location(Bucket=name)["LocationConstraint"] == "eu-north-1"
    assert stack.arn("AttachmentsBucket") == f"arn:aws:s3:::{name}"
    assert stack.deployment.lookup("AttachmentsBucket", "DomainName") == f"{name}.s3.amazonaws.com"
    assert (
        stack.deployment.lookup("AttachmentsBucket", "RegionalDomainName")
        == f"{name}.s3.eu-north-1.amazonaws.com"
    )


def test_the_attachments_bucket_is_encrypted_with_the_stacks_key(stack, s3):
    name = stack.ref("AttachmentsBucket")
    [rule] = s3.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rule["ApplyServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "aws:kms",
        "KMSMasterKeyID": stack.arn("DataKey"),
    }
    assert rule["BucketKeyEnabled"] is True
    # ...and objects written without any encryption header get it by default.
    written = s3.put_object(Bucket=name, Key="patients/p/probe", Body=b"x")
    assert written["ServerSideEncryption"] == "aws:kms"
    assert written["SSEKMSKeyId"] == stack.arn("DataKey")


def test_the_attachments_bucket_blocks_all_public_access(stack, s3):
    config = s3.get_public_access_block(Bucket=stack.ref("AttachmentsBucket"))[
        "PublicAccessBlockConfiguration"
    ]
    assert config == {
        "BlockPublicAcls": True,
        "IgnorePublicAcls": True,
        "BlockPublicPolicy": True,
        "RestrictPublicBuckets": True,
    }


def test_the_attachments_bucket_is_versioned_owner_enforced_and_expires_abandoned_uploads(stack, s3):
    name = stack.ref("AttachmentsBucket")
    assert s3.get_bucket_versioning(Bucket=name)["Status"] == "Enabled"
    [ownership] = s3.get_bucket_ownership_controls(Bucket=name)["OwnershipControls"]["Rules"]
    assert ownership == {"ObjectOwnership": "BucketOwnerEnforced"}
    rules = {r["ID"]: r for r in s3.get_bucket_lifecycle_configuration(Bucket=name)["Rules"]}
    assert rules["AbandonedUploads"]["Filter"] == {
        "And": {"Prefix": "patients/", "Tags": [{"Key": "state", "Value": "uploaded"}]}
    }
    assert rules["AbandonedUploads"]["Expiration"] == {"Days": 2}
    assert rules["IncompleteMultipart"]["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 1}


def test_the_tls_only_bucket_policy_is_not_applied_because_moto_ignores_its_condition(stack, s3):
    with pytest.raises(ClientError) as raised:
        s3.get_bucket_policy(Bucket=stack.ref("AttachmentsBucket"))
    assert raised.value.response["Error"]["Code"] == "NoSuchBucketPolicy"


def test_the_web_bucket_is_private_versioned_and_names_the_web_key_by_an_alias_that_exists(stack, s3):
    name = stack.ref("WebBucket")
    config = s3.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"]
    assert set(config.values()) == {True}
    assert s3.get_bucket_versioning(Bucket=name)["Status"] == "Enabled"
    [rule] = s3.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"]["Rules"]
    key_id = rule["ApplyServerSideEncryptionByDefault"]["KMSMasterKeyID"]
    assert key_id == "arn:aws:kms:eu-north-1:123456789012:alias/eservices-local/web"
    kms = stack.session.client("kms")
    assert kms.describe_key(KeyId=key_id)["KeyMetadata"]["Arn"] == stack.arn("WebKey")
    assert stack.ref("WebKeyAlias") == "alias/eservices-local/web"


def test_the_web_distribution_is_not_emulated_and_resolves_to_its_name_only(stack):
    assert stack.ref("WebDistribution") == "eservices-local-WebDistribution"
    with pytest.raises(KeyError, match="not provisioned locally"):
        stack.deployment.lookup("WebDistribution", "DomainName")


def test_bucket_names_are_valid_for_s3():
    assert bucket_name("AttachmentsBucket") == "eservices-local-attachmentsbucket"
    assert bucket_name("My_Odd Bucket") == "eservices-local-my-odd-bucket"
    assert len(bucket_name("B" * 100)) == 63


@pytest.mark.parametrize(
    ("cloudformation", "api"),
    [
        (
            {"Id": "r", "Status": "Enabled", "Prefix": "p/", "ExpirationInDays": 3},
            {"ID": "r", "Status": "Enabled", "Filter": {"Prefix": "p/"}, "Expiration": {"Days": 3}},
        ),
        (
            {"Status": "Enabled", "TagFilters": [{"Key": "k", "Value": "v"}], "ExpirationInDays": 1},
            {"Status": "Enabled", "Filter": {"Tag": {"Key": "k", "Value": "v"}}, "Expiration": {"Days": 1}},
        ),
        (
            {
                "Status": "Disabled",
                "ObjectSizeGreaterThan": "10",
                "NoncurrentVersionExpirationInDays": 7,
                "Transitions": [{"StorageClass": "GLACIER", "TransitionInDays": 30}],
                "NoncurrentVersionTransitions": [{"StorageClass": "GLACIER", "TransitionInDays": 5}],
            },
            {
                "Status": "Disabled",
                "Filter": {"ObjectSizeGreaterThan": 10},
                "NoncurrentVersionExpiration": {"NoncurrentDays": 7},
                "Transitions": [{"StorageClass": "GLACIER", "Days": 30}],
                "NoncurrentVersionTransitions": [{"StorageClass": "GLACIER", "NoncurrentDays": 5}],
            },
        ),
        (
            {"Status": "Enabled", "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}},
            {
                "Status": "Enabled",
                "Filter": {"Prefix": ""},
                "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
            },
        ),
    ],
)
def test_lifecycle_rules_are_translated_to_the_api_shape(cloudformation, api):
    assert lifecycle_rule(cloudformation) == api


def test_an_untranslated_lifecycle_property_fails_loudly_instead_of_widening_the_rule():
    with pytest.raises(NotImplementedError, match="SomethingNew"):
        lifecycle_rule({"Status": "Enabled", "ExpirationInDays": 1, "SomethingNew": True})
