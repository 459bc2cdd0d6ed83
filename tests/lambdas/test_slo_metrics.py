"""What the SLOs count: on-time assignments per dispatch attempt, and failures after assignment."""

from __future__ import annotations

import json

import pytest

from lambdas.common.batch import on_time
from lambdas.common.settings import DEFAULT_ASSIGN_DEADLINE_SECONDS, Settings
from lambdas.dispatcher_sqs.handler import handler as dispatch
from lambdas.lease_reaper.handler import handler as reap
from lambdas.ws_message.handler import handler as message
from tests.lambdas import helpers as h
from tests.lambdas.conftest import NOW

SLI = ("AssignAttempts", "AssignedOnTime", "JobsFailedAfterAssign")


def sli_counts(out) -> dict[str, int]:
    """The SLI metrics summed over every EMF line printed so far."""
    totals: dict[str, int] = {}
    for doc in out.emf():
        for directive in doc["_aws"]["CloudWatchMetrics"]:
            for metric in directive["Metrics"]:
                if metric["Name"] in SLI:
                    totals[metric["Name"]] = totals.get(metric["Name"], 0) + doc[metric["Name"]]
    return totals


@pytest.mark.parametrize(
    ("sent_ms", "now", "expected"),
    [
        (1_000_000, 1_060, True),  # exactly the deadline after: on time
        (1_000_000, 1_061, False),  # a second later: late
        (1_000_999, 1_061, False),  # milliseconds count: 60.001 s
        (1_001_000, 1_061, True),
        ("1000000", 1_000, True),  # SQS sends it as a string
        (None, 1_000, False),  # no SentTimestamp: late, never flattering
        ("soon", 1_000, False),
    ],
)
def test_on_time_is_within_the_deadline_of_sent_timestamp(sent_ms, now, expected):
    assert on_time(sent_ms, now, 60) is expected


def test_the_deadline_is_60_s_unless_the_environment_says_otherwise():
    assert DEFAULT_ASSIGN_DEADLINE_SECONDS == 60
    assert Settings.from_env({}).assign_deadline_seconds == 60
    assert Settings.from_env({"ASSIGN_DEADLINE_SECONDS": "2"}).assign_deadline_seconds == 2
    assert Settings.from_env({"ASSIGN_DEADLINE_SECONDS": "0"}).assign_deadline_seconds == 60


@pytest.mark.parametrize(("queued_for", "on_time_count"), [(60, 1), (61, 0)])
def test_a_delivery_is_an_attempt_and_on_time_up_to_60_s_after_queueing(
    online, clock, out, queued_for, on_time_count
):
    # GIVEN a job queued `queued_for` seconds ago; WHEN the dispatcher delivers it
    assert dispatch(h.sqs_event(h.job_body("job-1"), sent_at=NOW - queued_for), None) == {
        "batchItemFailures": []
    }
    # THEN one attempt, on time only within the deadline
    expected = {"AssignAttempts": 1, "AssignedOnTime": 1} if on_time_count else {"AssignAttempts": 1}
    assert sli_counts(out) == expected


def test_a_failed_attempt_is_late_held_and_bad_input_are_not_counted(online, queues, clock, out):
    # GIVEN a critical job for an offline agent (retried), a non-critical one (held) and bad JSON
    bodies = (h.job_body("job-1", "agent-9", critical=True), h.job_body("job-2", "agent-9"), "{bad")
    # WHEN one batch brings them, all queued a second ago
    response = dispatch(h.sqs_event(*bodies, sent_at=NOW - 1), None)
    # THEN only the retried one is an attempt, and it is not on time
    assert response == {"batchItemFailures": [{"itemIdentifier": "m0"}]}
    assert sli_counts(out) == {"AssignAttempts": 1}


def test_an_agents_final_failure_counts_a_retryable_one_does_not(online, clock, out):
    assert dispatch(h.sqs_event(h.job_body("job-1"), h.job_body("job-2"), sent_at=NOW), None) == {
        "batchItemFailures": []
    }

    def result(job_id: str, **fields: object) -> None:
        body = json.dumps({"action": "job.result", "jobId": job_id, **fields})
        assert message(h.message_event(body, online), None) == {"statusCode": 200}

    result("job-1", status="failed", reason="site", retryable=True)  # re-queued: not an outcome
    assert sli_counts(out) == {"AssignAttempts": 2, "AssignedOnTime": 2}
    result("job-2", status="failed", reason="site")
    assert sli_counts(out) == {"AssignAttempts": 2, "AssignedOnTime": 2, "JobsFailedAfterAssign": 1}


def test_an_expired_last_lease_is_a_failure_after_assignment(online, queues, clock, out):
    h.put_job(
        "job-1", "assigned", attempt=3, connectionId=online, leaseState="active", leaseExpiresAt=NOW - 1
    )
    assert reap(h.event("lease_reaper_schedule"), None) == {"requeued": 0, "failed": 1, "skipped": 0}
    assert sli_counts(out) == {"JobsFailedAfterAssign": 1}
