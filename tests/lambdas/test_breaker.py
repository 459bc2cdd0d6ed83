"""The automatic circuit breaker end to end: real deliveries and results, lease-reaper's watch.

creator-a's agent-1 (conn-a) fails; creator-b's agent-1 (conn-b), same agent name, does not.
"""

from __future__ import annotations

import pytest

from automation.scripts.creator_pause import pause_creator, resume_creator
from lambdas.common import breaker, claims
from lambdas.common.clock import day_of
from lambdas.dispatcher_sqs.handler import handler as dispatch
from lambdas.lease_reaper.handler import handler as reap
from lambdas.ws_connect.handler import handler as connect
from lambdas.ws_message.handler import handler as message
from tests.lambdas import creator_events
from tests.lambdas import helpers as h
from tests.lambdas.conftest import NOW

A, B = "creator-a", "creator-b"
NO_FAILURES = {"batchItemFailures": []}
COOLDOWN = breaker.BreakerPolicy().cooldown_s


@pytest.fixture
def both(clock, out, queues):
    for creator, conn in ((A, "conn-a"), (B, "conn-b")):
        assert connect(h.connect_event(h.token("agent-1", creator), conn), None) == {"statusCode": 200}
    h.drain(queues["JOBS_QUEUE_URL"])
    return clock


@pytest.fixture
def events(queues):
    return creator_events.subscribe()


def _deliver(job_id: str, creator: str, *, critical: bool = False) -> dict:
    return dispatch(h.sqs_event(h.job_body(job_id, "agent-1", creator, critical=critical)), None)


def _result(job_id: str, conn: str, status: str) -> None:
    body = {"action": "job.result", "jobId": job_id, "status": status, "reason": "site error"}
    assert message(h.message_event(body, conn), None) == {"statusCode": 200}


def _run(creator: str, conn: str, statuses: list[str], start: int = 0) -> None:
    for n, status in enumerate(statuses, start):
        job_id = f"{creator}-{n}"
        assert _deliver(job_id, creator) == NO_FAILURES
        _result(job_id, conn, status)


def _state(creator: str) -> tuple:
    limits = h.creator_limits(creator) or {}
    return limits.get("paused"), limits.get("pausedBy"), limits.get("breakerState")


def _open_a(both, events) -> None:
    _run(A, "conn-a", ["failed"] * 5)
    reap({}, None)
    assert _state(A) == (True, "circuit-breaker", "open")
    creator_events.received(events)


# ---- the verdict (plain data) -----------------------------------------------------------


def _window(*outcomes: tuple[int, bool]) -> dict:
    return {f"o:job-{n}:{t}": f"{t} {'ok' if ok else 'fail'}" for n, (t, ok) in enumerate(outcomes)}


@pytest.mark.parametrize(
    ("fails", "oks", "tripped"),
    [(4, 0, False), (5, 0, True), (5, 5, True), (5, 6, False), (10, 10, True), (9, 11, False)],
)
def test_five_failures_and_half_of_the_last_deliveries(fails, oks, tripped):
    window = _window(*[(NOW - 1, False)] * fails, *[(NOW - 2, True)] * oks)
    verdict = breaker.judge(window, breaker.BreakerPolicy(), now=NOW)
    assert (verdict.failures, verdict.deliveries, verdict.tripped) == (fails, fails + oks, tripped)


def test_only_the_last_20_deliveries_inside_the_window_after_the_reset_count():
    pol = breaker.BreakerPolicy()
    # 5 failures 601 s ago (outside the 600 s window), 5 at the window's edge (inside)
    assert breaker.judge(_window(*[(NOW - 600, False)] * 5), pol, now=NOW).tripped is False
    assert breaker.judge(_window(*[(NOW - 599, False)] * 5), pol, now=NOW).tripped is True
    # 20 newer successes push 5 older failures out of the last 20
    newer = _window(*[(NOW - 1, True)] * 20, *[(NOW - 5, False)] * 5)
    assert breaker.judge(newer, pol, now=NOW).deliveries == 20
    assert breaker.judge(newer, pol, now=NOW).failures == 0
    # failures at or before the last reset are forgotten
    assert breaker.judge(_window(*[(NOW - 10, False)] * 5), pol, now=NOW, since=NOW - 10).tripped is False
    assert breaker.judge(_window(*[(NOW - 10, False)] * 5), pol, now=NOW, since=NOW - 11).tripped is True


