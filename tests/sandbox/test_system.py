"""The sandbox running the real template and the unmodified handlers."""

from __future__ import annotations

import json
import time

import jwt
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from lambdas.common.auth import mint_token
from lambdas.common.keys import key_id

JOBS = 30


def send_job(box, job_id: str, agent_id: str, *, critical: bool = False) -> None:
    body = {
        "jobId": job_id,
        "agentId": agent_id,
        "creatorId": "creator-1",
        "kind": "echo",
        "payload": {"id": job_id},
        "critical": critical,
    }
    box.client("sqs").send_message(QueueUrl=box.queue_url("jobs"), MessageBody=json.dumps(body))


def job_item(box, job_id: str) -> dict:
    item = box.client("dynamodb").get_item(TableName=box.table("jobs"), Key={"jobId": {"S": job_id}})
    return item.get("Item", {})


def test_resources_are_provisioned_from_the_template(box):
    sqs = box.client("sqs")
    jobs = sqs.get_queue_attributes(QueueUrl=box.queue_url("jobs"), AttributeNames=["All"])["Attributes"]
    dlq = sqs.get_queue_attributes(QueueUrl=box.queue_url("jobs-dlq"), AttributeNames=["All"])["Attributes"]
    # 360 s of production visibility at 20x; the redrive policy names the DLQ with 5 receives.
    assert jobs["VisibilityTimeout"] == "18"
    assert json.loads(jobs["RedrivePolicy"]) == {
        "deadLetterTargetArn": "arn:aws:sqs:us-east-1:123456789012:byoip-local-jobs-dlq",
        "maxReceiveCount": 5,
    }
    assert dlq["MessageRetentionPeriod"] == str(14 * 86400)
    table = box.client("dynamodb").describe_table(TableName="byoip-local-jobs")["Table"]
    assert {g["IndexName"] for g in table["GlobalSecondaryIndexes"]} == {"ByLease", "ByHeldAgent"}
    ttl = box.client("dynamodb").describe_time_to_live(TableName="byoip-local-jobs")
    assert ttl["TimeToLiveDescription"] == {"TimeToLiveStatus": "ENABLED", "AttributeName": "ttl"}
    assert len(box.jwt_secret()) >= 32
    topics = [t["TopicArn"] for t in box.client("sns").list_topics()["Topics"]]
    # the page topic and the ticket topic (monitoring/routing.py)
    assert sorted(topics) == [
        "arn:aws:sns:us-east-1:123456789012:byoip-local-ops-alerts",
        "arn:aws:sns:us-east-1:123456789012:byoip-local-ops-tickets",
    ]


def test_healthy_run_delivers_every_job_exactly_once(box, fleet):
    ids = [f"healthy-{n:03d}" for n in range(JOBS)]
    for n, job_id in enumerate(ids):
        send_job(box, job_id, f"agent-{n % 3 + 1}")
    assert box.wait_for(lambda: set(ids) <= fleet.completed(), 60)
    assert box.wait_for(
        lambda: all(job_item(box, j).get("status", {}).get("S") == "completed" for j in ids), 20
    )
    pushed = fleet.assignments()
    assert {j: pushed[j] for j in ids} == {j: 1 for j in ids}
    assert box.metrics.total("Huntaze/ByoIP", "JobsCompleted", {"Stage": "local"}) >= JOBS


def test_gateway_rejects_bad_tokens_with_401(box):
    good = mint_token(box.jwt_secret(), "agent-x", "creator-1")
    forged = mint_token("another-key-that-is-long-enough-for-hs256!!", "agent-x", "creator-1")
    now = int(time.time())
    expired = jwt.encode(
        {"agentId": "agent-x", "creatorId": "creator-1", "iat": now - 120, "exp": now - 60},
        box.jwt_secret(),
        algorithm="HS256",
        headers={"kid": key_id(box.jwt_secret())},
    )
    for token in (forged, expired, "not-a-jwt"):
        with pytest.raises(InvalidStatus) as rejected:
            connect(f"{box.gateway.url}?token={token}", open_timeout=10)
        assert rejected.value.response.status_code == 401
    with pytest.raises(InvalidStatus) as missing:
        connect(box.gateway.url, open_timeout=10)
    assert missing.value.response.status_code == 401
    with connect(f"{box.gateway.url}?token={good}", open_timeout=10) as ws:
        ws.send(json.dumps({"action": "heartbeat", "version": "test"}))
        assert json.loads(ws.recv(10))["type"] == "ack"


