"""dispatcher-sqs: assignment exactly once, limits, holds, delivery failures, log lines, EMF."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.stub import ANY

from lambdas.common.metrics import CONNECT_OUTCOMES
from lambdas.common.settings import DEFAULT_CONNECT_GRACE_SECONDS as GRACE
from lambdas.dispatcher_sqs.handler import handler as dispatch
from tests.lambdas import helpers as h
from tests.lambdas.conftest import DAY, NOW

NO_FAILURES = {"batchItemFailures": []}


def failures(*message_ids: str) -> dict[str, list[dict[str, str]]]:
    return {"batchItemFailures": [{"itemIdentifier": m} for m in message_ids]}


def failure_lines(out) -> list[dict[str, object]]:
    return [
        {k: d[k] for k in ("message", "jobId", "reason", "status")}
        for d in out.logs()
        if str(d.get("message", "")).startswith("batch_item_failed")
    ]


def connection_age(clock, seconds: int) -> None:
    """Move the handlers' clock to `seconds` after agent-1's current connection was made."""
    clock.set(h.agent("agent-1")["connectedAt"] + seconds)


def metrics(out) -> dict[str, int]:
    """Metric values of the invocation's single EMF line (and check its shape); the `online`
    fixture's `$connect` outcome line (the connect SLI) is ws-connect's, not the dispatcher's."""
    connect = set(CONNECT_OUTCOMES.values())
    (doc,) = [d for d in out.emf() if not connect & set(d)]
    for directive in doc["_aws"]["CloudWatchMetrics"]:
        assert directive["Dimensions"] == [["Stage"]]
    assert doc["Stage"] == "test"
    names = [m["Name"] for d in doc["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]]
    return {name: doc[name] for name in names}


def test_happy_path_assigns_delivers_and_counts(online, clock, out):
    h.put_limits("creator-1", maxConcurrent=10, dailyQuota=100)  # limits: the counters move with the job
    # GIVEN agent-1 online and a job for it
    # WHEN the dispatcher gets the message
    response = dispatch(h.sqs_event(h.job_body("job-1"), sent_at=NOW - 3), None)
    # THEN no failure, one job.assign frame, the job assigned with a lease, the creator counted
    assert response == NO_FAILURES
    assert h.frames(online) == [
        {
            "type": "job.assign",
            "jobId": "job-1",
            "kind": "post.publish",
            "payload": {"postId": "p-job-1"},
            "attempt": 1,
            "leaseSeconds": 300,
            "traceId": "job-1",
        }
    ]
    job = h.job("job-1")
    assert {
        k: job[k] for k in ("status", "agentId", "connectionId", "attempt", "leaseState", "leaseExpiresAt")
    } == {
        "status": "assigned",
        "agentId": "agent-1",
        "connectionId": "conn-1",
        "attempt": 1,
        "leaseState": "active",
        "leaseExpiresAt": NOW + 300,
    }
    limits = h.creator_limits("creator-1")
    assert (limits["inFlight"], limits[f"used#{DAY}"], job["limitsDay"]) == (1, 1, DAY)
    assert metrics(out) == {
        "JobsAssigned": 1,
        "BatchItems": 1,
        "BatchItemFailures": 0,
        "AssignAttempts": 1,
        "AssignedOnTime": 1,
    }
    assert failure_lines(out) == []


@pytest.mark.parametrize(
    ("body", "reason", "job_id"),
    [
        ("{not json", "json_invalid", "-"),
        ('["a list"]', "json_invalid", "-"),
        (
            json.dumps({"jobId": "job-2", "agentId": "agent-1", "creatorId": "creator-1"}),
            "schema_invalid",
            "job-2",
        ),
        (
            json.dumps({"jobId": "job/../3", "agentId": "a", "creatorId": "c", "kind": "k"}),
            "schema_invalid",
            "-",
        ),
        (h.job_body("job-4", critical="yes"), "schema_invalid", "job-4"),
        (h.job_body("job-5", attempt=0), "schema_invalid", "job-5"),
        (json.dumps({"jobId": "job-6", "creatorId": "creator-1", "kind": "k"}), "agent_missing", "job-6"),
    ],
)
def test_clearly_bad_items_go_to_the_dlq_with_their_reason_not_retried(
    body, reason, job_id, queues, clock, out
):
    # GIVEN a message that can never succeed
    # WHEN the dispatcher gets it
    response = dispatch(h.sqs_event(body), None)
    # THEN it is not retried, it sits in the DLQ with its reason, and one failure line says why
    assert response == NO_FAILURES
    assert h.drain(queues["DLQ_URL"]) == [{"body": body, "attributes": {"reason": reason}}]
    assert failure_lines(out) == [
        {
            "message": f"batch_item_failed jobId={job_id} reason={reason} status=400",
            "jobId": job_id,
            "reason": reason,
            "status": 400,
        }
    ]
    assert metrics(out) == {"JobsFailed": 1, "BatchItems": 1, "BatchItemFailures": 1}


def test_a_job_of_another_creator_with_the_same_agent_name_never_reaches_this_agent(
    online, queues, clock, out
):
    # GIVEN creator-1's agent-1 online; WHEN a job for creator-2's agent-1 (never connected) arrives
    response = dispatch(h.sqs_event(h.job_body("job-x", "agent-1", "creator-2")), None)
    # THEN it is held for creator-2's own agent-1: not pushed to creator-1's, not dead-lettered
    assert response == NO_FAILURES
    assert h.frames(online) == []
    assert h.drain(queues["DLQ_URL"]) == []
    job = h.job("job-x")
    assert (job["status"], job["heldAgentId"], job["creatorId"]) == ("held", "creator-2#agent-1", "creator-2")
    assert h.agent("agent-1", "creator-2") is None


def test_duplicate_delivery_assigns_and_pushes_once(online, clock, out):
    h.put_limits("creator-1", maxConcurrent=10, dailyQuota=100)  # limits: the counters move with the job
    # GIVEN the same message delivered twice in one batch, then again in a later batch
    body = h.job_body("job-1")
    first = dispatch(h.sqs_event(body, body), None)
    second = dispatch(h.sqs_event(body), None)
    # THEN one frame, the duplicates skipped (not failed), the creator counted once
    assert first == second == NO_FAILURES
    assert [f["jobId"] for f in h.frames(online)] == ["job-1"]
    assert h.creator_limits("creator-1")["inFlight"] == 1
    skipped = [m for m in out.messages() if m.startswith("job_skipped")]
    assert skipped == ["job_skipped jobId=job-1 reason=already_assigned status=409"] * 2


def test_message_ahead_of_its_requeue_write_is_retried_not_skipped(online, clock, out):
    # GIVEN job-1 still assigned at attempt 1 (the reaper sent attempt 2 but has not updated the item yet)
    h.put_job("job-1", "assigned", attempt=1, connectionId=online, leaseState="active")
    # WHEN the attempt-2 message reaches the dispatcher first
    response = dispatch(h.sqs_event(h.job_body("job-1", attempt=2)), None)
    # THEN it is retried (not skipped, which would strand the job), and nothing is pushed
    assert response == failures("m0")
    assert h.frames(online) == []
    assert (h.job("job-1")["status"], h.job("job-1")["attempt"]) == ("assigned", 1)
    assert "batch_item_failed jobId=job-1 reason=requeue_pending status=409" in out.messages()


def test_message_of_an_older_attempt_is_still_skipped(online, clock, out):
    # GIVEN job-1 assigned at attempt 2; WHEN a stale attempt-1 copy arrives
    h.put_job("job-1", "assigned", attempt=2, connectionId=online, leaseState="active")
    response = dispatch(h.sqs_event(h.job_body("job-1", attempt=1)), None)
    # THEN it is a duplicate: skipped, not retried, not pushed
    assert response == NO_FAILURES
    assert h.frames(online) == []
    assert "job_skipped jobId=job-1 reason=already_assigned status=409" in out.messages()


def test_offline_agent_non_critical_job_is_held(queues, clock, out):
    # GIVEN agent-9 never connected
    # WHEN a non-critical job for it arrives
    response = dispatch(h.sqs_event(h.job_body("job-1", "agent-9")), None)
    # THEN it is held for agent-9 (released when it connects), not retried
    assert response == NO_FAILURES
    job = h.job("job-1")
    assert (job["status"], job["heldAgentId"], job["reason"], job["attempt"]) == (
        "held",
        "creator-1#agent-9",
        "agent_offline",
        1,
    )
    assert "leaseState" not in job
    assert "job_held jobId=job-1 reason=agent_offline status=404" in out.messages()
    assert metrics(out) == {"JobsHeld": 1, "BatchItems": 1, "BatchItemFailures": 0}


def test_offline_agent_critical_job_is_retried_without_any_write(queues, clock, out):
    response = dispatch(h.sqs_event(h.job_body("job-1", "agent-9", critical=True)), None)
    assert response == failures("m0")
    assert h.job("job-1") is None
    assert failure_lines(out) == [
        {
            "message": "batch_item_failed jobId=job-1 reason=agent_offline status=404",
            "jobId": "job-1",
            "reason": "agent_offline",
            "status": 404,
        }
    ]


def test_creator_at_concurrency_is_retried_later(online, clock, out):
    # GIVEN creator-1 allows one job in flight and has one
    h.put_limits("creator-1", maxConcurrent=1, inFlight=1)
    # WHEN another job arrives
    response = dispatch(h.sqs_event(h.job_body("job-2")), None)
    # THEN it is retried (a slot frees within a lease), nothing written or pushed
    assert response == failures("m0")
    assert h.job("job-2") is None and h.frames(online) == []
    assert (
        failure_lines(out)[0]["message"] == "batch_item_failed jobId=job-2 reason=limit_exceeded status=429"
    )
    assert h.creator_limits("creator-1")["inFlight"] == 1


@pytest.mark.parametrize(
    ("limits", "reason", "status"),
    [
        ({"dailyQuota": 2, f"used#{DAY}": 2}, "limit_exceeded", 429),
        ({"paused": True, "pausedBy": "agent:agent-1"}, "creator_paused", 423),
    ],
)
def test_creator_at_quota_or_paused_holds_non_critical_and_retries_critical(
    limits, reason, status, online, clock, out
):
    # GIVEN creator-1 at its daily quota, or paused
    h.put_limits("creator-1", **limits)
    # WHEN a non-critical and a critical job arrive
    response = dispatch(h.sqs_event(h.job_body("job-n"), h.job_body("job-c", critical=True)), None)
    # THEN the first is held, the second retried; nothing is pushed and no counter moves
    assert response == failures("m1")
    assert (h.job("job-n")["status"], h.job("job-n")["reason"]) == ("held", reason)
    assert h.job("job-c") is None
    assert h.frames(online) == []
    assert h.creator_limits("creator-1") == {"creatorId": "creator-1", **limits}
    assert f"job_held jobId=job-n reason={reason} status={status}" in out.messages()
    assert (
        failure_lines(out)[0]["message"] == f"batch_item_failed jobId=job-c reason={reason} status={status}"
    )


def test_410_drops_the_stale_connection_and_holds_a_non_critical_job(online, clock, out):
    h.put_limits("creator-1", maxConcurrent=10, dailyQuota=100)  # limits: the counters move with the job
    # GIVEN the agent's connection went stale (no longer inside the grace after $connect)
    connection_age(clock, GRACE)
    h.gateway_stub(("GoneException", 410))
    # WHEN its job is pushed
    response = dispatch(h.sqs_event(h.job_body("job-1")), None)
    # THEN the connection is forgotten, the job held for the agent, the counters refunded
    assert response == NO_FAILURES
    assert "connectionId" not in h.agent("agent-1") and h.conn("conn-1") is None
    job = h.job("job-1")
    assert (job["status"], job["heldAgentId"], job["reason"]) == ("held", "creator-1#agent-1", "delivery_410")
    assert "leaseState" not in job and "connectionId" not in job and "limitsDay" not in job
    limits = h.creator_limits("creator-1")
    assert (limits["inFlight"], limits[f"used#{DAY}"]) == (0, 0)
    assert "job_held jobId=job-1 reason=delivery_410 status=410" in out.messages()


def test_410_on_a_critical_job_retries_it(online, clock, out):
    connection_age(clock, GRACE)
    h.gateway_stub(("GoneException", 410))
    response = dispatch(h.sqs_event(h.job_body("job-1", critical=True)), None)
    assert response == failures("m0")
    job = h.job("job-1")
    assert (job["status"], job["attempt"]) == ("queued", 1)
    assert failure_lines(out) == [
        {
            "message": "batch_item_failed jobId=job-1 reason=delivery_410 status=410",
            "jobId": "job-1",
            "reason": "delivery_410",
            "status": 410,
        }
    ]
    # AND the retry of the same message is assignable again
    assert dispatch(h.sqs_event(h.job_body("job-1", critical=True)), None) == failures(
        "m0"
    )  # agent offline now


def test_410_after_a_quick_reconnect_keeps_the_new_connection(online, clock, out):
    h.put_limits("creator-1", maxConcurrent=10, dailyQuota=100)  # limits: the counters move with the job
    # GIVEN the agent reconnects (conn-2) while the push to conn-1 is failing with 410
    from lambdas.ws_connect.handler import handler as connect

    def reconnect() -> None:
        assert connect(h.connect_event(h.token("agent-1"), "conn-2"), None) == {"statusCode": 200}

    connection_age(clock, GRACE)
    h.gateway_stub(("GoneException", 410), before=reconnect)
    # WHEN the dispatcher handles the 410
    response = dispatch(h.sqs_event(h.job_body("job-1")), None)
    # THEN conn-2 survives, only conn-1 is gone, and the job is retried towards conn-2
    assert h.agent("agent-1")["connectionId"] == "conn-2"
    assert h.conn("conn-2")["agentId"] == "agent-1" and h.conn("conn-1") is None
    assert response == failures("m0")
    assert h.job("job-1")["status"] == "queued"
    assert h.creator_limits("creator-1")["inFlight"] == 0
    assert failure_lines(out)[0]["message"] == "batch_item_failed jobId=job-1 reason=delivery_410 status=410"


@pytest.mark.parametrize("age", [0, GRACE - 1])
@pytest.mark.parametrize("critical", [False, True])
def test_410_inside_the_connect_grace_keeps_the_connection_and_retries(age, critical, online, clock, out):
    h.put_limits("creator-1", maxConcurrent=10, dailyQuota=100)  # limits: the counters move with the job
    # GIVEN an agent whose connection is younger than the grace ($connect may still be running)
    connection_age(clock, age)
    stub = h.gateway_stub(("GoneException", 410))
    # WHEN the push of its job gets 410
    response = dispatch(h.sqs_event(h.job_body("job-1", critical=critical)), None)
    # THEN the record is retried, the connection kept, the job neither held nor assigned
    assert response == failures("m0")
    assert h.agent("agent-1")["connectionId"] == "conn-1"
    assert h.conn("conn-1")["agentId"] == "agent-1"
    job = h.job("job-1")
    assert (job["status"], job["attempt"], "heldAgentId" in job, "leaseState" in job) == (
        "queued",
        1,
        False,
        False,
    )
    limits = h.creator_limits("creator-1")
    assert (limits["inFlight"], limits[f"used#{DAY}"]) == (0, 0)
    assert [line["message"] for line in failure_lines(out)] == [
        "batch_item_failed jobId=job-1 reason=delivery_410 status=410"
    ]
    # AND once the connection is open, SQS's retry of the record delivers it to conn-1
    stub.add_response("post_to_connection", {}, {"ConnectionId": "conn-1", "Data": ANY})
    assert dispatch(h.sqs_event(h.job_body("job-1", critical=critical)), None) == NO_FAILURES
    stub.assert_no_pending_responses()
    job = h.job("job-1")
    assert (job["status"], job["connectionId"], job["attempt"]) == ("assigned", "conn-1", 1)


@pytest.mark.parametrize(
    ("code", "status", "reason", "logged_status"),
    [
        ("LimitExceededException", 429, "throttled", 429),
        ("ThrottlingException", 400, "throttled", 429),
        ("ForbiddenException", 403, "delivery_error", 502),
        ("InternalServerError", 500, "delivery_error", 502),
    ],
)
def test_push_failures_undo_the_assignment_and_retry(code, status, reason, logged_status, online, clock, out):
    h.put_limits("creator-1", maxConcurrent=10, dailyQuota=100)  # limits: the counters move with the job
    h.gateway_stub((code, status))
    response = dispatch(h.sqs_event(h.job_body("job-1")), None)
    assert response == failures("m0")
    job = h.job("job-1")
    assert (job["status"], job["attempt"], "leaseState" in job) == ("queued", 1, False)
    assert h.creator_limits("creator-1")["inFlight"] == 0
    line = f"batch_item_failed jobId=job-1 reason={reason} status={logged_status}"
    assert failure_lines(out)[0]["message"] == line


def test_dynamodb_throttling_fails_only_that_item(online, clock, out):
    # GIVEN DynamoDB throttles the agent (and limits) lookup of one job
    from botocore.stub import Stubber

    from lambdas.common import aws

    client = boto3.client("dynamodb", region_name=h.REGION)
    stub = Stubber(client)
    stub.add_client_error(
        "batch_get_item", service_error_code="ProvisionedThroughputExceededException", http_status_code=400
    )
    stub.activate()
    aws.override("dynamodb", client)
    response = dispatch(h.sqs_event(h.job_body("job-1")), None)
    assert response == failures("m0")
    assert failure_lines(out)[0]["message"] == "batch_item_failed jobId=job-1 reason=throttled status=429"


def test_one_failing_lookup_does_not_fail_the_batch(online, clock, out, monkeypatch):
    # GIVEN the lookup of agent-2 raises while agent-1's jobs are fine
    from lambdas.common import lookups

    real = lookups.agent_and_limits

    def flaky(creator_id: str, agent_id: str):
        if agent_id == "agent-2":
            raise RuntimeError("lookup exploded")
        return real(creator_id, agent_id)

    monkeypatch.setattr(lookups, "agent_and_limits", flaky)
    # WHEN a batch mixes them
    response = dispatch(
        h.sqs_event(h.job_body("job-1"), h.job_body("job-2", "agent-2"), h.job_body("job-3")), None
    )
    # THEN only the middle record is reported; the others were delivered once
    assert response == failures("m1")
    assert [f["jobId"] for f in h.frames(online)] == ["job-1", "job-3"]
    assert failure_lines(out) == [
        {
            "message": "batch_item_failed jobId=job-2 reason=internal_error status=500",
            "jobId": "job-2",
            "reason": "internal_error",
            "status": 500,
        }
    ]
    # (the sample event's records were queued a day ago: three late attempts, two delivered)
    assert metrics(out) == {"JobsAssigned": 2, "BatchItems": 3, "BatchItemFailures": 1, "AssignAttempts": 3}


def test_a_batch_where_everything_fails_still_answers_partially(queues, clock, out):
    response = dispatch(
        h.sqs_event(h.job_body("a", "agent-9", critical=True), h.job_body("b", "agent-9", critical=True)),
        None,
    )
    assert response == failures("m0", "m1")


def test_requeued_job_is_assigned_with_its_new_attempt_and_stale_duplicates_skipped(online, clock, out):
    # GIVEN job-1 re-queued as attempt 2 (the reaper's work)
    h.put_job("job-1", "queued", attempt=2)
    # WHEN the stale attempt-1 message and the attempt-2 message both arrive
    response = dispatch(h.sqs_event(h.job_body("job-1"), h.job_body("job-1", attempt=2)), None)
    # THEN only attempt 2 is pushed
    assert response == NO_FAILURES
    assert [(f["jobId"], f["attempt"]) for f in h.frames(online)] == [("job-1", 2)]
    assert h.job("job-1")["attempt"] == 2
