"""The invariants, checked after every step (`step_violations`) and at quiescence (`final_violations`).

Read from the system's own state (JobsTable, CreatorLimits, every queue's messages visible or
in flight) and from what the simulation saw (the gateway's pushes, the agents' accepted results).
Each function returns human-readable violations; an empty list means the invariant holds.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from lambdas.common import tables
from lambdas.common.jobs import UNCOUNTED
from tests.simulation.excuses import unexplained_ends
from tests.simulation.world import World

ACTIVE = ("assigned", "running")
FINAL = ("completed", "failed")
STATUSES = ("queued", "held", *ACTIVE, *FINAL)


@dataclass
class Ledger:
    """What the producer sent and what the agents were told, per job."""

    jobs: dict[str, tuple[str, str, bool]] = field(default_factory=dict)  # jobId -> creator, agent, critical
    poison: dict[str, str] = field(default_factory=dict)  # body -> label
    completions: Counter[str] = field(default_factory=Counter)  # accepted `completed` results
    finished: dict[str, str] = field(default_factory=dict)  # jobId -> first final status seen
    died: set[str] = field(default_factory=set)  # jobIds in a dispatcher invocation that died


@dataclass
class Snapshot:
    items: dict[str, dict[str, Any]]
    limits: list[dict[str, Any]]
    queues: dict[str, list[tuple[str, dict[str, str]]]]  # queue -> [(body, attributes)]

    @classmethod
    def take(cls, world: World) -> Snapshot:
        items = {i["jobId"]: i for i in world.scan("JOBS_TABLE")}
        queues = {
            q: [(m.body, {k: v.get("StringValue", "") for k, v in m.message_attributes.items()}) for m in ms]
            for q, ms in ((q, world.messages(q)) for q in ("jobs", "dlq", "quarantine"))
        }
        return cls(items, world.scan("CREATOR_LIMITS_TABLE"), queues)

    def attempts(self, *queues: str) -> dict[str, set[int]]:
        """jobId -> attempt numbers of its messages in these queues."""
        out: dict[str, set[int]] = defaultdict(set)
        for q in queues:
            for body, _ in self.queues[q]:
                job_id, attempt = _job_of(body)
                if job_id:
                    out[job_id].add(attempt)
        return out


def _job_of(body: str) -> tuple[str | None, int]:
    try:
        data = json.loads(body)
    except ValueError:
        return None, 0
    if not isinstance(data, dict) or not isinstance(data.get("jobId"), str):
        return None, 0
    attempt = data.get("attempt", 1)
    return data["jobId"], attempt if isinstance(attempt, int) else 0


def step_violations(world: World, ledger: Ledger) -> list[str]:
    snap = Snapshot.take(world)
    out = list(world.gateway.violations)
    out += _counters(snap)
    out += _connected_count(world.scan("AGENTS_TABLE"))
    out += _jobs_accounted(snap, ledger)
    out += _dead_letters_explained(snap, world, ledger)
    for job_id, n in ledger.completions.items():
        if n > 1:
            out.append(f"job {job_id} completed {n} times")
    for job_id, item in snap.items.items():
        status = item.get("status")
        if status in FINAL:
            ledger.finished.setdefault(job_id, status)
        if job_id in ledger.finished and status != ledger.finished[job_id]:
            out.append(f"job {job_id} was {ledger.finished[job_id]}, now {status}: a final state reopened")
        if status == "failed" and not item.get("reason"):
            out.append(f"job {job_id} failed without a reason")
        if status in ACTIVE and not (item.get("leaseState") == "active" and item.get("leaseExpiresAt")):
            out.append(f"job {job_id} is {status} without an active lease: the reaper never sees it")
    return out


def _counters(snap: Snapshot) -> list[str]:
    # Only jobs whose assignment counted them (`limitsDay` not jobs.UNCOUNTED: a creator with limits)
    # hold a slot in `inFlight`; a creator without limits moves no counter and may have no item.
    active = Counter(
        i.get("creatorId")
        for i in snap.items.values()
        if i.get("status") in ACTIVE and i.get("limitsDay") != UNCOUNTED
    )
    out = []
    for limits in snap.limits:
        creator = limits["creatorId"]
        for name, value in limits.items():
            if (name == "inFlight" or name.startswith("used#")) and value < 0:
                out.append(f"CreatorLimits {creator}.{name} = {value} < 0")
        if limits.get("inFlight", 0) != active.get(creator, 0):
            out.append(
                f"CreatorLimits {creator}.inFlight = {limits.get('inFlight', 0)}"
                f" but {active.get(creator, 0)} of its jobs are assigned or running"
            )
    known = {limits["creatorId"] for limits in snap.limits}
    out += [
        f"{c} has {n} active job(s) and no CreatorLimits item" for c, n in active.items() if c not in known
    ]
    return out


def _connected_count(agents_table: list[dict[str, Any]]) -> list[str]:
    """The connected-agents count (connections.connected_count) is exactly the counted agents that
    have a connection, after every step whatever failed (each +1/-1 is in the transaction that sets
    or removes the agent's connectionId)."""
    out = []
    counted = 0
    for item in agents_table:
        if item["pk"].startswith(tables.AGENT_PREFIX) and item.get("counted"):
            counted += 1
            if not item.get("connectionId"):
                out.append(f"agent {item['pk']} is counted without a connection")
    total = sum(int(i.get("connected", 0)) for i in agents_table if i["pk"].startswith(tables.FLEET_PREFIX))
    if total != counted:
        out.append(f"the connected-agents count is {total}, but {counted} counted agents are connected")
    return out


def _jobs_accounted(snap: Snapshot, ledger: Ledger) -> list[str]:
    """Never lost: every job is stored in a live state, or a message that can still deliver it exists."""
    queued = snap.attempts("jobs", "dlq", "quarantine")
    out = []
    for job_id, (creator, agent, _) in ledger.jobs.items():
        item = snap.items.get(job_id)
        if item is None:
            if job_id not in queued:
                out.append(f"job {job_id} lost: no item and no message anywhere")
            continue
        status = item.get("status")
        if status not in STATUSES:
            out.append(f"job {job_id} has unknown status {status!r}")
        if (item.get("creatorId"), item.get("agentId")) != (creator, agent):
            out.append(f"job {job_id} now names {item.get('creatorId')}#{item.get('agentId')}")
        if status == "queued" and item.get("attempt", 1) not in queued.get(job_id, set()):
            out.append(f"job {job_id} lost: queued at attempt {item.get('attempt')} with no message for it")
        if status == "held" and item.get("heldAgentId") != f"{creator}#{agent}":
            out.append(f"job {job_id} held for {item.get('heldAgentId')!r}, not for its agent")
    bodies = {body for q in snap.queues.values() for body, _ in q}
    out += [f"poison pill {label!r} lost" for body, label in ledger.poison.items() if body not in bodies]
    return out


def _dead_letters_explained(snap: Snapshot, world: World, ledger: Ledger) -> list[str]:
    out = []
    for body, attributes in snap.queues["dlq"]:
        job_id, _ = _job_of(body)
        logged = job_id is not None and (world.sink.failure_reasons.get(job_id) or job_id in ledger.died)
        if not attributes.get("reason") and not logged:
            out.append(f"DLQ message without a reason (no attribute, no logged failure): {body[:80]}")
    for body, attributes in snap.queues["quarantine"]:
        if not attributes.get("byoip-quarantine-reason"):
            out.append(f"quarantined message without a reason: {body[:80]}")
    return out


def final_violations(world: World, ledger: Ledger, *, healed: bool) -> list[str]:
    """At quiescence: every job completed, failed, held for its agent (not once healed) or parked;
    failed or parked only for a reason the schedule gave it (excuses.py), else completed."""
    snap = Snapshot.take(world)
    out = step_violations(world, ledger)
    parked = snap.attempts("quarantine")
    for q in ("jobs", "dlq"):
        if snap.queues[q]:
            out.append(f"{len(snap.queues[q])} message(s) still in {q} at quiescence")
    for job_id in ledger.jobs:
        status = (snap.items.get(job_id) or {}).get("status")
        if status in FINAL or job_id in parked or (status == "held" and not healed):
            continue
        out.append(f"job {job_id} ends {status or 'without an item'}, neither finished, held nor parked")
    out += unexplained_ends(world, ledger.jobs, snap.items, parked)
    out += [
        f"CreatorLimits {x['creatorId']}.inFlight = {x['inFlight']} at rest"
        for x in snap.limits
        if x.get("inFlight")
    ]
    return out
