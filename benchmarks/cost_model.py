"""Prices, capacity rules and the per-job cost table of benchmarks/dispatcher_calls.py.

The "before" column is that benchmark's own output on commit 87053c3 (the protocol of the time:
every job acknowledged with `job.ack` and both frames answered; a transaction on both sides for
every creator; a rate-limit write per inbound frame; strongly consistent reads), measured with
`--legacy-agents` on an export of that commit, 1000 jobs, 50 agents.
"""

from __future__ import annotations

import math
import time
from collections import Counter, defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

# List prices, us-east-1, USD, as published on the AWS pricing pages in 2025-01 (DynamoDB
# on-demand after its 2024-11-01 reduction; Lambda on Arm, the functions' architecture).
PRICES_DATE = "2025-01"
PRICES = {
    "sqs_request": 0.40 / 1e6,  # standard queue, per request (64 KB chunk)
    "ddb_wru": 0.625 / 1e6,  # on-demand write request unit
    "ddb_rru": 0.125 / 1e6,  # on-demand read request unit
    "ws_message": 1.00 / 1e6,  # API Gateway WebSocket message (32 KB increments), first 1 B
    "lambda_request": 0.20 / 1e6,  # per invocation
    "lambda_gb_second_arm": 0.0000133334,  # Arm, first 7.5 B GB-s a month
    "logs_gb": 0.50,  # CloudWatch Logs standard ingestion per GB
}
# CloudWatch, per month (us-east-1 list, same date): a standard-resolution alarm per metric it reads
# (a metric-math alarm: every metric of its expression), a composite alarm, a custom metric (the first
# 10,000). Not per job: docs/cost.md prices the alarms of the quiet failure modes with them.
CLOUDWATCH_PRICES = {
    "alarm_metric": 0.10,
    "composite_alarm": 0.50,
    "custom_metric": 0.30,
}
ROWS = ("sqs", "ddb_dispatcher", "ddb_ws_message", "ws_messages", "lambda_requests", "lambda_gbs", "logs")
LABELS = {
    "sqs": "SQS requests (send, receive, delete)",
    "ddb_dispatcher": "DynamoDB dispatcher",
    "ddb_ws_message": "DynamoDB ws-message",
    "ws_messages": "WebSocket messages (in + out)",
    "lambda_requests": "Lambda requests",
    "lambda_gbs": "Lambda duration",
    "logs": "CloudWatch Logs ingestion",
}
# Round trip of one AWS call from inside Lambda, client work included (assumed, not measured:
# moto answers in-process, so its own time is taken out of each invocation and these put back).
# DynamoDB: "single-digit millisecond" item operations; a transaction or a batch of two does more.
LATENCY_S = {
    ("dynamodb", "TransactWriteItems"): 0.010,
    ("dynamodb", "BatchGetItem"): 0.006,
    ("dynamodb", ""): 0.005,
    ("apigatewaymanagementapi", ""): 0.020,
    ("sqs", ""): 0.010,
}
BEFORE_COMMIT = "87053c3"
# row -> (per job, USD per million jobs), measured (see the module docstring) on 2026-11-30.
# The rate-limit writes vary a little from run to run (3.30-3.34 UpdateItem per job, as the run
# crosses more or fewer minute boundaries): $12.72-12.87 without the Lambda duration row.
BEFORE: dict[str, tuple[str, float]] = {
    "sqs": ("0.30 requests", 0.12),
    "ddb_dispatcher": ("4.00 WRU + 1.00 RRU", 2.625),
    "ddb_ws_message": ("7.30 WRU + 0.00 RRU", 4.5625),
    "ws_messages": ("5.0", 5.00),
    "lambda_requests": ("2.10", 0.42),
    "lambda_gbs": ("0.03182 GB-s", 0.4243),
    "logs": ("244 B", 0.122),
}


