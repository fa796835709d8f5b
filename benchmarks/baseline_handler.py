"""The cold-start baseline: a module that only imports boto3 and creates a DynamoDB client."""

import boto3

client = boto3.client("dynamodb")


def handler(event, context):
    return client.list_tables(Limit=1)
