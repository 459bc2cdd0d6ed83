"""AWS API calls per job through the unmodified handlers over moto, and what a million jobs cost.

Drives N jobs (default 1000) for connected agents through the path of a real deployment:
the producer's SendMessage, the Lambda event source's ReceiveMessage/DeleteMessageBatch
(batches of 10), dispatcher-sqs (PostToConnection goes to moto, which accepts every
connection), then each agent's frames through ws-message: `job.result` with `"ack": false`
(current agents: the heartbeat's job list is the acknowledgement, and the heartbeat's
`results` list is the result's confirmation, so a recorded result gets no answer), or `job.ack`
then `job.result`, each result answered, with `--legacy-agents` (agents in the field speaking
the older protocol). Current agents then send one heartbeat each listing their results (at
most 75 a heartbeat), as actor `heartbeat`: the heartbeat is sent once a minute anyway, so only
what listing the results adds is charged to the jobs, its BatchGetItem read units (0.5 RRU a
listed job); its frame, answer, invocation and agent-item write are not per job. Every boto3 call is
counted by a botocore `before-parameter-build` hook on the default session, by (service,
operation) and by who made it, with its DynamoDB capacity (cost_model.CallCounter). Log bytes
printed by the handlers are counted too (CloudWatch Logs ingestion: EMF + log lines), and each
handler invocation is timed for its Lambda duration (GB-s at the functions' configured memory).

    .venv/bin/python benchmarks/dispatcher_calls.py [--jobs 1000] [--agents 50] [--duplicates 0.0]
        [--limited 0.2] [--legacy-agents]

`--limited` is the share of creators whose CreatorLimits item sets a limit (their jobs move
counters in transactions); the others have none. Durations are measured over moto in-process,
so they include moto's own work instead of network latency; a limited creator's transaction is
slow in moto (it deep-copies the tables it touches). The call counts do not depend on it.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import time
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.cost_model import (  # noqa: E402
    CallCounter,
    after_rows,
    billed_gb_seconds,
    price_list,
    table,
)

BATCH = 10
HEARTBEAT = "heartbeat"  # the actor of the heartbeats that confirm current agents' results


def configure_env() -> None:
    from tests.lambdas.helpers import ENV

    os.environ.pop("AWS_ENDPOINT_URL", None)
    os.environ.pop("WS_JWT_SECRET_ARN", None)
    os.environ.update(ENV)
    os.environ["POWERTOOLS_LOG_LEVEL"] = "INFO"


class Timed:
    """Calls a handler and records each invocation's duration: over moto, and as billed in AWS.

    The billed estimate is the invocation's own time (its wall time minus the time spent inside
    boto3 calls, i.e. moto) plus each call at the modelled latency (cost_model.LATENCY_S).
    """

    def __init__(self, handler: Any, counter: CallCounter) -> None:
        self.handler = handler
        self.counter = counter
        self.over_moto: list[float] = []
        self.durations: list[float] = []

    def __call__(self, event: dict[str, Any]) -> Any:
        aws, modelled = self.counter.aws_seconds, self.counter.modelled_seconds
        started = time.perf_counter()
        try:
            return self.handler(event, None)
        finally:
            wall = time.perf_counter() - started
            own = wall - (self.counter.aws_seconds - aws)
            self.over_moto.append(wall)
            self.durations.append(own + self.counter.modelled_seconds - modelled)


def run(jobs: int, agents: int, duplicates: float, limited: float, legacy: bool) -> dict[str, Any]:
    import boto3
    from moto import mock_aws

    configure_env()
    from lambdas.common import aws
    from lambdas.dispatcher_sqs.handler import handler as dispatcher_handler
    from lambdas.ws_connect.handler import handler as connect
    from lambdas.ws_message.handler import handler as message_handler
    from tests.lambdas import helpers as h
    from tests.lambdas.resources import create_resources

    counter = CallCounter()
    log_bytes = io.StringIO()
    for module in (connect, dispatcher_handler, message_handler):
        sys.modules[module.__module__].logger.registered_handler.setStream(log_bytes)  # type: ignore[attr-defined]
    dispatcher, message = Timed(dispatcher_handler, counter), Timed(message_handler, counter)
    result: dict[str, Any] = {"jobs": jobs, "counter": counter}
    with mock_aws(), redirect_stdout(log_bytes):
        # mock_aws resets boto3's default session, so the hook goes on the one it leaves.
        boto3.setup_default_session(region_name=h.REGION)
        counter.register(boto3.DEFAULT_SESSION.events)  # type: ignore[union-attr]
        aws.reset()
        urls = create_resources()
        os.environ.update(urls)
        sqs = boto3.client("sqs", region_name=h.REGION)
        creators = max(1, agents // 5)
        result["limited_creators"] = (round(creators * limited), creators)
        for n in range(result["limited_creators"][0]):
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
            with counter.acting("dispatcher"):
                response = dispatcher(h.sqs_event(*(m["Body"] for m in messages)))
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
        result["dispatcher_invocations"] = len(dispatcher.durations)
        result["received"] = len(bodies) + len(extra)
        result["delivered"] = sum(len(h.frames(f"conn-{n}")) for n in range(agents))
        log_bytes.seek(0)
        log_bytes.truncate()
        with counter.acting("ws_message"):
            for i in range(jobs):
                conn = f"conn-{i % agents}"
                if legacy:
                    message(h.message_event({"action": "job.ack", "jobId": f"job-{i}"}, conn))
                done_frame = {"action": "job.result", "jobId": f"job-{i}", "status": "completed"}
                message(h.message_event(done_frame if legacy else {**done_frame, "ack": False}, conn))
        result["inbound_frames"] = len(message.durations)
        result["ws_message_log_bytes"] = len(log_bytes.getvalue().encode())
        result["job_item_bytes"] = item_bytes(h.job("job-0"))
        result["answers"] = sum(len(h.frames(f"conn-{n}")) for n in range(agents)) - result["delivered"]
        result["confirmed"] = 0 if legacy else confirm(agents, jobs, counter)
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
    from stacks.functions import MEMORY_MB

    result["memory_mb"] = MEMORY_MB
    result["gb_seconds"] = billed_gb_seconds(dispatcher.durations + message.durations, MEMORY_MB)
    result["gb_seconds_over_moto"] = billed_gb_seconds(dispatcher.over_moto + message.over_moto, MEMORY_MB)
    result["mean_ms"] = {
        name: (1000 * sum(t.durations) / len(t.durations), 1000 * sum(t.over_moto) / len(t.over_moto))
        for name, t in (("dispatcher-sqs", dispatcher), ("ws-message", message))
    }
    return result


def confirm(agents: int, jobs: int, counter: CallCounter) -> int:
    """Each agent's next heartbeat lists its results (75 at most a frame); returns those confirmed."""
    from lambdas.common.protocol import MAX_HEARTBEAT_RESULTS
    from lambdas.ws_message.handler import handler
    from tests.lambdas import helpers as h

    confirmed = 0
    with counter.acting(HEARTBEAT):
        for n in range(agents):
            mine = [f"job-{i}" for i in range(n, jobs, agents)]
            for start in range(0, len(mine), MAX_HEARTBEAT_RESULTS):
                listed = mine[start : start + MAX_HEARTBEAT_RESULTS]
                frame = {"action": "heartbeat", "results": listed}
                handler(h.message_event(frame, f"conn-{n}"), None)
                confirmed += len(h.frames(f"conn-{n}")[-1].get("recordedJobs", []))
    return confirmed


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


