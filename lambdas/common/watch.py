"""The creator watch: run once a minute by lease-reaper, after the leases.

It reads only what may need a decision, never the fleet (docs/architecture.md, *The creator
watch's reads*):
- the jobs in the sparse `ByHeldAgent` index (held jobs);
- the keys in the sparse, keys-only `ByWatch` index of AgentsTable (outcome windows with
  something inside, agents with an announced offline episode) and `ByBreaker` of CreatorLimits
  (breakers open or half-open);
- then, in BatchGetItem calls, those items, the agents the held jobs wait for, and the limits
  items of every creator named so far;
- and the connected-agents count, summed from its shards (connections.connected_count).

So its reads grow with the held jobs, the creators with a verdict to make and the open episodes,
and stay flat however many agents are connected and idle. Then, one creator at a time:

1. steps the creator's circuit breaker (lambdas/common/breaker.py): open it when its window
   trips, half-open it after the cool-down by releasing one held job as the probe, close or
   reopen it on the probe's outcome, stand down when an operator took the pause over;
2. releases the jobs held for a connected agent of a creator that admits jobs again (a pause
   lifted, the daily quota reset), not only at the agent's next reconnect;
3. announces offline episodes and their end (lambdas/common/notify.py);
4. drops the creator's daily quota counters older than yesterday (limits.prune_days; the
   dispatcher drops them too, with the write that counts a job).

Each creator's steps run inside their own try: one creator's failure (or AWS refusing a call
about it) is logged and never stops or changes another's, and nothing read about one creator
ever goes into another's event.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from lambdas.common import breaker, ddb, fleet, notify, tables
from lambdas.common.claims import new_token
from lambdas.common.clock import day_of
from lambdas.common.connections import connected_count
from lambdas.common.jobs import jobs_table
from lambdas.common.limits import paused_kinds, prune_days
from lambdas.common.requeue import release_items
from lambdas.common.settings import settings


@dataclass
class WatchCounts:
    opened: int = 0  # breakers opened (or reopened) by this run
    closed: int = 0
    open_now: int = 0  # creators whose breaker is open or half-open after this run
    released: int = 0
    notified: int = 0  # events sent
    pruned: int = 0  # stale daily counters removed
    errors: list[str] = field(default_factory=list)  # creator ids whose step failed
    connected: int = 0  # agents with a connection (the fleet gauge, lambdas/common/fleet.py)
    waiting: int = 0  # held jobs newly counted late while they wait (lambdas/common/fleet.py)


@dataclass
class Snapshot:
    """What one run reads, grouped by creator."""

    agents: dict[str, list[dict[str, Any]]]
    windows: dict[str, dict[str, Any]]
    limits: dict[str, dict[str, Any]]
    held: dict[str, list[dict[str, Any]]]  # held jobs by creator, oldest first

    def creators(self) -> set[str]:
        return set(self.agents) | set(self.windows) | set(self.limits) | set(self.held)


def scan(**kwargs: Any) -> list[dict[str, Any]]:
    """Every item of a Scan or Query (all pages), deserialized; `kwargs["op"]` picks the call."""
    call = getattr(ddb.dynamodb(), kwargs.pop("op", "scan"))
    items: list[dict[str, Any]] = []
    while True:
        resp = call(**kwargs)
        items.extend(ddb.from_item(i) for i in resp.get("Items", []))  # type: ignore[misc]
        if "LastEvaluatedKey" not in resp:
            return items
        kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]


def keys_in(table: str, index: tables.Index, value: str) -> list[str]:
    """The table keys of the items whose `index` partition is `value` (a keys-only sparse index)."""
    found = scan(
        op="query",
        TableName=table,
        IndexName=index.name,
        KeyConditionExpression="#p = :v",
        ExpressionAttributeNames={"#p": index.partition.name},
        ExpressionAttributeValues=ddb.values(v=value),
    )
    return [str(item[index.sort.name if index.sort else "pk"]) for item in found]


BATCH_KEYS = 100  # BatchGetItem's most keys per call


def get_many(table: str, table_schema: tables.Table, values: set[str]) -> list[dict[str, Any]]:
    """The items of `table` keyed by `values` (absent ones left out), in BatchGetItem calls."""
    ordered = sorted(values)
    items: list[dict[str, Any]] = []
    for start in range(0, len(ordered), BATCH_KEYS):
        keys = [tables.key(table_schema, v) for v in ordered[start : start + BATCH_KEYS]]
        items.extend(ddb.batch_get({table: {"Keys": keys}}).get(table, []))
    return items


def snapshot() -> Snapshot:
    """Read what may need a decision (see the module docstring): one Scan of a sparse index, three
    Queries of keys-only sparse indexes, and BatchGetItem calls for the items they name."""
    config = settings()
    held: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for job in scan(TableName=jobs_table(), IndexName=tables.BY_HELD_AGENT.name):
        if job.get("status") == "held" and job.get("creatorId"):
            held[job["creatorId"]].append(job)
    for jobs in held.values():
        jobs.sort(key=lambda j: int(j.get("createdAt", 0)))
    watched = set(keys_in(config.agents_table, tables.BY_WATCH, tables.WATCH_WINDOW))
    watched |= set(keys_in(config.agents_table, tables.BY_WATCH, tables.WATCH_EPISODE))
    watched |= {
        tables.agent_pk(creator, str(job["agentId"]))
        for creator, jobs in held.items()
        for job in jobs
        if job.get("agentId")
    }
    creators = set(held)
    for state in (breaker.OPEN, breaker.HALF_OPEN):
        creators |= set(keys_in(config.creator_limits_table, tables.BY_BREAKER, state))
    agents: dict[str, list[dict[str, Any]]] = defaultdict(list)
    windows: dict[str, dict[str, Any]] = {}
    for item in get_many(config.agents_table, tables.AGENTS, watched):
        if item["pk"].startswith(tables.BREAKER_PREFIX):
            windows[item["pk"].removeprefix(tables.BREAKER_PREFIX)] = item
        elif item.get("creatorId") and item.get("agentId"):  # an item missing them names nobody
            agents[item["creatorId"]].append(item)
    creators |= set(windows) | set(agents)
    found = get_many(config.creator_limits_table, tables.CREATOR_LIMITS, creators)
    limits = {i["creatorId"]: i for i in found}
    return Snapshot(dict(agents), windows, limits, dict(held))


def watch(*, now: int, logger: Any) -> WatchCounts | None:
    """One run over every creator (see the module docstring); None when nothing could be read."""
    counts = WatchCounts()
    try:
        snap = snapshot()
        counts.connected = connected_count()
    except (ClientError, BotoCoreError):
        logger.exception("creator_watch_failed reason=snapshot")
        return None
    # The SLI signals first, from the snapshot as read (before this run releases anything).
    late = fleet.overdue(snap.agents, snap.held, now=now, deadline_s=settings().assign_deadline_seconds)
    counts.waiting = fleet.count_waiting(late, now=now)
    pol, delay = breaker.policy(), notify.offline_delay()
    for creator in sorted(snap.creators()):
        try:
            _creator(creator, snap, counts, now=now, pol=pol, delay=delay, logger=logger)
        except Exception:  # AWS refusing a call, or an item no step can read: this creator only
            counts.errors.append(creator)
            logger.exception("creator_watch_failed", extra={"creatorId": creator})
    return counts


def _creator(
    creator: str,
    snap: Snapshot,
    counts: WatchCounts,
    *,
    now: int,
    pol: breaker.BreakerPolicy,
    delay: int,
    logger: Any,
) -> None:
    agents = snap.agents.get(creator, [])
    online = {a["agentId"] for a in agents if a.get("connectionId")}
    held = snap.held.get(creator, [])
    limits = dict(snap.limits.get(creator) or {})
    window = snap.windows.get(creator)
    state = step_breaker(creator, limits, window, held, online, counts, now=now, pol=pol, logger=logger)
    counts.open_now += state is not None
    if state is None and admits(limits, day_of(now)):
        kept = paused_kinds(limits)  # a paused kind stays held while the rest go
        ready = [j for j in held if j.get("agentId") in online and j.get("kind") not in kept]
        counts.released += release_items(ready, now=now)
        held = [j for j in held if j.get("agentId") not in online]
    if window:
        stale = breaker.stale_attributes(window, pol, now=now)
        if len(stale) == len(breaker.outcomes(window)):
            breaker.forget(creator, window)  # nothing inside the window: successes stop being recorded
        elif stale:
            breaker.prune(creator, stale)
    held_by_agent: dict[str, int] = defaultdict(int)
    for job in held:
        held_by_agent[job.get("agentId", "")] += 1
    for agent in agents:
        n = held_by_agent.get(agent["agentId"], 0)
        sent = notify.agent_offline(agent, n, now=now, delay=delay, token=new_token()) or notify.agent_back(
            agent, n, now=now, token=new_token()
        )
        counts.notified += sent
        if sent:
            logger.info(f"creator_notified creatorId={creator} agentId={agent['agentId']}")
    counts.pruned += prune_days(creator, snap.limits.get(creator) or {}, now=now)


def admits(limits: dict[str, Any], day: str) -> bool:
    """Whether the creator's limits item lets a job through now (paused or over today's quota: no)."""
    if limits.get("paused"):
        return False
    quota = limits.get("dailyQuota")
    return quota is None or int(limits.get(f"used#{day}", 0)) < int(quota)


def step_breaker(
    creator: str,
    limits: dict[str, Any],
    window: dict[str, Any] | None,
    held: list[dict[str, Any]],
    online: set[str],
    counts: WatchCounts,
    *,
    now: int,
    pol: breaker.BreakerPolicy,
    logger: Any,
) -> str | None:
    """Move the creator's breaker one step; returns its state afterwards (None: closed).

    `limits` is updated in place to what was written, so the release step that follows sees it.
    """
    state = limits.get("breakerState")
    token = new_token()
    if state and limits.get("pausedBy") != breaker.BREAKER_BY:
        if breaker.stand_down(creator, token=token, now=now):
            _event(notify.BREAKER_CLOSED, creator, limits, {"closedBy": "operator"}, counts, now, logger)
            counts.closed += 1
        limits.pop("breakerState", None)
        return None
    if state == breaker.OPEN:
        return _maybe_probe(creator, limits, held, online, token, now=now, pol=pol, logger=logger)
    if state == breaker.HALF_OPEN:
        return _judge_probe(creator, limits, counts, token, now=now, logger=logger)
    verdict = breaker.judge(window, pol, now=now, since=int(limits.get("breakerResetAt", 0)))
    if not verdict.tripped or limits.get("paused"):
        return None
    reason = f"{verdict.failures} of the last {verdict.deliveries} deliveries failed"
    if not breaker.open_breaker(creator, token=token, now=now, reason=reason):
        return None
    limits.update(paused=True, pausedBy=breaker.BREAKER_BY, breakerState=breaker.OPEN, breakerEpisode=token)
    counts.opened += 1
    detail = {"reopened": False, "failures": verdict.failures, "deliveries": verdict.deliveries}
    _event(notify.BREAKER_OPENED, creator, limits, detail, counts, now, logger)
    return breaker.OPEN


def _maybe_probe(
    creator: str,
    limits: dict[str, Any],
    held: list[dict[str, Any]],
    online: set[str],
    token: str,
    *,
    now: int,
    pol: breaker.BreakerPolicy,
    logger: Any,
) -> str:
    """After the cool-down, release one held job of a connected agent as the probe."""
    if now - int(limits.get("breakerOpenedAt", now)) < pol.cooldown_s:
        return breaker.OPEN
    probe = next((j for j in held if j.get("agentId") in online), None)
    if probe is None:
        return breaker.OPEN  # nothing to try with yet: stay open, look again next run
    attempt = int(probe.get("attempt", 1))
    if not breaker.half_open(creator, token=token, now=now, probe=probe["jobId"], attempt=attempt):
        return breaker.OPEN
    # Half-open is written first: the dispatcher admits the probe only once its id is on the item.
    release_items([probe], now=now)
    logger.info(f"circuit_breaker_half_open creatorId={creator} probe={probe['jobId']}")
    return breaker.HALF_OPEN


def _judge_probe(
    creator: str, limits: dict[str, Any], counts: WatchCounts, token: str, *, now: int, logger: Any
) -> str | None:
    """Close on the probe's completion, reopen on its failure, else keep waiting."""
    probe = str(limits.get("breakerProbeJob", ""))
    job = ddb.get(jobs_table(), tables.JOBS.key.name, probe) if probe else None
    verdict = probe_verdict(job, int(limits.get("breakerProbeAttempt", 1)))
    if verdict is None:
        return breaker.HALF_OPEN
    if verdict:
        if breaker.close(creator, token=token, now=now, probe=probe):
            limits.update(paused=False)
            for attr in ("pausedBy", "breakerState", "breakerProbeJob"):
                limits.pop(attr, None)
            counts.closed += 1
            _event(
                notify.BREAKER_CLOSED,
                creator,
                limits,
                {"closedBy": "probe", "probe": probe},
                counts,
                now,
                logger,
            )
            return None
        return breaker.HALF_OPEN
    if breaker.reopen(creator, token=token, now=now, probe=probe):
        counts.opened += 1
        _event(
            notify.BREAKER_OPENED, creator, limits, {"reopened": True, "probe": probe}, counts, now, logger
        )
        return breaker.OPEN
    return breaker.HALF_OPEN


def probe_verdict(job: dict[str, Any] | None, attempt: int) -> bool | None:
    """True: the probe completed; False: it failed (failed, re-queued after a failure, held again
    or gone); None: still on its way (queued, assigned, running)."""
    if job is None:
        return False
    status = job.get("status")
    if status == "completed":
        return True
    if status in ("failed", "held") or int(job.get("attempt", 1)) > attempt:
        return False
    return None


def _event(
    detail_type: str,
    creator: str,
    limits: dict[str, Any],
    detail: dict[str, Any],
    counts: WatchCounts,
    now: int,
    logger: Any,
) -> None:
    """Send a breaker event; a failed send is logged (the transition itself stands)."""
    episode = str(limits.get("breakerEpisode", ""))
    line = f"circuit_breaker {detail_type.rsplit(' ', 1)[-1].lower()} creatorId={creator}"
    logger.warning(line, extra={"creatorId": creator})
    try:
        notify.emit(detail_type, creator, {**detail, "episodeId": episode}, now=now)
        counts.notified += 1
    except notify.EmitFailed:
        logger.exception("creator_event_failed", extra={"creatorId": creator, "detailType": detail_type})
