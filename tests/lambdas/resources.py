"""The contract's tables (with GSIs), queues and buckets on moto: used by the tests and the benchmark."""

from __future__ import annotations

from typing import Any

import boto3

from tests.lambdas.helpers import ENV, REGION

_S, _N = "S", "N"


def _gsi(name: str, pk: str, sk: str) -> dict[str, Any]:
    return {
        "IndexName": name,
        "KeySchema": [{"AttributeName": pk, "KeyType": "HASH"}, {"AttributeName": sk, "KeyType": "RANGE"}],
        "Projection": {"ProjectionType": "ALL"},
    }


def create_resources() -> dict[str, str]:
    """Create the contract's tables, queues and buckets; return the queue URLs by env name."""
    ddb = boto3.client("dynamodb", region_name=REGION)
    ddb.create_table(
        TableName=ENV["JOBS_TABLE"],
        KeySchema=[{"AttributeName": "jobId", "KeyType": "HASH"}],
        AttributeDefinitions=[
            {"AttributeName": "jobId", "AttributeType": _S},
            {"AttributeName": "leaseState", "AttributeType": _S},
            {"AttributeName": "leaseExpiresAt", "AttributeType": _N},
            {"AttributeName": "heldAgentId", "AttributeType": _S},
            {"AttributeName": "createdAt", "AttributeType": _N},
        ],
        GlobalSecondaryIndexes=[
            _gsi("ByLease", "leaseState", "leaseExpiresAt"),
            _gsi("ByHeldAgent", "heldAgentId", "createdAt"),
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    for table, pk in (("AGENTS_TABLE", "pk"), ("CREATOR_LIMITS_TABLE", "creatorId")):
        ddb.create_table(
            TableName=ENV[table],
            KeySchema=[{"AttributeName": pk, "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": pk, "AttributeType": _S}],
            BillingMode="PAY_PER_REQUEST",
        )
    sqs = boto3.client("sqs", region_name=REGION)
    urls = {
        "DLQ_URL": sqs.create_queue(QueueName="byoip-test-jobs-dlq")["QueueUrl"],
        "JOBS_QUEUE_URL": sqs.create_queue(QueueName="byoip-test-jobs")["QueueUrl"],
    }
    s3 = boto3.client("s3", region_name=REGION)
    for bucket in (ENV["PATCHES_BUCKET"], ENV["LOGS_BUCKET"]):
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    return urls
