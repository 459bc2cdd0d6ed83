"""The `fleet` game day: a fleet of reference agents, every connection dropped within a second.

    .venv/bin/python -m sandbox.gameday.fleet_day [--agents 1000] [--speed 4] [--window 10]

All agents are asyncio tasks of one process (sandbox/fleet.py) with heartbeats every 2 production
minutes while a producer sends jobs round robin to all of them. Then the gateway drops every
connection (no close frame, as a network blip or an API Gateway deployment does) within one
production second; the agents reconnect with the reference agent's backoff (a full-jitter first
retry over `--window` production seconds, then exponential). Measured, in production time from
the drop: when 99 % (and all) are back, when a job sent after the drop completes (jobs flow
again), the busiest second of connect attempts (what API Gateway would see) and of `$connect`
invocations served, against API Gateway's quota of 500 new connections per second per account
and Region; then the queue drains and every job is accounted for (0 lost, 0 duplicate
completions, 0 stuck). Alarms are not evaluated (the runbook game days do that); the heartbeat
load is what bounds the speed: 1,000 agents beat 8 times per production second.

The report also gives what an agent and its connection cost the sandbox (sandbox/proc_usage.py,
from /proc): resident memory per agent (the agent's client and the gateway's side of its
connection live in this process; the moto servers hold its connection items), and CPU per agent
and per connection per production minute while the fleet idles connected (the fleet's event
loop thread against every other thread and the moto servers). Every agent needs two file
descriptors here (both ends of its socket), so the open-files soft limit is raised first.
"""

from __future__ import annotations

import math
import os
import re
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from contract.names import DLQ, JOBS, QUARANTINE, Names
from lambdas.common.auth import mint_token
from lambdas.common.tables import JOBS as JOBS_TABLE
from sandbox.agent import AgentBehaviour
from sandbox.fleet import Fleet
from sandbox.gameday.ledger import Ledger
from sandbox.gameday.traffic import Producer, TrafficPlan
from sandbox.proc_usage import Snapshot, raise_open_files, snapshot
from sandbox.system import Sandbox, SandboxOptions

# API Gateway WebSocket quota "New connections per second per account (across all WebSocket
# APIs) per Region": 500, adjustable (Amazon API Gateway developer guide, "Quotas for configuring
# and running a WebSocket API in API Gateway").
API_GATEWAY_CONNECTS_PER_S = 500
CREATORS = ("creator-1", "creator-2", "creator-3", "creator-4")
CONNECT_WAVE = 50  # agents started together while the fleet first connects
BACKOFF_S = (0.2, 5.0)  # production seconds: the reference agent's exponential backoff
DRAIN_MIN = 30
MAX_AGENTS = 10_000
FDS_PER_AGENT = 2  # the agent's socket and the gateway's, both in this process
FDS_SPARE = 1024  # the sandbox's own: moto clients, log files, pollers
# The sandbox answers about 10-15 `$connect` a real second (each is 5-6 DynamoDB calls through the
# one moto DynamoDB server while the fleet heartbeats); API Gateway and Lambda answer in well under
# a second. A handshake queued longer than 10 s (the agent's open timeout, and the gateway's:
# websockets' default) is dropped and retried, and the gateway still runs the abandoned `$connect`:
# with 2,000 agents that loop kept a third of the fleet offline for the whole reconnect phase. So
# the fleet's agents and the gateway wait as long as the sandbox's queue of handshakes can be: one
# real second per 10 agents, at least 10 s.
CONNECTS_PER_REAL_S = 10


@dataclass
class FleetDayOptions:
    agents: int = 1000
    speed: float = 4.0
    window_s: float = 30.0  # production seconds of jitter before the first reconnect
    jobs_per_minute: float = 30.0  # production minutes, across the fleet
    steady_min: float = 2.0
    reconnect_timeout_min: float = 20.0
    template: dict[str, Any] | None = None
    workdir: Path = field(default_factory=lambda: Path(".sandbox") / "fleet")


