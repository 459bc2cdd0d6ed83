"""The lease reaper: no job stays assigned forever.

Jobs whose lease ran out without a result are re-queued with the next attempt number; once
`MAX_ATTEMPTS` attempts have expired the job is failed with reason `lease_expired`. Every
write is conditional on the lease still being the expired one, so a result that arrives
meanwhile wins and nothing is counted twice.

A run takes expired leases in pages of `PAGE` (oldest first) and keeps going while the
invocation has more than `MARGIN_S` left, so a mass expiry (a fleet-wide disconnect leaves
every job in flight leased to a dead connection) is worked off in one run, not 500 a minute.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lambdas.common import breaker, ddb, tables
from lambdas.common.job_updates import close, is_counted
from lambdas.common.jobs import ACTIVE, jobs_table
from lambdas.common.requeue import requeue

REASON = "lease_expired"
_EXPIRED = "#status IN (:assigned, :running) AND attempt = :attempt AND leaseExpiresAt < :cutoff"
PAGE = 500
MARGIN_S = 10.0  # stop taking pages with less than this left (a page takes a few seconds)


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
        "IndexName": tables.BY_LEASE.name,
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


def reap(
    *, now: int, max_attempts: int, time_left: Callable[[], float] | None = None, limit: int = PAGE
) -> ReapCounts:
    """Re-queue or fail expired leases, a page of `limit` at a time while `time_left()` (seconds)
    exceeds MARGIN_S; without `time_left`, one page. Stops early when a page changes nothing
    (what is left expired is being settled by a result or a heartbeat meanwhile)."""
    counts = ReapCounts()
    while True:
        settled = counts.requeued + counts.failed
        page = _reap_page(now, max_attempts, limit, counts)
        progressed = counts.requeued + counts.failed > settled
        if page < limit or not progressed or time_left is None or time_left() <= MARGIN_S:
            return counts


def _reap_page(now: int, max_attempts: int, limit: int, counts: ReapCounts) -> int:
    """Settle one page of expired leases into `counts`; how many leases the page held."""
    items = expired_jobs(now, limit)
    for item in items:
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
    return len(items)
