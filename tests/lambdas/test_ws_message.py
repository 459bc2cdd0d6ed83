"""ws-message: frame validation, heartbeat, ack, result, pause, logs upload (patches: test_patch_check.py)."""

from __future__ import annotations

import json
from urllib.parse import urlparse

import pytest

from lambdas.dispatcher_sqs.handler import handler as dispatch
from lambdas.ws_message.handler import handler as message
from tests.lambdas import helpers as h
from tests.lambdas.conftest import DAY, NOW

OK = {"statusCode": 200}


def send(body, connection_id: str = "conn-1") -> dict:
    """Send one frame; return the single frame the backend answered with."""
    before = len(h.frames(connection_id))
    assert message(h.message_event(body, connection_id), None) == OK
    replies = h.frames(connection_id)[before:]
    assert len(replies) == 1
    return replies[0]


@pytest.fixture
def assigned(online, clock, out):
    """job-1 assigned to agent-1 (through the dispatcher)."""
    assert dispatch(h.sqs_event(h.job_body("job-1")), None) == {"batchItemFailures": []}
    return "job-1"


@pytest.fixture
def counted(online, clock, out):
    """job-1 assigned to agent-1 of a creator with limits: it holds one of the creator's slots."""
    h.put_limits("creator-1", maxConcurrent=10, dailyQuota=100)
    assert dispatch(h.sqs_event(h.job_body("job-1")), None) == {"batchItemFailures": []}
    assert (h.job("job-1")["limitsDay"], h.creator_limits("creator-1")["inFlight"]) == (DAY, 1)
    return "job-1"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ("{nope", "json_invalid"),
        ("[1, 2]", "json_invalid"),
        ("", "json_invalid"),
        ({"action": "rm -rf"}, "unknown_action"),
        ({"no": "action"}, "unknown_action"),
        ({"action": "job.ack"}, "schema_invalid"),
        ({"action": "job.ack", "jobId": 7}, "schema_invalid"),
        ({"action": "job.result", "jobId": "job-1", "status": "maybe"}, "schema_invalid"),
        (
            {"action": "job.result", "jobId": "job-1", "status": "failed", "retryable": "yes"},
            "schema_invalid",
        ),
        ({"action": "heartbeat", "jobs": ["x"] * 26}, "schema_invalid"),
        ("x" * (32 * 1024 + 1), "frame_too_large"),
    ],
)
def test_bad_frames_get_an_error_frame_and_a_200(body, code, online, clock, out):
    reply = send(body)
    assert reply["type"] == "error" and reply["code"] == code and reply["message"]


def test_frame_from_an_unknown_connection_gets_not_connected(queues, clock, out):
    reply = send({"action": "heartbeat"}, "conn-ghost")
    assert reply["code"] == "not_connected"


def test_binary_frame_is_refused(online, clock, out):
    event = h.message_event("eyJhY3Rpb24iOiJoZWFydGJlYXQifQ==", "conn-1")
    event["isBase64Encoded"] = True
    assert message(event, None) == OK
    assert h.frames("conn-1")[-1]["code"] == "json_invalid"


def test_a_failure_of_ours_is_an_error_frame_not_a_500(online, clock, out, monkeypatch):
    from lambdas.common import connections

    monkeypatch.setattr(connections, "touch", lambda *a, **k: 1 / 0)
    reply = send({"action": "heartbeat"})
    assert reply["code"] == "internal_error"
    assert "ws_message_failed code=internal_error" in out.messages()


def test_heartbeat_updates_last_seen_connection_ttl_and_counts_fleet_wide(online, clock, out):
    # GIVEN a paused creator (the heartbeat must not touch it)
    h.put_limits("creator-1", paused=True, pausedBy="operator:alice")
    clock.set(NOW + 60)
    # WHEN agent-1 sends a heartbeat
    reply = send({"action": "heartbeat", "version": "1.4.2"})
    # THEN it is acknowledged, last seen/version move, the pause stays, one AgentHeartbeats
    reply_without_jobs = {"leasesExtended": 0, "extendedJobs": [], "deferredJobs": []}
    assert reply == {"type": "ack", "action": "heartbeat", **reply_without_jobs}
    agent = h.agent("agent-1")
    assert (agent["lastSeen"], agent["version"]) == (NOW + 60, "1.4.2")
    # the connection's ttl (NOW + 2 h) has more than an hour left: not written again
    assert h.conn("conn-1")["ttl"] == NOW + 7200
    assert h.creator_limits("creator-1")["paused"] is True
    connected, doc = out.emf()  # the `online` fixture's $connect counted ConnectOk first
    assert connected["ConnectOk"] == 1
    assert doc["AgentHeartbeats"] == 1
    assert doc["_aws"]["CloudWatchMetrics"] == [
        {
            "Namespace": "Huntaze/ByoIP",
            "Dimensions": [["Stage"]],
            "Metrics": [{"Name": "AgentHeartbeats", "Unit": "Count"}],
        }
    ]
    assert "agent-1" not in json.dumps(doc)  # no per-agent dimension or value
    # AND once less than an hour is left, a heartbeat pushes the ttl to 2 h from then
    clock.set(NOW + 3601)
    send({"action": "heartbeat"})
    assert h.conn("conn-1")["ttl"] == NOW + 3601 + 7200
    clock.set(NOW + 3602)
    send({"action": "heartbeat"})
    assert h.conn("conn-1")["ttl"] == NOW + 3601 + 7200


