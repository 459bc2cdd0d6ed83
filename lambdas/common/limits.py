"""CreatorLimits: quota, concurrency, the pause flag (circuit breaker) and per-kind pauses.

An operator can pause one kind of a creator's jobs (`byoip creator pause C --kind K`): the item
then carries `pausedKind#<kind>` (a map: by, reason, at), and the admit condition refuses that
kind's jobs exactly like a paused creator's (`creator_paused`, 423, held), while its other kinds
run. Releases of held jobs (the creator watch, a reconnect) leave a paused kind's jobs held.

A missing item means no limits. The counters `inFlight` and `used#<day>` move only inside
the same transaction as the job transition that justifies them, so they never double-count.
They move only for creators whose item sets a limit or the pause (`has_limits`): such a job is
assigned in a transaction and records the day it was counted (`limitsDay` on the job item), and
exactly those jobs (and jobs of an earlier release, which lack the attribute) release their
slot. Other creators' jobs take one plain write and record `limitsDay = "-"` (jobs.UNCOUNTED).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from lambdas.common import ddb, tables
from lambdas.common.breaker import BREAKER_BY
from lambdas.common.clock import day_of
from lambdas.common.settings import settings

# Limits hold only when every clause holds; a missing attribute means "no such limit".
_ADMIT = (
    "(attribute_not_exists(paused) OR paused = :false OR breakerProbeJob = :job)"
    " AND (attribute_not_exists(maxConcurrent) OR attribute_not_exists(inFlight) OR inFlight < maxConcurrent)"
    " AND (attribute_not_exists(dailyQuota) OR attribute_not_exists(#used) OR #used < dailyQuota)"
    " AND attribute_not_exists(#kindpause)"
)
KIND_PAUSE_PREFIX = "pausedKind#"


def kind_pause_attr(kind: str) -> str:
    """The CreatorLimits attribute that pauses one kind of the creator's jobs."""
    return f"{KIND_PAUSE_PREFIX}{kind}"


def paused_kinds(limits: dict[str, Any] | None) -> frozenset[str]:
    """The kinds of the creator's jobs an operator paused (empty when none)."""
    return frozenset(
        key.removeprefix(KIND_PAUSE_PREFIX) for key in (limits or {}) if key.startswith(KIND_PAUSE_PREFIX)
    )


@dataclass(frozen=True)
class Refusal:
    """Why CreatorLimits refused a job; `holdable` means waiting for a release beats retrying."""

    reason: str
    status: int
    holdable: bool
    hold_critical: bool = False  # a circuit breaker holds every job: none is dead-lettered


def _table() -> str:
    return settings().creator_limits_table


def _key(creator_id: str) -> dict[str, Any]:
    return tables.key(tables.CREATOR_LIMITS, creator_id)


