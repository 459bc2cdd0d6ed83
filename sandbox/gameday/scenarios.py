"""The scenarios: one per runbook section (A–E) plus a healthy baseline (E's are creator_scenarios.py).

Each injects its fault through a real path — messages on the queue, agents dropping,
the dispatcher failing, slow agents — waits for the alarms the runbook section is about,
performs the recovery the runbook prescribes (or lets the automation do it), and waits
until every alarm is OK again.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from contract.names import DLQ
from lambdas.common.tables import CREATOR_LIMITS
from monitoring.catalog import ALARMS, COMPOSITE
from monitoring.failure_modes import FAILURE_MODES_BY_ID
from monitoring.slo_catalog import SLO_ALARMS, SLO_COMPOSITES
from sandbox.gameday import quiet
from sandbox.gameday.chaos import chaos_run
from sandbox.gameday.creator_scenarios import agent_offline, stale_connections
from sandbox.gameday.runner import BASE_RATE, GameDay
from sandbox.gameday.traffic import TrafficPlan


@dataclass(frozen=True)
class Scenario:
    name: str
    section: str
    title: str
    expected: tuple[str, ...]  # alarm ids that must fire
    run: Callable[[GameDay], None]
    judge_alarms: bool = True  # False: the alarms are reported, not judged (chaos)


def healthy(g: GameDay) -> None:
    g.fault("no fault: steady traffic for 15 minutes")
    g.wait_minutes(15)
    g.wait_recovered(5)


def poison_pill(g: GameDay) -> None:
    """A: a producer release emits poison pills while transient failures sit in the DLQ."""
    agent_id, creator = g.agents[-1]
    # Setup: 3 critical jobs that burned their 5 receives while agent-10 was offline, already
    # in the DLQ. Seeded there directly: living through those 30 minutes would raise Backlog
    # and PartialFailPct before the fault and blur what the fault itself causes.
    g.note(f"setup: 3 critical jobs for {agent_id} dead-lettered while it was offline")
    g.producer.send_together(agent_id, creator, 3, critical=True, queue_url=g.box.queue_url(DLQ))
    g.fault("producer release sends 3 poison pills (bad JSON, no agentId, an invalid job id)")
    g.producer.send_raw('{"jobId": "job-bad-json", "agentId": ', "bad JSON")
    g.producer.send(None, creator, critical=False)
    # (A job naming another creator's agent of the same name is no poison: it is held for that
    # creator's own agent, since an agent is (creatorId, agentId).)
    g.producer.send_raw(
        json.dumps(
            {"jobId": "../job-escape", "agentId": agent_id, "creatorId": creator, "kind": "x", "payload": {}}
        ),
        "an invalid job id",
    )
    g.wait_alarm("DLQNotEmpty")
    g.wait_alarm("QuarantineNotEmpty")  # GuardedRedrive parked the pills: on-call's hand-off (runbook G)
    g.wait_recovered()


def backlog(g: GameDay) -> None:
    """B: a site slows down; creator-1 is capped at 2 concurrent jobs, so its queue ages."""
    limits = g.box.table(CREATOR_LIMITS.short)
    creator = g.agents[0][1]
    g.box.client("dynamodb").put_item(
        TableName=limits,
        Item={"creatorId": {"S": creator}, "maxConcurrent": {"N": "2"}, "inFlight": {"N": "0"}},
    )
    slow = [a for a, c in g.agents if c == creator]
    g.fault(
        f"the site slows down: {creator}'s agents take 10 minutes per job (creator capped at 2 concurrent)"
    )
    for agent_id in slow:
        g.fleet.agents[agent_id].behaviour.job_seconds = g.clock.real(600)
    g.wait_alarm("Backlog")
    g.action(f"site recovered: jobs take 5 s again; {creator}'s cap raised to 20 so its backlog drains")
    for agent_id in slow:
        g.fleet.agents[agent_id].behaviour.job_seconds = g.clock.real(5)
    # Runbook B: process faster than arrivals. At 2 concurrent, capped jobs only come back
    # every visibility timeout, so the backlog would keep re-forming for an hour.
    g.box.client("dynamodb").update_item(
        TableName=limits,
        Key={"creatorId": {"S": creator}},
        UpdateExpression="SET maxConcurrent = :n",
        ExpressionAttributeValues={":n": {"N": "20"}},
    )
    g.wait_recovered()


def partial_fail(g: GameDay) -> None:
    """C: a critical campaign targets every agent while half of the fleet is offline."""
    offline = [a for a, _ in g.agents[::2]]
    g.producer.plan = TrafficPlan(agents=list(g.agents), per_minute=12, critical=True)
    g.wait_minutes(1)
    g.fault(f"critical campaign to all agents while {len(offline)} agents drop offline")
    g.fleet.offline(offline, abrupt=False)
    g.wait_alarm("PartialFailPct")
    g.action("runbook C: offline segment reconnected, campaign back to normal priority")
    g.fleet.online(offline)
    g.producer.plan = TrafficPlan(agents=list(g.agents), per_minute=BASE_RATE)
    g.wait_recovered()


def dispatcher_errors(g: GameDay) -> None:
    """D: a bad deploy makes every dispatcher invocation fail."""
    dispatcher = g.box.runtime.spec("dispatcher-sqs").name
    g.fault("bad dispatcher deploy: every invocation raises")
    g.box.runtime.faults[dispatcher] = "ImportError: cannot import name 'dispatch' (injected fault)"
    g.wait_alarm("Incident")
    g.action("runbook D: roll back the dispatcher")
    del g.box.runtime.faults[dispatcher]
    g.wait_recovered()


_SECTIONS = {spec.id: spec.section for spec in (*ALARMS, COMPOSITE, *SLO_ALARMS, *SLO_COMPOSITES)}


def _quiet(name: str, run: Callable[[GameDay], None]) -> Scenario:
    """The game day of the failure mode `name`: its first paging alarm must fire (the runner
    judges the page itself); title and runbook section are the mode's."""
    mode = FAILURE_MODES_BY_ID[name]
    return Scenario(name, _SECTIONS.get(mode.pages[0], "-"), mode.title, mode.pages[:1], run)


