"""The automatic per-creator circuit breaker: the outcome window and the breaker's states.

Outcomes: every delivery of a creator's job ends once — completed (ok), or failed, 410 Gone,
or its lease expired (failure). The hooks record them on the creator's window item in
AgentsTable (`pk = "breaker#<creatorId>"`; ids never contain `#`, so it never meets an agent or
connection item); one creator's item holds only that creator's deliveries.
- A failure is one attribute `o:<jobId>:<time>`. Setting the same attribute twice writes the
  same value, so a call retried after it succeeded never counts twice.
- A success is written only while the item exists, i.e. while the creator has a failure in the
  window (one eventually consistent read decides; without a failure no verdict can trip, and
  the hot path of a healthy creator stays one read, no write). It goes to one of OK_SLOTS
  slots `o:k<n>` chosen by the job id, so the item stays under 1 KB (one write unit) however
  busy the creator is; a retry rewrites the same slot. "The last N deliveries" are therefore
  the last N since the creator's first failure in the window, with successes that share a slot
  counted once (the newest): an approximation that only ever errs by missing a success.
- Every write bumps `v`; the watch deletes the item once nothing in it is inside the window,
  on the condition that `v` is still what it read (a failure recorded meanwhile is kept).

States live on the CreatorLimits item, beside the pause flag they drive: closed (no
`breakerState`), `open` (paused by `circuit-breaker`), `half-open` (still paused, but the one
job `breakerProbeJob` is admitted). Every transition is one conditional write carrying a
fresh `breakerEpisode`/claim token and returning ALL_OLD on a failed condition: a write whose
success response was lost and whose retry then failed its condition is recognised by its own
token, so the caller still sees it as done and emits its event once. The breaker only ever
pauses an unpaused creator and only lifts its own pause: a pause by an operator or an agent
is never touched (the breaker stands down instead).
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from lambdas.common import ddb, tables
from lambdas.common.claims import claimed_update
from lambdas.common.reserved import is_probe
from lambdas.common.settings import int_setting, settings

BREAKER_BY = "circuit-breaker"
OPEN = "open"
HALF_OPEN = "half-open"
_PREFIX = "o:"
OK_SLOTS = 20  # success slots: the item stays < 1 KB (each slot ~16 B)
_TRANSITION_ATTRS = "pausedBy, pauseReason, pausedAt, breakerState, breakerOpenedAt, breakerProbeJob"
_TRANSITION_ATTRS += ", breakerProbeAttempt, breakerProbeAt"


@dataclass(frozen=True)
class BreakerPolicy:
    """When a creator's breaker opens and how long it stays open (env overrides each number)."""

    # 5 failures: one unlucky agent (a router reboot: a 410 and a lease or two) stays under it,
    # and a creator running a few jobs an hour never trips on a bad evening alone.
    min_failures: int = 5
    # 50 %: at least half of what it sent recently failed. Below that, retries and the lease
    # reaper deliver most jobs anyway; above it, retries mostly burn attempts and 410s.
    failure_pct: int = 50
    # The last 20 deliveries: one busy minute of a large creator, or a small one's campaign;
    # older outcomes say little about its agents now.
    last_deliveries: int = 20
    # 10 minutes: two lease lengths (300 s), so an expired lease and its retry fall in one
    # window, and short enough that a recovered creator is judged on its present.
    window_s: int = 600
    # 5 minutes open before one probe job: agents reconnect within a minute or two of a network
    # blip (the HeartbeatDip and StaleConnections alarms look at 5-minute periods too).
    cooldown_s: int = 300

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> BreakerPolicy:
        """BREAKER_MIN_FAILURES, BREAKER_FAILURE_PCT, BREAKER_LAST_DELIVERIES, BREAKER_WINDOW_SECONDS,
        BREAKER_COOLDOWN_SECONDS; a missing or bad value keeps the default."""
        d = cls()
        return cls(
            min_failures=int_setting(env.get("BREAKER_MIN_FAILURES"), d.min_failures),
            failure_pct=int_setting(env.get("BREAKER_FAILURE_PCT"), d.failure_pct, high=100),
            last_deliveries=int_setting(env.get("BREAKER_LAST_DELIVERIES"), d.last_deliveries),
            window_s=int_setting(env.get("BREAKER_WINDOW_SECONDS"), d.window_s),
            cooldown_s=int_setting(env.get("BREAKER_COOLDOWN_SECONDS"), d.cooldown_s),
        )


