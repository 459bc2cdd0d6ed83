"""SQS look-ups shared by CLI commands: resolve a queue, prove it is a DLQ, read its depth."""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from automation.arns import QueueArn
from automation.output import fail

_MISSING = ("AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist")


def queue_url(sqs: Any, queue: QueueArn) -> str:
    """URL of the queue behind an ARN; one-line error if it does not exist."""
    try:
        return sqs.get_queue_url(QueueName=queue.name, QueueOwnerAWSAccountId=queue.account)["QueueUrl"]
    except ClientError as err:
        if err.response["Error"]["Code"] in _MISSING:
            fail(f"queue {queue.name} does not exist in {queue.region} (account {queue.account})")
        raise


def queue_url_by_name(sqs: Any, name: str, region: str) -> str:
    """URL of a queue of this account by name; one-line error if it does not exist."""
    try:
        return sqs.get_queue_url(QueueName=name)["QueueUrl"]
    except ClientError as err:
        if err.response["Error"]["Code"] in _MISSING:
            fail(f"queue {name} does not exist in {region}")
        raise


def dead_letter_sources(sqs: Any, url: str) -> list[str]:
    """URLs of the queues whose redrive policy names this queue as their DLQ."""
    return list(sqs.list_dead_letter_source_queues(QueueUrl=url).get("queueUrls", []))


def require_dlq(sqs: Any, queue: QueueArn, url: str) -> list[str]:
    """The DLQ's source queues, or a one-line error when the queue is not a DLQ."""
    sources = dead_letter_sources(sqs, url)
    if not sources:
        fail(
            f"{queue.name} is not a dead-letter queue (no queue's redrive policy targets it); "
            "--source-arn must be a DLQ"
        )
    return sources


def _name_and_account(url: str) -> tuple[str, str]:
    """(name, account) from a queue URL: .../<account>/<name> (AWS and moto alike)."""
    account, name = url.rstrip("/").split("/")[-2:]
    return name, account


def allowed_sources(sqs: Any, url: str) -> list[str]:
    """ARNs the DLQ's RedriveAllowPolicy names (byQueue), or [] when it allows any queue."""
    # "All", not the name: moto rejects RedriveAllowPolicy by name while real SQS accepts both.
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])
    policy = json.loads(attributes.get("Attributes", {}).get("RedriveAllowPolicy") or "{}")
    if policy.get("redrivePermission") != "byQueue":
        return []
    return list(policy.get("sourceQueueArns", []))


def require_source_of(sqs: Any, dlq: QueueArn, url: str, destination: QueueArn) -> None:
    """One-line error unless `dlq` is a DLQ and `destination` is one of its source queues.

    Sources are the queues whose redrive policy targets the DLQ, narrowed by the DLQ's
    RedriveAllowPolicy when it names queues: moving messages anywhere else mixes workloads.
    """
    sources = {_name_and_account(source) for source in require_dlq(sqs, dlq, url)}
    allowed = allowed_sources(sqs, url)
    if allowed:
        sources &= {(arn.split(":")[-1], arn.split(":")[-2]) for arn in allowed}
    if (destination.name, destination.account) not in sources:
        names = ", ".join(sorted(name for name, _ in sources)) or "none"
        fail(
            f"--destination-arn {destination.name} is not a source queue of {dlq.name} "
            f"(its source queues: {names}); redrive a DLQ only back to the queue that fed it"
        )


def depth(sqs: Any, url: str) -> dict[str, int]:
    """Visible and in-flight message counts (approximate, as SQS reports them)."""
    attributes = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return {
        "visible": int(attributes.get("ApproximateNumberOfMessages", 0)),
        "in_flight": int(attributes.get("ApproximateNumberOfMessagesNotVisible", 0)),
    }