def test_heartbeat_extends_only_the_agents_own_leases(assigned, clock, out):
    h.put_job("job-other", "running", "agent-2", leaseState="active", leaseExpiresAt=NOW + 10)
    clock.set(NOW + 200)
    reply = send({"action": "heartbeat", "jobs": ["job-1", "job-other", "job-none"]})
    assert reply["leasesExtended"] == 1
    assert h.job("job-1")["leaseExpiresAt"] == NOW + 200 + 300
    assert h.job("job-other")["leaseExpiresAt"] == NOW + 10


def silent(body, connection_id: str = "conn-1") -> None:
    """Send one frame that gets no answer."""
    before = len(h.frames(connection_id))
    assert message(h.message_event(body, connection_id), None) == OK
    assert h.frames(connection_id)[before:] == []


def test_a_heartbeat_listing_the_job_is_its_ack_running_and_lease_extended(assigned, clock, out):
    clock.set(NOW + 30)
    assert send({"action": "heartbeat", "jobs": ["job-1"]})["leasesExtended"] == 1
    job = h.job("job-1")
    assert (job["status"], job["leaseExpiresAt"]) == ("running", NOW + 30 + 300)


def test_an_older_agents_ack_marks_running_and_extends_the_lease_unanswered(assigned, clock, out):
    clock.set(NOW + 30)
    silent({"action": "job.ack", "jobId": "job-1"})
    job = h.job("job-1")
    assert (job["status"], job["leaseExpiresAt"]) == ("running", NOW + 30 + 300)


def test_an_agent_cannot_ack_or_complete_another_agents_job(counted, clock, out):
    # GIVEN agent-2 (same creator) connected on conn-2
    from lambdas.ws_connect.handler import handler as connect

    connect(h.connect_event(h.token("agent-2", "creator-1"), "conn-2"), None)
    # WHEN it acks and completes agent-1's job
    ack = send({"action": "job.ack", "jobId": "job-1"}, "conn-2")
    result = send({"action": "job.result", "jobId": "job-1", "status": "completed"}, "conn-2")
    retry = send({"action": "job.result", "jobId": "job-1", "status": "failed", "retryable": True}, "conn-2")
    # THEN every attempt is refused and the job is untouched
    assert ack["code"] == result["code"] == retry["code"] == "job_not_assigned"
    job = h.job("job-1")
    assert (job["status"], job["agentId"], job["attempt"]) == ("assigned", "agent-1", 1)
    assert h.creator_limits("creator-1")["inFlight"] == 1


def test_result_completes_once_late_and_repeated_results_change_nothing(counted, clock, out):
    # GIVEN agent-1 completes its job
    first = send({"action": "job.result", "jobId": "job-1", "status": "completed", "result": {"url": "u"}})
    # WHEN it sends the result again (its answer was lost), then a contradicting late failure
    clock.set(NOW + 30)
    again = send({"action": "job.result", "jobId": "job-1", "status": "completed"})
    late = send({"action": "job.result", "jobId": "job-1", "status": "failed", "reason": "late"})
    # THEN the first stands: the resend is confirmed again as a duplicate, the contradiction
    # refused; the slot was released once, JobsCompleted counted once
    assert first == {"type": "ack", "action": "job.result", "jobId": "job-1", "requeued": False}
    assert again == {**first, "duplicate": True}
    assert late["code"] == "job_not_assigned"
    assert h.job("job-1")["finishedAt"] == NOW
    job = h.job("job-1")
    assert (job["status"], json.loads(job["result"]), "reason" in job, "leaseState" in job) == (
        "completed",
        {"url": "u"},
        False,
        False,
    )
    assert job["ttl"] == NOW + 30 * 86400
    assert h.creator_limits("creator-1")["inFlight"] == 0
    assert sum(d.get("JobsCompleted", 0) for d in out.emf()) == 1


def test_a_huge_result_is_truncated_to_fit_an_item(assigned, clock, out):
    send({"action": "job.result", "jobId": "job-1", "status": "completed", "result": "r" * 30000})
    job = h.job("job-1")
    assert (len(job["result"].encode()), job["resultTruncated"]) == (16 * 1024, True)


