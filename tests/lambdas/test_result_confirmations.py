"""A current agent's result is confirmed by its next heartbeat, not by an answer of its own.

`job.result` with `"ack": false` gets no answer once recorded (a billed message per job saved);
refusals still get their error frame at once, a re-queue its `requeued: true` answer. The
heartbeat lists the results the agent has not seen confirmed (`results`) and its answer names the
recorded ones (`recordedJobs`), from the lease read it makes anyway. An older agent (no field)
gets every answer as before. Counters move once per job whichever way the agent is answered.
"""

from __future__ import annotations

import pytest

from lambdas.common import aws
from lambdas.common.protocol import MAX_HEARTBEAT_RESULTS
from lambdas.dispatcher_sqs.handler import handler as dispatch
from lambdas.ws_message.handler import handler as message
from tests.lambdas import helpers as h
from tests.lambdas.conftest import NOW

OK = {"statusCode": 200}
NO_FAILURES = {"batchItemFailures": []}


def replies(body: dict, connection_id: str = "conn-1") -> list[dict]:
    """The frames the backend answered one frame with (none, or one)."""
    before = len(h.frames(connection_id))
    assert message(h.message_event(body, connection_id), None) == OK
    return h.frames(connection_id)[before:]


def done(job_id: str, **extra) -> dict:
    return {"action": "job.result", "jobId": job_id, "status": "completed", "ack": False, **extra}


def completed(out) -> int:
    return sum(d.get("JobsCompleted", 0) for d in out.emf())


@pytest.fixture
def jobs(online, clock):
    """job-1..job-3 of a creator with limits, dispatched to agent-1 (in flight: 3)."""
    h.put_limits("creator-1", maxConcurrent=5)
    for n in (1, 2, 3):
        assert dispatch(h.sqs_event(h.job_body(f"job-{n}")), None) == NO_FAILURES
    assert h.creator_limits("creator-1")["inFlight"] == 3
    return online


def test_a_current_agents_recorded_result_gets_no_answer_and_counts_once(jobs, out):
    # WHEN agent-1 sends its result asking for no answer, then sends it again
    first = replies(done("job-1", result={"url": "u"}))
    again = replies(done("job-1"))
    # THEN neither is answered; the job closed once, its slot released once, counted once
    assert (first, again) == ([], [])
    assert h.job("job-1")["status"] == "completed"
    assert h.creator_limits("creator-1")["inFlight"] == 2
    assert completed(out) == 1


def test_a_refused_result_still_gets_its_error_frame_at_once(jobs, out):
    # GIVEN job-9 is not agent-1's, and job-1 is already completed
    h.put_job("job-9", "assigned", "agent-2")
    assert replies(done("job-1")) == []
    # WHEN agent-1 reports job-9, and a contradicting failure of job-1, both without an answer
    foreign = replies(done("job-9"))
    late = replies({**done("job-1"), "status": "failed", "reason": "late"})
    # THEN both are refused at once (the success answer alone is suppressed); nothing changed
    assert [f["code"] for f in foreign + late] == ["job_not_assigned", "job_not_assigned"]
    assert (h.job("job-9")["status"], h.job("job-1")["status"]) == ("assigned", "completed")
    assert completed(out) == 1


def test_a_requeued_result_is_still_answered(jobs, out):
    # a retryable failure: the agent must learn it was re-queued (and never resend it)
    answer = replies({**done("job-1"), "status": "failed", "retryable": True})
    assert answer == [{"type": "ack", "action": "job.result", "jobId": "job-1", "requeued": True}]
    assert (h.job("job-1")["status"], h.job("job-1")["attempt"]) == ("queued", 2)


def test_the_heartbeat_names_exactly_the_recorded_results(jobs, clock, out):
    # GIVEN job-1 completed and job-2 failed by agent-1, job-3 still running, job-9 another
    # agent's completed job and job-0 no job at all
    assert replies(done("job-1")) == []
    assert replies({**done("job-2"), "status": "failed", "reason": "site_down"}) == []
    h.put_job("job-9", "completed", "agent-2")
    clock.set(NOW + 60)
    # WHEN its heartbeat lists all five as results it has not seen confirmed
    listed = ["job-0", "job-1", "job-2", "job-3", "job-9"]
    (answer,) = replies({"action": "heartbeat", "jobs": ["job-3"], "results": listed})
    # THEN exactly its two recorded results are confirmed; job-3's lease is extended as before
    assert answer["recordedJobs"] == ["job-1", "job-2"]
    assert answer["extendedJobs"] == ["job-3"]
    # AND the counters are exact: two closes counted once each, one slot still in flight
    assert h.creator_limits("creator-1")["inFlight"] == 1
    assert completed(out) == 1
    assert sum(d.get("JobsFailed", 0) for d in out.emf()) == 1


def test_the_confirmations_ride_on_the_lease_read_and_write_nothing(jobs, clock, out):
    assert replies(done("job-1")) == []
    calls: list[tuple[str, int]] = []

    def record(model, params, **_):
        keys = sum(len(t["Keys"]) for t in params.get("RequestItems", {}).values())
        calls.append((model.name, keys))

    aws.client("dynamodb").meta.events.register("provide-client-params.dynamodb", record)
    clock.set(NOW + 30)  # job-2's lease is fresh (assigned: the listing acknowledges it)
    (answer,) = replies({"action": "heartbeat", "jobs": ["job-2"], "results": ["job-1"]})
    assert answer["recordedJobs"] == ["job-1"]
    # connection read; one BatchGetItem for the lease and the result; the agent item; job-2's ack
    assert calls == [("GetItem", 0), ("UpdateItem", 0), ("BatchGetItem", 2), ("UpdateItem", 0)]


def test_a_heartbeat_without_results_answers_as_before(jobs, out):
    (answer,) = replies({"action": "heartbeat"})
    assert "recordedJobs" not in answer
    (answer,) = replies({"action": "heartbeat", "results": []})
    assert answer["recordedJobs"] == []


def test_results_are_bounded_like_jobs(jobs, out):
    ids = [f"job-{n}" for n in range(MAX_HEARTBEAT_RESULTS + 1)]
    (error,) = replies({"action": "heartbeat", "results": ids})
    assert (error["type"], error["code"]) == ("error", "schema_invalid")
    (error,) = replies({"action": "heartbeat", "results": ["bad id"]})
    assert error["code"] == "schema_invalid"
    (error,) = replies({**done("job-1"), "ack": "no"})
    assert error["code"] == "schema_invalid"


def test_a_legacy_agents_result_still_gets_its_answer(jobs, out):
    # an agent of the older protocol sends no `ack` field: every result is answered, as before
    legacy = {"action": "job.result", "jobId": "job-1", "status": "completed"}
    assert replies(legacy) == [{"type": "ack", "action": "job.result", "jobId": "job-1", "requeued": False}]
    assert replies(legacy) == [
        {"type": "ack", "action": "job.result", "jobId": "job-1", "requeued": False, "duplicate": True}
    ]
    assert replies({**legacy, "ack": True})[0]["duplicate"] is True
    assert h.creator_limits("creator-1")["inFlight"] == 2
    assert completed(out) == 1
