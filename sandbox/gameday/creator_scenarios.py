"""Runbook E scenarios about one creator: its circuit breaker and its offline notifications.

`stale_connections`: agents of both creators flap on a flaky network (their connections go
stale without `$disconnect`), and one creator's site times out too. That creator's deliveries
fail (410s, failed results), its breaker opens by itself and holds its jobs (critical ones
too); once all is stable the probe job closes it and the held jobs go out. The other creator,
whose flapping agents still deliver most jobs, is never paused by it.

`agent_offline`: one agent stays offline past the notification delay while jobs are held for
it, then comes back: the creator hears once that it is offline and once that it is back; an
agent whose outage is shorter than the delay causes no event at all.
"""

from __future__ import annotations

from typing import Any

from sandbox.gameday.runner import BASE_RATE, CREATORS, GameDay
from sandbox.gameday.traffic import TrafficPlan

OPENED, CLOSED = "Creator Circuit Breaker Opened", "Creator Circuit Breaker Closed"
OFFLINE, BACK = "Creator Agent Offline", "Creator Agent Back Online"
FLAP_FOR_MIN = 40


def _expect(g: GameDay, ok: bool, problem: str) -> None:
    if not ok:
        g.problems.append(problem)


def _at_event(g: GameDay, event: dict[str, Any], text: str) -> None:
    """A timeline note at the time the event arrived (the notification service's view)."""
    g.timeline.add("note", text, time=event["time"])


def stale_connections(g: GameDay) -> None:
    """E: agents of both creators vanish without a close and come back; one creator's deliveries
    also fail, so its breaker opens (and closes after recovery) while the other's stays closed."""
    failing, other = CREATORS[1], CREATORS[0]
    flaky = [a for a, _ in g.agents[1:]]
    failing_agents = [a for a, c in g.agents if c == failing]
    events = g.box.creator_events
    # A live campaign: critical jobs, which a breaker holds instead of dead-lettering.
    g.producer.plan = TrafficPlan(agents=list(g.agents), per_minute=16, critical=True)
    g.wait_minutes(1)
    g.fault(
        f"{len(flaky)} agents on a flaky network: connections go stale without $disconnect;"
        f" {failing}'s site times out behind it (its agents report every job failed)"
    )
    g.box.gateway.deliver_disconnects = False
    for agent_id in failing_agents:
        g.fleet.agents[agent_id].behaviour.fail_jobs = True
    stop_at = g.clock.now() + FLAP_FOR_MIN * 60
    while g.clock.now() < stop_at and g.alarms.state("StaleConnections") != "ALARM":
        g.fleet.offline(flaky, abrupt=True)
        g.wait_minutes(1.5)
        g.fleet.online(flaky)
        g.wait_minutes(1)
    g.wait_until(lambda: bool(events.of(OPENED, failing)), 5, f"the circuit breaker of {failing} opening")
    opened = events.of(OPENED, failing)[0]
    _at_event(
        g,
        opened,
        f"circuit breaker of {failing} opened by itself: {opened.get('failures')} failed deliveries",
    )
    g.action("network stable and the site answers again")
    g.box.gateway.deliver_disconnects = True
    for agent_id in failing_agents:
        g.fleet.agents[agent_id].behaviour.fail_jobs = False
    g.fleet.online(flaky)
    g.producer.plan = TrafficPlan(agents=list(g.agents), per_minute=BASE_RATE)
    g.wait_until(lambda: bool(events.of(CLOSED, failing)), 30, f"the circuit breaker of {failing} closing")
    closed = events.of(CLOSED, failing)[-1]
    _at_event(g, closed, f"circuit breaker of {failing} closed by its probe job {closed.get('probe')}")
    g.wait_recovered()
    _expect(g, closed.get("closedBy") == "probe", f"{failing}'s breaker closed by {closed.get('closedBy')}")
    _expect(g, not events.of(OPENED, other), f"{other}'s breaker opened: its deliveries mostly succeeded")


def agent_offline(g: GameDay) -> None:
    """E: an agent stays offline past the notification delay with jobs held for it, then comes back.

    The two agents that go away get a job or two of their own instead of a share of the traffic:
    a job held for minutes is released as a fresh message, and in the sandbox the 2 s release
    delay is a whole production minute against a 60 s time-to-assign deadline (2 real seconds),
    so a dozen released jobs would burn that SLO here, though not in production.
    """
    events = g.box.creator_events
    (away, creator), (blip, blip_creator) = g.agents[2], g.agents[3]
    others = [(a, c) for a, c in g.agents if a not in (away, blip)]
    delay_min = int(g.box.runtime.spec("lease-reaper").env["NOTIFY_OFFLINE_SECONDS"]) / 60
    g.producer.plan = TrafficPlan(agents=others, per_minute=12)
    g.fault(f"{away} of {creator} goes offline for {delay_min + 5:g} minutes; {blip} for {delay_min / 2:g}")
    g.fleet.offline([away, blip], abrupt=False)
    g.wait_minutes(0.5)
    for agent_id, creator_id, jobs in ((away, creator, 2), (blip, blip_creator, 1)):
        for _ in range(jobs):
            g.producer.send(agent_id, creator_id, critical=False)
    g.wait_minutes(delay_min / 2 - 0.5)
    g.action(f"{blip} back after a short blip")
    g.fleet.online([blip])
    g.wait_until(lambda: bool(events.of(OFFLINE, creator)), delay_min, f"the offline notification for {away}")
    told = events.of(OFFLINE, creator)[0]
    _at_event(g, told, f"{creator} told: {away} offline with {told.get('heldJobs')} held job(s)")
    g.wait_minutes(5)
    g.action(f"{away} back online: its held jobs are released")
    g.fleet.online([away])
    g.wait_until(lambda: bool(events.of(BACK, creator)), 10, f"the back-online notification for {away}")
    _at_event(g, events.of(BACK, creator)[0], f"{creator} told: {away} back online")
    g.producer.plan = TrafficPlan(agents=list(g.agents), per_minute=BASE_RATE)
    g.wait_recovered()
    _expect(g, len(events.of(OFFLINE)) == 1, f"{len(events.of(OFFLINE))} offline events, not 1")
    _expect(g, len(events.of(BACK)) == 1, f"{len(events.of(BACK))} back-online events, not 1")
    # (2 sent for it; a job of the traffic plan already on its way when it left may be held too)
    _expect(g, told.get("agentId") == away and told.get("heldJobs", 0) >= 2, f"the offline event says {told}")
    blips = [e for e in events.events if e.get("agentId") == blip and e.get("creatorId") == blip_creator]
    _expect(g, not blips, f"a {delay_min / 2:g}-minute blip of {blip} sent {len(blips)} event(s)")