def admit_op(
    creator_id: str, day: str, job_id: str = "-", kind: str = "", stale: Sequence[str] = ()
) -> dict[str, Any]:
    """Transaction op: count one more job in flight and against today's quota, if allowed.

    `job_id` passes a circuit breaker's pause when it is the half-open breaker's probe (the
    default, `-`, is no job id: ids start with a letter or digit); a job of a paused `kind`
    never passes. `stale`: the item's counters of days before yesterday (`stale_days` of the item
    as read), removed by the same write at no extra call.
    """
    drop = {f"#s{i}": name for i, name in enumerate(stale) if name != f"{USED_PREFIX}{day}"}
    return {
        "Update": {
            "TableName": _table(),
            "Key": _key(creator_id),
            "UpdateExpression": "SET inFlight = if_not_exists(inFlight, :zero) + :one,"
            " #used = if_not_exists(#used, :zero) + :one" + (" REMOVE " + ", ".join(drop) if drop else ""),
            "ConditionExpression": _ADMIT,
            "ExpressionAttributeNames": {"#used": f"used#{day}", "#kindpause": kind_pause_attr(kind), **drop},
            "ExpressionAttributeValues": ddb.values(zero=0, one=1, false=False, job=job_id),
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
    }


def release_op(creator_id: str, *, refund_day: str | None = None) -> dict[str, Any]:
    """Transaction op: one job fewer in flight (and refund the quota of an undelivered job)."""
    expression = "SET inFlight = inFlight - :one"
    names: dict[str, str] = {}
    condition = "inFlight > :zero"
    if refund_day:
        expression += ", #used = #used - :one"
        names["#used"] = f"used#{refund_day}"
        condition += " AND #used > :zero"
    op: dict[str, Any] = {
        "TableName": _table(),
        "Key": _key(creator_id),
        "UpdateExpression": expression,
        "ConditionExpression": condition,
        "ExpressionAttributeValues": ddb.values(zero=0, one=1),
    }
    if names:
        op["ExpressionAttributeNames"] = names
    return {"Update": op}


def refusal(limits: dict[str, Any] | None, day: str, kind: str = "") -> Refusal:
    """Classify the CreatorLimits item that failed admit_op (for a job of `kind`)."""
    limits = limits or {}
    if limits.get("paused"):
        by_breaker = limits.get("pausedBy") == BREAKER_BY
        return Refusal("creator_paused", 423, holdable=True, hold_critical=by_breaker)
    if kind in paused_kinds(limits):
        return Refusal("creator_paused", 423, holdable=True)
    quota = limits.get("dailyQuota")
    if quota is not None and limits.get(f"used#{day}", 0) >= quota:
        return Refusal("limit_exceeded", 429, holdable=True)
    # At concurrency: in-flight jobs finish within a lease, so a retry soon succeeds.
    return Refusal("limit_exceeded", 429, holdable=False)


def has_limits(limits: dict[str, Any] | None) -> bool:
    """True when the creator's item sets a limit or a pause: only then must counters move with jobs.

    A creator without one (no item, or only counters and token revocations) is assigned with a
    plain conditional write; its jobs carry `limitsDay = "-"`, so nothing is ever released for them.
    """
    limits = limits or {}
    return (
        bool(limits.get("paused"))
        or "maxConcurrent" in limits
        or "dailyQuota" in limits
        or bool(paused_kinds(limits))
    )


# Daily counters older than yesterday are dropped: a refund only ever concerns the day an
# undelivered job was counted on (refunded in the same invocation, so today, or yesterday across
# midnight), and without it the item gains an attribute every day the creator works. The
# dispatcher drops them with the write that counts a job (admit_op), and the creator watch for
# each creator it visits (prune_days): an item never written again keeps at most the counters
# it had then.
USED_PREFIX = "used#"
PRUNE_AT_MOST = 50  # counters removed per write (a creator idle for years catches up in a few runs)


def stale_days(limits: dict[str, Any], *, now: int) -> list[str]:
    """The item's `used#<day>` counters for days before yesterday, oldest first (at most PRUNE_AT_MOST)."""
    yesterday = day_of(now - 86400)
    stale = sorted(k for k in limits if k.startswith(USED_PREFIX) and k[len(USED_PREFIX) :] < yesterday)
    return stale[:PRUNE_AT_MOST]


def prune_days(creator_id: str, limits: dict[str, Any], *, now: int) -> int:
    """Remove the stale daily counters of one creator's item (one write, none when nothing is stale)."""
    stale = stale_days(limits, now=now)
    if not stale:
        return 0
    names = {f"#d{i}": name for i, name in enumerate(stale)}
    written = ddb.update_if(
        TableName=_table(),
        Key=_key(creator_id),
        UpdateExpression="REMOVE " + ", ".join(names),
        ConditionExpression="attribute_exists(creatorId)",  # never re-create a deleted item
        ExpressionAttributeNames=names,
    )
    return len(stale) if written else 0


def get_limits(creator_id: str) -> dict[str, Any] | None:
    """The creator's limits item, or None (no limits)."""
    return ddb.get(_table(), "creatorId", creator_id)


def pause(creator_id: str, *, by: str, reason: str, now: int) -> bool:
    """Set the pause flag; False when already paused (the first pauser and reason are kept)."""
    return ddb.update_if(
        TableName=_table(),
        Key=_key(creator_id),
        UpdateExpression="SET paused = :true, pausedBy = :by, pauseReason = :reason, pausedAt = :now",
        ConditionExpression="attribute_not_exists(paused) OR paused = :false",
        ExpressionAttributeValues=ddb.values(true=True, false=False, by=by, reason=reason, now=now),
    )
