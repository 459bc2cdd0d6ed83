"""AWS API calls per job through the unmodified handlers over moto, and what a million jobs cost.

Drives N jobs (default 1000) for connected agents through the path of a real deployment:
the producer's SendMessage, the Lambda event source's ReceiveMessage/DeleteMessageBatch
(batches of 10), dispatcher-sqs (PostToConnection goes to moto, which accepts every
connection), then each agent's `job.ack` and `job.result` through ws-message. Every boto3
call is counted by a botocore `before-parameter-build` hook on the default session, by
(service, operation) and by who made it. Log bytes printed by the handlers are counted too
(CloudWatch Logs ingestion: EMF + log lines).

    .venv/bin/python benchmarks/dispatcher_calls.py [--jobs 1000] [--agents 50] [--duplicates 0.0]

1000 jobs take ~3 CPU-minutes: moto's TransactWriteItems deep-copies every table it touches,
so its cost grows with the table (real DynamoDB does not). The call counts do not depend on it.
"""

from __future__ import annotations

import argparse
import io
import math
import os
import sys
import time
from collections import Counter
from contextlib import contextmanager, redirect_stdout
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

# List prices, us-east-1, USD, as published on the AWS pricing pages in 2025-01
# (DynamoDB on-demand after its 2024-11-01 price reduction). Free tiers ignored.
PRICES_DATE = "2025-01"
PRICES = {
    "sqs_request": 0.40 / 1e6,  # standard queue, per request (64 KB chunk)
    "ddb_wru": 0.625 / 1e6,  # on-demand write request unit
    "ddb_rru": 0.125 / 1e6,  # on-demand read request unit
    "ws_message": 1.00 / 1e6,  # API Gateway WebSocket message (32 KB increments), first 1 B
    "lambda_request": 0.20 / 1e6,  # per invocation
    "logs_gb": 0.50,  # CloudWatch Logs standard ingestion per GB
}
BATCH = 10


