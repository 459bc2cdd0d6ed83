"""Progress: why a job may end other than completed, from what the schedule did to it.

Once the faults stop, a job of a healthy agent that never reported a failure must end completed.
A job is excused (may end failed, or parked in the quarantine) only for a reason the schedule
itself gave it, recorded as it happened — never for what the system says (a stored reason):
- its agent reported a failure (`job.result` failed, whatever the answer);
- a fault changed an invocation that named it (its message in the batch, its id in the frame)
  or touched it (its item, a message or a push for it);
- a delivery of its message found its agent not connected, or its creator paused (by an
  operator, the creator's breaker or an agent's own) or under limits (concurrency, daily quota);
- a delivery of its message came after a fault broke the backend's record of its agent's
  connection while the agent kept it: a `$connect` that failed after registering (its new
  connection never opened), or a 410 fault on the open connection (the dispatcher dropped it);
  until the agent connects again it looks offline (a real agent would reconnect at once; the
  schedule's does not);
- its lease lapsed (the clock moved past it while the job was assigned or running).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from tests.lambdas.helpers import ENV

ACTIVE = ("assigned", "running")
REPORTED_FAILURE = "its agent reported a failure"
LEASE_LAPSED = "its lease lapsed"


def job_id_of(body: Any) -> str | None:
    """The jobId of a message body or frame (str, bytes or dict), if it names one."""
    try:
        data = json.loads(body) if isinstance(body, str | bytes) else body
    except ValueError:
        return None
    job_id = data.get("jobId") if isinstance(data, dict) else None
    return job_id if isinstance(job_id, str) else None


def call_jobs(op: str, params: dict[str, Any]) -> set[str]:
    """The jobs one AWS call touches: a jobs-table item, a job message, a push."""
    if op == "SendMessage":
        bodies: Iterable[Any] = [params.get("MessageBody")]
    elif op == "SendMessageBatch":
        bodies = [e.get("MessageBody") for e in params.get("Entries", [])]
    elif op == "PostToConnection":
        bodies = [params.get("Data")]
    else:
        writes = [next(iter(e.values())) for e in params.get("TransactItems", [])] or [params]
        bodies = [
            {"jobId": (w.get("Key") or w.get("Item") or {}).get("jobId", {}).get("S")}
            for w in writes
            if w.get("TableName") == ENV["JOBS_TABLE"]
        ]
    return {j for j in map(job_id_of, bodies) if j}


def event_jobs(event: dict[str, Any]) -> set[str]:
    """The jobs an invocation's event names: an SQS batch's messages, a frame's jobId or jobs."""
    if "Records" in event:
        return {j for j in (job_id_of(r["body"]) for r in event["Records"]) if j}
    try:
        frame = json.loads(event.get("body") or "{}")
    except ValueError:
        return set()
    if not isinstance(frame, dict):
        return set()
    listed = frame.get("jobs") if isinstance(frame.get("jobs"), list) else []
    return {j for j in (frame.get("jobId"), *listed) if isinstance(j, str)}


CONNECT_BROKEN = "a delivery came after a fault broke the backend's record of its agent's connection"


def refused_delivery(
    world: Any, job: tuple[str, str, bool], connection: str | None, *, connect_broken: bool = False
) -> list[str]:
    """Why a delivery of this job cannot reach its agent now (the simulation's own view).

    `connect_broken`: a fault broke the backend's record of the agent's connection (gateway.py:
    broken_links) while the agent still talks on it: it looks offline until it connects again.
    """
    creator, _, _ = job
    why = []
    if not connection or connection not in world.gateway.open:
        why.append("a delivery found its agent not connected")
    if connect_broken:
        why.append(CONNECT_BROKEN)
    limits = world.limits(creator)
    if limits.get("paused"):
        why.append("a delivery found its creator paused")
    if limits.get("maxConcurrent") is not None or limits.get("dailyQuota") is not None:
        why.append("a delivery found its creator under limits")
    return why


def lapsed(items: Iterable[dict[str, Any]], now: int) -> set[str]:
    """Jobs assigned or running whose lease ran out."""
    return {
        i["jobId"] for i in items if i.get("status") in ACTIVE and int(i.get("leaseExpiresAt") or 0) <= now
    }


def unexplained_ends(
    world: Any, jobs: Iterable[str], items: dict[str, dict[str, Any]], parked: set[str]
) -> list[str]:
    """A job failed or parked with nothing in the schedule to explain it."""
    out = []
    for job_id in jobs:
        item = items.get(job_id) or {}
        if item.get("status") == "completed" or world.excuses.get(job_id):
            continue
        if item.get("status") == "failed":
            out.append(
                f"job {job_id} failed ({item.get('reason')}) though nothing in the schedule explains it:"
                " its agent was connected at every delivery, its creator neither paused nor limited,"
                " its lease never lapsed, it reported no failure and no fault touched it"
            )
        elif job_id in parked:
            out.append(f"job {job_id} parked in the quarantine though nothing in the schedule explains it")
    return out
