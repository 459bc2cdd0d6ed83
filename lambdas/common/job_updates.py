"""JobsTable transitions driven by the assignee or the reaper: ack, lease extension, close.

Each is conditional on the job still being assigned to (or run by) the acting agent, so an
agent can act only on its own jobs, and a late or repeated result finds the job already
closed and changes nothing — the creator's in-flight counter is released exactly once, and
only for a job whose assignment counted it (`limitsDay` other than jobs.UNCOUNTED).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from lambdas.common import ddb, limits
from lambdas.common.jobs import UNCOUNTED, job_key, jobs_table, transact

# A result longer than this is stored truncated (the payload shares the 400 KB item).
MAX_RESULT_BYTES = 16 * 1024
FINISHED_TTL_SECONDS = 30 * 86400
_NAMES = {"#status": "status"}
# The agent is (creatorId, agentId): another creator's agent of the same name owns nothing here.
_OWNED = "agentId = :agent AND creatorId = :creator AND #status IN (:assigned, :running)"


def _owned_values(creator_id: str, agent_id: str, **extra: Any) -> dict[str, Any]:
    return ddb.values(agent=agent_id, creator=creator_id, assigned="assigned", running="running", **extra)


def _update_owned(job_id: str, creator_id: str, agent_id: str, expression: str, **vals: Any) -> bool:
    return ddb.update_if(
        TableName=jobs_table(),
        Key=job_key(job_id),
        UpdateExpression=expression,
        ConditionExpression=_OWNED,
        ExpressionAttributeNames=_NAMES,
        ExpressionAttributeValues=_owned_values(creator_id, agent_id, **vals),
    )


def ack(job_id: str, creator_id: str, agent_id: str, *, now: int, lease_seconds: int) -> str:
    """Mark the agent's job running and extend its lease.

    Returns `acked`; `finished` when the job is the agent's but no longer active (its result,
    or a re-queue, landed first: API Gateway does not order frames across invocations), a
    quiet no-op; `not_assigned` when it is not the agent's job (or there is no such job).
    """
    written, old = ddb.update_or_old(
        TableName=jobs_table(),
        Key=job_key(job_id),
        UpdateExpression="SET #status = :running, leaseExpiresAt = :lease, updatedAt = :now",
        ConditionExpression=_OWNED,
        ExpressionAttributeNames=_NAMES,
        ExpressionAttributeValues=_owned_values(creator_id, agent_id, lease=now + lease_seconds, now=now),
    )
    if written:
        return "acked"
    mine = old is not None and (old.get("creatorId"), old.get("agentId")) == (creator_id, agent_id)
    return "finished" if mine else "not_assigned"


# A heartbeat writes a listed job only when the write changes something that matters: the job is
# still `assigned` (the listing is its acknowledgement) or less than EXTEND_BELOW of its lease is
# left. With the default 300 s lease and a heartbeat a minute a lease is written every other
# heartbeat, and one that is skipped still has more than 200 - 60 = 140 s left at the next one:
# heartbeats must come less than two thirds of a lease apart (docs/contracts.md).
EXTEND_BELOW = 2 / 3
# At most this many lease writes per heartbeat frame; the others that are due are answered as
# deferred (the agent lists them again at once), most urgent (earliest expiry) first.
MAX_LEASE_WRITES = 10
_LEASE_FIELDS = "jobId, agentId, creatorId, #status, leaseExpiresAt"


@dataclass(frozen=True)
class LeaseWrites:
    """What one heartbeat did with its lists: leases written, leases due but over MAX_LEASE_WRITES,
    and the listed results this agent's jobs record (closed by it: completed or failed)."""

    extended: list[str]
    deferred: list[str]
    recorded: list[str] = field(default_factory=list)


def is_recorded(item: dict[str, Any], creator_id: str, agent_id: str) -> bool:
    """Whether this agent's result closed the job: the agent's, and completed or failed."""
    mine = (item.get("creatorId"), item.get("agentId")) == (creator_id, agent_id)
    return mine and item.get("status") in ("completed", "failed")


def due_for_extension(
    item: dict[str, Any], creator_id: str, agent_id: str, *, now: int, lease_seconds: int
) -> bool:
    """Whether a heartbeat of this agent should write this job: the agent's, active, and unacknowledged
    or with less than EXTEND_BELOW of its lease left."""
    mine = (item.get("creatorId"), item.get("agentId")) == (creator_id, agent_id)
    if not mine or item.get("status") not in ("assigned", "running"):
        return False
    left = int(item.get("leaseExpiresAt", 0)) - now
    return item["status"] == "assigned" or left < lease_seconds * EXTEND_BELOW


