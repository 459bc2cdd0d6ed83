"""Operator circuit breaker: pause a creator, or resume it and release its held jobs.

Inlined into `BYOIP-<s>-PauseCreator` / `BYOIP-<s>-ResumeCreator` (aws:executeScript).
Held jobs follow docs/contracts.md: status `held` with `heldAgentId` set (sparse GSI
`ByHeldAgent`); releasing one sets it `queued` and puts its job message back on JobsQueue.
Standard library only at module level.
"""

import json
import time

HELD_INDEX = "ByHeldAgent"
KIND_PAUSE_PREFIX = "pausedKind#"  # lambdas/common/limits.py's (a test pins them equal)
_JOB_FIELDS = ("jobId", "agentId", "creatorId", "kind", "payload", "critical", "attempt")


def pause_creator(dynamodb, *, limits_table, creator_id, reason, operator, kind=None, now=time.time):
    """Set the pause flag; the dispatcher then holds the creator's jobs instead of sending them.

    Unconditional, unlike an agent's own pause: the operator's reason replaces the agent's.
    With `kind`, only that kind of the creator's jobs is paused (`pausedKind#<kind>`, read by
    lambdas/common/limits.py); its other kinds keep running.
    """
    by = f"operator:{operator}"
    if kind:
        pause = {"M": {"by": {"S": by}, "reason": {"S": reason}, "at": {"N": str(int(now()))}}}
        dynamodb.update_item(
            TableName=limits_table,
            Key={"creatorId": {"S": creator_id}},
            UpdateExpression="SET #kind = :pause",
            ExpressionAttributeNames={"#kind": KIND_PAUSE_PREFIX + kind},
            ExpressionAttributeValues={":pause": pause},
        )
        return {"creatorId": creator_id, "kind": kind, "paused": True, "pausedBy": by}
    dynamodb.update_item(
        TableName=limits_table,
        Key={"creatorId": {"S": creator_id}},
        UpdateExpression="SET paused = :t, pauseReason = :r, pausedBy = :b, pausedAt = :at",
        ExpressionAttributeValues={
            ":t": {"BOOL": True},
            ":r": {"S": reason},
            ":b": {"S": by},
            ":at": {"N": str(int(now()))},
        },
    )
    return {"creatorId": creator_id, "paused": True, "pausedBy": by}


def paused_kinds(item):
    """Kinds paused on a CreatorLimits item (DynamoDB JSON)."""
    return {key[len(KIND_PAUSE_PREFIX) :] for key in item if key.startswith(KIND_PAUSE_PREFIX)}


def held_jobs(dynamodb, *, jobs_table, creator_id, limit, wanted=lambda job: True):
    """The creator's held jobs (plain dicts) that `wanted` accepts, from the sparse ByHeldAgent index."""
    jobs, start = [], None
    while len(jobs) < limit:
        kwargs = {
            "TableName": jobs_table,
            "IndexName": HELD_INDEX,
            "FilterExpression": "creatorId = :c",
            "ExpressionAttributeValues": {":c": {"S": creator_id}},
        }
        if start:
            kwargs["ExclusiveStartKey"] = start
        page = dynamodb.scan(**kwargs)
        jobs.extend(job for job in map(_plain, page.get("Items", [])) if wanted(job))
        start = page.get("LastEvaluatedKey")
        if not start:
            break
    return jobs[:limit]


def _plain(item):
    """DynamoDB JSON → plain values for the fields a job message carries."""
    from boto3.dynamodb.types import TypeDeserializer

    deserializer = TypeDeserializer()
    return {key: deserializer.deserialize(value) for key, value in item.items()}


def _number(value):
    """DynamoDB numbers come back as Decimal; the job message wants JSON numbers."""
    return int(value) if value == int(value) else float(value)


def _message(job):
    # A hold happens before delivery, so the stored attempt is still the one to deliver.
    body = {field: job[field] for field in _JOB_FIELDS if field in job}
    if isinstance(body.get("payload"), str):
        body["payload"] = json.loads(body["payload"])  # JobsTable stores the payload as JSON text
    body["attempt"] = int(body.get("attempt", 1))
    return json.dumps(body, default=_number, separators=(",", ":"))


