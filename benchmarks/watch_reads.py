"""The creator watch's reads per run as the fleet grows, with what has to be decided held fixed.

    .venv/bin/python benchmarks/watch_reads.py [--fleets 1000,10000,100000] [--runs 2]

For each fleet size, a fresh moto (in-process) holds N connected agents (their agent and
connection items, five agents a creator, a CreatorLimits item for one creator in five) and, the
same at every size, the work the watch has to decide about: 20 creators with two jobs held for
an offline agent each, 10 creators with failures in their outcome window (5 of them enough to
trip the breaker), 3 creators whose breaker is open, and 10 agents with an announced offline
episode that are back. Then lambdas.common.watch.watch runs `--runs` times, a minute apart.

Printed per run: the watch's DynamoDB read units, computed from what each call returned
(DynamoDB's on-demand rules: a Query or Scan page costs its items' bytes rounded up to 4 KB, a
BatchGetItem 1 per item up to 4 KB, each halved when eventually consistent), its calls, and its
wall time split into the time inside moto and the time in our code. moto finds a GSI's items by
walking the whole table, so the moto part grows with the table; DynamoDB reads an index
partition directly. `before` is what the replaced whole-table scans read at that size (the agents
table, the CreatorLimits table and the held-jobs index, every minute).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.dispatcher_calls import configure_env, item_bytes  # noqa: E402

UNIT = 4096  # bytes per read unit (strongly consistent; eventually consistent reads cost half)
NOW = 1_795_000_000
PER_CREATOR = 5


def units(items: list[dict[str, Any]], *, consistent: bool, per_item: bool) -> float:
    """Read units of the items one call returned."""
    sizes = [item_bytes(_plain(i)) for i in items]
    whole = (
        sum(math.ceil(max(s, 1) / UNIT) for s in sizes) if per_item else math.ceil(max(sum(sizes), 1) / UNIT)
    )
    return whole if consistent else whole / 2


def _plain(item: dict[str, Any]) -> dict[str, Any]:
    return {k: next(iter(v.values())) for k, v in item.items()}


@dataclass
class ReadMeter:
    """Read units and calls of every DynamoDB read, from the parsed responses (a botocore hook)."""

    rru: float = 0.0
    calls: Counter[str] = field(default_factory=Counter)
    aws_seconds: float = 0.0
    _started: float = 0.0

    def register(self, events: Any) -> None:
        events.register("before-call.*.*", self._before)
        events.register("after-call.*.*", self._after)

    def _before(self, **_: Any) -> None:
        self._started = time.perf_counter()

    def _after(self, model: Any, parsed: dict[str, Any], **_: Any) -> None:
        self.aws_seconds += time.perf_counter() - self._started
        self.calls[model.name] += 1
        if model.name in ("Query", "Scan"):
            self.rru += units(parsed.get("Items", []), consistent=False, per_item=False)
        elif model.name == "BatchGetItem":
            for items in parsed.get("Responses", {}).values():
                self.rru += units(items, consistent=False, per_item=True)
        elif model.name == "GetItem" and "Item" in parsed:
            self.rru += units([parsed["Item"]], consistent=True, per_item=True)

    def reset(self) -> None:
        self.rru, self.calls, self.aws_seconds = 0.0, Counter(), 0.0


def _s(value: str) -> dict[str, str]:
    return {"S": value}


def _n(value: int) -> dict[str, str]:
    return {"N": str(value)}


def seed(ddb: Any, fleet: int) -> list[tuple[str, dict[str, Any]]]:
    """The idle fleet, then the fixed set of decisions (see the module docstring)."""
    from lambdas.common import tables
    from tests.lambdas.helpers import ENV

    agents_table, limits_table, jobs = ENV["AGENTS_TABLE"], ENV["CREATOR_LIMITS_TABLE"], ENV["JOBS_TABLE"]
    items: list[tuple[str, dict[str, Any]]] = []
    for n in range(fleet):
        creator, agent = f"creator-{n // PER_CREATOR}", f"agent-{n % PER_CREATOR}"
        base = {"agentId": _s(agent), "creatorId": _s(creator)}
        items.append(
            (
                agents_table,
                {
                    "pk": _s(tables.agent_pk(creator, agent)),
                    **base,
                    "connectionId": _s(f"c-{n}"),
                    "connectedAt": _n(NOW - 3600),
                    "lastSeen": _n(NOW - 30),
                    "version": _s("1.4.0"),
                },
            )
        )
        items.append(
            (
                agents_table,
                {
                    "pk": _s(tables.connection_pk(f"c-{n}")),
                    **base,
                    "connectedAt": _n(NOW - 3600),
                    "tokenExpiresAt": _n(NOW + 600),
                    "tokenIssuedAt": _n(NOW - 300),
                    "tokenKid": _s("k1"),
                    "ttl": _n(NOW + 7200),
                },
            )
        )
    for c in range(0, fleet // PER_CREATOR, 5):
        items.append(
            (limits_table, {"creatorId": _s(f"creator-{c}"), "maxConcurrent": _n(10), "inFlight": _n(0)})
        )
    shard_counts = Counter(
        tables.fleet_shard(f"creator-{n // PER_CREATOR}", f"agent-{n % PER_CREATOR}") for n in range(fleet)
    )
    for shard, count in shard_counts.items():
        items.append((agents_table, {"pk": _s(tables.fleet_pk(shard)), "connected": _n(count)}))
    # the decisions: creators d-0..d-19 with an offline agent and two held jobs each
    for d in range(20):
        creator = f"d-{d}"
        items.append(
            (
                agents_table,
                {
                    "pk": _s(tables.agent_pk(creator, "agent-0")),
                    "agentId": _s("agent-0"),
                    "creatorId": _s(creator),
                    "lastSeen": _n(NOW - 30),
                },
            )
        )
        for j in range(2):
            items.append(
                (
                    jobs,
                    {
                        "jobId": _s(f"held-{d}-{j}"),
                        "status": _s("held"),
                        "agentId": _s("agent-0"),
                        "creatorId": _s(creator),
                        "kind": _s("post.publish"),
                        "reason": _s("agent_offline"),
                        "heldAgentId": _s(tables.agent_ref(creator, "agent-0")),
                        "createdAt": _n(NOW - 20),
                        "attempt": _n(1),
                    },
                )
            )
    # windows: w-0..w-9, five failures each for w-0..w-4 (enough to trip), one for the others
    for w in range(10):
        window: dict[str, Any] = {
            "pk": _s(tables.breaker_pk(f"w-{w}")),
            "creatorId": _s(f"w-{w}"),
            "v": _n(5),
        }
        for f in range(5 if w < 5 else 1):
            window[f"o:job-{w}-{f}:{NOW - 100}"] = _s(f"{NOW - 100} fail")
        window["watchFor"] = _s(tables.WATCH_WINDOW)
        items.append((agents_table, window))
    # open breakers: b-0..b-2, opened a minute ago (still cooling down)
    for b in range(3):
        items.append(
            (
                limits_table,
                {
                    "creatorId": _s(f"b-{b}"),
                    "paused": {"BOOL": True},
                    "pausedBy": _s("circuit-breaker"),
                    "breakerState": _s("open"),
                    "breakerOpenedAt": _n(NOW - 60),
                    "breakerEpisode": _s(f"ep-{b}"),
                },
            )
        )
    # announced episodes of agents that are back: e-0..e-9
    for e in range(10):
        creator = f"e-{e}"
        items.append(
            (
                agents_table,
                {
                    "pk": _s(tables.agent_pk(creator, "agent-0")),
                    "agentId": _s("agent-0"),
                    "creatorId": _s(creator),
                    "connectionId": _s(f"ce-{e}"),
                    "connectedAt": _n(NOW - 50),
                    "lastSeen": _n(NOW - 10),
                    "offlineNotifiedFor": _n(NOW - 900),
                    "offlineNotifiedAt": _n(NOW - 600),
                    "watchFor": _s(tables.WATCH_EPISODE),
                },
            )
        )
    by_table: dict[str, list[dict[str, Any]]] = {}
    for table, item in items:
        by_table.setdefault(table, []).append(item)
    for table, rows in by_table.items():
        for start in range(0, len(rows), 25):
            ddb.batch_write_item(
                RequestItems={table: [{"PutRequest": {"Item": r}} for r in rows[start : start + 25]]}
            )
    return items


def before(items: list[tuple[str, dict[str, Any]]]) -> float:
    """Read units of the replaced snapshot: the agents and limits tables and the held-jobs index,
    scanned whole (a Scan reads its items' bytes, 4 KB a unit, halved: eventually consistent)."""
    from tests.lambdas.helpers import ENV

    scanned = (ENV["AGENTS_TABLE"], ENV["CREATOR_LIMITS_TABLE"])
    read = [i for t, i in items if t in scanned or "heldAgentId" in i]
    return units(read, consistent=False, per_item=False)


def measure(fleet: int, runs: int) -> list[dict[str, Any]]:
    import logging

    import boto3
    from moto import mock_aws

    configure_env()
    from lambdas.common import aws, watch
    from tests.lambdas import helpers as h
    from tests.lambdas.resources import create_resources

    logger = logging.getLogger("watch-bench")
    logger.addHandler(logging.NullHandler())
    logger.propagate = False
    rows = []
    with mock_aws():
        boto3.setup_default_session(region_name=h.REGION)
        aws.reset()
        os.environ.update(create_resources())
        ddb = boto3.client("dynamodb", region_name=h.REGION)
        started = time.perf_counter()
        old = before(seed(ddb, fleet))
        seeded = time.perf_counter() - started
        meter = ReadMeter()
        meter.register(boto3.DEFAULT_SESSION.events)  # type: ignore[union-attr]
        for run in range(runs):
            meter.reset()
            started = time.perf_counter()
            counts = watch.watch(now=NOW + 60 * run, logger=logger)
            wall = time.perf_counter() - started
            assert counts is not None, "the watch could not read its snapshot"
            rows.append(
                {
                    "fleet": fleet,
                    "run": run + 1,
                    "rru": meter.rru,
                    "reads": sum(
                        n
                        for op, n in meter.calls.items()
                        if op in ("Query", "Scan", "BatchGetItem", "GetItem")
                    ),
                    "writes": sum(
                        n
                        for op, n in meter.calls.items()
                        if op.endswith("Item") and op not in ("GetItem", "BatchGetItem")
                    ),
                    "wall": wall,
                    "moto": meter.aws_seconds,
                    "before": old,
                    "seeded": seeded,
                    "connected": counts.connected,
                    "decided": (counts.opened, counts.notified, counts.released),
                }
            )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--fleets", default="1000,10000,100000", help="comma-separated fleet sizes (agents)")
    parser.add_argument("--runs", type=int, default=2, help="watch runs per fleet size, a minute apart")
    args = parser.parse_args(argv)
    try:
        fleets = [int(f) for f in args.fleets.split(",")]
    except ValueError:
        parser.error(f"--fleets must be comma-separated whole numbers, got {args.fleets!r}")
    if not fleets or min(fleets) < 1 or args.runs < 1:
        parser.error("--fleets needs sizes of at least 1 agent and --runs at least 1")
    print("creator watch per run (benchmarks/watch_reads.py): fixed decisions, growing idle fleet")
    print(
        f"{'agents':>8} {'run':>3} {'read units':>10} {'read calls':>10} {'writes':>6} {'wall s':>7}"
        f" {'in moto s':>9} {'ours s':>7} {'connected':>9} {'opened/events/released':>22}"
        f" {'before (scans) RU':>17}"
    )
    for fleet in fleets:
        for r in measure(fleet, args.runs):
            decided = "/".join(str(x) for x in r["decided"])
            print(
                f"{r['fleet']:>8} {r['run']:>3} {r['rru']:>10.1f} {r['reads']:>10} {r['writes']:>6}"
                f" {r['wall']:>7.2f} {r['moto']:>9.2f} {r['wall'] - r['moto']:>7.3f} {r['connected']:>9}"
                f" {decided:>22} {r['before']:>17.1f}"
            )
        sys.stdout.flush()
    print(
        "read units: what the watch's own reads cost in DynamoDB (eventually consistent, 4 KB units);"
        " 'before': the whole-table scans it replaced, at that fleet size, each minute"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
