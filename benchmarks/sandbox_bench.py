"""The sandbox's speed: the whole game-day suite's wall time, and the jobs/s it sustains at 60x.

    .venv/bin/python benchmarks/sandbox_bench.py [--scenarios NAME ...] [--modes composite all]
        [--agents 10 1000] [--jobs 300] [--no-suite] [--no-throughput]

- the suite: every game day of sandbox/gameday/scenarios.py in both alert modes (`byoip gameday
  --alert-mode composite|all`), one after another at GAMEDAY_SPEED, through
  benchmarks/gameday_speed.py's `run_suite`; printed per game day and in total (wall seconds).
  `--scenarios` / `--modes` run a part of it (the default, and `make bench`, run all of it);
- throughput: a sandbox at 60x with N connected agents (heartbeats every 2 production minutes, 2 real
  seconds) and `--jobs` jobs sent at once through the job queue; jobs/s from the first send to the
  last completion the agents saw (producer SendMessageBatch -> event-source poller -> dispatcher
  -> agent -> job.result through ws-message), with re-deliveries and duplicate completions. Jobs
  not completed within 600 s are reported, not waited for.
Figures are printed, nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.gameday_speed import MODES, check_scenarios, run_suite  # noqa: E402
from lambdas.common.auth import mint_token  # noqa: E402
from sandbox.agent import AgentBehaviour  # noqa: E402
from sandbox.clock import GAMEDAY_SPEED  # noqa: E402
from sandbox.fleet import Fleet  # noqa: E402
from sandbox.gameday.scenarios import SCENARIOS  # noqa: E402
from sandbox.proc_usage import raise_open_files  # noqa: E402
from sandbox.system import Sandbox, SandboxOptions  # noqa: E402

THROUGHPUT_SPEED = 60.0
WAVE = 50  # agents started together while the fleet connects
COMPLETION_LIMIT_S = 600.0


def send_jobs(box: Sandbox, jobs: int, agents: list[tuple[str, str]]) -> list[str]:
    sqs = box.client("sqs")
    url = box.queue_url("jobs")
    ids = [f"bench-{n:05d}" for n in range(jobs)]
    for start in range(0, jobs, 10):
        entries = []
        for n in range(start, min(start + 10, jobs)):
            agent_id, creator_id = agents[n % len(agents)]
            body = {
                "jobId": ids[n],
                "agentId": agent_id,
                "creatorId": creator_id,
                "kind": "bench",
                "payload": {},
                "critical": False,
            }
            entries.append({"Id": str(n - start), "MessageBody": json.dumps(body)})
        sqs.send_message_batch(QueueUrl=url, Entries=entries)
    return ids


def throughput(agent_count: int, jobs: int) -> str:
    """One sandbox at 60x with `agent_count` agents; the result line."""
    raise_open_files(2 * agent_count + 1024)  # both ends of every agent's socket are in this process
    with Sandbox(SandboxOptions(speed=THROUGHPUT_SPEED, alarms=False)) as box:
        secret = box.jwt_secret()
        fleet = Fleet(box.gateway.url, lambda a, c: mint_token(secret, a, c))
        agents = [(f"agent-{i + 1}", f"creator-{i % 5 + 1}") for i in range(agent_count)]
        try:
            connect_started = time.perf_counter()
            for start in range(0, agent_count, WAVE):
                wave = agents[start : start + WAVE]
                for agent_id, creator_id in wave:
                    fleet.add(agent_id, creator_id, AgentBehaviour(0.0, False, box.clock.real(120)))
                if not fleet.wait_online([a for a, _ in wave], timeout=120):
                    online = sum(a.online.is_set() for a in fleet.agents.values())
                    waited = time.perf_counter() - connect_started
                    return (
                        f"{agent_count} agents at {THROUGHPUT_SPEED:g}x: not sustained, {online} of "
                        f"{len(fleet.agents)} started were online after {waited:.0f} s "
                        f"(agents {wave[0][0]}.. not within 120 s)"
                    )
            connect_s = time.perf_counter() - connect_started
            started = time.perf_counter()
            wanted = set(send_jobs(box, jobs, agents))
            done: set[str] = set()
            while time.perf_counter() - started < COMPLETION_LIMIT_S:
                done = wanted & fleet.completed()
                if done == wanted:
                    break
                time.sleep(0.05)
            elapsed = time.perf_counter() - started
            redeliveries = sum(n - 1 for n in fleet.assignments().values() if n > 1)
            twice = sum(n - 1 for n in fleet.completions().values() if n > 1)
        finally:
            fleet.stop()
    label = f"{agent_count} agents at {THROUGHPUT_SPEED:g}x, {jobs} jobs"
    missing = ""
    if done != wanted:
        missing = f", {len(wanted) - len(done)} not completed within {COMPLETION_LIMIT_S:.0f} s"
    return (
        f"{label:34}: {len(done) / elapsed:7.1f} jobs/s (re-deliveries {redeliveries}, duplicate "
        f"completions {twice}{missing}; fleet connected in {connect_s:.0f} s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenarios", nargs="+", default=list(SCENARIOS), help="default: every scenario")
    parser.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES), help="default: both")
    parser.add_argument("--agents", nargs="+", type=int, default=[10, 1000], help="fleet sizes, 1-2000")
    parser.add_argument("--jobs", type=int, default=300, help="jobs per throughput run (hundreds)")
    parser.add_argument("--no-suite", action="store_true", help="skip the game-day suite")
    parser.add_argument("--no-throughput", action="store_true", help="skip the throughput runs")
    args = parser.parse_args()
    check_scenarios(args.scenarios)
    if not 1 <= args.jobs <= 2000 or not all(1 <= n <= 2000 for n in args.agents):
        raise SystemExit("invalid sizes: --jobs 1-2000 (moto scans whole queues), --agents 1-2000")

    lines = []
    if not args.no_throughput:
        for count in args.agents:
            print(f"throughput: {count} agents at {THROUGHPUT_SPEED:g}x…", flush=True)
            lines.append(throughput(count, args.jobs))
            print(lines[-1], flush=True)
    if not args.no_suite:
        whole = args.scenarios == list(SCENARIOS) and args.modes == list(MODES)
        print(f"game-day suite: {len(args.scenarios)} scenarios x {len(args.modes)} modes…", flush=True)
        wall, failed = run_suite(args.scenarios, args.modes, GAMEDAY_SPEED, lambda s: print(s, flush=True))
        days = len(args.scenarios) * len(args.modes)
        label = "game-day suite" if whole else "part of the game-day suite"
        lines.append(
            f"{label:34}: {wall:7.0f} s wall for {days} "
            f"game days at {GAMEDAY_SPEED:g}x ({', '.join(args.modes)}), {len(failed)} not passed"
            + (f": {', '.join(failed)}" if failed else "")
        )
        print(lines[-1], flush=True)
    print("\n".join(["", *lines]))


if __name__ == "__main__":
    main()
