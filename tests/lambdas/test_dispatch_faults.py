"""dispatch(): the exact outcome of every path, and what each leaves in the tables.

The handler tests see outcomes through log lines; these call `dispatch()` itself and pin the
Outcome / ItemFailure, the job item, the agent item and the CreatorLimits counters — above all
on the fault paths: 410 outside and inside the connect grace, a push dying in botocore, a job
changed while its push was failing.
"""

from __future__ import annotations

import pytest
from botocore.exceptions import EndpointConnectionError

from lambdas.common import aws, lookups
from lambdas.common.dispatch import ItemFailure, Outcome, _just_connected, dispatch
from lambdas.common.settings import DEFAULT_CONNECT_GRACE_SECONDS as GRACE
from tests.lambdas import helpers as h
from tests.lambdas.conftest import DAY, NOW

MESSAGE_FIELDS = h.job_fields("job-1")


@pytest.fixture(autouse=True)
def limited(queues):
    """creator-1 has limits, so its counters move with its jobs (a creator without any moves none)."""
    h.put_limits("creator-1", maxConcurrent=100, dailyQuota=1000)


def run(clock, body: str | None) -> Outcome:
    return dispatch(body, now=clock.value)


def failure(clock, body: str | None) -> tuple[str, str, int, str]:
    with pytest.raises(ItemFailure) as caught:
        dispatch(body, now=clock.value)
    err = caught.value
    return err.job_id, err.reason, err.status, str(err)


def counters() -> tuple[int, int]:
    limits = h.creator_limits("creator-1")
    return limits["inFlight"], limits[f"used#{DAY}"]


def stale(clock) -> int:
    """Move the clock to the first second the connection is no longer inside the grace."""
    clock.set(h.agent("agent-1")["connectedAt"] + GRACE)
    return clock.value


class _BrokenGateway:
    """A management API client whose push dies in botocore (no HTTP answer at all)."""

    def post_to_connection(self, **_: object) -> None:
        raise EndpointConnectionError(endpoint_url=h.ENV["WS_ENDPOINT"])


def test_an_empty_body_is_dead_lettered_as_empty_with_its_reason(queues, clock):
    assert run(clock, None) == Outcome("dead_lettered", "-", "json_invalid", 400)
    assert h.drain(queues["DLQ_URL"]) == [{"body": "(empty)", "attributes": {"reason": "json_invalid"}}]


def test_a_bad_job_is_dead_lettered_with_its_id_reason_and_status(queues, clock):
    body = h.job_body("job-1", attempt=0)
    assert run(clock, body) == Outcome("dead_lettered", "job-1", "schema_invalid", 400)
    assert h.drain(queues["DLQ_URL"]) == [{"body": body, "attributes": {"reason": "schema_invalid"}}]


def test_a_delivered_job_is_delivered_and_nothing_else(online, clock):
    assert run(clock, h.job_body("job-1")) == Outcome("delivered", "job-1", None, None)
    assert counters() == (1, 1)


def test_an_offline_agents_job_is_held_with_its_fields(queues, clock):
    assert run(clock, h.job_body("job-1")) == Outcome("held", "job-1", "agent_offline", 404)
    assert h.job("job-1") == h.held_job("job-1", "agent_offline", updated=NOW, created=NOW)


def test_an_offline_agents_critical_job_is_retried_with_the_reason(queues, clock):
    assert failure(clock, h.job_body("job-1", critical=True)) == (
        "job-1",
        "agent_offline",
        404,
        "agent_offline (404)",
    )
    assert h.job("job-1") is None


def test_a_duplicate_of_a_delivered_job_is_skipped(online, clock):
    run(clock, h.job_body("job-1"))
    assert run(clock, h.job_body("job-1")) == Outcome("skipped", "job-1", "already_assigned", 409)
    assert counters() == (1, 1)


def test_a_message_ahead_of_its_requeue_is_retried(online, clock):
    h.put_job("job-1", "assigned", attempt=1, connectionId="conn-1")
    assert failure(clock, h.job_body("job-1", attempt=2)) == (
        "job-1",
        "requeue_pending",
        409,
        "requeue_pending (409)",
    )