@dataclass
class CallCounter:
    """Counts boto3 calls by (actor, service, operation) and their DynamoDB capacity by actor.

    Capacity follows DynamoDB's on-demand rules for items under 1 KB (the benchmark checks the
    job item's size): a write or a failed conditional write is 1 WRU, a transactional write 2 per
    item; a strongly consistent read 1 RRU per item, an eventually consistent one 0.5.
    """

    actor: str = "setup"
    calls: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    wru: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    rru: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    batch_rru: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))  # of rru
    aws_seconds: float = 0.0  # wall time inside boto3 calls (moto's own work included)
    modelled_seconds: float = 0.0  # the same calls at LATENCY_S
    _started: float = 0.0

    def register(self, events: Any) -> None:
        """Hook into a botocore event system (the default session's)."""
        events.register("before-parameter-build.*.*", self)
        events.register("before-call.*.*", self._before_call)
        events.register("after-call.*.*", self._after_call)
        events.register("after-call-error.*.*", self._after_call)

    def _before_call(self, **_: Any) -> None:
        self._started = time.perf_counter()

    def _after_call(self, **_: Any) -> None:
        self.aws_seconds += time.perf_counter() - self._started

    def __call__(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        service, op = model.service_model.service_name, model.name
        self.calls[(self.actor, service, op)] += 1
        self.modelled_seconds += LATENCY_S.get((service, op), LATENCY_S.get((service, ""), 0.005))
        if service != "dynamodb":
            return
        if op == "TransactWriteItems":
            self.wru[self.actor] += 2 * len(params.get("TransactItems", []))
        elif op in ("UpdateItem", "PutItem", "DeleteItem"):
            self.wru[self.actor] += 1
        elif op == "GetItem":
            self.rru[self.actor] += 1 if params.get("ConsistentRead") else 0.5
        elif op == "BatchGetItem":
            for request in params.get("RequestItems", {}).values():
                unit = 1 if request.get("ConsistentRead") else 0.5
                self.rru[self.actor] += unit * len(request.get("Keys", []))
                self.batch_rru[self.actor] += unit * len(request.get("Keys", []))
        elif op == "Query":
            self.rru[self.actor] += 1 if params.get("ConsistentRead") else 0.5

    @contextmanager
    def acting(self, actor: str):
        previous, self.actor = self.actor, actor
        try:
            yield
        finally:
            self.actor = previous

    def by_actor(self, actor: str) -> dict[tuple[str, str], int]:
        return {(s, o): n for (a, s, o), n in sorted(self.calls.items()) if a == actor}


def billed_gb_seconds(durations_s: list[float], memory_mb: int) -> float:
    """Lambda bills each invocation's duration rounded up to the millisecond, times its memory."""
    return sum(math.ceil(d * 1000) for d in durations_s) / 1000 * memory_mb / 1024


def after_rows(result: dict[str, Any]) -> dict[str, tuple[str, float]]:
    """row -> (per job, USD per million jobs) of a run."""
    jobs, counter = result["jobs"], result["counter"]
    per_million = 1e6 / jobs
    sqs_actors = ("producer", "event_source", "dispatcher")
    sqs = sum(n for (a, s, _), n in counter.calls.items() if s == "sqs" and a in sqs_actors)
    rows = {"sqs": (f"{sqs / jobs:.2f} requests", sqs * per_million * PRICES["sqs_request"])}
    for actor in ("dispatcher", "ws_message"):
        wru, rru = counter.wru[actor], counter.rru[actor]
        if actor == "ws_message":  # a heartbeat listing results is ws-message: its batch read is per job
            rru += counter.batch_rru["heartbeat"]
        cost = (wru * PRICES["ddb_wru"] + rru * PRICES["ddb_rru"]) * per_million
        rows[f"ddb_{actor}"] = (f"{wru / jobs:.2f} WRU + {rru / jobs:.2f} RRU", cost)
    pushes = sum(n for (a, _, o), n in counter.calls.items() if o == "PostToConnection" and a != "heartbeat")
    messages = pushes + result["inbound_frames"]
    rows["ws_messages"] = (f"{messages / jobs:.1f}", messages * per_million * PRICES["ws_message"])
    invocations = result["dispatcher_invocations"] + result["inbound_frames"]
    requests_usd = invocations * per_million * PRICES["lambda_request"]
    rows["lambda_requests"] = (f"{invocations / jobs:.2f}", requests_usd)
    gbs = result["gb_seconds"]
    rows["lambda_gbs"] = (f"{gbs / jobs:.5f} GB-s", gbs * per_million * PRICES["lambda_gb_second_arm"])
    log_bytes = result["dispatcher_log_bytes"] + result["ws_message_log_bytes"]
    rows["logs"] = (f"{log_bytes / jobs:.0f} B", log_bytes * per_million / 1e9 * PRICES["logs_gb"])
    return rows


def table(after: dict[str, tuple[str, float]]) -> list[str]:
    """The per-job table, before (commit BEFORE_COMMIT) and after, and the totals."""
    head = f"  {'per job':<38} {'before ' + BEFORE_COMMIT:>22} {'$/M':>7}   {'after':>22} {'$/M':>7}"
    out = [head]
    for row in ROWS:
        (b_qty, b_usd), (a_qty, a_usd) = BEFORE[row], after[row]
        out.append(f"  {LABELS[row]:<38} {b_qty:>22} {b_usd:>7.2f}   {a_qty:>22} {a_usd:>7.2f}")
    before_total = sum(usd for _, usd in BEFORE.values())
    after_total = sum(usd for _, usd in after.values())
    total = "total per 1,000,000 jobs"
    out.append(f"  {total:<38} {'':>22} {before_total:>7.2f}   {'':>22} {after_total:>7.2f}")
    return out


def price_list() -> list[str]:
    """The prices the table uses, with their date."""
    return [f"Prices (list, us-east-1, {PRICES_DATE}; free tiers ignored):"] + [
        f"  {name:<22} ${value * (1 if name in ('logs_gb', 'lambda_gb_second_arm') else 1e6):.10g}"
        + ("" if name in ("logs_gb", "lambda_gb_second_arm") else " per million")
        for name, value in PRICES.items()
    ]
