"""JobsTable transitions of the dispatcher: assign, hold, and undo an undelivered assignment.

Every transition is one conditional write. For a creator with limits, assignment and the
CreatorLimits counters move in one TransactWriteItems, so a job is assigned (and counted)
exactly once however often SQS delivers its message; for the others the job write alone is.
A job may be assigned when it is new, or `queued`/`held` for the same attempt number as the
message (older duplicates of a re-queued job are skipped).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from lambdas.common import connections, ddb, limits, tables
from lambdas.common.job_message import JobMessage
from lambdas.common.settings import settings

ACTIVE = "active"
# `limitsDay` of an active job whose assignment moved no counter. A job without the attribute
# was assigned by an earlier release, which counted every job: it is released like a counted one.
UNCOUNTED = "-"
# An existing item is only ever this job again: the same creator's same agent. A message that
# reuses another creator's (or agent's) job id must neither overwrite that job nor be dropped as
# its duplicate (JobIdConflict): creators are tenants.
_ASSIGNABLE = (
    "attribute_not_exists(jobId) OR (creatorId = :creator AND agentId = :agent"
    " AND #status IN (:queued, :held) AND attempt = :attempt)"
)
_STATUS = {"#status": "status"}


class AlreadyAssigned(Exception):
    """The job was assigned (or finished) by an earlier delivery."""


class JobIdConflict(Exception):
    """The job id is already another creator's (or another agent's) job: a producer bug to
    dead-letter, never a duplicate of that job and never a write over it."""


class RequeueInFlight(Exception):
    """The message is a newer attempt than the stored job: its re-queue write has not landed yet.

    Re-queues send the new message before they update the item (so a crash never strands a
    job without a message); a dispatcher that sees that message first must retry it, not skip it.
    """


class LimitRefused(Exception):
    """CreatorLimits refused the job."""

    def __init__(self, refusal: limits.Refusal) -> None:
        super().__init__(refusal.reason)
        self.refusal = refusal


class AgentOnline(Exception):
    """The agent has a (new) connection, so the job must not be held."""


class StateChanged(Exception):
    """The job is no longer in the state this transition expects."""


def jobs_table() -> str:
    """Name of the JobsTable."""
    return settings().jobs_table


def job_key(job_id: str) -> dict[str, Any]:
    """Key of a job item."""
    return tables.key(tables.JOBS, job_id)


def transact(ops: list[dict[str, Any]], *, optional: int | None = None) -> list[dict[str, Any]] | None:
    """Run a transaction; return None on success, the cancellation reasons on a failed condition.

    When only op `optional` (a counter release) failed its condition, the transaction is run
    again without it: a counter already at zero must not block a job's transition.
    """
    try:
        ddb.dynamodb().transact_write_items(TransactItems=ops)
        return None
    except ddb.ClientError as err:
        reasons = ddb.cancellation_reasons(err)
        if reasons is None or not any(r.get("Code") == "ConditionalCheckFailed" for r in reasons):
            raise
    failed = [i for i, r in enumerate(reasons) if r.get("Code") == "ConditionalCheckFailed"]
    if optional is not None and failed == [optional]:
        return transact([op for i, op in enumerate(ops) if i != optional])
    return reasons


def _message_fields(msg: JobMessage, now: int) -> tuple[str, dict[str, Any]]:
    expression = (
        "agentId = :agent, creatorId = :creator, kind = :kind, payload = :payload, critical = :critical,"
        " attempt = :attempt, traceId = :trace, updatedAt = :now, createdAt = if_not_exists(createdAt, :now)"
    )
    vals = {
        "agent": msg.agent_id,
        "creator": msg.creator_id,
        "kind": msg.kind,
        "payload": json.dumps(msg.payload, separators=(",", ":")),
        "critical": msg.critical,
        "attempt": msg.attempt,
        "trace": msg.correlation_id,
        "now": now,
        "queued": "queued",
        "held": "held",
    }
    return expression, vals


def assign(
    msg: JobMessage,
    connection_id: str,
    *,
    now: int,
    lease_seconds: int,
    day: str | None,
    stale_days: Sequence[str] = (),
) -> None:
    """Assign the job to the agent's connection; with a `day`, count it against the creator's limits.

    `day` is given only for a creator with limits (limits.has_limits): the job write and the
    counters then move in one transaction and the job records `limitsDay = day`. Without it the
    assignment is one conditional write recording `limitsDay = UNCOUNTED` (a transaction costs
    twice the write units per item).
    """
    fields, vals = _message_fields(msg, now)
    vals.update(assigned="assigned", conn=connection_id, active=ACTIVE, lease=now + lease_seconds)
    expression = (
        f"SET #status = :assigned, {fields}, connectionId = :conn,"
        " leaseState = :active, leaseExpiresAt = :lease"
    )
    expression += ", limitsDay = :day REMOVE heldAgentId, reason"
    vals["day"] = day or UNCOUNTED
    update = {
        "TableName": jobs_table(),
        "Key": job_key(msg.job_id),
        "UpdateExpression": expression,
        "ConditionExpression": _ASSIGNABLE,
        "ExpressionAttributeNames": _STATUS,
        "ExpressionAttributeValues": ddb.values(**vals),
    }
    if not day:
        written, old = ddb.update_or_old(**update)
        if not written:
            raise _not_assignable(msg, old)
        return
    job_op = {"Update": {**update, "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}}
    reasons = transact([job_op, limits.admit_op(msg.creator_id, day, msg.job_id, msg.kind, stale_days)])
    if reasons is None:
        return
    if ddb.failed_condition(reasons, 0):
        raise _not_assignable(msg, ddb.from_item(reasons[0].get("Item")))
    raise LimitRefused(limits.refusal(ddb.from_item(reasons[1].get("Item")), day, msg.kind))


def _not_assignable(msg: JobMessage, old: dict[str, Any] | None) -> Exception:
    """Why the condition failed (`old`: the item then): a duplicate (skip), a re-queue landing
    (retry) or another job under the same id (JobIdConflict)."""
    old = old or {}
    if old and (old.get("creatorId"), old.get("agentId")) != (msg.creator_id, msg.agent_id):
        return JobIdConflict(msg.job_id)
    if old.get("status") in ("assigned", "running") and int(old.get("attempt", 0)) < msg.attempt:
        return RequeueInFlight(msg.job_id)
    return AlreadyAssigned(msg.job_id)


def hold(msg: JobMessage, *, now: int, reason: str, only_if_offline: bool) -> None:
    """Park a job for its agent (released on connect); AgentOnline if it just reconnected."""
    fields, vals = _message_fields(msg, now)
    vals.update(reason=reason, heldfor=tables.agent_ref(msg.creator_id, msg.agent_id))
    ops = [
        {
            "Update": {
                "TableName": jobs_table(),
                "Key": job_key(msg.job_id),
                "UpdateExpression": f"SET #status = :held, heldAgentId = :heldfor, reason = :reason, {fields}"
                " REMOVE leaseState, leaseExpiresAt, connectionId",
                "ConditionExpression": _ASSIGNABLE,
                "ExpressionAttributeNames": _STATUS,
                "ExpressionAttributeValues": ddb.values(**vals),
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        }
    ]
    if only_if_offline:
        ops.append(connections.offline_check_op(msg.creator_id, msg.agent_id))
    reasons = transact(ops)
    if reasons is None:
        return
    if ddb.failed_condition(reasons, 0):
        raise _not_assignable(msg, ddb.from_item(reasons[0].get("Item")))
    raise AgentOnline(msg.agent_id)


def unassign(
    msg: JobMessage, connection_id: str, *, now: int, day: str | None, hold_reason: str | None
) -> None:
    """Undo an assignment whose delivery failed: back to `held` (hold_reason set) or `queued`.

    With the `day` the assignment was counted on, refunds the creator's in-flight and quota
    counters in the same transaction. Holding also requires the agent to have no connection
    other than the stale one: AgentOnline. Neither: one conditional write.
    """
    target = "held" if hold_reason else "queued"
    vals: dict[str, Any] = {
        "assigned": "assigned",
        "conn": connection_id,
        "attempt": msg.attempt,
        "target": target,
        "now": now,
    }
    expression = "SET #status = :target, updatedAt = :now"
    if hold_reason:
        expression += ", heldAgentId = :heldfor, reason = :reason"
        vals.update(heldfor=tables.agent_ref(msg.creator_id, msg.agent_id), reason=hold_reason)
    update = {
        "TableName": jobs_table(),
        "Key": job_key(msg.job_id),
        "UpdateExpression": expression + " REMOVE leaseState, leaseExpiresAt, connectionId, limitsDay",
        "ConditionExpression": "#status = :assigned AND connectionId = :conn AND attempt = :attempt",
        "ExpressionAttributeNames": _STATUS,
        "ExpressionAttributeValues": ddb.values(**vals),
    }
    if not day and not hold_reason:
        if not ddb.update_if(**update):
            raise StateChanged(msg.job_id)
        return
    ops: list[dict[str, Any]] = [{"Update": update}]
    if day:
        ops.append(limits.release_op(msg.creator_id, refund_day=day))
    if hold_reason:
        ops.append(connections.offline_check_op(msg.creator_id, msg.agent_id, connection_id))
    reasons = transact(ops, optional=1 if day else None)
    if reasons is None:
        return
    if ddb.failed_condition(reasons, 0):
        raise StateChanged(msg.job_id)
    raise AgentOnline(msg.agent_id)
