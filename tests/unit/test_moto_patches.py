"""The local emulation's corrections to moto behave as DynamoDB does (and still apply to the pinned moto)."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from local_runtime import moto_patches

TABLE = "patches"


@pytest.fixture
def db():
    moto_patches.install()
    with mock_aws():
        client = boto3.client("dynamodb", region_name="eu-north-1")
        client.create_table(
            TableName=TABLE,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in ("pk", "sk", "g")],
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": "byG",
                    "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "ALL"},
                }
            ],
        )
        yield client


def put(pk, sk, **extra):
    item = {"pk": {"S": pk}, "sk": {"S": sk}} | {k: {"S": v} for k, v in extra.items()}
    return {"Put": {"TableName": TABLE, "Item": item}}


def keys(db):
    return sorted((i["pk"]["S"], i["sk"]["S"]) for i in db.scan(TableName=TABLE)["Items"])


def test_a_transaction_applies_all_its_writes(db):
    db.transact_write_items(TransactItems=[put("a", "1"), put("b", "1")])
    assert keys(db) == [("a", "1"), ("b", "1")]


def test_a_failed_condition_cancels_the_whole_transaction_with_reasons_in_order(db):
    db.put_item(TableName=TABLE, Item={"pk": {"S": "a"}, "sk": {"S": "1"}})
    taken = put("a", "1") | {}
    taken["Put"]["ConditionExpression"] = "attribute_not_exists(pk)"

    with pytest.raises(ClientError) as raised:
        db.transact_write_items(TransactItems=[put("b", "1"), taken])

    assert raised.value.response["Error"]["Code"] == "TransactionCanceledException"
    reasons = [r["Code"] for r in raised.value.response["CancellationReasons"]]
    assert reasons == ["None", "ConditionalCheckFailed"]
    assert keys(db) == [("a", "1")]


def test_conditions_see_the_state_before_the_transaction(db):
    """DynamoDB checks every condition first; a Put earlier in the list cannot satisfy a later check."""
    check = {
        "ConditionCheck": {
            "TableName": TABLE,
            "Key": {"pk": {"S": "c"}, "sk": {"S": "1"}},
            "ConditionExpression": "attribute_exists(pk)",
        }
    }
    with pytest.raises(ClientError):
        db.transact_write_items(TransactItems=[put("x", "1"), check])
    assert keys(db) == []


# ADD of a number to a string attribute: refused when applied, after the conditions passed
BAD_UPDATE = {
    "Update": {
        "TableName": TABLE,
        "Key": {"pk": {"S": "n"}, "sk": {"S": "1"}},
        "UpdateExpression": "ADD v :one",
        "ExpressionAttributeValues": {":one": {"N": "1"}},
    }
}


def test_a_write_failing_midway_rolls_back_the_earlier_ones(db):
    db.put_item(TableName=TABLE, Item={"pk": {"S": "n"}, "sk": {"S": "1"}, "v": {"S": "text"}})
    with pytest.raises(ClientError):
        db.transact_write_items(TransactItems=[put("a", "1", v="new"), BAD_UPDATE])
    assert keys(db) == [("n", "1")]


def test_the_same_item_twice_in_one_transaction_is_refused(db):
    with pytest.raises(ClientError) as raised:
        db.transact_write_items(TransactItems=[put("a", "1"), put("a", "1")])
    assert raised.value.response["Error"]["Code"] == "ValidationException"
    assert keys(db) == []


def test_a_table_query_reads_only_its_partition_and_pages_in_order(db):
    for pk in ("p", "q"):
        for n in range(5):
            db.put_item(TableName=TABLE, Item={"pk": {"S": pk}, "sk": {"S": str(n)}, "g": {"S": "x"}})
    first = db.query(
        TableName=TABLE,
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "q"}},
        Limit=3,
    )
    rest = db.query(
        TableName=TABLE,
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "q"}},
        ExclusiveStartKey=first["LastEvaluatedKey"],
    )
    assert [i["sk"]["S"] for i in first["Items"] + rest["Items"]] == ["0", "1", "2", "3", "4"]
    assert {i["pk"]["S"] for i in first["Items"] + rest["Items"]} == {"q"}
    on_index = db.query(
        TableName=TABLE,
        IndexName="byG",
        KeyConditionExpression="g = :g",
        ExpressionAttributeValues={":g": {"S": "x"}},
    )
    assert on_index["Count"] == 10, "index queries still see every partition"
    assert (
        db.query(
            TableName=TABLE, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "none"}}
        )["Items"]
        == []
    )


def test_sqs_still_delivers_and_counts_messages():
    moto_patches.install()
    with mock_aws():
        sqs = boto3.client("sqs", region_name="eu-north-1")
        url = sqs.create_queue(QueueName="q", Attributes={"MessageRetentionPeriod": "60"})["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody="hello")
        count = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
        assert count["Attributes"]["ApproximateNumberOfMessages"] == "1"
        assert [m["Body"] for m in sqs.receive_message(QueueUrl=url)["Messages"]] == ["hello"]


def test_sqs_counts_are_exact_where_asked_and_sends_still_deduplicate():
    """Sends skip the message counts and GetQueueAttributes computes them once: the answers are unchanged."""
    moto_patches.install()
    with mock_aws():
        sqs = boto3.client("sqs", region_name="eu-north-1")
        url = sqs.create_queue(QueueName="counted")["QueueUrl"]
        sqs.send_message_batch(
            QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": f"m{i}"} for i in range(5)]
        )
        sqs.send_message(QueueUrl=url, MessageBody="later", DelaySeconds=60)
        sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=2, VisibilityTimeout=60)
        asked = sqs.get_queue_attributes(
            QueueUrl=url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        assert asked == {"ApproximateNumberOfMessages": "3", "ApproximateNumberOfMessagesNotVisible": "2"}
        every = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        assert every["ApproximateNumberOfMessagesDelayed"] == "1" and every["VisibilityTimeout"] == "30"
        assert sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout"])["Attributes"] == {
            "VisibilityTimeout": "30"
        }
        fifo = sqs.create_queue(
            QueueName="counted.fifo", Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"}
        )["QueueUrl"]
        for _ in range(2):
            sqs.send_message(QueueUrl=fifo, MessageBody="same", MessageGroupId="g")
        assert len(sqs.receive_message(QueueUrl=fifo, MaxNumberOfMessages=10)["Messages"]) == 1


def test_a_put_replacing_an_item_is_undone_when_a_later_write_fails(db):
    db.put_item(TableName=TABLE, Item={"pk": {"S": "a"}, "sk": {"S": "1"}, "v": {"S": "old"}})
    db.put_item(TableName=TABLE, Item={"pk": {"S": "n"}, "sk": {"S": "1"}, "v": {"S": "text"}})
    with pytest.raises(ClientError):
        db.transact_write_items(TransactItems=[put("a", "1", v="new"), BAD_UPDATE])
    stored = db.get_item(TableName=TABLE, Key={"pk": {"S": "a"}, "sk": {"S": "1"}})["Item"]
    assert stored["v"] == {"S": "old"}


def test_an_item_of_many_attributes_is_stored_and_one_over_400_kb_is_refused(db):
    many = {f"unit{i:04d}": {"M": {"name": {"S": "Vårdcentral " * 5}}} for i in range(2_000)}
    db.put_item(TableName=TABLE, Item={"pk": {"S": "cell"}, "sk": {"S": "1"}} | many)
    stored = db.get_item(TableName=TABLE, Key={"pk": {"S": "cell"}, "sk": {"S": "1"}})["Item"]
    assert len(stored) == 2 + 2_000

    too_big = {f"unit{i:04d}": {"S": "x" * 1_000} for i in range(410)}
    with pytest.raises(ClientError) as raised:
        db.put_item(TableName=TABLE, Item={"pk": {"S": "cell"}, "sk": {"S": "2"}} | too_big)
    assert raised.value.response["Error"]["Code"] == "ValidationException"
    assert "Item size has exceeded the maximum allowed size" in raised.value.response["Error"]["Message"]
    update = {":big": {"S": "x" * 400_000}}
    with pytest.raises(ClientError):
        db.update_item(
            TableName=TABLE,
            Key={"pk": {"S": "cell"}, "sk": {"S": "1"}},
            UpdateExpression="SET extra = :big",
            ExpressionAttributeValues=update,
        )
