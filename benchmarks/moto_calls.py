"""moto's CPU per DynamoDB call in the sandbox's server process, with and without sandbox/moto_patches.py.

    .venv/bin/python benchmarks/moto_calls.py [--calls 300] [--rounds 5]

Starts the sandbox's moto servers (DynamoDB in its own process) once patched and once plain
(SANDBOX_MOTO_PATCHES=off), alternately `--rounds` times, and sends each the calls a job costs
the backend: the dispatcher's assignment (UpdateItem, 14 actions and a condition, on a new item),
the result's completion (UpdateItem on that item), a GetItem and a PutItem. The figure is the
server process's CPU time per call (from /proc), so the client's own cost stays out of it:
min / median / max over the rounds (statistics.median: with an even count, the mean of the two
middle rounds), and the saving of the medians, flagged as noise where the two ranges overlap.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from sandbox.moto_patches import PATCHES_ENV
from sandbox.moto_server import MotoServer

ASSIGN = (
    "SET #status = :assigned, agentId = :agent, creatorId = :creator, kind = :kind, payload = :payload,"
    " critical = :critical, attempt = :attempt, updatedAt = :now, connectionId = :conn,"
    " leaseState = :active, leaseExpiresAt = :lease, limitsDay = :day REMOVE heldAgentId, reason"
)
ASSIGNABLE = (
    "attribute_not_exists(jobId) OR (creatorId = :creator AND agentId = :agent"
    " AND #status IN (:queued, :held) AND attempt = :attempt)"
)
COMPLETE = "SET #status = :done, updatedAt = :now REMOVE leaseState, leaseExpiresAt, connectionId, limitsDay"


def _s(value: str) -> dict[str, str]:
    return {"S": value}


def _assign_values(n: int) -> dict[str, Any]:
    return {
        ":assigned": _s("assigned"), ":agent": _s("agent-1"), ":creator": _s("creator-1"), ":kind": _s("k"),
        ":payload": _s("{}"), ":critical": {"BOOL": False}, ":attempt": {"N": "1"}, ":now": {"N": str(n)},
        ":conn": _s("conn-1"), ":active": _s("active"), ":lease": {"N": str(n + 300)}, ":day": _s("-"),
        ":queued": _s("queued"), ":held": _s("held"),
    }  # fmt: skip


def server_cpu_seconds(pid: int) -> float:
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(patched: bool, calls: int, label: str) -> dict[str, float]:
    """ms of the DynamoDB server's CPU per call, by call kind."""
    os.environ[PATCHES_ENV] = "on" if patched else "off"
    moto = MotoServer().start()
    try:
        ddb = moto.client_factory()("dynamodb")
        ddb.create_table(
            TableName="jobs",
            KeySchema=[{"AttributeName": "jobId", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "jobId", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        pid = moto._processes[1].pid  # the DynamoDB process (MotoServer.start)
        steps: dict[str, Callable[[int], Any]] = {
            "UpdateItem assign (new item)": lambda n: ddb.update_item(
                TableName="jobs", Key={"jobId": _s(f"{label}-{n}")}, UpdateExpression=ASSIGN,
                ConditionExpression=ASSIGNABLE, ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=_assign_values(n), ReturnValuesOnConditionCheckFailure="ALL_OLD",
            ),
            "UpdateItem complete": lambda n: ddb.update_item(
                TableName="jobs", Key={"jobId": _s(f"{label}-{n}")}, UpdateExpression=COMPLETE,
                ConditionExpression="#status = :assigned AND connectionId = :conn",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":done": _s("completed"), ":now": {"N": str(n)},
                    ":assigned": _s("assigned"), ":conn": _s("conn-1"),
                },
            ),
            "GetItem": lambda n: ddb.get_item(TableName="jobs", Key={"jobId": _s(f"{label}-{n}")}),
            "PutItem": lambda n: ddb.put_item(TableName="jobs", Item={"jobId": _s(f"put-{n}"), "a": _s("x")}),
        }  # fmt: skip
        out = {}
        for name, step in steps.items():
            before = server_cpu_seconds(pid)
            for n in range(calls):
                step(n)
            out[name] = (server_cpu_seconds(pid) - before) / calls * 1000
        return out
    finally:
        moto.stop()


def spread(values: list[float]) -> str:
    """min / median / max, e.g. "4.41 / 4.57 / 5.02"."""
    return f"{min(values):.2f} / {statistics.median(values):.2f} / {max(values):.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=300, help="calls of each kind per round (50-5000)")
    parser.add_argument("--rounds", type=int, default=5, help="patched/plain pairs, alternated (1-10)")
    args = parser.parse_args()
    if not 50 <= args.calls <= 5000 or not 1 <= args.rounds <= 10:
        raise SystemExit("invalid sizes: --calls 50-5000, --rounds 1-10")
    runs: dict[bool, list[dict[str, float]]] = defaultdict(list)
    for r in range(args.rounds):
        for patched in (False, True):
            runs[patched].append(measure(patched, args.calls, f"r{r}"))
    print(
        f"moto DynamoDB server CPU per call, ms: min / median / max of {args.rounds} alternated rounds,"
        f" {args.calls} calls each"
    )
    print(f"{'call':32} {'plain moto':>22} {'patched':>22} {'saved':>7}")
    for name in runs[True][0]:
        plain, patched = [r[name] for r in runs[False]], [r[name] for r in runs[True]]
        saved = 1 - statistics.median(patched) / statistics.median(plain)
        apart = max(patched) < min(plain) or max(plain) < min(patched)
        note = "" if apart else " (the ranges overlap: noise)"
        print(f"{name:32} {spread(plain):>22} {spread(patched):>22} {saved:7.0%}{note}")
    print(f"(taken {time.strftime('%Y-%m-%d %H:%M:%S')}, load average {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    main()
