"""The whole path over moto: connect → dispatch → heartbeat (the ack) → result → disconnect."""

from __future__ import annotations

import json

from lambdas.dispatcher_sqs.handler import handler as dispatch
from lambdas.ws_connect.handler import handler as connect
from lambdas.ws_disconnect.handler import handler as disconnect
from lambdas.ws_message.handler import handler as message
from tests.lambdas import helpers as h
from tests.lambdas.conftest import DAY, NOW


def test_connect_dispatch_heartbeat_result(queues, clock, out):
    # GIVEN an agent that connects with a valid token and a creator limited to 5 in flight
    h.put_limits("creator-1", maxConcurrent=5, dailyQuota=100)
    tok = h.token("agent-1", "creator-1")
    assert connect(h.connect_event(tok, "conn-1"), None) == {"statusCode": 200}
    # WHEN a job is queued for it
    assert dispatch(h.sqs_event(h.job_body("job-1")), None) == {"batchItemFailures": []}
    # THEN the agent receives it, lists it in its heartbeat (the acknowledgement), reports the result
    (assign,) = h.frames("conn-1")
    assert (assign["type"], assign["jobId"], assign["attempt"]) == ("job.assign", "job-1", 1)
    clock.set(NOW + 5)
    beat = {"action": "heartbeat", "jobs": ["job-1"]}
    assert message(h.message_event(beat, "conn-1"), None) == {"statusCode": 200}
    assert (h.job("job-1")["status"], h.job("job-1")["leaseExpiresAt"]) == ("running", NOW + 5 + 300)
    clock.set(NOW + 20)
    result = {"action": "job.result", "jobId": "job-1", "status": "completed", "result": {"ok": True}}
    assert message(h.message_event(result, "conn-1"), None) == {"statusCode": 200}
    assert [f.get("action") for f in h.frames("conn-1")[1:]] == ["heartbeat", "job.result"]
    job = h.job("job-1")
    assert (job["status"], json.loads(job["result"]), job["finishedAt"]) == (
        "completed",
        {"ok": True},
        NOW + 20,
    )
    limits = h.creator_limits("creator-1")
    assert (limits["inFlight"], limits[f"used#{DAY}"]) == (0, 1)
    # AND the metrics say one connect, one assigned, one completed, one heartbeat, one batch item, no failures
    totals: dict[str, int] = {}
    for doc in out.emf():
        for directive in doc["_aws"]["CloudWatchMetrics"]:
            for metric in directive["Metrics"]:
                totals[metric["Name"]] = totals.get(metric["Name"], 0) + doc[metric["Name"]]
    assert totals == {
        "ConnectOk": 1,
        "BatchItems": 1,
        "BatchItemFailures": 0,
        "JobsAssigned": 1,
        "JobsCompleted": 1,
        "AgentHeartbeats": 1,
        "AssignAttempts": 1,  # the sample event was queued a day before the frozen clock: late
    }
    assert tok not in out.raw()
    # AND a disconnect leaves the agent offline
    assert disconnect(h.disconnect_event("conn-1"), None) == {"statusCode": 200}
    assert "connectionId" not in h.agent("agent-1")


def test_job_held_while_offline_is_delivered_after_the_agent_connects(queues, clock, out):
    # GIVEN a job for agent-1 while it is offline: held
    assert dispatch(h.sqs_event(h.job_body("job-1")), None) == {"batchItemFailures": []}
    assert h.job("job-1")["status"] == "held"
    # WHEN agent-1 connects, and the dispatcher gets the released message
    assert connect(h.connect_event(h.token("agent-1"), "conn-1"), None) == {"statusCode": 200}
    (released,) = h.drain(queues["JOBS_QUEUE_URL"])
    assert dispatch(h.sqs_event(released["body"]), None) == {"batchItemFailures": []}
    # THEN the job is delivered once, as attempt 1, and no longer held
    assert [(f["jobId"], f["attempt"]) for f in h.frames("conn-1")] == [("job-1", 1)]
    job = h.job("job-1")
    assert (job["status"], "heldAgentId" in job, job["connectionId"]) == ("assigned", False, "conn-1")
