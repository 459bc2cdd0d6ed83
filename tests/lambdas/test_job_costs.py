"""What a job costs in DynamoDB calls and frames, and the acks that arrive late (frames are not ordered).

A creator without limits: the assignment and the result are one conditional write each, no
transaction, no counters. A creator with limits: both move its counters in a transaction, once.
"""

from __future__ import annotations

import pytest

from lambdas.common import aws
from lambdas.dispatcher_sqs.handler import handler as dispatch
from lambdas.lease_reaper.handler import handler as reap
from lambdas.ws_connect.handler import handler as connect
from lambdas.ws_message.handler import handler as message
from tests.lambdas import helpers as h
from tests.lambdas.conftest import DAY, NOW

OK = {"statusCode": 200}
NO_FAILURES = {"batchItemFailures": []}
DONE = {"action": "job.result", "jobId": "job-1", "status": "completed"}
ACK = {"action": "job.ack", "jobId": "job-1"}


@pytest.fixture
def calls(online):
    """DynamoDB operations made by the handlers, in order."""
    made: list[str] = []
    client = aws.client("dynamodb")
    client.meta.events.register("before-call.dynamodb", lambda model, **_: made.append(model.name))
    return made


def replies(body, connection_id: str = "conn-1") -> list[dict]:
    """The frames the backend answered one frame with (none, or one)."""
    before = len(h.frames(connection_id))
    assert message(h.message_event(body, connection_id), None) == OK
    return h.frames(connection_id)[before:]


def warm() -> None:
    """A first frame this minute: this container reads (and caches) the agent's revocation marks."""
    assert replies({"action": "heartbeat"})[0]["type"] == "ack"


def test_the_revocation_marks_are_read_once_a_minute_per_container_not_per_frame(calls, clock, out):
    # WHEN the agent sends three heartbeats: now, 59 s later, and 60 s later
    for at in (NOW, NOW + 59, NOW + 60):
        clock.set(at)
        calls.clear()
        warm()
        # THEN the first and the one a minute later also read the creator's and the agent's marks
        marks = ["GetItem", "GetItem"] if at != NOW + 59 else []
        # (the connection's ttl is rewritten only once less than an hour of it is left)
        assert calls == ["GetItem", *marks, "UpdateItem"]  # connection; marks; touch


def test_a_creator_without_limits_costs_one_read_and_one_write_per_side(calls, clock, out):
    warm()
    calls.clear()
    # WHEN a job of a creator without a CreatorLimits item is dispatched, then completed
    assert dispatch(h.sqs_event(h.job_body("job-1")), None) == NO_FAILURES
    dispatched = list(calls)
    assert h.job("job-1")["limitsDay"] == "-"  # uncounted
    calls.clear()
    assert replies(DONE) == [{"type": "ack", "action": "job.result", "jobId": "job-1", "requeued": False}]
    # THEN the dispatcher read agent and limits together and wrote the job once, no transaction
    assert dispatched == ["BatchGetItem", "UpdateItem"]
    # AND the result: the connection read (its frame counted in memory), the job's one write, and
    # the circuit breaker's read of the creator's outcome window (none: no failure, nothing written)
    assert calls == ["GetItem", "UpdateItem", "GetItem"]
    job = h.job("job-1")
    assert (job["status"], "limitsDay" in job, h.creator_limits("creator-1")) == ("completed", False, None)


def test_a_creator_with_limits_moves_its_counters_in_a_transaction_on_both_sides(calls, clock, out):
    h.put_limits("creator-1", maxConcurrent=2)
    warm()
    calls.clear()
    assert dispatch(h.sqs_event(h.job_body("job-1")), None) == NO_FAILURES
    dispatched = list(calls)
    assert (h.job("job-1")["limitsDay"], h.creator_limits("creator-1")["inFlight"]) == (DAY, 1)
    calls.clear()
    replies(DONE)
    assert dispatched == ["BatchGetItem", "TransactWriteItems"]
    # the plain write is tried first and refused (the job is counted), then the transaction
    assert calls == ["GetItem", "UpdateItem", "TransactWriteItems", "GetItem"]  # the last: breaker window
    assert (h.job("job-1")["status"], h.creator_limits("creator-1")["inFlight"]) == ("completed", 0)


def test_a_paused_creator_without_quotas_still_goes_through_the_limits(online, clock, out):
    h.put_limits("creator-1", paused=True, pausedBy="agent:agent-1")
    assert dispatch(h.sqs_event(h.job_body("job-1")), None) == NO_FAILURES
    assert (h.job("job-1")["status"], h.job("job-1")["reason"], h.frames(online)) == (
        "held",
        "creator_paused",
        [],
    )