def test_retryable_failure_requeues_with_the_next_attempt_until_max(counted, queues, clock, out):
    # GIVEN job-1 at attempt 1 of 3
    # WHEN the agent reports a retryable failure
    reply = send(
        {"action": "job.result", "jobId": "job-1", "status": "failed", "reason": "timeout", "retryable": True}
    )
    # THEN the job is re-queued as attempt 2 and its slot released
    assert reply == {"type": "ack", "action": "job.result", "jobId": "job-1", "requeued": True}
    assert [(b["jobId"], b["attempt"]) for b in h.queued_jobs(queues["JOBS_QUEUE_URL"])] == [("job-1", 2)]
    job = h.job("job-1")
    assert (job["status"], job["attempt"], job["reason"]) == ("queued", 2, "timeout")
    assert h.creator_limits("creator-1")["inFlight"] == 0
    # AND at the last attempt a retryable failure is final
    h.put_job("job-1", "running", attempt=3, leaseState="active", leaseExpiresAt=NOW + 100)
    final = send(
        {"action": "job.result", "jobId": "job-1", "status": "failed", "reason": "timeout", "retryable": True}
    )
    assert final["requeued"] is False
    assert h.job("job-1")["status"] == "failed"
    assert h.queued_jobs(queues["JOBS_QUEUE_URL"]) == []


def test_agent_pause_pauses_its_own_creator_and_keeps_the_first_pauser(online, clock, out):
    reply = send({"action": "agent.pause", "reason": "site pushed back (429)", "creatorId": "creator-evil"})
    again = send({"action": "agent.pause", "reason": "second"})
    assert reply == {"type": "ack", "action": "agent.pause", "paused": True, "alreadyPaused": False}
    assert again["alreadyPaused"] is True
    limits = h.creator_limits("creator-1")
    assert (limits["paused"], limits["pausedBy"], limits["pauseReason"]) == (
        True,
        "agent:agent-1",
        "site pushed back (429)",
    )
    assert h.creator_limits("creator-evil") is None


def test_logs_upload_prefix_comes_from_the_token_not_the_frame(online, clock, out):
    reply = send(
        {"action": "logs.upload", "creatorId": "creator-2", "agentId": "agent-x", "key": "creator-2/x"}
    )
    assert (reply["type"], reply["expiresIn"], reply["contentType"]) == ("logs.upload", 60, "text/plain")
    assert reply["key"].startswith("creator-1/agent-1/2026/11/28/133000-")
    assert reply["fields"]["key"] == reply["key"]
    assert urlparse(reply["url"]).netloc.startswith("byoip-test-logs.s3.")


def test_the_producers_trace_id_follows_the_job_into_every_log_line(online, clock, out):
    # GIVEN a job whose producer set a traceId
    body = h.job_body("job-7", traceId="req-7")
    # WHEN the dispatcher delivers it and the agent echoes the frame's traceId in its result
    assert dispatch(h.sqs_event(body), None) == {"batchItemFailures": []}
    (frame,) = [f for f in h.frames("conn-1") if f.get("type") == "job.assign"]
    send({"action": "job.result", "jobId": "job-7", "status": "completed", "traceId": frame["traceId"]})
    # and a job from an older producer (no traceId) whose older agent echoes nothing
    assert dispatch(h.sqs_event(h.job_body("job-8")), None) == {"batchItemFailures": []}
    send({"action": "job.result", "jobId": "job-8", "status": "completed"})
    # THEN the frame carried it, the item stores it, and both functions' lines carry the job's keys:
    # `jobId` always, `correlation_id` only when it is not the jobId (job-8's is: said once)
    assert (frame["traceId"], h.job("job-7")["traceId"], h.job("job-8")["traceId"]) == (
        "req-7",
        "req-7",
        "job-8",
    )
    lines = [
        (d["message"], d.get("jobId"), d.get("correlation_id"))
        for d in out.logs()
        if str(d.get("message", "")).startswith(("job_assigned", "job_result"))
    ]
    assert lines == [
        ("job_assigned", "job-7", "req-7"),
        ("job_result status=completed requeued=False", "job-7", "req-7"),
        ("job_assigned", "job-8", None),
        ("job_result status=completed requeued=False", "job-8", None),
    ]
    # and no line carries Powertools' `location`, `service` or `timestamp` (no reader uses them)
    assert not [d for d in out.logs() if {"location", "service", "timestamp"} & set(d)]
    # and a line about no job (a junk frame) carries no job's keys: they do not leak across frames
    send("not json")
    (rejected,) = [d for d in out.logs() if d.get("message") == "ws_message_rejected code=json_invalid"]
    assert "jobId" not in rejected and "correlation_id" not in rejected
