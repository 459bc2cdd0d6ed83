"""Two creators name an agent alike (`agent-1`): nothing one does reaches the other.

An agent is (creatorId, agentId). Every path an agent or a job takes is exercised with
creator-a's agent-1 on conn-a and creator-b's agent-1 on conn-b.
"""

from __future__ import annotations

import pytest

from lambdas.dispatcher_sqs.handler import handler as dispatch
from lambdas.lease_reaper.handler import handler as reap
from lambdas.ws_connect.handler import handler as connect
from lambdas.ws_disconnect.handler import handler as disconnect
from lambdas.ws_message.handler import handler as message
from tests.lambdas import helpers as h
from tests.lambdas.conftest import NOW

A, B = "creator-a", "creator-b"
OK = {"statusCode": 200}
NO_FAILURES = {"batchItemFailures": []}


def _connect(creator: str, conn: str) -> None:
    assert connect(h.connect_event(h.token("agent-1", creator), conn), None) == OK


def _send(body: dict, conn: str) -> dict:
    before = len(h.frames(conn))
    assert message(h.message_event(body, conn), None) == OK
    (reply,) = h.frames(conn)[before:]
    return reply


@pytest.fixture
def both(clock, out):
    """creator-a's agent-1 on conn-a and creator-b's agent-1 on conn-b, both connected at NOW."""
    _connect(A, "conn-a")
    _connect(B, "conn-b")
    return clock


@pytest.fixture
def a_job(both):
    """job-a of creator-a, assigned to creator-a's agent-1 on conn-a."""
    assert dispatch(h.sqs_event(h.job_body("job-a", "agent-1", A)), None) == NO_FAILURES
    return "job-a"


def test_connecting_one_never_overwrites_the_other(both):
    agent_a, agent_b = h.agent("agent-1", A), h.agent("agent-1", B)
    assert (agent_a["creatorId"], agent_a["connectionId"]) == (A, "conn-a")
    assert (agent_b["creatorId"], agent_b["connectionId"]) == (B, "conn-b")
    assert h.agent("agent-1") is None  # no creator-less item that either could claim


def test_each_creators_job_goes_to_its_own_agent(both):
    # WHEN each creator sends a job for "agent-1"
    response = dispatch(
        h.sqs_event(h.job_body("job-a", "agent-1", A), h.job_body("job-b", "agent-1", B)), None
    )
    # THEN each is pushed on its own creator's connection only
    assert response == NO_FAILURES
    assert [f["jobId"] for f in h.frames("conn-a")] == ["job-a"]
    assert [f["jobId"] for f in h.frames("conn-b")] == ["job-b"]
    assert (h.job("job-a")["connectionId"], h.job("job-b")["connectionId"]) == ("conn-a", "conn-b")


def test_the_other_creators_agent_cannot_ack_extend_or_close_a_job(a_job, both):
    lease = h.job(a_job)["leaseExpiresAt"]
    both.set(NOW + 60)
    # ack, heartbeat lease extension, completed and retryable-failed results from creator-b's agent-1
    ack = _send({"action": "job.ack", "jobId": a_job}, "conn-b")
    beat = _send({"action": "heartbeat", "jobs": [a_job]}, "conn-b")
    done = _send({"action": "job.result", "jobId": a_job, "status": "completed"}, "conn-b")
    retry = _send({"action": "job.result", "jobId": a_job, "status": "failed", "retryable": True}, "conn-b")
    assert [ack["code"], done["code"], retry["code"]] == ["job_not_assigned"] * 3
    assert (beat["type"], beat["leasesExtended"]) == ("ack", 0)
    job = h.job(a_job)
    assert (job["status"], job["attempt"], job["leaseExpiresAt"]) == ("assigned", 1, lease)
    # AND creator-a's own agent still can (an ack is not answered; a heartbeat listing the job is)
    before = len(h.frames("conn-a"))
    assert message(h.message_event({"action": "job.ack", "jobId": a_job}, "conn-a"), None) == OK
    assert (h.frames("conn-a")[before:], h.job(a_job)["status"]) == ([], "running")
    both.set(NOW + 161)  # the ack's lease (NOW + 360) has less than two thirds left: due
    assert _send({"action": "heartbeat", "jobs": [a_job]}, "conn-a")["extendedJobs"] == [a_job]
    assert h.job(a_job)["leaseExpiresAt"] == NOW + 161 + 300
    # AND once creator-a's agent completed it, a resend is confirmed to it alone: creator-b's
    # agent-1 sending the same result is still refused, as if the job did not exist
    done_a = _send({"action": "job.result", "jobId": a_job, "status": "completed"}, "conn-a")
    again_a = _send({"action": "job.result", "jobId": a_job, "status": "completed"}, "conn-a")
    again_b = _send({"action": "job.result", "jobId": a_job, "status": "completed"}, "conn-b")
    unknown = _send({"action": "job.result", "jobId": "job-none", "status": "completed"}, "conn-b")
    assert (done_a["requeued"], again_a["duplicate"]) == (False, True)
    assert again_b == {**unknown, "message": again_b["message"]} and again_b["code"] == "job_not_assigned"


