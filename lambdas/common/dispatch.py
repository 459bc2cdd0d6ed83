"""The dispatcher's decision for one job message.

Order matters: the job is assigned (conditional write; for a creator with limits, with the
CreatorLimits counters in one transaction) *before* it is pushed. A crash after the write and
before the push leaves an assigned job with a lease, which the reaper re-queues; pushing first
could deliver twice. A failed push undoes the assignment (refunding the counters) before the
item is retried or held.

API Gateway answers 410 both for a closed connection and for one whose `$connect` has not
returned yet. Only a connection older than CONNECT_GRACE_SECONDS is taken for stale and
dropped; a younger one is kept and the job retried, so a reconnect is never undone by it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from lambdas.common import aws, breaker, connections, ddb, jobs, limits, lookups
from lambdas.common.clock import day_of
from lambdas.common.job_message import BadJob, JobMessage, parse_job_message
from lambdas.common.limits import Refusal
from lambdas.common.protocol import encode
from lambdas.common.reserved import is_probe
from lambdas.common.settings import settings


@dataclass(frozen=True)
class Outcome:
    """A record handled without retry: delivered, held, skipped (duplicate) or dead-lettered."""

    kind: str
    job_id: str
    reason: str | None = None
    status: int | None = None


class ItemFailure(Exception):
    """The record must be retried by SQS (reported in batchItemFailures)."""

    def __init__(self, job_id: str, reason: str, status: int) -> None:
        super().__init__(f"{reason} ({status})")
        self.job_id = job_id
        self.reason = reason
        self.status = status


def dispatch(body: str | None, *, now: int) -> Outcome:
    """Validate, check limits, assign exactly once and deliver one job message."""
    try:
        msg = parse_job_message(body)
    except BadJob as bad:
        return dead_letter(body, bad)
    try:
        return _dispatch(msg, now)
    except jobs.JobIdConflict:
        conflict = BadJob("job_id_conflict", 409, "the job id is another creator's or agent's", msg.job_id)
        return dead_letter(body, conflict)


def _dispatch(msg: JobMessage, now: int) -> Outcome:
    # The creator's own agent: another creator's agent of the same name is another agent.
    agent, creator_limits = lookups.agent_and_limits(msg.creator_id, msg.agent_id)
    if is_probe(msg.creator_id):
        creator_limits = None  # the black-box probe's jobs take no quota, concurrency or pause
    connection_id = (agent or {}).get("connectionId")
    if not connection_id:
        return _hold_or_retry(msg, Refusal("agent_offline", 404, holdable=True), now, only_if_offline=True)
    # The day the job counts against the creator's limits; None: no limits, no counters to move.
    day = day_of(now) if limits.has_limits(creator_limits) else None
    try:
        jobs.assign(
            msg,
            connection_id,
            now=now,
            lease_seconds=settings().lease_seconds,
            day=day,
            stale_days=limits.stale_days(creator_limits or {}, now=now),
        )
    except jobs.AlreadyAssigned:
        return Outcome("skipped", msg.job_id, "already_assigned", 409)
    except jobs.RequeueInFlight:
        raise ItemFailure(msg.job_id, "requeue_pending", 409) from None
    except jobs.LimitRefused as refused:
        return _hold_or_retry(msg, refused.refusal, now, only_if_offline=False)
    return _deliver(msg, connection_id, now, day, opening=_just_connected(agent or {}, now))


def dead_letter(body: str | None, bad: BadJob) -> Outcome:
    """Send a message that can never succeed to the DLQ with its reason, instead of 5 retries."""
    aws.client("sqs").send_message(
        QueueUrl=settings().dlq_url,
        MessageBody=body or "(empty)",
        MessageAttributes={"reason": {"DataType": "String", "StringValue": bad.reason}},
    )
    return Outcome("dead_lettered", bad.job_id, bad.reason, bad.status)


def _hold_or_retry(msg: JobMessage, refusal: Refusal, now: int, *, only_if_offline: bool) -> Outcome:
    # Critical jobs are never parked: they retry (and reach the DLQ and its alarm if it lasts).
    if (msg.critical and not refusal.hold_critical) or not refusal.holdable:
        raise ItemFailure(msg.job_id, refusal.reason, refusal.status)
    try:
        jobs.hold(msg, now=now, reason=refusal.reason, only_if_offline=only_if_offline)
    except jobs.AlreadyAssigned:
        return Outcome("skipped", msg.job_id, "already_assigned", 409)
    except jobs.RequeueInFlight:
        raise ItemFailure(msg.job_id, "requeue_pending", 409) from None
    except jobs.AgentOnline:
        raise ItemFailure(msg.job_id, refusal.reason, refusal.status) from None  # connected meanwhile
    return Outcome("held", msg.job_id, refusal.reason, refusal.status)


def _just_connected(agent: dict[str, Any], now: int) -> bool:
    """True while the agent's connection is inside the grace after `$connect` (maybe not open yet)."""
    connected_at = agent.get("connectedAt")
    # No connectedAt (an item older than the field): today's stale handling.
    return connected_at is not None and now - int(connected_at) < settings().connect_grace_seconds


def _deliver(msg: JobMessage, connection_id: str, now: int, day: str | None, *, opening: bool) -> Outcome:
    frame = encode(msg.assign_frame(settings().lease_seconds))
    try:
        aws.client("apigatewaymanagementapi").post_to_connection(ConnectionId=connection_id, Data=frame)
    except ClientError as err:
        code = ddb.error_code(err)
        if code == "GoneException":
            return _gone(msg, connection_id, now, day, opening=opening)
        _undo(msg, connection_id, now, day)
        if code in ddb.THROTTLE_CODES:
            raise ItemFailure(msg.job_id, "throttled", 429) from None
        raise ItemFailure(msg.job_id, "delivery_error", 502) from None
    except BotoCoreError:
        _undo(msg, connection_id, now, day)
        raise ItemFailure(msg.job_id, "delivery_error", 502) from None
    return Outcome("delivered", msg.job_id)


def _gone(msg: JobMessage, connection_id: str, now: int, day: str | None, *, opening: bool) -> Outcome:
    """410: drop the stale connection (only it), then hold or retry the job.

    A connection that is still `opening` (inside the grace) is neither dropped nor given up
    on: holding the job would park it until the agent's next reconnect.
    """
    if opening:
        _undo(msg, connection_id, now, day)
        raise ItemFailure(msg.job_id, "delivery_410", 410)
    connections.drop(msg.creator_id, msg.agent_id, connection_id, now)
    breaker.record(msg.creator_id, msg.job_id, ok=False, now=now)  # circuit breaker: a failed delivery
    if not msg.critical:
        try:
            jobs.unassign(msg, connection_id, now=now, day=day, hold_reason="delivery_410")
            return Outcome("held", msg.job_id, "delivery_410", 410)
        except jobs.AgentOnline:
            pass  # a quick reconnect: retry so the job reaches the new connection
        except jobs.StateChanged:
            return Outcome("skipped", msg.job_id, "already_assigned", 409)
    _undo(msg, connection_id, now, day)
    raise ItemFailure(msg.job_id, "delivery_410", 410)


def _undo(msg: JobMessage, connection_id: str, now: int, day: str | None) -> None:
    try:
        jobs.unassign(msg, connection_id, now=now, day=day, hold_reason=None)
    except (jobs.StateChanged, ClientError, BotoCoreError):
        # The assignment stays; its lease expires and the reaper re-queues the job.
        pass
