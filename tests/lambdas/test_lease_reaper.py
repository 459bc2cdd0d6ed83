"""lease-reaper: expired leases are re-queued with the next attempt, then failed with a reason."""

from __future__ import annotations

from lambdas.dispatcher_sqs.handler import handler as dispatch
from lambdas.lease_reaper.handler import handler as reap
from lambdas.ws_message.handler import handler as message
from tests.lambdas import helpers as h
from tests.lambdas.conftest import NOW

LEASE = 300


def test_expired_lease_is_requeued_then_failed_after_max_attempts(online, queues, clock, out):
    h.put_limits("creator-1", maxConcurrent=10, dailyQuota=100)  # limits: the counters move with the job
    # GIVEN job-1 delivered to agent-1, which never answers
    assert dispatch(h.sqs_event(h.job_body("job-1")), None) == {"batchItemFailures": []}
    for attempt in (2, 3):
        # WHEN its lease runs out and the reaper runs
        clock.set(clock.value + LEASE + 1)
        assert reap(h.event("lease_reaper_schedule"), None) == {"requeued": 1, "failed": 0, "skipped": 0}
        # THEN the job is queued again as the next attempt, its slot released
        (msg,) = h.queued_jobs(queues["JOBS_QUEUE_URL"])
        assert (msg["jobId"], msg["attempt"]) == ("job-1", attempt)
        assert (h.job("job-1")["status"], h.creator_limits("creator-1")["inFlight"]) == ("queued", 0)
        # AND the dispatcher delivers that attempt
        assert dispatch(h.sqs_event(h.job_body("job-1", attempt=attempt)), None) == {"batchItemFailures": []}
        assert h.frames(online)[-1]["attempt"] == attempt
    # WHEN the third lease expires too
    clock.set(clock.value + LEASE + 1)
    assert reap(h.event("lease_reaper_schedule"), None) == {"requeued": 0, "failed": 1, "skipped": 0}
    # THEN the job is failed with lease_expired, nothing re-queued, the slot released
    job = h.job("job-1")
    assert (job["status"], job["reason"], job["attempt"], "leaseState" in job) == (
        "failed",
        "lease_expired",
        3,
        False,
    )
    assert h.queued_jobs(queues["JOBS_QUEUE_URL"]) == []
    assert h.creator_limits("creator-1")["inFlight"] == 0
    assert out.emf()[-1]["JobsFailed"] == 1
    # the dead-man's switches: one completed lease pass and one creator watch per run
    assert (out.emf()[-1]["ReaperRuns"], out.emf()[-1]["WatchRuns"]) == (1, 1)


def test_live_leases_and_finished_jobs_are_left_alone(online, queues, clock, out):
    assert dispatch(h.sqs_event(h.job_body("job-1"), h.job_body("job-2")), None) == {"batchItemFailures": []}
    # job-2 finishes; job-1's lease is extended by an ack
    message(
        h.message_event({"action": "job.result", "jobId": "job-2", "status": "completed"}, "conn-1"), None
    )
    clock.set(NOW + LEASE - 10)
    message(h.message_event({"action": "job.ack", "jobId": "job-1"}, "conn-1"), None)
    clock.set(NOW + LEASE + 1)
    assert reap(h.event("lease_reaper_schedule"), None) == {"requeued": 0, "failed": 0, "skipped": 0}
    assert h.job("job-1")["status"] == "running"


def test_a_crash_between_assignment_and_push_loses_no_job(online, queues, clock, out):
    # GIVEN the push dies with an unexpected error after the job was assigned
    from lambdas.common import aws

    class Crashing:
        def post_to_connection(self, **_kwargs):
            raise RuntimeError("runtime died mid-push")

    aws.override("apigatewaymanagementapi", Crashing())
    assert dispatch(h.sqs_event(h.job_body("job-1")), None) == {
        "batchItemFailures": [{"itemIdentifier": "m0"}]
    }
    # WHEN SQS redelivers the message, the duplicate is not assigned twice
    aws.reset()
    assert dispatch(h.sqs_event(h.job_body("job-1")), None) == {"batchItemFailures": []}
    assert h.frames(online) == []
    # THEN the reaper recovers it once the lease runs out, and it is delivered as attempt 2
    clock.set(NOW + LEASE + 1)
    assert reap(h.event("lease_reaper_schedule"), None)["requeued"] == 1
    (msg,) = h.queued_jobs(queues["JOBS_QUEUE_URL"])
    assert dispatch(h.sqs_event(h.job_body("job-1", attempt=msg["attempt"])), None) == {
        "batchItemFailures": []
    }
    assert [(f["jobId"], f["attempt"]) for f in h.frames(online)] == [("job-1", 2)]


def test_reaper_write_loses_to_a_result_that_arrived_meanwhile(online, queues, clock, out, monkeypatch):
    h.put_limits("creator-1", maxConcurrent=10, dailyQuota=100)  # limits: the counters move with the job
    # GIVEN an expired lease whose result lands between the reaper's query and its write
    from lambdas.common import reaper

    assert dispatch(h.sqs_event(h.job_body("job-1")), None) == {"batchItemFailures": []}
    clock.set(NOW + LEASE + 1)
    real = reaper.expired_jobs

    def query_then_result(now, limit):
        found = real(now, limit)
        message(
            h.message_event({"action": "job.result", "jobId": "job-1", "status": "completed"}, "conn-1"), None
        )
        return found

    monkeypatch.setattr(reaper, "expired_jobs", query_then_result)
    # WHEN the reaper runs
    assert reap(h.event("lease_reaper_schedule"), None) == {"requeued": 0, "failed": 0, "skipped": 1}
    # THEN the result stands and the slot was released exactly once
    assert h.job("job-1")["status"] == "completed"
    assert h.creator_limits("creator-1")["inFlight"] == 0
    # (the message sent before the losing write is harmless: the dispatcher skips it)
    (msg,) = h.queued_jobs(queues["JOBS_QUEUE_URL"])
    assert dispatch(h.sqs_event(h.job_body("job-1", attempt=msg["attempt"])), None) == {
        "batchItemFailures": []
    }
    assert "job_skipped jobId=job-1 reason=already_assigned status=409" in out.messages()


def test_a_watch_that_cannot_read_sends_no_watch_heartbeat(online, queues, clock, out, monkeypatch):
    # GIVEN the creator watch cannot read its tables
    from botocore.exceptions import EndpointConnectionError

    from lambdas.common import watch

    def unreadable() -> None:
        raise EndpointConnectionError(endpoint_url="https://dynamodb")

    monkeypatch.setattr(watch, "snapshot", unreadable)
    # WHEN the reaper runs
    reap(h.event("lease_reaper_schedule"), None)
    # THEN the lease pass reports its run and the watch stays silent (WatchSilent pages on that)
    emf = out.emf()[-1]
    assert (emf["ReaperRuns"], "WatchRuns" in emf) == (1, False)
