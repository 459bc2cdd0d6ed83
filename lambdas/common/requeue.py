"""Putting jobs back on the queue: released holds, retryable failures, expired leases.

The message is always sent *before* the job item changes. A crash in between leaves the
old state (still held, still leased) so nothing is lost; the extra message is harmless
because the dispatcher only assigns a job whose stored attempt matches the message's.
"""

from __future__ import annotations

from typing import Any

from lambdas.common import aws, ddb, tables
from lambdas.common.job_message import JobMessage
from lambdas.common.job_updates import is_counted, write_releasing
from lambdas.common.jobs import job_key, jobs_table
from lambdas.common.settings import SQS_MAX_DELAY_SECONDS, settings

_SQS_BATCH = 10
# Released holds come back at most this many per second per agent (DelaySeconds grows with the
# job's index, up to SQS's 15-minute maximum), so an agent with a large backlog reconnecting,
# or a whole fleet after a blip, does not dump every held job on the dispatcher at once.
RELEASES_PER_SECOND = 10


def _queue_url() -> str:
    return settings().jobs_queue_url


def requeue(
    item: dict[str, Any],
    *,
    next_attempt: int,
    now: int,
    reason: str,
    condition: str,
    condition_values: dict[str, Any],
) -> bool:
    """Send the job again as `next_attempt` and mark it queued if `condition` still holds."""
    msg = JobMessage.from_job_item(item, next_attempt)
    aws.client("sqs").send_message(QueueUrl=_queue_url(), MessageBody=msg.to_body())
    update = {
        "TableName": jobs_table(),
        "Key": job_key(msg.job_id),
        "UpdateExpression": "SET #status = :queued, attempt = :next, reason = :reason, updatedAt = :now"
        " REMOVE leaseState, leaseExpiresAt, connectionId, limitsDay",
        "ConditionExpression": condition,
        "ExpressionAttributeNames": {"#status": "status"},
        "ExpressionAttributeValues": {
            **ddb.values(queued="queued", next=next_attempt, reason=reason, now=now),
            **condition_values,
        },
    }
    # The item says whether the assignment was counted; the write's condition re-checks it.
    return write_releasing(update, msg.creator_id, counted=is_counted(item))


def held_jobs(creator_id: str, agent_id: str) -> list[dict[str, Any]]:
    """Every job held for the creator's agent (GSI ByHeldAgent on `<creatorId>#<agentId>`, oldest first)."""
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {
        "TableName": jobs_table(),
        "IndexName": tables.BY_HELD_AGENT.name,
        "KeyConditionExpression": f"{tables.BY_HELD_AGENT.partition.name} = :heldfor",
        "ExpressionAttributeValues": ddb.values(heldfor=tables.agent_ref(creator_id, agent_id)),
    }
    while True:
        resp = ddb.dynamodb().query(**kwargs)
        items.extend(ddb.from_item(i) for i in resp.get("Items", []))  # type: ignore[misc]
        if "LastEvaluatedKey" not in resp:
            return items
        kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]


def release_held(
    creator_id: str, agent_id: str, *, now: int, keep_kinds: frozenset[str] = frozenset()
) -> int:
    """Send the creator's agent's held jobs back to the queue and clear their hold; returns how many.

    Jobs of `keep_kinds` (kinds an operator paused, limits.paused_kinds) stay held.

    The messages are delayed by RELEASE_DELAY_SECONDS: this runs inside `$connect`, and API
    Gateway answers 410 to a push until `$connect` has returned and the connection is open;
    the n-th one by n // RELEASES_PER_SECOND seconds more (spread, see above).
    """
    held = held_jobs(creator_id, agent_id)
    return release_items(
        [i for i in held if i.get("status") == "held" and i.get("kind") not in keep_kinds], now=now
    )


def release_items(items: list[dict[str, Any]], *, now: int) -> int:
    """Send held job items (as read, `heldAgentId` included) back to the queue; returns how many."""
    delay = settings().release_delay_seconds
    released = 0
    for start in range(0, len(items), _SQS_BATCH):
        chunk = items[start : start + _SQS_BATCH]
        entries = [
            {
                "Id": str(n),
                "MessageBody": _held_message(item).to_body(),
                "DelaySeconds": min(SQS_MAX_DELAY_SECONDS, delay + (start + n) // RELEASES_PER_SECOND),
            }
            for n, item in enumerate(chunk)
        ]
        resp = aws.client("sqs").send_message_batch(QueueUrl=_queue_url(), Entries=entries)
        for ok in resp.get("Successful", []):
            item = chunk[int(ok["Id"])]
            released += _clear_hold(item["jobId"], item["heldAgentId"], now)
    return released


def _held_message(item: dict[str, Any]) -> JobMessage:
    # A hold happens before delivery, so the stored attempt is still the one to deliver.
    return JobMessage.from_job_item(item, int(item.get("attempt", 1)))


def _clear_hold(job_id: str, held_for: str, now: int) -> bool:
    # Fails harmlessly when the dispatcher already took the job from the queue.
    return ddb.update_if(
        TableName=jobs_table(),
        Key=job_key(job_id),
        UpdateExpression="SET #status = :queued, updatedAt = :now REMOVE heldAgentId",
        ConditionExpression="#status = :held AND heldAgentId = :heldfor",
        ExpressionAttributeNames={"#status": "status"},
        ExpressionAttributeValues=ddb.values(queued="queued", held="held", heldfor=held_for, now=now),
    )
