"""JobsTable transitions driven by the assignee or the reaper: ack, lease extension, close.

Each is conditional on the job still being assigned to (or run by) the acting agent, so an
agent can act only on its own jobs, and a late or repeated result finds the job already
closed and changes nothing — the creator's in-flight counter is released exactly once.
"""

from __future__ import annotations

import json
from typing import Any

from lambdas.common import ddb, limits
from lambdas.common.jobs import job_key, jobs_table, transact

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


def ack(job_id: str, creator_id: str, agent_id: str, *, now: int, lease_seconds: int) -> bool:
    """Mark the agent's job running and extend its lease; False if it is not the agent's."""
    return _update_owned(
        job_id,
        creator_id,
        agent_id,
        "SET #status = :running, leaseExpiresAt = :lease, updatedAt = :now",
        lease=now + lease_seconds,
        now=now,
    )


def extend_leases(job_ids: list[str], creator_id: str, agent_id: str, *, now: int, lease_seconds: int) -> int:
    """Extend the leases of the listed jobs the agent still holds; returns how many."""
    lease = now + lease_seconds
    return sum(
        _update_owned(job_id, creator_id, agent_id, "SET leaseExpiresAt = :lease", lease=lease)
        for job_id in dict.fromkeys(job_ids)
    )


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
) -> bool:
    """Move an active job to `completed`/`failed` if `condition` holds, releasing its slot.

    Returns False (and changes nothing) when the condition fails: not the agent's job,
    already closed, or re-queued meanwhile.
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
    job_op = {
        "Update": {
            "TableName": jobs_table(),
            "Key": job_key(job_id),
            "UpdateExpression": expression + " REMOVE leaseState, leaseExpiresAt, connectionId",
            "ConditionExpression": condition,
            "ExpressionAttributeNames": {**_NAMES, "#ttl": "ttl", **({"#result": "result"} if text else {})},
            "ExpressionAttributeValues": {**ddb.values(**vals), **condition_values},
        }
    }
    return transact([job_op, limits.release_op(creator_id)], optional=1) is None


def owned_condition(creator_id: str, agent_id: str) -> tuple[str, dict[str, Any]]:
    """Condition (and values) for "active and assigned to this agent of this creator"."""
    return _OWNED, _owned_values(creator_id, agent_id)