SCENARIOS = {
    s.name: s
    for s in (
        Scenario("healthy", "-", "Healthy traffic: no alarm, no email", (), healthy),
        Scenario(
            "poison-pill",
            "A",
            "Poison pills in the DLQ",
            ("DLQNotEmpty", "Incident", "QuarantineNotEmpty"),
            poison_pill,
        ),
        Scenario("backlog", "B", "Backlog: slow site, capped creator", ("Backlog",), backlog),
        Scenario("partial-fail", "C", "Partial failures above 10%", ("PartialFailPct",), partial_fail),
        Scenario(
            "dispatcher-errors",
            "D",
            "Dispatcher errors",
            ("DispatcherErrors", "Backlog", "Incident"),
            dispatcher_errors,
        ),
        Scenario(
            "stale-connections",
            "E",
            "Stale connections (410): one creator's circuit breaker opens and closes",
            ("StaleConnections", "CircuitBreakerOpen"),
            stale_connections,
        ),
        Scenario(
            "agent-offline",
            "E",
            "An agent offline past the notification delay, then back: its creator is told once each",
            (),
            agent_offline,
        ),
        Scenario("chaos", "-", "Chaos: random AWS faults under live traffic", (), chaos_run(15, 0.05), False),
        _quiet("connect-denied", quiet.connect_denied),
        _quiet("secret-unreadable", quiet.secret_unreadable),
        _quiet("dispatcher-disabled", quiet.dispatcher_disabled),
        _quiet("edge-throttled", quiet.edge_throttled),
        _quiet("reaper-stopped", quiet.reaper_stopped),
        _quiet("redrive-failing", quiet.redrive_failing),
        _quiet("rotation-failing", quiet.rotation_failing),
    )
}