@dataclass
class FleetReport:
    """What the fleet game day measured (seconds are production seconds since the drop)."""

    agents: int
    speed: float
    window_s: float
    first_connect_s: float  # the whole fleet's first connect, before the drop
    dropped: int
    back_99_s: float | None = None
    back_all_s: float | None = None
    jobs_flow_s: float | None = None
    peak_attempts_per_s: int = 0  # connect attempts started in the busiest production second
    peak_connects_per_s: int = 0  # $connect invocations answered in the busiest production second
    api_limit_per_s: int = API_GATEWAY_CONNECTS_PER_S
    stage_connect_throttle: tuple[float, float] = (0.0, 0.0)  # the template's $connect (rate, burst)
    reconnected: int = 0  # agents that connected again after the drop
    connects_after_drop: int = 0  # $connect invocations answered after the drop
    released_held: int = 0  # held jobs $connect released after the drop
    reaped: int = 0  # expired leases the reaper re-queued after the drop
    accounting: dict[str, Any] = field(default_factory=dict)
    duplicate_completions: int = 0
    redeliveries: int = 0
    problems: list[str] = field(default_factory=list)
    wall_s: float = 0.0
    open_files_limit: int = 0  # RLIMIT_NOFILE's soft limit during the run
    resources: dict[str, float] = field(default_factory=dict)  # see usage_report()

    @property
    def outcome(self) -> str:
        return "failed" if self.problems else "passed"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self) | {"outcome": self.outcome}


class _Probe:
    """Wraps the runtime's invoke: when `$connect` answered, what each reaper run re-queued."""

    def __init__(self, box: Sandbox) -> None:
        self.connect_fn = box.runtime.spec("ws-connect").name
        self.reaper_fn = box.runtime.spec("lease-reaper").name
        self.connects: list[float] = []
        self.reaped: list[tuple[float, int]] = []
        invoke = box.runtime.invoke

        def probed(name: str, event: dict[str, Any]) -> Any:
            result = invoke(name, event)
            if name == self.connect_fn:
                self.connects.append(time.time())
            elif name == self.reaper_fn and isinstance(result, dict):
                self.reaped.append((time.time(), int(result.get("requeued", 0))))
            return result

        box.runtime.invoke = probed  # type: ignore[method-assign]


def connect_throttle(box: Sandbox) -> tuple[float, float]:
    """The WebSocket stage's `$connect` throttle in the template: (rate per second, burst)."""
    for _, props in box.resolver.of_type("AWS::ApiGatewayV2::Stage"):
        route = (props.get("RouteSettings") or {}).get("$connect") or {}
        if route:
            return float(route.get("ThrottlingRateLimit", 0)), float(route.get("ThrottlingBurstLimit", 0))
    return 0.0, 0.0


def peak_per_second(times: list[float], since: float, speed: float) -> int:
    """The most events (real epoch times) in one production second at or after `since`."""
    buckets = Counter(math.floor((t - since) * speed) for t in times if t >= since)
    return max(buckets.values(), default=0)


def usage_report(
    before: Snapshot,
    connected: Snapshot,
    idle_end: Snapshot,
    end: Snapshot,
    agents: int,
    idle_min: float,
    fleet_tid: int | None,
) -> dict[str, float]:
    """Memory and CPU per agent and per connection from four snapshots: the sandbox up without
    agents, the fleet connected, the fleet after `idle_min` production minutes connected (the steady
    phase: heartbeats and a trickle of jobs), and the end of the run."""
    me = os.getpid()  # the children are the moto servers

    def rss(snap: Snapshot, main: bool) -> int:
        return sum(kb for pid, kb in snap.rss_kb.items() if (pid == me) == main)

    def cpu(a: Snapshot, b: Snapshot) -> float:
        return sum(b.cpu_s.get(pid, 0.0) - a.cpu_s.get(pid, 0.0) for pid in b.cpu_s)

    def fleet_cpu(a: Snapshot, b: Snapshot) -> float:
        if fleet_tid is None:
            return 0.0
        return b.thread_cpu_s.get(fleet_tid, 0.0) - a.thread_cpu_s.get(fleet_tid, 0.0)

    n, minutes = max(agents, 1), max(idle_min, 1e-9)
    idle_agent = fleet_cpu(connected, idle_end)
    idle_sandbox = cpu(connected, idle_end) - idle_agent
    return {
        "main_rss_mb_before": round(rss(before, True) / 1024, 1),
        "main_rss_mb_connected": round(rss(connected, True) / 1024, 1),
        "moto_rss_mb_connected": round(rss(connected, False) / 1024, 1),
        "peak_rss_mb_end": round((rss(end, True) + rss(end, False)) / 1024, 1),
        # the agent's client and the gateway's side of its connection (one process)
        "rss_kb_per_agent_and_connection": round((rss(connected, True) - rss(before, True)) / n, 1),
        # its connection and agent items in the moto servers
        "moto_rss_kb_per_connection": round((rss(connected, False) - rss(before, False)) / n, 1),
        "connect_cpu_ms_per_agent": round(1000 * cpu(before, connected) / n, 2),
        "agent_cpu_ms_per_agent_min": round(1000 * idle_agent / n / minutes, 3),
        "sandbox_cpu_ms_per_connection_min": round(1000 * idle_sandbox / n / minutes, 3),
        "storm_cpu_ms_per_agent": round(1000 * cpu(idle_end, end) / n, 2),
        "cpu_s_total": round(cpu(before, end), 1),
        "threads": end.threads,
        "open_files_connected": connected.open_files,
    }


