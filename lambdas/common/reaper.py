"""The lease reaper: no job stays assigned forever.

Jobs whose lease ran out without a result are re-queued with the next attempt number; once
`MAX_ATTEMPTS` attempts have expired the job is failed with reason `lease_expired`. Every
write is conditional on the lease still being the expired one, so a result that arrives
meanwhile wins and nothing is counted twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lambdas.common import breaker, ddb
from lambdas.common.job_updates import close, is_counted
from lambdas.common.jobs import ACTIVE, jobs_table
from lambdas.common.requeue import requeue

REASON = "lease_expired"
_EXPIRED = "#status IN (:assigned, :running) AND attempt = :attempt AND leaseExpiresAt < :cutoff"


@dataclass
class ReapCounts:
    requeued: int = 0
    failed: int = 0
    skipped: int = 0


def expired_jobs(now: int, limit: int) -> list[dict[str, Any]]:
    """Up to `limit` jobs whose lease expired before `now` (GSI ByLease, oldest first)."""
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {
        "TableName": jobs_table(),
        "IndexName": "ByLease",
        "KeyConditionExpression": "leaseState = :active AND leaseExpiresAt < :now",
        "ExpressionAttributeValues": ddb.values(active=ACTIVE, now=now),
        "Limit": limit,
    }
    while len(items) < limit:
        resp = ddb.dynamodb().query(**kwargs)
        items.extend(ddb.from_item(i) for i in resp.get("Items", []))  # type: ignore[misc]
        if "LastEvaluatedKey" not in resp:
            break
        kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]
    return items[:limit]


def reap(*, now: int, max_attempts: int, limit: int = 500) -> ReapCounts:
    """Re-queue or fail every expired lease found (at most `limit` per run)."""
    counts = ReapCounts()
    for item in expired_jobs(now, limit):
        attempt = int(item.get("attempt", 1))
        values = ddb.values(assigned="assigned", running="running", attempt=attempt, cutoff=now)
        if attempt >= max_attempts:
            done = close(
                item["jobId"],
                item["creatorId"],
                status="failed",
                reason=REASON,
                now=now,
                condition=_EXPIRED,
                condition_values=values,
                counted=is_counted(item),
            )
            counts.failed += done
        else:
            done = requeue(
                item,
                next_attempt=attempt + 1,
                now=now,
                reason=REASON,
                condition=_EXPIRED,
                condition_values=values,
            )
            counts.requeued += done
        counts.skipped += not done
        if done:
            breaker.record(item["creatorId"], item["jobId"], ok=False, now=now)  # circuit breaker: outcome
    return counts
