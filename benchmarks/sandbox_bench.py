"""End-to-end jobs/s through the sandbox with 50 agents, next to moto's raw SQS rate.

    .venv/bin/python benchmarks/sandbox_bench.py [--jobs 300] [--agents 50]

Both figures come from the same moto server in the same run:
- end to end: producer SendMessageBatch -> event-source poller -> dispatcher-sqs (DynamoDB
  assignment, PostToConnection) -> agent -> job.result through ws-message (acks ride on heartbeats);
  timed from the first send to the last `completed` seen by the agents;
- raw: SendMessageBatch -> ReceiveMessage -> DeleteMessageBatch in batches of 10 on a
  scratch queue of the same server (shallow, like the sandbox's queues).
moto's SQS scans the whole queue on every call, so backlogs stay in the hundreds.
"""

from __future__ import annotations

import argparse
import json
import time

from lambdas.common.auth import mint_token
from sandbox.agent import AgentBehaviour
from sandbox.fleet import Fleet
from sandbox.system import Sandbox, SandboxOptions


def end_to_end(box: Sandbox, fleet: Fleet, jobs: int, agents: list[tuple[str, str]]) -> float:
    """Jobs per second from first send to last completion."""
    sqs = box.client("sqs")
    url = box.queue_url("jobs")
    ids = [f"bench-{n:05d}" for n in range(jobs)]
    started = time.perf_counter()
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
    wanted = set(ids)
    while not wanted <= fleet.completed():
        if time.perf_counter() - started > 600:
            raise SystemExit(f"only {len(wanted & fleet.completed())}/{jobs} jobs completed in 600 s")
        time.sleep(0.05)
    return jobs / (time.perf_counter() - started)


def raw_sqs(box: Sandbox, messages: int) -> float:
    """Messages per second through send -> receive -> delete (batches of 10) on the same server."""
    sqs = box.client("sqs")
    url = sqs.create_queue(QueueName="bench-raw")["QueueUrl"]
    started = time.perf_counter()
    done = 0
    while done < messages:
        sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": "x"} for i in range(10)])
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if got:
            entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)]
            sqs.delete_message_batch(QueueUrl=url, Entries=entries)
        done += len(got)
    return done / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--jobs", type=int, default=300, help="jobs to push end to end (keep in the hundreds)"
    )
    parser.add_argument("--agents", type=int, default=50)
    args = parser.parse_args()
    if not 1 <= args.jobs <= 2000 or not 1 <= args.agents <= 200:
        raise SystemExit("invalid sizes: --jobs 1-2000 (moto scans whole queues), --agents 1-200")

    print("synthesizing stage local and starting the sandbox…", flush=True)
    # Throughput does not depend on the speed factor, but timers do: at 10x, heartbeats (every
    # 2 production minutes) cost 50 agents 4 invocations/s instead of 25 at 60x.
    with Sandbox(SandboxOptions(speed=10)) as box:
        secret = box.jwt_secret()
        fleet = Fleet(box.gateway.url, lambda a, c: mint_token(secret, a, c))
        agents = [(f"agent-{i + 1}", f"creator-{i % 5 + 1}") for i in range(args.agents)]
        for agent_id, creator_id in agents:
            fleet.add(agent_id, creator_id, AgentBehaviour(0.0, False, box.clock.real(120)))
        if not fleet.wait_online(timeout=60):
            raise SystemExit("the agents did not all connect within 60 s")
        try:
            e2e = end_to_end(box, fleet, args.jobs, agents)
        finally:
            fleet.stop()
        redeliveries = sum(n - 1 for n in fleet.assignments().values() if n > 1)
        twice = sum(n - 1 for n in fleet.completions().values() if n > 1)
        raw = raw_sqs(box, args.jobs)  # the agents are gone; pollers still long-poll the job queue
    label = f"end to end ({args.agents} agents, {args.jobs} jobs)"
    print(f"{label:44}: {e2e:7.1f} jobs/s (re-deliveries {redeliveries}, duplicate completions {twice})")
    print(f"{'raw moto SQS send/receive/delete (x10)':44}: {raw:7.1f} msg/s")
    print(f"{'ratio end-to-end / raw':44}: {e2e / raw:7.3f}")


if __name__ == "__main__":
    main()