class CallCounter:
    """Counts boto3 calls by (actor, service, operation) and DynamoDB capacity per call."""

    def __init__(self) -> None:
        self.actor = "setup"
        self.calls: Counter[tuple[str, str, str]] = Counter()
        self.transact_items: Counter[str] = Counter()

    def __call__(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        service = model.service_model.service_name
        self.calls[(self.actor, service, model.name)] += 1
        if model.name == "TransactWriteItems":
            self.transact_items[self.actor] += len(params.get("TransactItems", []))

    @contextmanager
    def acting(self, actor: str):
        previous, self.actor = self.actor, actor
        try:
            yield
        finally:
            self.actor = previous

    def by_actor(self, actor: str) -> dict[tuple[str, str], int]:
        return {(s, o): n for (a, s, o), n in sorted(self.calls.items()) if a == actor}


def configure_env() -> None:
    from tests.lambdas.helpers import ENV

    os.environ.pop("AWS_ENDPOINT_URL", None)
    os.environ.pop("WS_JWT_SECRET_ARN", None)
    os.environ.update(ENV)
    os.environ["POWERTOOLS_LOG_LEVEL"] = "INFO"


def run(jobs: int, agents: int, duplicates: float) -> dict[str, Any]:
    import boto3
    from moto import mock_aws

    configure_env()
    from lambdas.common import aws
    from lambdas.dispatcher_sqs.handler import handler as dispatcher
    from lambdas.ws_connect.handler import handler as connect
    from lambdas.ws_message.handler import handler as message
    from tests.lambdas import helpers as h
    from tests.lambdas.resources import create_resources

    counter = CallCounter()
    log_bytes = io.StringIO()
    for module in (connect, dispatcher, message):
        sys.modules[module.__module__].logger.registered_handler.setStream(log_bytes)  # type: ignore[attr-defined]
    result: dict[str, Any] = {"jobs": jobs, "counter": counter}
    with mock_aws(), redirect_stdout(log_bytes):
        # mock_aws resets boto3's default session, so the hook goes on the one it leaves.
        boto3.setup_default_session(region_name=h.REGION)
        boto3.DEFAULT_SESSION.events.register("before-parameter-build.*.*", counter)  # type: ignore[union-attr]
        aws.reset()
        urls = create_resources()
        os.environ.update(urls)
        sqs = boto3.client("sqs", region_name=h.REGION)
        creators = max(1, agents // 5)
        for n in range(creators):
            h.put_limits(f"creator-{n}", maxConcurrent=jobs, dailyQuota=10 * jobs)
        for n in range(agents):
            tok = h.token(f"agent-{n}", f"creator-{n % creators}")
            assert connect(h.connect_event(tok, f"conn-{n}"), None) == {"statusCode": 200}
        bodies = [
            h.job_body(f"job-{i}", f"agent-{i % agents}", f"creator-{(i % agents) % creators}")
            for i in range(jobs)
        ]
        extra = bodies[: int(jobs * duplicates)]  # at-least-once: SQS may deliver a message twice
        log_bytes.seek(0)
        log_bytes.truncate()
        started = time.perf_counter()
        invocations = 0
        pending = bodies + extra
        while pending:
            chunk, pending = pending[:BATCH], pending[BATCH:]
            with counter.acting("producer"):
                sqs.send_message_batch(
                    QueueUrl=urls["JOBS_QUEUE_URL"],
                    Entries=[{"Id": str(i), "MessageBody": b} for i, b in enumerate(chunk)],
                )
            with counter.acting("event_source"):
                received = sqs.receive_message(QueueUrl=urls["JOBS_QUEUE_URL"], MaxNumberOfMessages=BATCH)
            messages = received.get("Messages", [])
            event = h.sqs_event(*(m["Body"] for m in messages))
            with counter.acting("dispatcher"):
                response = dispatcher(event, None)
                invocations += 1
            failed = {f["itemIdentifier"] for f in response["batchItemFailures"]}
            done = [m for n, m in enumerate(messages) if f"m{n}" not in failed]
            if done:
                with counter.acting("event_source"):
                    sqs.delete_message_batch(
                        QueueUrl=urls["JOBS_QUEUE_URL"],
                        Entries=[
                            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)
                        ],
                    )
        result["dispatch_seconds"] = time.perf_counter() - started
        result["dispatcher_log_bytes"] = len(log_bytes.getvalue().encode())
        result["dispatcher_invocations"] = invocations
        result["received"] = len(bodies) + len(extra)
        result["delivered"] = sum(len(h.frames(f"conn-{n}")) for n in range(agents))
        log_bytes.seek(0)
        log_bytes.truncate()
        with counter.acting("ws_message"):
            for i in range(jobs):
                conn = f"conn-{i % agents}"
                message(h.message_event({"action": "job.ack", "jobId": f"job-{i}"}, conn), None)
                done_frame = {"action": "job.result", "jobId": f"job-{i}", "status": "completed"}
                message(h.message_event(done_frame, conn), None)
        result["ws_message_log_bytes"] = len(log_bytes.getvalue().encode())
        result["job_item_bytes"] = item_bytes(h.job("job-0"))
        result["limits_item_bytes"] = item_bytes(h.creator_limits("creator-0"))
    return result


def item_bytes(item: dict[str, Any] | None) -> int:
    """DynamoDB item size: attribute names plus values (numbers ~ digits/2 + 1)."""
    total = 0
    for name, value in (item or {}).items():
        total += len(name.encode())
        if isinstance(value, bool) or value is None:
            total += 1
        elif isinstance(value, int | float):
            total += len(str(value)) // 2 + 1
        else:
            total += len(str(value).encode())
    return total


def capacity(
    calls: dict[tuple[str, str], int], transact_items: int, job_kb: int, limits_kb: int
) -> tuple[float, float]:
    """(WRU, RRU) for the counted DynamoDB calls under on-demand pricing rules."""
    wru = rru = 0.0
    for (service, op), n in calls.items():
        if service != "dynamodb":
            continue
        if op == "TransactWriteItems":
            continue  # counted from items below: 2 WRU per KB per item
        if op in ("UpdateItem", "PutItem", "DeleteItem"):
            wru += n * job_kb
        elif op == "GetItem":
            rru += n  # strongly consistent, items < 4 KB
        elif op == "Query":
            rru += n * 0.5
    wru += 2 * transact_items * max(job_kb, limits_kb)
    return wru, rru


def report(result: dict[str, Any]) -> str:
    jobs, counter = result["jobs"], result["counter"]
    job_kb = max(1, math.ceil(result["job_item_bytes"] / 1024))
    limits_kb = max(1, math.ceil(result["limits_item_bytes"] / 1024))
    lines = [
        f"jobs={jobs} delivered={result['delivered']} invocations={result['dispatcher_invocations']}",
        f"dispatch wall time over moto: {result['dispatch_seconds']:.1f} s (not a latency figure)",
        f"job item ~{result['job_item_bytes']} B, CreatorLimits item ~{result['limits_item_bytes']} B",
        "",
        f"{'actor':<13} {'service':<24} {'operation':<22} {'calls':>7} {'per job':>8}",
    ]
    for actor in ("producer", "event_source", "dispatcher", "ws_message"):
        for (service, op), n in counter.by_actor(actor).items():
            lines.append(f"{actor:<13} {service:<24} {op:<22} {n:>7} {n / jobs:>8.3f}")
    dispatcher = counter.by_actor("dispatcher")
    ddb_writes = sum(
        n for (s, o), n in dispatcher.items() if s == "dynamodb" and o != "GetItem" and o != "Query"
    )
    posts = dispatcher.get(("apigatewaymanagementapi", "PostToConnection"), 0)
    put_metric = sum(n for (_, s, o), n in counter.calls.items() if o == "PutMetricData")
    lines += [
        "",
        f"dispatcher: DynamoDB write calls per delivered job = {ddb_writes / max(1, result['delivered']):.3f}"
        f"  (target <= 1; per message received {ddb_writes / max(1, result['received']):.3f})",
        f"dispatcher: PostToConnection per delivered job   = {posts / max(1, result['delivered']):.3f}"
        "  (target 1)",
        f"PutMetricData calls (anywhere)                    = {put_metric}  (target 0)",
    ]
    lines += ["", *projection(result, counter, job_kb, limits_kb)]
    return "\n".join(lines)


def projection(result: dict[str, Any], counter: CallCounter, job_kb: int, limits_kb: int) -> list[str]:
    jobs, per_million = result["jobs"], 1e6 / result["jobs"]
    rows: list[tuple[str, float]] = []
    sqs_calls = sum(
        n
        for (a, s, _), n in counter.calls.items()
        if s == "sqs" and a in ("producer", "event_source", "dispatcher")
    )
    rows.append(("SQS requests (send, receive, delete)", sqs_calls * per_million * PRICES["sqs_request"]))
    for actor, label in (("dispatcher", "dispatcher"), ("ws_message", "ws-message ack+result")):
        calls = counter.by_actor(actor)
        wru, rru = capacity(calls, counter.transact_items[actor], job_kb, limits_kb)
        rows.append(
            (
                f"DynamoDB {label}: {wru / jobs:.2f} WRU + {rru / jobs:.2f} RRU per job",
                (wru * PRICES["ddb_wru"] + rru * PRICES["ddb_rru"]) * per_million,
            )
        )
    pushes = sum(n for (_, s, o), n in counter.calls.items() if o == "PostToConnection")
    inbound = 2 * jobs  # job.ack + job.result frames from the agents
    rows.append(
        (
            f"WebSocket messages: {(pushes + inbound) / jobs:.1f} per job (in + out)",
            (pushes + inbound) * per_million * PRICES["ws_message"],
        )
    )
    invocations = result["dispatcher_invocations"] + 2 * jobs
    rows.append(
        (
            f"Lambda requests: {invocations / jobs:.2f} per job",
            invocations * per_million * PRICES["lambda_request"],
        )
    )
    log_gb = (result["dispatcher_log_bytes"] + result["ws_message_log_bytes"]) * per_million / 1e9
    rows.append(
        (
            f"CloudWatch Logs ingestion (EMF + lines): {log_gb * 1e9 / 1e6:.0f} B per job",
            log_gb * PRICES["logs_gb"],
        )
    )
    out = [
        f"Projected cost per 1,000,000 jobs (list prices us-east-1, {PRICES_DATE}; free tiers ignored;"
        " Lambda duration not included):"
    ]
    out += [f"  {label:<62} ${cost:>9.2f}" for label, cost in rows]
    out.append(f"  {'total':<62} ${sum(c for _, c in rows):>9.2f}")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=1000, help="jobs to dispatch (default 1000)")
    parser.add_argument("--agents", type=int, default=50, help="connected agents (default 50)")
    parser.add_argument(
        "--duplicates", type=float, default=0.0, help="fraction of messages SQS delivers twice (default 0.0)"
    )
    args = parser.parse_args(argv)
    if args.jobs < 1 or args.agents < 1 or not 0 <= args.duplicates <= 1:
        parser.error("--jobs and --agents must be >= 1 and --duplicates between 0 and 1")
    print(report(run(args.jobs, args.agents, args.duplicates)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
