"""What ws-message does for each agent action, on behalf of the connection's verified identity.

The caller's agent and creator come from the connection item written at `$connect` from the
token; a frame can never name another agent or creator.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lambdas.common import (
    agent_files,
    breaker,
    connections,
    ddb,
    job_updates,
    limits,
    metrics,
    protocol,
    ratelimit,
    tables,
)
from lambdas.common.jobs import jobs_table
from lambdas.common.log_upload import log_upload_form
from lambdas.common.metrics import Counters
from lambdas.common.protocol import BOOL, LIST, LOG_LINE, TEXT, FrameError, Schema, ack_frame
from lambdas.common.requeue import requeue
from lambdas.common.reserved import is_probe
from lambdas.common.settings import settings


@dataclass(frozen=True)
class Caller:
    agent_id: str
    creator_id: str
    connection_id: str
    connection_ttl: int = 0  # the connection item's `ttl` as read for this frame (0: unknown)


def _not_assigned(job_id: str) -> FrameError:
    message = f"job {job_id} is not assigned to this agent or already has a result"
    return FrameError("job_not_assigned", message)


def heartbeat(caller: Caller, fields: dict[str, Any], now: int, counters: Counters) -> dict[str, Any]:
    """Last seen + connection TTL; extends the leases of the listed jobs where due. Never touches a pause.

    The answer says which leases were written (`extendedJobs`) and which were due but over the
    frame's bound (`deferredJobs`: the agent lists them again at once); the others were fresh or
    are not the agent's. When the frame lists `results` (results sent with `"ack": false` and not
    yet seen confirmed), `recordedJobs` names those this agent's result closed: read in the same
    BatchGetItem as the leases, nothing written.
    """
    connections.touch(
        caller.creator_id,
        caller.agent_id,
        caller.connection_id,
        now,
        fields.get("version"),
        caller.connection_ttl,
    )
    leases = job_updates.extend_leases(
        fields.get("jobs", []),
        caller.creator_id,
        caller.agent_id,
        now=now,
        lease_seconds=settings().lease_seconds,
        results=fields.get("results"),
    )
    counters.add(metrics.BYOIP, metrics.AGENT_HEARTBEATS)
    confirmations = {"recordedJobs": leases.recorded} if "results" in fields else {}
    return ack_frame(
        "heartbeat",
        leasesExtended=len(leases.extended),
        extendedJobs=leases.extended,
        deferredJobs=leases.deferred,
        **confirmations,
    )


def job_ack(caller: Caller, fields: dict[str, Any], now: int, counters: Counters) -> dict[str, Any] | None:
    """An older agent's acknowledgement (running, lease extended); no answer, as no agent acts on one.

    Current agents acknowledge by listing the job in their next heartbeat instead. An ack of
    the agent's own job that already has its result (frames are not ordered) is a quiet no-op;
    only an ack of a job that is not the agent's is answered, with `job_not_assigned`.
    """
    job_id = fields["jobId"]
    outcome = job_updates.ack(
        job_id, caller.creator_id, caller.agent_id, now=now, lease_seconds=settings().lease_seconds
    )
    if outcome == "not_assigned":
        raise _not_assigned(job_id)
    return None


def job_result(caller: Caller, fields: dict[str, Any], now: int, counters: Counters) -> dict[str, Any] | None:
    """Close the agent's job once; a retryable failure re-queues it until MAX_ATTEMPTS.

    A result sent with `"ack": false` (current agents) gets no answer when it is recorded (closed,
    or a resend of a result already recorded): the agent learns it from a heartbeat's
    `recordedJobs`. A re-queue is still answered (`requeued: true`: the agent must not resend
    it), and so is every refusal (an error frame). Without the field (older agents) every result
    is answered, as before.
    """
    answered = fields.get("ack") is not False
    job_id, status, reason = fields["jobId"], fields["status"], fields.get("reason")
    if status == "failed" and not reason:
        reason = "agent_failed"  # a failed job always says why (tests/simulation)
    condition, values = job_updates.owned_condition(caller.creator_id, caller.agent_id)
    if status == "failed" and fields.get("retryable"):
        item = ddb.get(jobs_table(), tables.JOBS.key.name, job_id)
        attempt = int((item or {}).get("attempt", 1))
        if item and attempt < settings().max_attempts:
            mine = (item.get("creatorId"), item.get("agentId")) == (caller.creator_id, caller.agent_id)
            owned = mine and item.get("status") in ("assigned", "running")
            requeued = owned and requeue(
                item,
                next_attempt=attempt + 1,
                now=now,
                reason=reason or "agent_failed",
                condition=condition + " AND attempt = :attempt",
                condition_values={**values, **ddb.values(attempt=attempt)},
            )
            if not requeued:
                raise _not_assigned(job_id)
            breaker.record(caller.creator_id, job_id, ok=False, now=now)  # circuit breaker: outcome
            return _result_answer(job_id, status, reason, requeued=True)
    closed = job_updates.close(
        job_id,
        caller.creator_id,
        status=status,
        reason=reason,
        now=now,
        condition=condition,
        condition_values=values,
        result=fields.get("result"),
    )
    if not closed:
        if _recorded_before(job_id, caller, status):
            # A resend of a result whose answer the agent did not get: confirmed again, nothing counted.
            return _recorded("job.result", answered, jobId=job_id, requeued=False, duplicate=True)
        raise _not_assigned(job_id)
    breaker.record(caller.creator_id, job_id, ok=status == "completed", now=now)  # circuit breaker: outcome
    if not is_probe(caller.creator_id):  # the black-box probe measures itself (ProbeSuccess), not the SLIs
        counters.add(metrics.BYOIP, metrics.JOBS_COMPLETED if status == "completed" else metrics.JOBS_FAILED)
        if status != "completed":
            counters.add(metrics.BYOIP, metrics.JOBS_FAILED_AFTER_ASSIGN)  # the job-success SLI's bad event
    return _result_answer(job_id, status, reason, requeued=False, answered=answered)


def _recorded(action: str, answered: bool, **extra: Any) -> dict[str, Any] | None:
    """The answer to a recorded result: none when the agent asked for none (`"ack": false`)."""
    return ack_frame(action, **extra) if answered else None


def _result_answer(
    job_id: str, status: str, reason: str | None, *, requeued: bool, answered: bool = True
) -> dict[str, Any] | None:
    """The answer to a result the backend accepted (`_recorded`); a failed one also logs
    `job_result_failed` with the caller's creatorId, even when nothing is sent.

    One line per failed result accepted (re-queued or final, not a resend): the per-creator view of
    failed results (monitoring/insights.py) counts these lines.
    """
    answer = _recorded("job.result", answered, jobId=job_id, requeued=requeued) or {}
    if status == "failed":
        flag = str(requeued).lower()
        answer[LOG_LINE] = f"job_result_failed jobId={job_id} requeued={flag} reason={reason}"
    return answer or None


def _recorded_before(job_id: str, caller: Caller, status: str) -> bool:
    """Whether this agent's job already ended with this status (one read, only when a close failed)."""
    item = ddb.get(jobs_table(), tables.JOBS.key.name, job_id) or {}
    mine = (item.get("creatorId"), item.get("agentId")) == (caller.creator_id, caller.agent_id)
    return mine and item.get("status") == status