def run_fleet_day(options: FleetDayOptions) -> FleetReport:
    started = time.monotonic()
    open_files = raise_open_files(FDS_PER_AGENT * options.agents + FDS_SPARE)
    box_options = SandboxOptions(
        speed=options.speed,
        template=options.template,
        workdir=options.workdir,
        alarms=False,
        handshake_timeout_s=open_timeout(options.agents),
    )
    with Sandbox(box_options) as box:
        probe = _Probe(box)
        clock = box.clock
        secret = box.jwt_secret()
        fleet = Fleet(box.gateway.url, lambda a, c: mint_token(secret, a, c))
        fleet_tid = fleet._thread.native_id  # the agents' event loop
        tids = [fleet_tid] if fleet_tid is not None else []
        try:
            pairs = [(f"agent-{i + 1}", CREATORS[i % len(CREATORS)]) for i in range(options.agents)]
            before = snapshot(tids)
            first = _connect_fleet(fleet, pairs, box, options)
            connected = snapshot(tids)
            names = Names(box.options.stage)
            queues = {
                "jobs": names.queue(JOBS),
                "dlq": names.queue(DLQ),
                "quarantine": names.queue(QUARANTINE),
            }
            ledger = Ledger(box.client("dynamodb"), box.table(JOBS_TABLE.short), queues)
            plan = TrafficPlan(agents=pairs, per_minute=options.jobs_per_minute)
            producer = Producer(box.client("sqs"), box.queue_url(JOBS), ledger, clock, plan).start()
            try:
                idle_from = clock.now()
                time.sleep(clock.real(options.steady_min * 60))
                idle_min = (clock.now() - idle_from) / 60
                idle_end = snapshot(tids)
                report, drop_real = _storm(box, fleet, ledger, options, first)
            finally:
                producer.stop()
            _drain(ledger, clock, report)
            report.released_held = sum(
                int(m)
                for line in box.logs.grep(f"/aws/lambda/{probe.connect_fn}", "released=")
                for m in re.findall(r"released=(\d+)", line)
            )
            report.peak_attempts_per_s = peak_per_second(
                [t for a in fleet.agents.values() for t in a.stats.attempts], drop_real, clock.speed
            )
            report.peak_connects_per_s = peak_per_second(probe.connects, drop_real, clock.speed)
            report.connects_after_drop = sum(1 for t in probe.connects if t >= drop_real)
            report.stage_connect_throttle = connect_throttle(box)
            report.reaped = sum(n for t, n in probe.reaped if t >= drop_real)
            accounting = ledger.account()
            report.accounting = accounting.as_dict()
            report.duplicate_completions = sum(n - 1 for n in fleet.completions().values() if n > 1)
            report.redeliveries = sum(n - 1 for n in fleet.assignments().values() if n > 1)
            report.problems += _judge(report, accounting.lost, accounting.pending)
            report.open_files_limit = open_files
            report.resources = usage_report(
                before, connected, idle_end, snapshot(tids), options.agents, idle_min, fleet_tid
            )
        finally:
            fleet.stop()
    report.wall_s = round(time.monotonic() - started, 1)
    return report


def open_timeout(agents: int) -> float:
    """Real seconds an agent of an `agents`-strong fleet waits for its handshake."""
    return max(10.0, agents / CONNECTS_PER_REAL_S)


def _connect_fleet(
    fleet: Fleet, pairs: list[tuple[str, str]], box: Sandbox, options: FleetDayOptions
) -> float:
    """Start every agent, a wave at a time; production seconds until all were connected."""
    clock = box.clock
    began = clock.now()
    for start in range(0, len(pairs), CONNECT_WAVE):
        wave = pairs[start : start + CONNECT_WAVE]
        for agent_id, creator in wave:
            # Jobs take 5 production seconds; a heartbeat every 2 production minutes.
            agent = fleet.add(agent_id, creator, AgentBehaviour(clock.real(5), False, clock.real(120)))
            agent.backoff = (clock.real(BACKOFF_S[0]), clock.real(BACKOFF_S[1]))
            agent.reconnect_window = clock.real(options.window_s)
            agent.open_timeout = open_timeout(options.agents)
        if not fleet.wait_online([a for a, _ in wave], timeout=120):
            raise RuntimeError(f"agents {wave[0][0]}..{wave[-1][0]} did not connect within 120 s")
    return round(clock.now() - began, 1)