def test_holding_a_job_that_was_assigned_meanwhile_skips_it(queues, clock):
    # GIVEN the agent is offline but the job was already assigned (an earlier delivery)
    h.put_job("job-1", "assigned", connectionId="conn-0")
    assert run(clock, h.job_body("job-1")) == Outcome("skipped", "job-1", "already_assigned", 409)
    assert h.job("job-1")["status"] == "assigned"


def test_holding_a_message_ahead_of_its_requeue_retries_it(queues, clock):
    h.put_job("job-1", "assigned", connectionId="conn-0")
    assert failure(clock, h.job_body("job-1", attempt=2)) == (
        "job-1",
        "requeue_pending",
        409,
        "requeue_pending (409)",
    )
    assert h.job("job-1")["status"] == "assigned"


def test_an_agent_that_connects_between_lookup_and_hold_gets_the_job_on_retry(online, clock, monkeypatch):
    # GIVEN the lookup saw no connection, but the agent is connected when the hold is written
    monkeypatch.setattr(lookups, "agent_and_limits", lambda creator_id, agent_id: (None, None))
    # THEN the job is not parked: it is retried (towards the new connection)
    assert failure(clock, h.job_body("job-1")) == ("job-1", "agent_offline", 404, "agent_offline (404)")
    assert h.job("job-1") is None


def test_a_creator_at_quota_has_the_job_held_even_with_the_agent_online(online, clock):
    h.put_limits("creator-1", dailyQuota=1, **{f"used#{DAY}": 1})
    assert run(clock, h.job_body("job-1")) == Outcome("held", "job-1", "limit_exceeded", 429)
    job = h.job("job-1")
    assert (job["status"], job["reason"], job["heldAgentId"]) == (
        "held",
        "limit_exceeded",
        "creator-1#agent-1",
    )
    assert h.creator_limits("creator-1") == {"creatorId": "creator-1", "dailyQuota": 1, f"used#{DAY}": 1}


def test_a_creator_at_concurrency_is_retried(online, clock):
    h.put_limits("creator-1", maxConcurrent=1, inFlight=1)
    assert failure(clock, h.job_body("job-1")) == ("job-1", "limit_exceeded", 429, "limit_exceeded (429)")


@pytest.mark.parametrize(
    ("code", "status", "reason", "item_status"),
    [
        ("ThrottlingException", 400, "throttled", 429),
        ("InternalServerError", 500, "delivery_error", 502),
    ],
)
def test_a_failed_push_undoes_the_assignment_and_refunds_both_counters(
    code, status, reason, item_status, online, clock
):
    h.gateway_stub((code, status))
    later = clock.value + 7
    clock.set(later)
    assert failure(clock, h.job_body("job-1")) == ("job-1", reason, item_status, f"{reason} ({item_status})")
    assert h.job("job-1") == {**MESSAGE_FIELDS, "status": "queued", "updatedAt": later, "createdAt": later}
    assert counters() == (0, 0)


def test_a_push_dying_in_botocore_undoes_the_assignment_and_retries(online, clock):
    aws.override("apigatewaymanagementapi", _BrokenGateway())
    assert failure(clock, h.job_body("job-1")) == ("job-1", "delivery_error", 502, "delivery_error (502)")
    assert h.job("job-1") == {**MESSAGE_FIELDS, "status": "queued", "updatedAt": NOW, "createdAt": NOW}
    assert counters() == (0, 0)
    assert h.agent("agent-1")["connectionId"] == "conn-1"


def test_a_410_outside_the_grace_drops_the_connection_holds_the_job_and_refunds(online, clock):
    now = stale(clock)
    h.gateway_stub(("GoneException", 410))
    assert run(clock, h.job_body("job-1")) == Outcome("held", "job-1", "delivery_410", 410)
    agent = h.agent("agent-1")
    assert ("connectionId" in agent, agent["lastSeen"]) == (False, now)
    assert h.conn("conn-1") is None
    assert h.job("job-1") == h.held_job("job-1", "delivery_410", updated=now, created=now)
    assert counters() == (0, 0)