def test_limits_set_while_a_job_runs_never_release_a_slot_it_did_not_take(online, clock, out):
    # GIVEN job-1 assigned while creator-1 had no limits, then a limit, then job-2 counted
    assert dispatch(h.sqs_event(h.job_body("job-1")), None) == NO_FAILURES
    h.put_limits("creator-1", maxConcurrent=1)
    assert dispatch(h.sqs_event(h.job_body("job-2")), None) == NO_FAILURES
    assert (h.job("job-1")["limitsDay"], h.creator_limits("creator-1")["inFlight"]) == ("-", 1)
    # WHEN the uncounted job-1 completes
    replies(DONE)
    # THEN job-2 still holds the one slot, and a third job waits for it
    assert h.creator_limits("creator-1")["inFlight"] == 1
    at_limit = dispatch(h.sqs_event(h.job_body("job-3")), None)
    assert at_limit == {"batchItemFailures": [{"itemIdentifier": "m0"}]}
    replies({**DONE, "jobId": "job-2"})
    assert h.creator_limits("creator-1")["inFlight"] == 0


@pytest.mark.parametrize("status", ["assigned", "running"])
def test_a_job_assigned_by_the_previous_release_still_releases_its_slot(status, online, clock, out):
    # GIVEN a job assigned before this release (every job was counted then; no limitsDay)
    h.put_job("job-1", status, connectionId="conn-1", leaseState="active", leaseExpiresAt=NOW + 100)
    h.put_limits("creator-1", maxConcurrent=5, inFlight=1)
    # WHEN its result arrives
    assert replies(DONE)[0]["requeued"] is False
    # THEN its slot is released, as the release that counted it would have
    assert (h.job("job-1")["status"], h.creator_limits("creator-1")["inFlight"]) == ("completed", 0)


def test_the_reaper_releases_only_counted_jobs(online, queues, clock, out):
    assert dispatch(h.sqs_event(h.job_body("job-1")), None) == NO_FAILURES
    h.put_limits("creator-1", maxConcurrent=5, inFlight=1)  # another job of the creator holds a slot
    clock.set(NOW + 301)
    assert reap(h.event("lease_reaper_schedule"), None) == {"requeued": 1, "failed": 0, "skipped": 0}
    assert (h.job("job-1")["status"], h.creator_limits("creator-1")["inFlight"]) == ("queued", 1)


def test_a_late_ack_after_the_result_is_a_quiet_no_op(online, clock, out):
    # GIVEN the result was handled before the ack (another invocation ran first)
    assert dispatch(h.sqs_event(h.job_body("job-1")), None) == NO_FAILURES
    assert replies(DONE)[0]["action"] == "job.result"
    # WHEN the ack arrives, and again
    late, repeated = replies(ACK), replies(ACK)
    # THEN nothing is answered, the job keeps its result, nothing is logged as rejected
    assert (late, repeated) == ([], [])
    job = h.job("job-1")
    assert (job["status"], "leaseState" in job) == ("completed", False)
    assert not [m for m in out.messages() if m.startswith("ws_message_rejected")]


def test_a_late_ack_after_a_retryable_failure_is_quiet_and_leaves_the_requeue(online, queues, clock, out):
    assert dispatch(h.sqs_event(h.job_body("job-1")), None) == NO_FAILURES
    replies({**DONE, "status": "failed", "retryable": True, "reason": "timeout"})
    assert replies(ACK) == []
    job = h.job("job-1")
    assert (job["status"], job["attempt"]) == ("queued", 2)


def test_an_ack_of_a_job_that_is_not_the_agents_is_still_refused(online, clock, out):
    h.put_job("job-9", "completed", "agent-2")
    (refused,) = replies({"action": "job.ack", "jobId": "job-9"})
    (unknown,) = replies({"action": "job.ack", "jobId": "job-none"})
    assert refused["code"] == unknown["code"] == "job_not_assigned"
    assert h.job("job-9")["status"] == "completed"


def test_a_reconnected_agent_lists_its_job_under_the_new_connection(online, clock, out):
    assert dispatch(h.sqs_event(h.job_body("job-1")), None) == NO_FAILURES
    assert connect(h.connect_event(h.token("agent-1"), "conn-2"), None) == OK
    (beat,) = replies({"action": "heartbeat", "jobs": ["job-1"]}, "conn-2")
    assert (beat["leasesExtended"], h.job("job-1")["status"]) == (1, "running")
