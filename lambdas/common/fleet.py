"""Fleet signals for the SLIs, read from the creator watch's snapshot (lambdas/common/watch.py).

- connected agents: agents with a connection now, a gauge published every minute (alarm
  FleetDisconnected compares it with ten minutes earlier, so it works for a fleet of ten); the
  count is kept exact by ws-connect and `$disconnect` (connections.connected_count).
- `overdue` + `count_waiting`: jobs held for an absent agent past the assign deadline, each
  counted once as a late time-to-assign event *while it waits* (not only at its late delivery).

A job waits by its owner's choice, and is not counted, when its agent said goodbye (closed with
connections.GOODBYE_CLOSE_CODE, or was revoked), when the agent never connected (nothing says it
runs at all), or when it is held by the creator's limits (paused, quota). A job whose agent
dropped abruptly, or tries to connect and fails (its `$connect` cannot register it), counts.

Cost: no read of its own (the watch already reads the sparse `ByHeldAgent` index and the agents
its jobs wait for); one conditional UpdateItem per overdue job, once in the job's life (`waitCountedAt`),
so a minute with nothing newly overdue writes nothing.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from lambdas.common import ddb
from lambdas.common.jobs import job_key, jobs_table
from lambdas.common.reserved import is_probe

# Hold reasons that mean "the agent is not there" (lambdas/common/dispatch.py); `creator_paused`
# and `limit_exceeded` are the creator's limits at work, not lateness of ours.
ABSENCE_REASONS = frozenset({"agent_offline", "delivery_410"})


def overdue(
    agents: dict[str, list[dict[str, Any]]],
    held: dict[str, list[dict[str, Any]]],
    *,
    now: int,
    deadline_s: int,
) -> list[dict[str, Any]]:
    """Held jobs, not counted yet, that waited over `deadline_s` since they were queued for an
    agent that is absent not by its owner's choice (see the module docstring)."""
    known = {(a["creatorId"], a["agentId"]): a for items in agents.values() for a in items}
    found = []
    for creator, jobs in held.items():
        if is_probe(creator):  # probe jobs stay out of every SLI (lambdas/common/reserved.py)
            continue
        for job in jobs:
            agent = known.get((creator, job.get("agentId")))
            if agent is None or "goodbyeAt" in agent or "waitCountedAt" in job:
                continue
            if job.get("reason") in ABSENCE_REASONS and now - int(job.get("createdAt", now)) > deadline_s:
                found.append(job)
    return found


def count_waiting(jobs: list[dict[str, Any]], *, now: int) -> int:
    """Mark each job counted (a conditional write: once per job, still held); how many were.

    A write AWS refuses leaves its job uncounted: the next run counts it.
    """
    counted = 0
    for job in jobs:
        try:
            counted += ddb.update_if(
                TableName=jobs_table(),
                Key=job_key(job["jobId"]),
                UpdateExpression="SET waitCountedAt = :now",
                ConditionExpression="#status = :held AND attribute_not_exists(waitCountedAt)",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=ddb.values(now=now, held="held"),
            )
        except (ClientError, BotoCoreError):
            continue
    return counted