def policy() -> BreakerPolicy:
    """The policy of this function's environment."""
    return BreakerPolicy.from_env(os.environ)


def window_key(creator_id: str) -> dict[str, Any]:
    """Key of the creator's outcome window item (AgentsTable)."""
    return tables.key(tables.AGENTS, tables.breaker_pk(creator_id))


def record(creator_id: str, job_id: str, *, ok: bool, now: int) -> bool:
    """Record how one delivery ended; never raises (a lost outcome must not fail the job).

    False when nothing was written: a success of a creator with no failure in the window (see
    the module's docstring), or AWS refused the call.
    """
    if is_probe(creator_id):
        return False  # the black-box probe's deliveries are no creator's: they never trip a breaker
    try:
        if ok and not _watched(creator_id):
            return False
        slot = f"k{zlib.crc32(job_id.encode()) % OK_SLOTS}" if ok else f"{job_id}:{now}"
        ddb.dynamodb().update_item(
            TableName=settings().agents_table,
            Key=window_key(creator_id),
            # watchFor: the item is in the sparse ByWatch index while it exists, for the watch to judge
            UpdateExpression="SET #o = :v, creatorId = :c, watchFor = :w ADD v :one",
            ExpressionAttributeNames={"#o": f"{_PREFIX}{slot}"},
            ExpressionAttributeValues=ddb.values(
                v=f"{now} {'ok' if ok else 'fail'}", c=creator_id, w=tables.WATCH_WINDOW, one=1
            ),
        )
    except (ClientError, BotoCoreError):
        return False
    return True


def _watched(creator_id: str) -> bool:
    """Whether the creator's window item exists (it has had a failure inside the window)."""
    found = ddb.dynamodb().get_item(
        TableName=settings().agents_table, Key=window_key(creator_id), ProjectionExpression="pk"
    )
    return "Item" in found


def forget(creator_id: str, window_item: Mapping[str, Any]) -> bool:
    """Delete a window item with nothing left inside the window, unless written since it was read."""
    seen = window_item.get("v")
    guard: dict[str, Any] = {"ConditionExpression": "attribute_not_exists(v)"}
    if seen is not None:
        guard = {"ConditionExpression": "v = :v", "ExpressionAttributeValues": ddb.values(v=seen)}
    try:
        ddb.dynamodb().delete_item(TableName=settings().agents_table, Key=window_key(creator_id), **guard)
    except ClientError as err:
        if ddb.is_condition_failure(err):
            return False
        raise
    return True


def outcomes(window_item: Mapping[str, Any] | None) -> list[tuple[int, bool, str]]:
    """(time, ok, attribute) of every recorded outcome, newest first."""
    found = []
    for name, value in (window_item or {}).items():
        if not name.startswith(_PREFIX) or not isinstance(value, str):
            continue
        stamp, _, verdict = value.partition(" ")
        if stamp.isdigit():
            found.append((int(stamp), verdict == "ok", name))
    return sorted(found, reverse=True)


@dataclass(frozen=True)
class Verdict:
    failures: int
    deliveries: int
    tripped: bool


def judge(window_item: Mapping[str, Any] | None, pol: BreakerPolicy, *, now: int, since: int = 0) -> Verdict:
    """The last `last_deliveries` outcomes inside the window (and after `since`, the last reset)."""
    start = max(now - pol.window_s, since)
    recent = [ok for stamp, ok, _ in outcomes(window_item) if stamp > start][: pol.last_deliveries]
    failures = recent.count(False)
    tripped = failures >= pol.min_failures and failures * 100 >= pol.failure_pct * len(recent)
    return Verdict(failures, len(recent), tripped)