def test_policy_reads_each_setting_and_keeps_defaults_for_bad_values():
    pol = breaker.BreakerPolicy.from_env({"BREAKER_MIN_FAILURES": "3", "BREAKER_FAILURE_PCT": "101"})
    assert (pol.min_failures, pol.failure_pct, pol.window_s) == (3, 50, 600)


# ---- opening ---------------------------------------------------------------------------


def test_four_failures_do_not_open_the_fifth_does_and_only_for_that_creator(both, events, out):
    _run(A, "conn-a", ["failed"] * 4)
    _run(B, "conn-b", ["completed"] * 5)
    reap({}, None)
    assert _state(A) == (None, None, None)
    _run(A, "conn-a", ["failed"], start=4)
    reap({}, None)
    assert _state(A) == (True, "circuit-breaker", "open")
    assert h.creator_limits(A)["pauseReason"] == "5 of the last 5 deliveries failed"
    assert _state(B) == (None, None, None)
    (event,) = creator_events.received(events)
    assert (event["type"], event["creatorId"], event["failures"], event["reopened"]) == (
        "Creator Circuit Breaker Opened",
        A,
        5,
        False,
    )
    assert B not in str(event)
    emf = out.emf()[-1]
    assert (emf["CircuitBreakersOpen"], emf["CircuitBreakersOpened"], emf["CreatorEvents"]) == (1, 1, 1)
    # a second run sends nothing more
    reap({}, None)
    assert creator_events.received(events) == []


def test_410s_and_expired_leases_count_as_failures(both, events):
    from lambdas.common import aws

    # 3 pushes answered 410 on stale connections (each past the connect grace)
    for n in range(3):
        both.set(NOW + 100 * n)
        assert connect(h.connect_event(h.token("agent-1", A), f"conn-a{n}"), None) == {"statusCode": 200}
        both.set(NOW + 100 * n + 60)
        h.gateway_stub(("GoneException", 410))
        assert _deliver(f"gone-{n}", A) == NO_FAILURES
        assert h.job(f"gone-{n}")["reason"] == "delivery_410"
        aws.reset()
    reap({}, None)
    assert _state(A) == (None, None, None)
    # and 2 leases that ran out
    assert connect(h.connect_event(h.token("agent-1", A), "conn-a9"), None) == {"statusCode": 200}
    for n in range(2):
        assert _deliver(f"lease-{n}", A) == NO_FAILURES
    both.set(int(h.job("lease-1")["leaseExpiresAt"]) + 1)
    reap({}, None)
    assert _state(A) == (True, "circuit-breaker", "open")
    assert h.creator_limits(A)["pauseReason"] == "5 of the last 5 deliveries failed"


def test_an_open_breaker_holds_critical_jobs_instead_of_retrying_them(both, events):
    _open_a(both, events)
    assert _deliver("crit-a", A, critical=True) == NO_FAILURES
    assert (h.job("crit-a")["status"], h.job("crit-a")["reason"]) == ("held", "creator_paused")
    assert _deliver("crit-b", B, critical=True) == NO_FAILURES
    assert h.job("crit-b")["status"] == "assigned"


def test_a_creator_paused_by_hand_is_never_paused_by_the_breaker(both, events, queues):
    # GIVEN five failures, then an operator's pause before the watch runs
    _run(A, "conn-a", ["failed"] * 5)
    pause_creator(
        h.ddb(), limits_table=h.ENV["CREATOR_LIMITS_TABLE"], creator_id=A, reason="r", operator="bob"
    )
    reap({}, None)
    # THEN the operator's pause stands as it was, and no breaker opened
    assert _state(A) == (True, "operator:bob", None)
    # AND resuming by hand starts a fresh window: the old failures do not open it afterwards
    _resume(A, queues)
    reap({}, None)
    assert _state(A) == (False, None, None)
    assert creator_events.received(events) == []


