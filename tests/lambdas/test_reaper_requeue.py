"""reaper.reap / requeue.requeue / requeue.release_held called directly: exact items, messages, counts."""

from __future__ import annotations

import json

import pytest

from lambdas.common import reaper, requeue
from tests.lambdas import helpers as h
from tests.lambdas.conftest import NOW


def leased(job_id: str, expires_at: int, attempt: int = 1, status: str = "assigned") -> None:
    h.put_job(
        job_id,
        status,
        attempt=attempt,
        connectionId="conn-1",
        leaseState="active",
        leaseExpiresAt=expires_at,
        payload=json.dumps({"postId": job_id}),
    )


def messages(queue_url: str) -> list[dict[str, object]]:
    return [json.loads(m["body"]) for m in h.drain(queue_url)]


def test_expired_jobs_are_those_whose_lease_ended_before_now_oldest_first(queues):
    leased("job-a", NOW - 1)
    leased("job-b", NOW - 100)
    leased("job-c", NOW)  # ends now: not yet expired
    leased("job-d", NOW - 50)
    assert [j["jobId"] for j in reaper.expired_jobs(NOW, 10)] == ["job-b", "job-d", "job-a"]
    assert [j["jobId"] for j in reaper.expired_jobs(NOW, 2)] == ["job-b", "job-d"]
    assert [j["jobId"] for j in reaper.expired_jobs(NOW + 1, 1)] == ["job-b"]


def test_reap_requeues_below_max_attempts_and_fails_at_it(queues):
    h.put_limits("creator-1", inFlight=3)
    leased("job-1", NOW - 1, attempt=1)
    leased("job-2", NOW - 1, attempt=2)
    leased("job-3", NOW - 1, attempt=3, status="running")
    counts = reaper.reap(now=NOW, max_attempts=3)
    assert counts == reaper.ReapCounts(requeued=2, failed=1, skipped=0)
    assert sorted((m["jobId"], m["attempt"]) for m in messages(queues["JOBS_QUEUE_URL"])) == [
        ("job-1", 2),
        ("job-2", 3),
    ]
    job = h.job("job-1")
    assert {
        k: job.get(k) for k in ("status", "attempt", "reason", "updatedAt", "leaseState", "connectionId")
    } == {
        "status": "queued",
        "attempt": 2,
        "reason": "lease_expired",
        "updatedAt": NOW,
        "leaseState": None,
        "connectionId": None,
    }
    failed = h.job("job-3")
    assert (failed["status"], failed["reason"], failed["attempt"], "leaseState" in failed) == (
        "failed",
        "lease_expired",
        3,
        False,
    )
    assert h.creator_limits("creator-1")["inFlight"] == 0


def test_reap_honours_its_limit(queues):
    for n in range(3):
        leased(f"job-{n}", NOW - 10 + n)
    assert reaper.reap(now=NOW, max_attempts=3, limit=2) == reaper.ReapCounts(requeued=2, failed=0, skipped=0)
    assert h.job("job-2")["status"] == "assigned"


def test_reap_skips_a_job_whose_item_moved_on(queues):
    # the index still lists the lease, but the job completed meanwhile
    leased("job-1", NOW - 1, status="completed")
    assert reaper.reap(now=NOW, max_attempts=3) == reaper.ReapCounts(requeued=0, failed=0, skipped=1)
    assert h.job("job-1")["status"] == "completed"


def test_reap_of_a_job_without_attempt_counts_it_as_the_first(queues):
    leased("job-1", NOW - 1)
    h.ddb().update_item(
        TableName=h.ENV["JOBS_TABLE"], Key={"jobId": {"S": "job-1"}}, UpdateExpression="REMOVE attempt"
    )
    # the stored item has no attempt, so the condition (attempt = 1) fails: nothing is written
    assert reaper.reap(now=NOW, max_attempts=2) == reaper.ReapCounts(requeued=0, failed=0, skipped=1)
    assert [m["attempt"] for m in messages(queues["JOBS_QUEUE_URL"])] == [2]


def test_requeue_sends_first_and_reports_whether_the_item_changed(queues):
    leased("job-1", NOW - 1)
    item = h.job("job-1")
    values = {
        ":assigned": {"S": "assigned"},
        ":running": {"S": "running"},
        ":attempt": {"N": "1"},
        ":cutoff": {"N": str(NOW)},
    }
    args = {
        "next_attempt": 2,
        "now": NOW,
        "reason": "why",
        "condition": reaper._EXPIRED,
        "condition_values": values,
    }
    assert requeue.requeue(item, **args) is True
    assert requeue.requeue(item, **args) is False  # the condition no longer holds
    assert (
        messages(queues["JOBS_QUEUE_URL"])
        == [
            {
                "jobId": "job-1",
                "agentId": "agent-1",
                "creatorId": "creator-1",
                "kind": "post.publish",
                "payload": {"postId": "job-1"},
                "critical": False,
                "attempt": 2,
            }
        ]
        * 2
    )
    assert h.job("job-1")["reason"] == "why"


@pytest.mark.parametrize("count", [10, 11])
def test_release_held_sends_every_held_job_in_batches_and_clears_the_holds(count, queues, monkeypatch):
    monkeypatch.setenv("RELEASE_DELAY_SECONDS", "0")
    monkeypatch.setattr(requeue, "RELEASES_PER_SECOND", 100)  # no spread here (test_release_spread.py)
    for n in range(count):
        h.put_job(f"job-{n:02d}", "held", attempt=2, createdAt=NOW - 100 + n)
    h.put_job("job-q", "queued", heldAgentId="creator-1#agent-1")  # not held any more
    h.put_job("job-o", "held", agent_id="agent-2")  # another agent's
    assert requeue.release_held("creator-1", "agent-1", now=NOW) == count
    sent = messages(queues["JOBS_QUEUE_URL"])
    assert sorted((m["jobId"], m["attempt"]) for m in sent) == [(f"job-{n:02d}", 2) for n in range(count)]
    job = h.job("job-00")
    assert (job["status"], job["updatedAt"], "heldAgentId" in job) == ("queued", NOW, False)
    assert h.job("job-o")["status"] == "held"
    assert [j["jobId"] for j in requeue.held_jobs("creator-1", "agent-1")] == ["job-q"]


def test_released_messages_carry_the_release_delay(queues, monkeypatch):
    monkeypatch.setenv("RELEASE_DELAY_SECONDS", "30")
    h.put_job("job-1", "held")
    sent: list[dict[str, object]] = []

    class _Sqs:
        def send_message_batch(self, **kwargs):
            sent.append(kwargs)
            return {"Successful": [{"Id": e["Id"]} for e in kwargs["Entries"]]}

    from lambdas.common import aws

    aws.override("sqs", _Sqs())
    assert requeue.release_held("creator-1", "agent-1", now=NOW) == 1
    ((call,),) = [sent]
    assert call["QueueUrl"] == queues["JOBS_QUEUE_URL"]
    assert [(e["Id"], e["DelaySeconds"], json.loads(e["MessageBody"])["jobId"]) for e in call["Entries"]] == [
        ("0", 30, "job-1")
    ]


def test_a_release_whose_send_failed_keeps_the_hold(queues):
    h.put_job("job-1", "held")

    class _Sqs:
        def send_message_batch(self, **kwargs):
            return {"Successful": [], "Failed": [{"Id": "0", "SenderFault": False, "Code": "x"}]}

    from lambdas.common import aws

    aws.override("sqs", _Sqs())
    assert requeue.release_held("creator-1", "agent-1", now=NOW) == 0
    assert h.job("job-1")["status"] == "held"