def report(result: dict[str, Any], legacy: bool) -> str:
    jobs, counter = result["jobs"], result["counter"]
    limited, creators = result["limited_creators"]
    lines = [
        f"jobs={jobs} delivered={result['delivered']} invocations={result['dispatcher_invocations']}"
        f" agents' frames={result['inbound_frames']} answers={result['answers']}"
        f" ({'legacy agents: job.ack + job.result' if legacy else 'current agents: job.result'})",
        *(
            []
            if legacy
            else [
                f"results confirmed by the agents' heartbeats (recordedJobs): {result['confirmed']} of {jobs}"
            ]
        ),
        f"creators with limits: {limited} of {creators}; job item ~{result['job_item_bytes']} B (< 1 KB)",
        f"dispatch wall time over moto: {result['dispatch_seconds']:.1f} s (not a latency figure)",
        "",
        f"{'actor':<13} {'service':<24} {'operation':<22} {'calls':>7} {'per job':>8}",
    ]
    for actor in ("producer", "event_source", "dispatcher", "ws_message", HEARTBEAT):
        for (service, op), n in counter.by_actor(actor).items():
            lines.append(f"{actor:<13} {service:<24} {op:<22} {n:>7} {n / jobs:>8.3f}")
    dispatcher = counter.by_actor("dispatcher")
    write_ops = ("UpdateItem", "TransactWriteItems")
    writes = sum(n for (s, o), n in dispatcher.items() if s == "dynamodb" and o in write_ops)
    posts = dispatcher.get(("apigatewaymanagementapi", "PostToConnection"), 0)
    put_metric = sum(n for (_, s, o), n in counter.calls.items() if o == "PutMetricData")
    mean = result["mean_ms"]
    lines += [
        "",
        f"dispatcher: DynamoDB write calls per delivered job = {writes / max(1, result['delivered']):.3f}"
        f"  (target <= 1; per message received {writes / max(1, result['received']):.3f})",
        f"dispatcher: PostToConnection per delivered job   = {posts / max(1, result['delivered']):.3f}"
        "  (target 1)",
        f"PutMetricData calls (anywhere)                    = {put_metric}  (target 0)",
        "Lambda duration per invocation, billed estimate (own code + calls at cost_model.LATENCY_S) /"
        " wall time over moto:",
        f"  dispatcher-sqs {mean['dispatcher-sqs'][0]:.1f} / {mean['dispatcher-sqs'][1]:.1f} ms,"
        f" ws-message {mean['ws-message'][0]:.1f} / {mean['ws-message'][1]:.1f} ms;"
        f" {result['memory_mb']} MB (stacks/functions.py MEMORY_MB); over moto"
        f" {result['gb_seconds_over_moto'] / jobs:.5f} GB-s per job (not priced: moto is no latency model)",
        "",
        "Cost per 1,000,000 jobs:",
        *table(after_rows(result)),
        "",
        *price_list(),
        "",
        "Not per job, so in neither column: heartbeats (1 frame + 1 answer a minute per connected agent,"
        " both protocols;",
        "docs/cost.md prices an idle agent's month), and the lease extension of a job still running at a"
        " heartbeat",
        "(1 WRU per listing, both protocols: a 10 s job under the reference agent's 60 s heartbeat is listed"
        " 1 time in 6,",
        "$0.10 per million jobs). Current agents' heartbeats also carry the results' confirmations: the"
        " heartbeat rows",
        "above; only their BatchGetItem read units (0.5 RRU per listed result) are in the DynamoDB"
        " ws-message row, and",
        "the BatchGetItem's round trip (~6 ms at 256 MB, once a heartbeat that lists results) is not in"
        " the duration row:",
        "at worst one job per heartbeat, 0.0015 GB-s = $0.02 per million jobs.",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=1000, help="jobs to dispatch (default 1000)")
    parser.add_argument("--agents", type=int, default=50, help="connected agents (default 50)")
    parser.add_argument(
        "--duplicates", type=float, default=0.0, help="fraction of messages SQS delivers twice (default 0.0)"
    )
    parser.add_argument(
        "--limited", type=float, default=0.2, help="share of creators with limits (default 0.2)"
    )
    parser.add_argument(
        "--legacy-agents", action="store_true", help="agents send job.ack before job.result (older protocol)"
    )
    args = parser.parse_args(argv)
    if args.jobs < 1 or args.agents < 1 or not 0 <= args.duplicates <= 1 or not 0 <= args.limited <= 1:
        parser.error("--jobs and --agents must be >= 1, --duplicates and --limited between 0 and 1")
    result = run(args.jobs, args.agents, args.duplicates, args.limited, args.legacy_agents)
    print(report(result, args.legacy_agents))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