def _resume(creator: str, queues: dict) -> None:
    from lambdas.common import aws

    resume_creator(
        h.ddb(),
        aws.client("sqs"),
        limits_table=h.ENV["CREATOR_LIMITS_TABLE"],
        jobs_table=h.ENV["JOBS_TABLE"],
        jobs_queue_url=queues["JOBS_QUEUE_URL"],
        creator_id=creator,
        now=lambda: NOW,
    )


# ---- half-open, close, reopen ----------------------------------------------------------


def _half_open(both, events, queues) -> str:
    _open_a(both, events)
    for n in range(3):
        assert _deliver(f"held-{n}", A) == NO_FAILURES
    both.set(NOW + COOLDOWN - 1)
    reap({}, None)
    assert _state(A)[2] == "open" and h.drain(queues["JOBS_QUEUE_URL"]) == []
    both.set(NOW + COOLDOWN)
    reap({}, None)
    assert _state(A) == (True, "circuit-breaker", "half-open")
    (probe,) = h.queued_jobs(queues["JOBS_QUEUE_URL"])
    assert probe["jobId"] == "held-0"  # the oldest held job
    assert [h.job(f"held-{n}")["status"] for n in range(3)] == ["queued", "held", "held"]
    # the dispatcher admits the probe through the pause, and only the probe
    assert dispatch(h.sqs_event(h.job_body("held-0", "agent-1", A)), None) == NO_FAILURES
    assert h.job("held-0")["status"] == "assigned"
    assert _deliver("later", A) == NO_FAILURES
    assert h.job("later")["status"] == "held"
    return "held-0"


def test_a_completed_probe_closes_the_breaker_and_releases_the_held_jobs(both, events, queues):
    probe = _half_open(both, events, queues)
    reap({}, None)  # the probe is still running: nothing changes
    assert _state(A)[2] == "half-open"
    _result(probe, "conn-a", "completed")
    reap({}, None)
    assert _state(A) == (False, None, None)
    assert [m["jobId"] for m in h.queued_jobs(queues["JOBS_QUEUE_URL"])] == ["held-1", "held-2", "later"]
    assert [(e["type"], e["closedBy"]) for e in creator_events.received(events)] == [
        ("Creator Circuit Breaker Closed", "probe")
    ]
    # the old failures are forgotten: the next run does not reopen it
    reap({}, None)
    assert _state(A) == (False, None, None)


def test_a_failed_probe_reopens_it_for_another_cool_down(both, events, queues):
    probe = _half_open(both, events, queues)
    _result(probe, "conn-a", "failed")
    reap({}, None)
    assert _state(A) == (True, "circuit-breaker", "open")
    (event,) = creator_events.received(events)
    assert (event["type"], event["reopened"], event["probe"]) == (
        "Creator Circuit Breaker Opened",
        True,
        probe,
    )
    both.set(NOW + 2 * COOLDOWN - 1)
    reap({}, None)
    assert _state(A)[2] == "open"


def test_resume_creator_closes_it_by_hand(both, events, queues):
    _open_a(both, events)
    assert _deliver("held-0", A) == NO_FAILURES
    _resume(A, queues)
    reap({}, None)
    assert _state(A) == (False, None, None)
    assert [(e["type"], e["closedBy"]) for e in creator_events.received(events)] == [
        ("Creator Circuit Breaker Closed", "operator")
    ]


def test_an_operator_pause_during_an_open_breaker_is_kept(both, events):
    _open_a(both, events)
    pause_creator(
        h.ddb(), limits_table=h.ENV["CREATOR_LIMITS_TABLE"], creator_id=A, reason="r", operator="bob"
    )
    both.set(NOW + COOLDOWN)
    reap({}, None)
    assert _state(A) == (True, "operator:bob", None)
    assert [e["closedBy"] for e in creator_events.received(events)] == ["operator"]


# ---- every AWS call may fail after it succeeded ----------------------------------------