def test_a_410_on_a_critical_job_drops_the_connection_and_retries_unheld(online, clock):
    now = stale(clock)
    h.gateway_stub(("GoneException", 410))
    assert failure(clock, h.job_body("job-1", critical=True)) == (
        "job-1",
        "delivery_410",
        410,
        "delivery_410 (410)",
    )
    assert "connectionId" not in h.agent("agent-1")
    assert h.job("job-1") == {
        **MESSAGE_FIELDS,
        "critical": True,
        "status": "queued",
        "updatedAt": now,
        "createdAt": now,
    }
    assert counters() == (0, 0)


@pytest.mark.parametrize("age", [0, GRACE - 1])
def test_a_410_inside_the_grace_keeps_the_connection_and_refunds(age, online, clock):
    clock.set(h.agent("agent-1")["connectedAt"] + age)
    h.gateway_stub(("GoneException", 410))
    assert failure(clock, h.job_body("job-1")) == ("job-1", "delivery_410", 410, "delivery_410 (410)")
    assert h.agent("agent-1")["connectionId"] == "conn-1"
    assert h.conn("conn-1")["agentId"] == "agent-1"
    assert h.job("job-1") == {
        **MESSAGE_FIELDS,
        "status": "queued",
        "updatedAt": clock.value,
        "createdAt": clock.value,
    }
    assert counters() == (0, 0)


def test_a_410_for_a_job_finished_meanwhile_skips_it_and_keeps_its_count(online, clock):
    # GIVEN the job completes (another path) while its push is answered 410
    stale(clock)

    def finish() -> None:
        h.put_job("job-1", "completed", connectionId="conn-1")

    h.gateway_stub(("GoneException", 410), before=finish)
    assert run(clock, h.job_body("job-1")) == Outcome("skipped", "job-1", "already_assigned", 409)
    assert h.job("job-1")["status"] == "completed"
    assert "connectionId" not in h.agent("agent-1")
    assert counters() == (1, 1)  # the completion path releases it, not the dispatcher


def test_a_410_after_a_quick_reconnect_retries_and_refunds(online, clock):
    from lambdas.ws_connect.handler import handler as connect

    def reconnect() -> None:
        assert connect(h.connect_event(h.token("agent-1"), "conn-2"), None) == {"statusCode": 200}

    now = stale(clock)
    h.gateway_stub(("GoneException", 410), before=reconnect)
    assert failure(clock, h.job_body("job-1")) == ("job-1", "delivery_410", 410, "delivery_410 (410)")
    assert h.agent("agent-1")["connectionId"] == "conn-2"
    assert h.job("job-1") == {**MESSAGE_FIELDS, "status": "queued", "updatedAt": now, "createdAt": now}
    assert counters() == (0, 0)


def test_a_410_for_an_agent_item_without_connected_at_is_taken_for_stale(online, clock):
    h.ddb().update_item(
        TableName=h.ENV["AGENTS_TABLE"],
        Key={"pk": {"S": "agent#creator-1#agent-1"}},
        UpdateExpression="REMOVE connectedAt",
    )
    h.gateway_stub(("GoneException", 410))
    assert run(clock, h.job_body("job-1")) == Outcome("held", "job-1", "delivery_410", 410)
    assert "connectionId" not in h.agent("agent-1")


def test_the_connect_grace_boundary():
    assert _just_connected({"connectedAt": NOW}, NOW) is True
    assert _just_connected({"connectedAt": NOW - GRACE + 1}, NOW) is True
    assert _just_connected({"connectedAt": NOW - GRACE}, NOW) is False
    assert _just_connected({"connectedAt": str(NOW - 1)}, NOW) is True
    assert _just_connected({}, NOW) is False


def test_the_connect_grace_follows_its_setting(monkeypatch):
    monkeypatch.setenv("CONNECT_GRACE_SECONDS", "30")
    assert _just_connected({"connectedAt": NOW - 29}, NOW) is True
    assert _just_connected({"connectedAt": NOW - 30}, NOW) is False