def _storm(
    box: Sandbox, fleet: Fleet, ledger: Ledger, options: FleetDayOptions, first: float
) -> tuple[FleetReport, float]:
    """Drop every connection within one production second; watch the fleet come back.
    Returns the report so far and the real epoch time of the drop."""
    clock = box.clock
    agents = list(fleet.agents.values())
    before = {a.agent_id: a.stats.connects for a in agents}
    ids = list(box.gateway.connections)  # the black-box probe's too, when it is connected
    online = sum(a.online.is_set() for a in agents)  # the fleet's connections among them
    drop_at, drop_real = clock.now(), time.time()
    for n, connection_id in enumerate(ids):
        box.gateway.drop(connection_id)
        if n % 50 == 49:
            time.sleep(clock.real(1) * 50 / len(ids))
    report = FleetReport(options.agents, options.speed, options.window_s, first, dropped=online)
    need = math.ceil(0.99 * len(agents))
    deadline = time.monotonic() + clock.real(options.reconnect_timeout_min * 60)
    back = 0
    while time.monotonic() < deadline and (report.back_all_s is None or report.jobs_flow_s is None):
        now = clock.now()
        back = sum(1 for a in agents if a.online.is_set() and a.stats.connects > before[a.agent_id])
        if report.back_99_s is None and back >= need:
            report.back_99_s = round(now - drop_at, 1)
        if report.back_all_s is None and back == len(agents):
            report.back_all_s = round(now - drop_at, 1)
        if report.jobs_flow_s is None and _flowing(fleet, ledger, drop_at):
            report.jobs_flow_s = round(now - drop_at, 1)
        time.sleep(0.25)
    report.reconnected = sum(1 for a in agents if a.stats.connects > before[a.agent_id])
    if report.back_99_s is None:
        report.problems.append(
            f"fewer than 99 % of the agents were back within {options.reconnect_timeout_min} min"
        )
    if report.jobs_flow_s is None:
        report.problems.append("no job sent after the drop completed")
    return report, drop_real


def _flowing(fleet: Fleet, ledger: Ledger, drop_at: float) -> bool:
    """A job sent after the drop has completed."""
    done = fleet.completions()
    return any(sent > drop_at and job in done for job, sent in list(ledger.sent_at.items()))


def _drain(ledger: Ledger, clock: Any, report: FleetReport) -> None:
    deadline = time.monotonic() + clock.real(DRAIN_MIN * 60)
    while time.monotonic() < deadline:
        if ledger.account().pending == 0:
            return
        time.sleep(1.0)
    report.problems.append(f"jobs still pending {DRAIN_MIN} production minutes after traffic stopped")


def _judge(report: FleetReport, lost: int, stuck: int) -> list[str]:
    problems = []
    if lost:
        problems.append(f"{lost} job(s) lost")
    if stuck:
        problems.append(f"{stuck} job(s) stuck (still pending after the drain)")
    if report.duplicate_completions:
        problems.append(f"{report.duplicate_completions} duplicate completion(s)")
    if report.peak_attempts_per_s > report.api_limit_per_s:
        problems.append(
            f"{report.peak_attempts_per_s} connect attempts in one second: over API Gateway's "
            f"{report.api_limit_per_s} per second (widen --window)"
        )
    return problems


def main(argv: list[str] | None = None) -> int:
    import argparse
    import json
    import sys

    parser = argparse.ArgumentParser(
        prog="python -m sandbox.gameday.fleet_day", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--agents", type=int, default=1000, help=f"1-{MAX_AGENTS} reference agents (default 1000)"
    )
    parser.add_argument("--speed", type=float, default=4.0, help="production seconds per real second, 1-60")
    parser.add_argument("--window", type=float, default=30.0, help="first-retry jitter, production s, 0-300")
    parser.add_argument("--json", type=Path, help="also write the report as JSON to this file")
    args = parser.parse_args(argv)
    if not 1 <= args.agents <= MAX_AGENTS or not 1 <= args.speed <= 60 or not 0 <= args.window <= 300:
        print(
            f"error: invalid sizes --agents {args.agents} --speed {args.speed:g} --window {args.window:g}: "
            f"allowed --agents 1-{MAX_AGENTS}, --speed 1-60, --window 0-300",
            file=sys.stderr,
        )
        return 2
    print(f"fleet game day: {args.agents} agents at {args.speed:g}x, starting the sandbox…", flush=True)
    report = run_fleet_day(FleetDayOptions(agents=args.agents, speed=args.speed, window_s=args.window))
    for key, value in report.as_dict().items():
        print(f"{key:24} {value}")
    if args.json:
        args.json.write_text(json.dumps(report.as_dict(), indent=2))
    return 0 if report.outcome == "passed" else 1


if __name__ == "__main__":
    raise SystemExit(main())