def test_a_retried_transition_recognises_its_own_write(queues):
    key = {"creatorId": {"S": A}}
    table = h.ENV["CREATOR_LIMITS_TABLE"]
    write = dict(
        claim="breakerClaim",
        expression="SET n = :token, breakerClaim = :token",
        condition="attribute_not_exists(n)",
    )
    assert claims.claimed_update(table, key, token="t1", **write) is True
    assert claims.claimed_update(table, key, token="t1", **write) is True  # the lost-response retry
    assert claims.claimed_update(table, key, token="t2", **write) is False  # anyone else


def test_recording_the_same_outcome_twice_counts_it_once(queues):
    for _ in range(2):
        assert breaker.record(A, "job-1", ok=False, now=NOW) is True
    window = h.item("AGENTS_TABLE", "pk", f"breaker#{A}")
    assert [name for name in window if name.startswith("o:")] == [f"o:job-1:{NOW}"]


def test_an_event_that_cannot_be_sent_leaves_the_breaker_open_and_is_not_repeated(both, events, out):
    _run(A, "conn-a", ["failed"] * 5)
    with creator_events.refused("events", "put_events"):
        reap({}, None)
    assert _state(A) == (True, "circuit-breaker", "open")
    assert "creator_event_failed" in out.messages()
    reap({}, None)
    assert creator_events.received(events) == []


def test_one_creators_unreadable_item_never_stops_anothers_breaker(both, events, out):
    # GIVEN creator-a's limits item is damaged (a breaker opened at "yesterday"), creator-b fails
    h.put_limits(A, paused=True, pausedBy="circuit-breaker", breakerState="open", breakerOpenedAt="yesterday")
    _run(B, "conn-b", ["failed"] * 5)
    # WHEN the watch runs
    reap({}, None)
    # THEN creator-a's step failed alone (logged), and creator-b's breaker opened all the same
    assert "creator_watch_failed" in out.messages()
    assert _state(B) == (True, "circuit-breaker", "open")
    assert [e["creatorId"] for e in creator_events.received(events)] == [B]


def test_a_probe_that_could_not_be_sent_reopens_the_breaker_instead_of_sticking(both, events, queues):
    _open_a(both, events)
    assert _deliver("held-0", A) == NO_FAILURES
    both.set(NOW + COOLDOWN)
    # WHEN the run that half-opens it cannot send the probe (SQS fails after the half-open write)
    with creator_events.refused("sqs", "send_message_batch"):
        reap({}, None)
    assert _state(A)[2] == "half-open" and h.job("held-0")["status"] == "held"
    # THEN the next run reopens it (the probe never left), and the run after the cool-down tries again
    reap({}, None)
    assert _state(A)[2] == "open"
    both.set(NOW + 2 * COOLDOWN)
    reap({}, None)
    assert _state(A)[2] == "half-open"
    assert [m["jobId"] for m in h.queued_jobs(queues["JOBS_QUEUE_URL"])] == ["held-0"]


# ---- the outcome window stays small and costs nothing for a healthy creator -------------


def _outcome_names(creator: str) -> list[str]:
    window = h.item("AGENTS_TABLE", "pk", f"breaker#{creator}") or {}
    return sorted(name for name in window if name.startswith("o:"))


def test_a_healthy_creators_successes_write_no_window(both):
    _run(B, "conn-b", ["completed"] * 3)
    assert breaker.record(B, "job-x", ok=True, now=NOW) is False
    assert h.item("AGENTS_TABLE", "pk", f"breaker#{B}") is None


def test_after_a_failure_successes_fill_at_most_the_ok_slots(both):
    # GIVEN one failure of creator-a, THEN 60 successes: each is recorded, in at most OK_SLOTS slots
    assert breaker.record(A, "job-f", ok=False, now=NOW) is True
    assert all(breaker.record(A, f"job-{n}", ok=True, now=NOW + n) for n in range(60))
    names = _outcome_names(A)
    oks = [n for n in names if n.startswith("o:k")]
    assert f"o:job-f:{NOW}" in names and len(names) == len(oks) + 1
    assert 1 < len(oks) <= breaker.OK_SLOTS
    # a retried success rewrites its own slot (the count does not move)
    assert breaker.record(A, "job-59", ok=True, now=NOW + 59) is True
    assert _outcome_names(A) == names
    # and creator-b's window is untouched
    assert h.item("AGENTS_TABLE", "pk", f"breaker#{B}") is None