def test_held_jobs_are_released_only_to_their_own_creators_agent(clock, out, queues):
    # GIVEN creator-a's agent-1 offline with a held job
    assert dispatch(h.sqs_event(h.job_body("job-a", "agent-1", A)), None) == NO_FAILURES
    assert h.job("job-a")["heldAgentId"] == f"{A}#agent-1"
    # WHEN creator-b's agent-1 connects
    _connect(B, "conn-b")
    # THEN creator-a's job stays held and nothing was queued for it
    assert h.job("job-a")["status"] == "held"
    assert h.drain(queues["JOBS_QUEUE_URL"]) == []
    # AND it is released when creator-a's own agent-1 connects
    _connect(A, "conn-a")
    assert h.job("job-a")["status"] == "queued"
    assert [m["jobId"] for m in h.queued_jobs(queues["JOBS_QUEUE_URL"])] == ["job-a"]


def test_a_paused_creator_keeps_its_jobs_held_whoever_shares_its_agent_name(clock, out, queues):
    # GIVEN creator-a paused with a held job for its agent-1
    h.put_limits(A, paused=True, pausedBy="operator:oncall")
    h.put_job("job-a", "held", "agent-1", A)
    # WHEN both creators' agent-1 connect
    _connect(B, "conn-b")
    _connect(A, "conn-a")
    # THEN the paused creator's job is not released and creator-b is not paused
    assert h.job("job-a")["status"] == "held"
    assert h.drain(queues["JOBS_QUEUE_URL"]) == []
    assert h.creator_limits(B) is None


def test_disconnecting_one_leaves_the_others_connection(both):
    assert disconnect(h.disconnect_event("conn-b"), None) == OK
    assert "connectionId" not in h.agent("agent-1", B)
    assert h.agent("agent-1", A)["connectionId"] == "conn-a"
    assert h.conn("conn-a")["creatorId"] == A


def test_a_410_on_one_drops_only_that_creators_connection(both):
    # GIVEN creator-b's connection went stale (past the connect grace)
    from lambdas.common.settings import DEFAULT_CONNECT_GRACE_SECONDS

    both.set(NOW + DEFAULT_CONNECT_GRACE_SECONDS)
    h.gateway_stub(("GoneException", 410))
    # WHEN creator-b's job is pushed and answers 410
    assert dispatch(h.sqs_event(h.job_body("job-b", "agent-1", B)), None) == NO_FAILURES
    # THEN creator-b's agent is offline with the job held for it; creator-a's agent is untouched
    assert "connectionId" not in h.agent("agent-1", B)
    assert h.job("job-b")["heldAgentId"] == f"{B}#agent-1"
    assert h.agent("agent-1", A)["connectionId"] == "conn-a"


def test_heartbeats_touch_only_the_senders_agent(both):
    both.set(NOW + 30)
    assert _send({"action": "heartbeat", "version": "2.0"}, "conn-b")["type"] == "ack"
    assert (h.agent("agent-1", B)["lastSeen"], h.agent("agent-1", B)["version"]) == (NOW + 30, "2.0")
    assert h.agent("agent-1", A)["lastSeen"] == NOW and "version" not in h.agent("agent-1", A)


def test_an_expired_lease_is_requeued_for_its_own_creator(a_job, both, queues):
    # GIVEN creator-a's job whose lease ran out
    both.set(int(h.job(a_job)["leaseExpiresAt"]) + 1)
    # WHEN the reaper runs
    reap({}, None)
    # THEN the re-queued message still names creator-a, so it can only go to creator-a's agent-1
    (requeued,) = h.queued_jobs(queues["JOBS_QUEUE_URL"])
    assert (requeued["jobId"], requeued["creatorId"], requeued["agentId"], requeued["attempt"]) == (
        a_job,
        A,
        "agent-1",
        2,
    )


@pytest.mark.parametrize(
    ("status", "agent_online"),
    [("held", True), ("queued", True), ("completed", True), ("held", False), ("queued", False)],
)
def test_a_job_id_of_another_creator_neither_overwrites_nor_swallows_a_job(
    status, agent_online, clock, out, queues
):
    # GIVEN creator-b's job-1 (held, queued for a re-queue, or completed) and creator-a's agent-1
    # online or not
    h.put_job("job-1", status, "agent-1", B)
    before = h.job("job-1")
    if agent_online:
        _connect(A, "conn-a")
    # WHEN a message of creator-a reuses the id job-1
    body = h.job_body("job-1", "agent-1", A)
    assert dispatch(h.sqs_event(body), None) == NO_FAILURES
    # THEN creator-b's job is untouched, nothing reaches creator-a's agent, and the message is
    # not dropped as a duplicate: it waits in the DLQ with its reason (GuardedRedrive parks it)
    assert h.job("job-1") == before
    assert h.frames("conn-a") == []
    assert h.drain(queues["DLQ_URL"]) == [{"body": body, "attributes": {"reason": "job_id_conflict"}}]
    assert "batch_item_failed jobId=job-1 reason=job_id_conflict status=409" in out.messages()


def test_a_job_id_of_another_agent_of_the_same_creator_is_a_conflict_too(both, queues):
    # GIVEN creator-a's job-1 held for its agent-2
    h.put_job("job-1", "held", "agent-2", A)
    # WHEN a message reuses job-1 for creator-a's agent-1 (online)
    assert dispatch(h.sqs_event(h.job_body("job-1", "agent-1", A)), None) == NO_FAILURES
    # THEN the job stays agent-2's and the message is dead-lettered
    assert (h.job("job-1")["agentId"], h.job("job-1")["status"]) == ("agent-2", "held")
    assert [m["attributes"] for m in h.drain(queues["DLQ_URL"])] == [{"reason": "job_id_conflict"}]