def extend_leases(
    job_ids: list[str],
    creator_id: str,
    agent_id: str,
    *,
    now: int,
    lease_seconds: int,
    limit: int = MAX_LEASE_WRITES,
    results: list[str] | None = None,
) -> LeaseWrites:
    """Mark the listed jobs the agent still holds running and extend their leases, where due;
    say which of the listed `results` (results sent without asking for an answer) are recorded.

    A heartbeat's job list is the agent's acknowledgement: no `job.ack` frame is needed. One
    BatchGetItem (eventually consistent) reads the listed jobs; only the due ones are written,
    each conditionally as before, at most `limit`. A stale read is harmless: a lease only ever
    moves forward while a job is held, so a lease read as fresh is at least that fresh, and a job
    read as someone else's or closed would have failed the conditional write anyway. The same
    read answers `results` (0.5 RRU per listed id): a stale read may miss a result just recorded
    (the agent lists it again at its next heartbeat), never report one that is not, since a
    closed job never reopens.
    """
    held, sent = list(dict.fromkeys(job_ids)), list(dict.fromkeys(results or []))
    ids = list(dict.fromkeys(held + sent))
    if not ids:
        return LeaseWrites([], [])
    table = jobs_table()
    read = {
        "Keys": [job_key(job_id) for job_id in ids],
        "ProjectionExpression": _LEASE_FIELDS,
        "ExpressionAttributeNames": _NAMES,
        "ConsistentRead": False,
    }
    items = ddb.batch_get({table: read}).get(table, [])
    found = {i["jobId"]: i for i in items}
    recorded = [j for j in sent if j in found and is_recorded(found[j], creator_id, agent_id)]
    listed = [found[j] for j in held if j in found]
    due = [
        i for i in listed if due_for_extension(i, creator_id, agent_id, now=now, lease_seconds=lease_seconds)
    ]
    due.sort(key=lambda i: (int(i.get("leaseExpiresAt", 0)), i["jobId"]))
    lease = now + lease_seconds
    extended = [
        i["jobId"]
        for i in due[:limit]
        if _update_owned(
            i["jobId"], creator_id, agent_id, "SET #status = :running, leaseExpiresAt = :lease", lease=lease
        )
    ]
    return LeaseWrites(extended, [i["jobId"] for i in due[limit:]], recorded)


def fit_result(result: Any) -> tuple[str | None, bool]:
    """The result as JSON text of at most MAX_RESULT_BYTES, and whether it was truncated."""
    if result is None:
        return None, False
    text = json.dumps(result, separators=(",", ":"))
    data = text.encode("utf-8")
    if len(data) <= MAX_RESULT_BYTES:
        return text, False
    return data[:MAX_RESULT_BYTES].decode("utf-8", errors="ignore"), True


def close(
    job_id: str,
    creator_id: str,
    *,
    status: str,
    reason: str | None,
    now: int,
    condition: str,
    condition_values: dict[str, Any],
    result: Any = None,
    counted: bool | None = None,
) -> bool:
    """Move an active job to `completed`/`failed` if `condition` holds, releasing its slot if it has one.

    `counted`: whether the job's assignment moved its creator's counters (`is_counted`), when
    the caller knows it from the item; None tries the plain write first (one write unit) and moves
    to the transaction only when the item turns out to be counted. Returns False (and changes
    nothing) when the condition fails: not the agent's job, already closed, or re-queued meanwhile.
    """
    text, truncated = fit_result(result)
    expression = "SET #status = :final, updatedAt = :now, finishedAt = :now, #ttl = :ttl"
    vals: dict[str, Any] = {"final": status, "now": now, "ttl": now + FINISHED_TTL_SECONDS}
    if reason:
        expression += ", reason = :reason"
        vals["reason"] = reason
    if text is not None:
        expression += ", #result = :result, resultTruncated = :truncated"
        vals.update(result=text, truncated=truncated)
    update = {
        "TableName": jobs_table(),
        "Key": job_key(job_id),
        "UpdateExpression": expression + " REMOVE leaseState, leaseExpiresAt, connectionId, limitsDay",
        "ConditionExpression": condition,
        "ExpressionAttributeNames": {**_NAMES, "#ttl": "ttl", **({"#result": "result"} if text else {})},
        "ExpressionAttributeValues": {**ddb.values(**vals), **condition_values},
    }
    return write_releasing(update, creator_id, counted)


def write_releasing(update: dict[str, Any], creator_id: str, counted: bool | None) -> bool:
    """Write `update` (a job leaving assigned/running); release the creator's slot iff it held one.

    The plain write requires `limitsDay = UNCOUNTED` and the transaction anything else, so a
    stale guess can never skip or repeat a release. `counted=None`: the plain write first, the
    transaction only if the job turns out to be active and counted.
    """
    condition = update["ConditionExpression"]
    values = {**update["ExpressionAttributeValues"], **ddb.values(uncounted=UNCOUNTED)}
    if not counted:
        plain = {**update, "ConditionExpression": f"({condition}) AND limitsDay = :uncounted"}
        written, old = ddb.update_or_old(**{**plain, "ExpressionAttributeValues": values})
        if written or counted is False or not _counted_and_active(old):
            return written
    counted_condition = f"({condition}) AND (attribute_not_exists(limitsDay) OR limitsDay <> :uncounted)"
    job_op = {
        "Update": {**update, "ConditionExpression": counted_condition, "ExpressionAttributeValues": values}
    }
    return transact([job_op, limits.release_op(creator_id)], optional=1) is None


def _counted_and_active(item: dict[str, Any] | None) -> bool:
    item = item or {}
    return item.get("status") in ("assigned", "running") and item.get("limitsDay") != UNCOUNTED


def is_counted(item: dict[str, Any]) -> bool:
    """Whether an active job's assignment moved its creator's counters (see jobs.UNCOUNTED)."""
    return item.get("limitsDay") != UNCOUNTED


def owned_condition(creator_id: str, agent_id: str) -> tuple[str, dict[str, Any]]:
    """Condition (and values) for "active and assigned to this agent of this creator"."""
    return _OWNED, _owned_values(creator_id, agent_id)