def test_the_watch_forgets_a_window_with_nothing_inside_it_but_keeps_a_newer_failure(both):
    assert breaker.record(A, "job-old", ok=False, now=NOW) is True
    read = h.item("AGENTS_TABLE", "pk", f"breaker#{A}")
    assert breaker.record(A, "job-new", ok=False, now=NOW + 1) is True  # written after the read
    assert breaker.forget(A, read) is False  # the item changed since: kept
    assert _outcome_names(A) == [f"o:job-new:{NOW + 1}", f"o:job-old:{NOW}"]
    assert breaker.forget(A, h.item("AGENTS_TABLE", "pk", f"breaker#{A}")) is True
    assert h.item("AGENTS_TABLE", "pk", f"breaker#{A}") is None


def test_lease_reaper_deletes_the_window_once_its_failures_age_out(both, events):
    _run(A, "conn-a", ["failed", "completed"])
    assert len(_outcome_names(A)) == 2
    both.set(NOW + breaker.BreakerPolicy().window_s + 1)
    reap({}, None)
    assert h.item("AGENTS_TABLE", "pk", f"breaker#{A}") is None


def test_a_counted_job_and_the_watch_drop_daily_counters_older_than_yesterday_and_nothing_else(both):
    # GIVEN creator-a and creator-b, both with limits and counters for today, yesterday and three
    # older days, and creator-c (idle, nothing to decide) with an old counter
    today, yesterday = day_of(NOW), day_of(NOW - 86400)
    old = [day_of(NOW - n * 86400) for n in (2, 3, 400)]
    counters = {f"used#{d}": 7 for d in (today, yesterday, *old)}
    for creator in (A, B):
        h.put_limits(creator, dailyQuota=100, maxConcurrent=5, **counters)
    h.put_limits("creator-c", dailyQuota=10, **{f"used#{old[0]}": 3})
    # WHEN creator-a's job is counted by the dispatcher, and creator-b has a job held for its agent
    assert _deliver("a-job", A) == NO_FAILURES
    h.put_job("b-held", "held", creator_id=B, reason="creator_paused", createdAt=NOW - 10)
    h.put_limits(B, dailyQuota=100, maxConcurrent=5, paused=True, **counters)
    reap({}, None)
    reap({}, None)
    # THEN the dispatcher's write (creator-a) and the watch (creator-b, which it visits for its
    # held job) dropped only the older days; limits, in-flight and recent counters are kept
    assert h.creator_limits(A) == {
        "creatorId": A,
        "dailyQuota": 100,
        "maxConcurrent": 5,
        "inFlight": 1,
        f"used#{today}": 8,
        f"used#{yesterday}": 7,
    }
    assert h.creator_limits(B) == {
        "creatorId": B,
        "dailyQuota": 100,
        "maxConcurrent": 5,
        "paused": True,
        f"used#{today}": 7,
        f"used#{yesterday}": 7,
    }
    # ... and the watch read nothing of creator-c, which keeps its counter until its next job
    assert h.creator_limits("creator-c") == {"creatorId": "creator-c", "dailyQuota": 10, f"used#{old[0]}": 3}


def test_pruning_removes_at_most_a_bounded_batch_and_never_recreates_a_deleted_item(queues):
    from lambdas.common import limits

    item = {"creatorId": "c", **{f"used#{day_of(NOW - n * 86400)}": 1 for n in range(2, 80)}}
    stale = limits.stale_days(item, now=NOW)
    assert len(stale) == limits.PRUNE_AT_MOST and stale == sorted(stale)
    assert stale[0] == f"used#{day_of(NOW - 79 * 86400)}"  # oldest first
    # the item was deleted meanwhile: nothing is written back
    assert limits.prune_days("c", item, now=NOW) == 0
    assert h.creator_limits("c") is None