def release_job(dynamodb, sqs, *, jobs_table, jobs_queue_url, job, now=time.time):
    """Queue one held job, then clear its hold if it is still held for the same agent.

    Same order as lambdas/common/requeue.py: the message goes first, so a crash in between
    leaves the job held (released again later) and never `queued` without a message; the
    dispatcher assigns only the attempt stored on the item, so a duplicate message is harmless.
    """
    sqs.send_message(QueueUrl=jobs_queue_url, MessageBody=_message(job))
    try:
        dynamodb.update_item(
            TableName=jobs_table,
            Key={"jobId": {"S": job["jobId"]}},
            UpdateExpression="SET #s = :queued, updatedAt = :now REMOVE heldAgentId",
            ConditionExpression="#s = :held AND heldAgentId = :heldfor",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={
                ":queued": {"S": "queued"},
                ":held": {"S": "held"},
                # Whoever it is held for (`<creatorId>#<agentId>`), as read: still the same hold.
                ":heldfor": {"S": job["heldAgentId"]},
                ":now": {"N": str(int(now()))},
            },
        )
    except dynamodb.exceptions.ConditionalCheckFailedException:
        pass  # the dispatcher (or a reconnect) already took it: fine


# Jobs one resume run releases: each is an UpdateItem and a SendMessage, so 1,000 stay far inside
# aws:executeScript's 600 s; a creator with more held jobs is resumed by running it again.
MIN_JOBS = 1
MAX_JOBS = 1000


def resume_creator(
    dynamodb,
    sqs,
    *,
    limits_table,
    jobs_table,
    jobs_queue_url,
    creator_id,
    kind=None,
    max_jobs=500,
    now=time.time,
):
    """Clear the pause flag, then release up to max_jobs held jobs of the creator.

    This also closes an open circuit breaker by hand: its pause is gone, `breakerResetAt` starts
    its failure window afresh (older failures cannot reopen it), and lease-reaper's next run
    forgets the breaker's state and announces it closed by an operator. Kinds paused on their own
    stay paused, and their held jobs held. With `kind`, only that kind's pause is lifted and only
    its held jobs released (none while the whole creator is still paused).
    """
    if isinstance(max_jobs, bool) or not isinstance(max_jobs, int) or not MIN_JOBS <= max_jobs <= MAX_JOBS:
        raise ValueError(f"max_jobs={max_jobs!r} is outside {MIN_JOBS}-{MAX_JOBS}")
    if kind:
        item = dynamodb.update_item(
            TableName=limits_table,
            Key={"creatorId": {"S": creator_id}},
            UpdateExpression="REMOVE #kind",
            ExpressionAttributeNames={"#kind": KIND_PAUSE_PREFIX + kind},
            ReturnValues="ALL_NEW",
        ).get("Attributes", {})
        paused = item.get("paused", {}).get("BOOL", False)

        def wanted(job):
            return not paused and job.get("kind") == kind
    else:
        item = dynamodb.update_item(
            TableName=limits_table,
            Key={"creatorId": {"S": creator_id}},
            UpdateExpression="SET paused = :f, breakerResetAt = :now REMOVE pauseReason, pausedBy, pausedAt",
            ExpressionAttributeValues={":f": {"BOOL": False}, ":now": {"N": str(int(now()))}},
            ReturnValues="ALL_NEW",
        ).get("Attributes", {})
        kept = paused_kinds(item)

        def wanted(job):
            return job.get("kind") not in kept

    jobs = held_jobs(dynamodb, jobs_table=jobs_table, creator_id=creator_id, limit=max_jobs, wanted=wanted)
    for job in jobs:
        release_job(dynamodb, sqs, jobs_table=jobs_table, jobs_queue_url=jobs_queue_url, job=job, now=now)
    report = {"creatorId": creator_id, "paused": bool(kind and paused), "released": len(jobs)}
    if paused_kinds(item):
        report["pausedKinds"] = sorted(paused_kinds(item))  # still paused on their own
    return report


def pause_handler(events, context):
    """aws:executeScript entry point of PauseCreator."""
    import boto3

    return pause_creator(
        boto3.client("dynamodb"),
        limits_table=events["CreatorLimitsTable"],
        creator_id=events["CreatorId"],
        reason=events["Reason"],
        operator=events["Operator"],
    )


def resume_handler(events, context):
    """aws:executeScript entry point of ResumeCreator."""
    import boto3

    return resume_creator(
        boto3.client("dynamodb"),
        boto3.client("sqs"),
        limits_table=events["CreatorLimitsTable"],
        jobs_table=events["JobsTable"],
        jobs_queue_url=events["JobsQueueUrl"],
        creator_id=events["CreatorId"],
        max_jobs=int(events.get("MaxJobs", 500)),
    )
