"""The contract's tables (with GSIs), queues and buckets on moto: used by the tests and the benchmark."""

from __future__ import annotations

import boto3

from lambdas.common import tables
from tests.lambdas.helpers import ENV, REGION


def create_resources() -> dict[str, str]:
    """Create the contract's tables, queues and buckets; return the queue URLs by env name."""
    ddb = boto3.client("dynamodb", region_name=REGION)
    for table, env in (
        (tables.JOBS, "JOBS_TABLE"),
        (tables.AGENTS, "AGENTS_TABLE"),
        (tables.CREATOR_LIMITS, "CREATOR_LIMITS_TABLE"),
    ):
        ddb.create_table(**tables.create_table_request(table, ENV[env]))
    sqs = boto3.client("sqs", region_name=REGION)
    urls = {
        "DLQ_URL": sqs.create_queue(QueueName="byoip-test-jobs-dlq")["QueueUrl"],
        "JOBS_QUEUE_URL": sqs.create_queue(QueueName="byoip-test-jobs")["QueueUrl"],
    }
    s3 = boto3.client("s3", region_name=REGION)
    for bucket in (ENV["PATCHES_BUCKET"], ENV["LOGS_BUCKET"]):
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    return urls
