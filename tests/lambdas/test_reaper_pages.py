"""lease-reaper at scale: a run keeps taking pages of expired leases while time remains."""

from __future__ import annotations

import pytest

from lambdas.common.reaper import MARGIN_S, reap
from lambdas.dispatcher_sqs.handler import handler as dispatch
from lambdas.lease_reaper.handler import handler as reap_handler
from tests.lambdas import helpers as h

LEASE = 300
JOBS = [f"job-{n}" for n in range(5)]


@pytest.fixture()
def expired(online, queues, clock):
    """Five jobs delivered to agent-1, all of whose leases have just run out."""
    assert dispatch(h.sqs_event(*(h.job_body(j) for j in JOBS)), None) == {"batchItemFailures": []}
    clock.set(clock.value + LEASE + 1)
    return clock.value


def test_a_run_with_time_left_takes_every_page(expired, queues):
    counts = reap(now=expired, max_attempts=3, time_left=lambda: MARGIN_S + 1, limit=2)
    assert (counts.requeued, counts.failed, counts.skipped) == (5, 0, 0)
    assert [m["jobId"] for m in h.queued_jobs(queues["JOBS_QUEUE_URL"])] == JOBS
    assert {h.job(j)["status"] for j in JOBS} == {"queued"}


@pytest.mark.parametrize("time_left", [None, lambda: MARGIN_S])
def test_without_time_left_a_run_takes_one_page(expired, queues, time_left):
    counts = reap(now=expired, max_attempts=3, time_left=time_left, limit=2)
    assert (counts.requeued, counts.failed, counts.skipped) == (2, 0, 0)
    assert len(h.queued_jobs(queues["JOBS_QUEUE_URL"])) == 2
    # the next run takes the rest
    assert reap(now=expired, max_attempts=3, time_left=lambda: 60, limit=2).requeued == 3


def test_the_handler_uses_the_invocation_remaining_time(expired, queues):
    class Context:
        def get_remaining_time_in_millis(self) -> int:
            return 60_000

    result = reap_handler(h.event("lease_reaper_schedule"), Context())
    assert result == {"requeued": 5, "failed": 0, "skipped": 0}