def test_410_from_a_dropped_agent_is_held_counted_and_released(box, fleet):
    agent = "agent-3"
    before = box.metrics.total("Huntaze/ByoIP/local", "StaleConnections")
    gone_before = box.connections.calls.get(410, 0)
    # A connection younger than CONNECT_GRACE_SECONDS (real seconds: it is the $connect race)
    # is retried rather than dropped on 410; this test is about an old, stale one.
    key = {"pk": {"S": f"agent#creator-1#{agent}"}}
    connected_at = int(
        box.client("dynamodb").get_item(TableName=box.table("agents"), Key=key)["Item"]["connectedAt"]["N"]
    )
    time.sleep(max(0.0, connected_at + 11 - time.time()))
    # The device loses its network: no close frame, and $disconnect never arrives.
    box.gateway.deliver_disconnects = False
    fleet.offline([agent], abrupt=True)
    try:
        assert box.wait_for(lambda: not fleet.agents[agent].online.is_set(), 10)
        send_job(box, "stale-001", agent)
        assert box.wait_for(lambda: job_item(box, "stale-001").get("status", {}).get("S") == "held", 30)
    finally:
        box.gateway.deliver_disconnects = True
    item = job_item(box, "stale-001")
    assert item["reason"]["S"] == "delivery_410"
    assert box.connections.calls.get(410, 0) == gone_before + 1
    lines = box.logs.grep("/aws/lambda/byoip-local-dispatcher-sqs", "jobId=stale-001")
    assert any("status=410" in line for line in lines)
    assert box.wait_for(lambda: box.metrics.total("Huntaze/ByoIP/local", "StaleConnections") == before + 1, 5)
    agent_item = box.client("dynamodb").get_item(
        TableName=box.table("agents"), Key={"pk": {"S": f"agent#creator-1#{agent}"}}
    )["Item"]
    assert "connectionId" not in agent_item  # the stale connection was dropped
    fleet.online([agent])  # reconnecting releases the held job, which is then delivered once
    assert box.wait_for(lambda: "stale-001" in fleet.completed(), 60)
    assert fleet.assignments()["stale-001"] == 1


def test_reference_agent_cli_exits_on_401_with_one_line(box, capsys):
    from sandbox.agent_main import main

    assert main([box.gateway.url, "--token", "not-a-jwt"]) == 1
    # The fleet's heartbeats may print an EMF line (JSON) into the captured stdout meanwhile.
    lines = [line for line in capsys.readouterr().out.splitlines() if not line.startswith("{")]
    assert [line.split(" ", 1)[1] for line in lines] == [
        f"connecting to {box.gateway.url}",
        "rejected: 401 (bad or expired token)",
    ]


def _drive_agent(box, agent_id, act, done, log=None, legacy_ack=False):
    """Connect one reference agent, run `act(agent)` (a coroutine), wait until `done(agent)`; its stats."""
    import asyncio

    from sandbox.agent import Agent, AgentBehaviour

    token = mint_token(box.jwt_secret(), agent_id, "creator-1")
    kwargs = {"log": log} if log else {}

    async def run():
        behaviour = AgentBehaviour(0.01, legacy_ack=legacy_ack)
        agent = Agent(box.gateway.url, agent_id, lambda: token, behaviour, **kwargs)
        task = asyncio.create_task(agent.run())
        await asyncio.wait_for(agent.online.wait(), 10)
        await act(agent)
        for _ in range(200):
            if done(agent):
                break
            await asyncio.sleep(0.05)
        agent.stop()
        await asyncio.wait_for(task, 10)
        return agent.stats

    return asyncio.run(run())


def test_reference_agent_logs_connect_and_job_lines(box):
    import asyncio

    lines: list[str] = []

    async def act(agent):
        await asyncio.to_thread(send_job, box, "log-001", "agent-log")

    stats = _drive_agent(box, "agent-log", act, lambda a: "log-001" in a.stats.confirmed, lines.append)
    assert lines[:3] == [
        "connected as agent-log",
        "job log-001 assigned",
        "job log-001 result completed",
    ]
    assert stats.confirmed == ["log-001"]  # recorded once, confirmed by a heartbeat (recordedJobs)


def test_an_agent_of_the_older_protocol_still_acks_and_gets_no_answer_to_it(box):
    import asyncio

    lines: list[str] = []

    async def act(agent):
        await asyncio.to_thread(send_job, box, "log-002", "agent-old")

    done = lambda a: "log-002" in a.stats.confirmed  # noqa: E731
    stats = _drive_agent(box, "agent-old", act, done, lines.append, legacy_ack=True)
    assert lines[1:4] == ["job log-002 assigned", "job log-002 acked", "job log-002 result completed"]
    assert (stats.confirmed, stats.errors) == (["log-002"], [])


