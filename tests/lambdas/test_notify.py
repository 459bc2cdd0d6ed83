"""Creator notifications and releases by lease-reaper's watch: offline episodes, short blips,
jobs held for a pause or a quota released while the agent stays connected."""

from __future__ import annotations

import pytest

from lambdas.common.notify import DEFAULT_OFFLINE_SECONDS
from lambdas.dispatcher_sqs.handler import handler as dispatch
from lambdas.lease_reaper.handler import handler as reap
from lambdas.ws_connect.handler import handler as connect
from lambdas.ws_disconnect.handler import handler as disconnect
from tests.lambdas import creator_events
from tests.lambdas import helpers as h
from tests.lambdas.conftest import NOW

A, B = "creator-a", "creator-b"
DELAY = DEFAULT_OFFLINE_SECONDS
NO_FAILURES = {"batchItemFailures": []}


@pytest.fixture
def events(queues):
    return creator_events.subscribe()


def _connect(creator: str, conn: str) -> None:
    assert connect(h.connect_event(h.token("agent-1", creator), conn), None) == {"statusCode": 200}


def _offline_with_held_job(clock, creator: str, conn: str) -> None:
    """The creator's agent-1 connects at NOW, drops at NOW, and a job is held for it."""
    _connect(creator, conn)
    assert disconnect(h.disconnect_event(conn), None) == {"statusCode": 200}
    assert dispatch(h.sqs_event(h.job_body(f"job-{creator}", "agent-1", creator)), None) == NO_FAILURES
    assert h.job(f"job-{creator}")["status"] == "held"


def test_an_agent_offline_past_the_delay_with_held_jobs_is_announced_once(clock, out, events, queues):
    _offline_with_held_job(clock, A, "conn-a")
    _connect(B, "conn-b")  # creator-b's agent-1: online, nothing held
    clock.set(NOW + DELAY - 1)
    reap({}, None)
    assert creator_events.received(events) == []
    clock.set(NOW + DELAY)
    reap({}, None)
    (event,) = creator_events.received(events)
    assert event == {
        "type": "Creator Agent Offline",
        "stage": "test",
        "creatorId": A,
        "agentId": "agent-1",
        "heldJobs": 1,
        "offlineSince": NOW,
        "episodeId": f"{A}#agent-1#{NOW}",
    }
    clock.set(NOW + DELAY + 120)
    reap({}, None)
    assert creator_events.received(events) == []
    # WHEN it comes back: the connect releases its job, the next run closes the episode once
    clock.set(NOW + DELAY + 300)
    _connect(A, "conn-a2")
    reap({}, None)
    reap({}, None)
    (back,) = creator_events.received(events)
    assert (back["type"], back["creatorId"], back["offlineSince"], back["backAt"], back["episodeId"]) == (
        "Creator Agent Back Online",
        A,
        NOW,
        NOW + DELAY + 300,
        f"{A}#agent-1#{NOW}",
    )
    assert h.agent("agent-1", A).get("offlineNotifiedFor") is None


def test_a_short_blip_sends_nothing(clock, out, events):
    _offline_with_held_job(clock, A, "conn-a")
    clock.set(NOW + DELAY - 1)
    _connect(A, "conn-a2")
    for t in (NOW + DELAY, NOW + 2 * DELAY):
        clock.set(t)
        reap({}, None)
    assert creator_events.received(events) == []


def test_an_offline_agent_with_nothing_held_is_not_announced(clock, out, events):
    _connect(A, "conn-a")
    assert disconnect(h.disconnect_event("conn-a"), None) == {"statusCode": 200}
    clock.set(NOW + 2 * DELAY)
    reap({}, None)
    assert creator_events.received(events) == []


def test_back_waits_until_no_job_is_held_for_it(clock, out, events, queues):
    _offline_with_held_job(clock, A, "conn-a")
    h.put_limits(A, paused=True, pausedBy="operator:bob")
    clock.set(NOW + DELAY)
    reap({}, None)
    assert [e["type"] for e in creator_events.received(events)] == ["Creator Agent Offline"]
    _connect(A, "conn-a2")  # paused: the job stays held
    reap({}, None)
    assert creator_events.received(events) == []
    h.put_limits(A, paused=False)
    reap({}, None)  # the watch releases it (agent connected, pause lifted)...
    assert [m["jobId"] for m in h.queued_jobs(queues["JOBS_QUEUE_URL"])] == [f"job-{A}"]
    reap({}, None)  # ...and the next run sees nothing held any more
    assert [e["type"] for e in creator_events.received(events)] == ["Creator Agent Back Online"]


def test_a_failed_send_is_tried_again_and_sent_once(clock, out, events):
    _offline_with_held_job(clock, A, "conn-a")
    clock.set(NOW + DELAY)
    with creator_events.refused("events", "put_events"):
        reap({}, None)
    assert "offlineNotifiedFor" not in h.agent("agent-1", A)  # the claim was given back
    reap({}, None)
    reap({}, None)
    assert [e["type"] for e in creator_events.received(events)] == ["Creator Agent Offline"]


def test_two_creators_episodes_stay_apart(clock, out, events):
    _offline_with_held_job(clock, A, "conn-a")
    _offline_with_held_job(clock, B, "conn-b")
    clock.set(NOW + DELAY)
    reap({}, None)
    got = sorted(creator_events.received(events), key=lambda e: e["creatorId"])
    assert [(e["creatorId"], e["episodeId"]) for e in got] == [
        (A, f"{A}#agent-1#{NOW}"),
        (B, f"{B}#agent-1#{NOW}"),
    ]
    assert all((B in str(e)) != (e["creatorId"] == A) for e in got)


# ---- released while connected ------------------------------------------------------------


def test_jobs_held_for_a_pause_are_released_when_it_lifts_without_a_reconnect(clock, out, queues):
    h.put_limits(A, paused=True, pausedBy="operator:bob")
    _connect(A, "conn-a")
    assert dispatch(h.sqs_event(h.job_body("job-1", "agent-1", A)), None) == NO_FAILURES
    assert (h.job("job-1")["status"], h.job("job-1")["reason"]) == ("held", "creator_paused")
    reap({}, None)
    assert h.drain(queues["JOBS_QUEUE_URL"]) == []
    h.put_limits(A, paused=False)
    reap({}, None)
    assert h.job("job-1")["status"] == "queued"
    assert [m["jobId"] for m in h.queued_jobs(queues["JOBS_QUEUE_URL"])] == ["job-1"]


def test_jobs_held_for_todays_quota_are_released_the_next_day(clock, out, queues):
    from tests.lambdas.conftest import DAY

    h.put_limits(A, dailyQuota=1, **{f"used#{DAY}": 1})
    _connect(A, "conn-a")
    assert dispatch(h.sqs_event(h.job_body("job-1", "agent-1", A)), None) == NO_FAILURES
    assert (h.job("job-1")["status"], h.job("job-1")["reason"]) == ("held", "limit_exceeded")
    reap({}, None)
    assert h.drain(queues["JOBS_QUEUE_URL"]) == []
    clock.set(NOW + 86_400)  # the next UTC day: a fresh quota; the agent stayed connected
    reap({}, None)
    assert [m["jobId"] for m in h.queued_jobs(queues["JOBS_QUEUE_URL"])] == ["job-1"]