def agent_pause(caller: Caller, fields: dict[str, Any], now: int, counters: Counters) -> dict[str, Any]:
    """The agent's own circuit breaker: pause its creator (only an operator resumes)."""
    reason = fields.get("reason") or "agent circuit breaker"
    changed = limits.pause(caller.creator_id, by=f"agent:{caller.agent_id}", reason=reason, now=now)
    return ack_frame("agent.pause", paused=True, alreadyPaused=not changed)


def logs_upload(caller: Caller, fields: dict[str, Any], now: int, counters: Counters) -> dict[str, Any]:
    """Presigned POST form under the caller's own prefix (size, type and SSE-KMS bound), within budget."""
    ratelimit.charge(ratelimit.LOG_UPLOADS, caller.creator_id, caller.agent_id, now)
    return log_upload_form(caller.agent_id, caller.creator_id, now)


def patch_check(caller: Caller, fields: dict[str, Any], now: int, counters: Counters) -> dict[str, Any]:
    """Latest patch version and a presigned GET, within the patch-check budget."""
    ratelimit.charge(ratelimit.PATCH_CHECKS, caller.creator_id, caller.agent_id, now)
    return agent_files.patch_check(fields.get("version"))


def patch_rejected(caller: Caller, fields: dict[str, Any], now: int, counters: Counters) -> dict[str, Any]:
    """The agent refused a patch (bad signature, hash or size): logged, counted, acknowledged."""
    reason, version = fields["reason"], fields["version"]
    counters.add(metrics.BYOIP, metrics.PATCHES_REJECTED)
    line = f"patch_rejected reason={reason} version={version} agentId={caller.agent_id}"
    return {**ack_frame("patch.rejected", reason=reason, version=version), LOG_LINE: line}


# An action answers one frame, or None when no agent acts on an answer (nothing is sent).
Run = Callable[[Caller, dict[str, Any], int, Counters], dict[str, Any] | None]


@dataclass(frozen=True)
class Action:
    schema: Schema
    run: Run


# The one registry of agent actions: each name bound to its frame schema and its handler. A frame
# whose action is not here is refused as `unknown_action` before any handler could be missing.
ACTIONS: dict[str, Action] = {
    "heartbeat": Action(
        Schema(
            {"version": (TEXT, False), "jobs": (LIST, False), "results": (LIST, False)},
            protocol.check_heartbeat,
        ),
        heartbeat,
    ),
    "job.ack": Action(Schema({"jobId": (TEXT, True)}), job_ack),
    "job.result": Action(
        Schema(
            {
                "jobId": (TEXT, True),
                "status": (TEXT, True),
                "reason": (TEXT, False),
                "retryable": (BOOL, False),
                "ack": (BOOL, False),  # false: no answer once recorded (heartbeat `recordedJobs`)
                "traceId": (TEXT, False),  # the job.assign frame's correlation id, echoed (optional)
            },
            protocol.check_result,
        ),
        job_result,
    ),
    "agent.pause": Action(Schema({"reason": (TEXT, False)}), agent_pause),
    "logs.upload": Action(Schema({}), logs_upload),
    "patch.check": Action(Schema({"version": (TEXT, False)}), patch_check),
    "patch.rejected": Action(
        Schema({"version": (TEXT, True), "reason": (TEXT, True)}, protocol.check_patch_rejected),
        patch_rejected,
    ),
}
SCHEMAS: dict[str, Schema] = {name: action.schema for name, action in ACTIONS.items()}


def parse_agent_frame(body: str | None, *, is_base64: bool = False) -> protocol.AgentRequest:
    """Validate one agent frame against the registry (protocol.parse_frame)."""
    return protocol.parse_frame(SCHEMAS, body, is_base64=is_base64)
