"""An operator's pause of one kind of a creator's jobs (`pausedKind#<kind>` on CreatorLimits): the
dispatcher holds that kind and delivers the others; releases (the watch, a reconnect) keep it held."""

from __future__ import annotations

from lambdas.common import limits
from lambdas.dispatcher_sqs.handler import handler as dispatch
from lambdas.lease_reaper.handler import handler as reap
from lambdas.ws_connect.handler import handler as connect
from lambdas.ws_disconnect.handler import handler as disconnect
from tests.lambdas import helpers as h

A = "creator-a"
NO_FAILURES = {"batchItemFailures": []}
EMAIL_PAUSED = {"pausedKind#email": {"by": "operator:bob", "reason": "bad segment", "at": 1}}


def _connect(conn: str) -> None:
    assert connect(h.connect_event(h.token("agent-1", A), conn), None) == {"statusCode": 200}


def test_limits_read_a_kind_pause():
    assert limits.paused_kinds(EMAIL_PAUSED) == {"email"}
    assert limits.paused_kinds({"paused": False, "used#2026-01-01": 3}) == frozenset()
    assert limits.has_limits(EMAIL_PAUSED) and not limits.has_limits({"inFlight": 0})
    assert limits.refusal(EMAIL_PAUSED, "2026-01-01", "email") == limits.Refusal("creator_paused", 423, True)
    assert limits.kind_pause_attr("email") == "pausedKind#email"


def test_the_paused_kind_is_held_and_the_others_delivered(clock, out, queues):
    h.put_limits(A, **EMAIL_PAUSED)
    _connect("conn-a")
    bodies = (h.job_body("job-p", "agent-1", A), h.job_body("job-e", "agent-1", A, kind="email"))
    assert dispatch(h.sqs_event(*bodies), None) == NO_FAILURES
    assert h.job("job-p")["status"] == "assigned"
    assert (h.job("job-e")["status"], h.job("job-e")["reason"]) == ("held", "creator_paused")
    assert "job_held jobId=job-e reason=creator_paused status=423" in out.messages()
    # the watch leaves it held while the kind is paused, and releases it once the pause is gone
    reap({}, None)
    assert h.job("job-e")["status"] == "held"
    assert h.drain(queues["JOBS_QUEUE_URL"]) == []
    h.put_limits(A, inFlight=1)
    reap({}, None)
    assert h.job("job-e")["status"] == "queued"
    assert [m["jobId"] for m in h.queued_jobs(queues["JOBS_QUEUE_URL"])] == ["job-e"]


def test_a_reconnect_releases_the_other_kinds_only(clock, out, queues):
    h.put_limits(A, **EMAIL_PAUSED)
    _connect("conn-a")
    assert disconnect(h.disconnect_event("conn-a"), None) == {"statusCode": 200}
    bodies = (h.job_body("job-p", "agent-1", A), h.job_body("job-e", "agent-1", A, kind="email"))
    assert dispatch(h.sqs_event(*bodies), None) == NO_FAILURES
    assert {h.job(j)["status"] for j in ("job-p", "job-e")} == {"held"}
    _connect("conn-b")
    assert (h.job("job-p")["status"], h.job("job-e")["status"]) == ("queued", "held")
    assert [m["jobId"] for m in h.queued_jobs(queues["JOBS_QUEUE_URL"])] == ["job-p"]