def test_reference_agent_uploads_a_log_with_the_post_form(box):
    async def act(agent):
        await agent.upload_log(b"line 1\nline 2\n")

    stats = _drive_agent(box, "agent-upload", act, lambda a: a.stats.uploads)
    ((key, status),) = stats.uploads
    assert status == 204 and key.startswith("creator-1/agent-upload/")
    buckets = box.resources.buckets.items()
    (bucket,) = [name for lid, name in buckets if lid.startswith("StorageAgentLogsBucket")]
    assert box.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read() == b"line 1\nline 2\n"


def test_the_logs_upload_form_is_enforced_like_s3(box):
    from lambdas.common.log_upload import MAX_LOG_BYTES, log_upload_form
    from sandbox.log_upload import upload_log

    form = log_upload_form("agent-form", "creator-1", box.clock.now())
    assert upload_log(form, b"x" * MAX_LOG_BYTES).status == 204
    unbounded = {**form, "maxBytes": MAX_LOG_BYTES + 1}  # an agent that skips its own check
    too_big = upload_log(unbounded, b"x" * (MAX_LOG_BYTES + 1))
    assert (too_big.status, "<Code>EntityTooLarge</Code>" in too_big.detail) == (400, True)
    script = {**form, "fields": {**form["fields"], "Content-Type": "application/x-sh"}}
    assert upload_log(script, b"#!/bin/sh\n").status == 403
    other_key = {**form, "fields": {**form["fields"], "key": "creator-2/agent-x/steal.log"}}
    assert upload_log(other_key, b"x").status == 403


def test_the_budgets_are_scaled_like_leases(box):
    import os

    # Handlers count budgets per real minute (day), which is `speed` production minutes (20 here).
    assert (os.environ["FRAMES_PER_MINUTE"], os.environ["CREATOR_FRAMES_PER_MINUTE"]) == (
        str(600 * 20),
        str(3000 * 20),
    )
    assert (os.environ["PATCH_CHECKS_PER_MINUTE"], os.environ["LOG_UPLOADS_PER_DAY"]) == (
        str(2 * 20),
        str(24 * 20),
    )


def test_a_key_rotation_under_live_traffic_drops_no_agent(box, fleet):
    # GIVEN the fleet connected with tokens of the current key, and jobs flowing
    agents = sorted(fleet.agents)
    old_key = box.jwt_secret()
    send_job(box, "rotation-before", "agent-1")
    assert box.wait_for(lambda: "rotation-before" in fleet.completed(), 60)
    # WHEN the key rotates (the stack's rotation function, its four steps)
    new_key = box.rotate_jwt_secret()
    assert new_key != old_key and len(new_key) == 64
    # THEN every agent, reconnecting with a token of the old key (now AWSPREVIOUS), gets back in
    fleet.offline(agents, abrupt=False)
    assert box.wait_for(lambda: not any(fleet.agents[a].online.is_set() for a in agents), 20)
    fleet.online(agents)
    assert fleet.wait_online(agents, timeout=30)
    # AND a token of the new key connects too (ws-connect re-reads the keys for an unknown kid)
    fresh = mint_token(new_key, "agent-new", "creator-1")

    def accepted() -> bool:
        try:
            with connect(f"{box.gateway.url}?token={fresh}", open_timeout=10):
                return True
        except InvalidStatus:
            return False

    assert box.wait_for(accepted, 20, poll_s=1)
    # AND jobs still flow, each delivered once
    send_job(box, "rotation-after", "agent-2")
    assert box.wait_for(lambda: "rotation-after" in fleet.completed(), 60)
    assert fleet.assignments()["rotation-after"] == 1


def test_the_watched_parts_publish_what_their_alarms_read(box, fleet):
    # GIVEN the running sandbox with its fleet connected
    api = {"ApiId": "byoip-local-ws", "Stage": "prod"}  # what the template's alarms read
    metrics = box.metrics
    # THEN the edge counted the fleet's $connects and frames, and lease-reaper its heartbeats
    assert box.wait_for(lambda: metrics.total("AWS/ApiGateway", "ConnectCount", api) >= 3, 30)
    assert box.wait_for(lambda: metrics.total("AWS/ApiGateway", "MessageCount", api) > 0, 30)
    for name in ("ReaperRuns", "WatchRuns"):
        assert box.wait_for(lambda n=name: metrics.total("Huntaze/ByoIP", n, {"Stage": "local"}) >= 1, 30)
    # WHEN Secrets Manager reports a failed rotation of the agents' key
    (arn,) = box.resources.secrets.values()
    # THEN the rotation-failed rule matches it (RotationFailed reads its MatchedEvents)
    assert box.service_events.rotation_failed(arn) == ["byoip-local-rotation-failed"]
    rule = {"RuleName": "byoip-local-rotation-failed"}
    assert metrics.total("AWS/Events", "MatchedEvents", rule) == 1
