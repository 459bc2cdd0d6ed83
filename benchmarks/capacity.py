"""The capacity model (stacks/capacity.py), printed: which limit binds first, at what fleet and job
rate, and what to raise or redesign at 10x and 100x. Arithmetic only (no AWS, no moto): the
quotas are AWS's published defaults, each with its page; the demand is the project's own figures.

    .venv/bin/python benchmarks/capacity.py [--agents 1000,10000,100000] [--jobs-per-agent-minute 5]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from stacks import capacity as cap  # noqa: E402
from stacks.limits import FLEET_AGENTS, SIZED  # noqa: E402


def _loads(agents: int, jobs_per_s: float, deployed: cap.Sizing) -> None:
    rows = sorted(cap.loads(agents, jobs_per_s, deployed), key=lambda load: -load.use)
    for load in rows:
        mark = "  <- binds" if load is rows[0] and load.use > 1 else ""
        figures = f"{load.demand:10,.1f} of {load.limit:8,.0f}  {load.use:6.0%}"
        print(f"    {load.name:38} {figures}  {load.what}{mark}")


def _sizing(s: cap.Sizing) -> str:
    return (
        f"$connect {s.connect_rate}/s (burst {s.connect_burst}), $default {s.default_rate}/s "
        f"(burst {s.default_burst}), other {s.other_rate}/s; reserved: dispatcher {s.dispatcher}, "
        f"ws-connect {s.ws_connect}, ws-message {s.ws_message}, ws-disconnect {s.ws_disconnect} "
        f"(total {s.reserved}); creator ceiling {s.creator_frames_per_minute:,} frames/min"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", default="1000,10000,100000")
    parser.add_argument("--jobs-per-agent-minute", type=float, default=cap.JOBS_PER_AGENT_MINUTE)
    args = parser.parse_args(argv)
    try:
        fleets = [int(n) for n in args.agents.split(",")]
    except ValueError:
        parser.error("--agents must be comma-separated whole numbers, e.g. 1000,10000")
    if any(n < 1 for n in fleets) or args.jobs_per_agent_minute < 0:
        parser.error("--agents must be at least 1 each, --jobs-per-agent-minute at least 0")

    print("AWS quotas (defaults, per account and Region):")
    for name, q in cap.QUOTAS.items():
        raise_ = "raisable" if q.raisable else "fixed"
        print(f"  {name:20} {q.value:>8,.0f}  {q.what} [{raise_}]\n  {'':20} {'':>8}  {q.source}")

    print(f"\nDeployed (stacks/limits.py, sized for FLEET_AGENTS = {FLEET_AGENTS:,}): {_sizing(SIZED)}")
    for agents in fleets:
        jobs = agents * args.jobs_per_agent_minute / 60
        print(f"\n{agents:,} agents, {jobs:,.1f} jobs/s, against the deployed limits:")
        _loads(agents, jobs, SIZED)
        print(f"  reconnect storm through $connect: {cap.reconnect_storm_s(agents, SIZED):,.0f} s")

    fleet, binds = cap.largest_fleet(SIZED)
    print(
        f"\nLargest busy fleet the deployed limits carry: {fleet:,} agents "
        f"({cap.default_jobs_per_s(fleet):,.1f} jobs/s); one more and '{binds.name}' binds."
    )

    for agents in fleets:
        sized = cap.sizing(agents)
        jobs = agents * args.jobs_per_agent_minute / 60
        print(f"\nResized for {agents:,} agents: {_sizing(sized)}")
        _loads(agents, jobs, sized)
        print(f"  reconnect storm through $connect: {cap.reconnect_storm_s(agents, sized):,.0f} s")
        for action in cap.actions(agents, jobs):
            print(f"  to do ({action.load} at {action.use:.0%}): {action.what}")

    print("\nOne creator (its items each sit on one partition):")
    for sized in (SIZED, *(cap.sizing(n) for n in fleets if n != FLEET_AGENTS)):
        for limited in (False, True):
            hot = cap.hot_creator(sized, agents=10, limited=limited)
            kind = "limited" if limited else "unlimited"
            print(
                f"  sized for {sized.agents:>7,}: a {kind:9} creator with 10 agents completes at most "
                f"{hot.jobs_per_s:7,.1f} jobs/s; bound by {hot.binding}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
