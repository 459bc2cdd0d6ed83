"""`byoip job show` tells one job's story across the functions, read from the sandbox's moto."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from sandbox.log_shipping import FLUSH_SECONDS


def _shipped(box, group: str, *needles: str) -> bool:
    logs = box.client("logs")
    try:
        events = logs.filter_log_events(logGroupName=group).get("events", [])
    except logs.exceptions.ResourceNotFoundException:  # the shipper has not created the group yet
        return False
    return any(all(needle in event["message"] for needle in needles) for event in events)


def test_job_show_tells_a_jobs_story_across_the_functions(box, fleet):
    # GIVEN a job whose producer set a traceId, delivered and completed by the reference agent
    body = {
        "jobId": "story-1",
        "agentId": "agent-1",
        "creatorId": "creator-1",
        "kind": "echo",
        "payload": {"id": "story-1"},
        "critical": False,
        "traceId": "req-story-1",
    }
    box.client("sqs").send_message(QueueUrl=box.queue_url("jobs"), MessageBody=json.dumps(body))
    assert box.wait_for(lambda: "story-1" in fleet.completed(), 60)
    assert box.wait_for(
        lambda: _shipped(box, "/aws/lambda/byoip-local-ws-message", '"job_result ', '"jobId":"story-1"'),
        60 + FLUSH_SECONDS,  # a bound a busy machine meets; a healthy run ships within a second
    )
    # WHEN on-call asks for its story, from another process, as they would against AWS
    env = {**os.environ, "AWS_REGION": "us-east-1"}  # the sandbox exported its moto endpoints
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "automation.cli",
            "job",
            "show",
            "story-1",
            "--stage",
            "local",
            "--since",
            "1h",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    # THEN it prints the item with its traceId, and the dispatcher's and ws-message's lines in order
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert "job story-1 (stage local): completed" in out and "traceId req-story-1" in out
    assert "log lines (FilterLogEvents" in out  # moto runs no Insights filter: the sandbox's way
    story = [row.split("Z  ", 1)[1] for row in out.splitlines() if row.startswith("  20") and "Z  " in row]
    assigned = [
        n for n, row in enumerate(story) if row.startswith("dispatcher-sqs") and "job_assigned" in row
    ]
    result = [n for n, row in enumerate(story) if row.startswith("ws-message") and "job_result" in row]
    # one assignment, then its result; a current agent may send the result again when three of its
    # heartbeats went by without the confirmation (sandbox/agent.py RESEND_AFTER: a busy machine),
    # and every line of it says completed (the resend is a no-op)
    assert len(assigned) == 1 and result and assigned[0] < result[0], out
    assert all("status=completed requeued=False" in story[n] for n in result), out
    # AND a job that does not exist is one error line
    missing = subprocess.run(
        [sys.executable, "-m", "automation.cli", "job", "show", "no-such-job", "--stage", "local"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert missing.returncode == 1
    assert missing.stderr.strip().splitlines() == [
        "error: no job no-such-job in byoip-local-jobs (stage local, us-east-1)"
    ]