def stale_attributes(window_item: Mapping[str, Any] | None, pol: BreakerPolicy, *, now: int) -> list[str]:
    """Outcome attributes no verdict will read again: outside the window or beyond the last N."""
    kept = 0
    stale = []
    for stamp, _, name in outcomes(window_item):
        if stamp > now - pol.window_s and kept < pol.last_deliveries:
            kept += 1
        else:
            stale.append(name)
    return stale


def prune(creator_id: str, names: list[str], chunk: int = 50) -> None:
    """Remove stale outcome attributes (a missing one is no error)."""
    for start in range(0, len(names), chunk):
        part = names[start : start + chunk]
        ddb.dynamodb().update_item(
            TableName=settings().agents_table,
            Key=window_key(creator_id),
            UpdateExpression="REMOVE " + ", ".join(f"#a{i}" for i in range(len(part))),
            ExpressionAttributeNames={f"#a{i}": name for i, name in enumerate(part)},
        )


def _transition(creator_id: str, expression: str, condition: str, token: str, **vals: Any) -> bool:
    """One claimed conditional write on the creator's limits item (lambdas/common/claims.py)."""
    return claimed_update(
        settings().creator_limits_table,
        tables.key(tables.CREATOR_LIMITS, creator_id),
        claim="breakerClaim",
        token=token,
        expression=expression,
        condition=condition,
        **vals,
    )


def open_breaker(creator_id: str, *, token: str, now: int, reason: str) -> bool:
    """Pause an unpaused creator as `circuit-breaker`; False if anyone already paused it."""
    return _transition(
        creator_id,
        "SET paused = :true, pausedBy = :by, pauseReason = :reason, pausedAt = :now, breakerState = :open,"
        " breakerOpenedAt = :now, breakerEpisode = :token, breakerClaim = :token",
        "attribute_not_exists(paused) OR paused = :false",
        token,
        true=True,
        false=False,
        by=BREAKER_BY,
        reason=reason,
        now=now,
        open=OPEN,
    )


def reopen(creator_id: str, *, token: str, now: int, probe: str) -> bool:
    """Half-open → open again (the probe failed); the cool-down starts over."""
    return _transition(
        creator_id,
        "SET breakerState = :open, breakerOpenedAt = :now, breakerClaim = :token"
        " REMOVE breakerProbeJob, breakerProbeAttempt, breakerProbeAt",
        "pausedBy = :by AND breakerState = :half AND breakerProbeJob = :probe",
        token,
        now=now,
        open=OPEN,
        half=HALF_OPEN,
        by=BREAKER_BY,
        probe=probe,
    )


def half_open(creator_id: str, *, token: str, now: int, probe: str, attempt: int) -> bool:
    """Open → half-open: still paused, but `probe` (a held job) is admitted."""
    return _transition(
        creator_id,
        "SET breakerState = :half, breakerProbeJob = :probe, breakerProbeAttempt = :attempt,"
        " breakerProbeAt = :now, breakerClaim = :token",
        "pausedBy = :by AND breakerState = :open",
        token,
        now=now,
        half=HALF_OPEN,
        open=OPEN,
        by=BREAKER_BY,
        probe=probe,
        attempt=attempt,
    )


def close(creator_id: str, *, token: str, now: int, probe: str) -> bool:
    """Half-open → closed (the probe completed): lift the breaker's own pause, start a fresh window."""
    return _transition(
        creator_id,
        f"SET paused = :false, breakerResetAt = :now, breakerClaim = :token REMOVE {_TRANSITION_ATTRS}",
        "pausedBy = :by AND breakerState = :half AND breakerProbeJob = :probe",
        token,
        false=False,
        now=now,
        by=BREAKER_BY,
        half=HALF_OPEN,
        probe=probe,
    )


def stand_down(creator_id: str, *, token: str, now: int) -> bool:
    """Forget a breaker whose pause someone else took over or lifted (ResumeCreator, PauseCreator)."""
    return _transition(
        creator_id,
        "SET breakerClaim = :token, breakerResetAt = :now"
        " REMOVE breakerState, breakerOpenedAt, breakerProbeJob, breakerProbeAttempt, breakerProbeAt",
        "attribute_exists(breakerState) AND (attribute_not_exists(pausedBy) OR pausedBy <> :by)",
        token,
        now=now,
        by=BREAKER_BY,
    )
