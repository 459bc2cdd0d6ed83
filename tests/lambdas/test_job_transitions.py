"""jobs.assign / hold / unassign / transact: every conditional write, both sides of its condition.

Each transition is one transaction; a test here states what it writes when its condition holds
and that it writes nothing (and raises what the dispatcher branches on) when it does not.
"""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from lambdas.common import aws, jobs
from lambdas.common.job_message import JobMessage
from lambdas.common.limits import Refusal
from tests.lambdas import helpers as h
from tests.lambdas.conftest import DAY, NOW

LEASE = 300
MSG = JobMessage("job-1", "agent-1", "creator-1", "post.publish", {"postId": "p-job-1"}, False, 1)
FIELDS = h.job_fields("job-1")
ASSIGNED = {
    **FIELDS,
    "status": "assigned",
    "connectionId": "conn-1",
    "leaseState": "active",
    "leaseExpiresAt": NOW + LEASE,
    "updatedAt": NOW,
    "createdAt": NOW,
    "limitsDay": DAY,  # assign() below counts the job (a creator with limits)
}


def msg(attempt: int = 1) -> JobMessage:
    return JobMessage(MSG.job_id, MSG.agent_id, MSG.creator_id, MSG.kind, MSG.payload, MSG.critical, attempt)


def assign(attempt: int = 1, now: int = NOW) -> None:
    jobs.assign(msg(attempt), "conn-1", now=now, lease_seconds=LEASE, day=DAY)


def limits() -> dict[str, object] | None:
    return h.creator_limits("creator-1")


def set_connection(connection_id: str | None) -> None:
    """The agent item of creator-1's agent-1, with or without a current connection."""
    from lambdas.common.ddb import to_item

    h.ddb().put_item(
        TableName=h.ENV["AGENTS_TABLE"],
        Item=to_item({"pk": "agent#creator-1#agent-1", "agentId": "agent-1", "connectionId": connection_id}),
    )


# --- assign ---------------------------------------------------------------------------------


def test_assign_writes_the_job_with_its_lease_and_counts_it(queues):
    assert assign() is None
    assert h.job("job-1") == ASSIGNED
    assert limits() == {"creatorId": "creator-1", "inFlight": 1, f"used#{DAY}": 1}


@pytest.mark.parametrize("status", ["queued", "held"])
def test_assign_takes_a_queued_or_held_job_of_the_same_attempt(status, queues):
    h.put_job("job-1", status, reason="agent_offline", createdAt=NOW - 50)
    assign()
    assert h.job("job-1") == {**ASSIGNED, "createdAt": NOW - 50}


@pytest.mark.parametrize(
    ("stored", "attempt", "raised"),
    [
        ({"status": "assigned", "attempt": 1}, 1, jobs.AlreadyAssigned),
        ({"status": "assigned", "attempt": 2}, 1, jobs.AlreadyAssigned),
        ({"status": "queued", "attempt": 2}, 1, jobs.AlreadyAssigned),
        ({"status": "completed", "attempt": 1}, 2, jobs.AlreadyAssigned),
        ({"status": "queued", "attempt": 1}, 2, jobs.AlreadyAssigned),
        ({"status": "assigned", "attempt": 1}, 2, jobs.RequeueInFlight),
        ({"status": "running", "attempt": 1}, 2, jobs.RequeueInFlight),
        ({"status": "running", "attempt": 2}, 2, jobs.AlreadyAssigned),
        ({"status": "assigned"}, 1, jobs.RequeueInFlight),  # no stored attempt counts as 0
    ],
)
def test_assign_refuses_a_job_it_may_not_take_and_says_why(stored, attempt, raised, queues):
    h.put_job("job-1", stored["status"], connectionId="conn-0")
    if "attempt" not in stored:
        h.ddb().update_item(
            TableName=h.ENV["JOBS_TABLE"], Key={"jobId": {"S": "job-1"}}, UpdateExpression="REMOVE attempt"
        )
    else:
        h.put_job("job-1", stored["status"], connectionId="conn-0", attempt=stored["attempt"])
    before = h.job("job-1")
    with pytest.raises(raised) as caught:
        assign(attempt)
    assert str(caught.value) == "job-1"
    assert h.job("job-1") == before
    assert limits() is None


@pytest.mark.parametrize(
    ("stored", "refusal"),
    [
        ({"paused": True}, Refusal("creator_paused", 423, holdable=True)),
        ({"dailyQuota": 2, f"used#{DAY}": 2}, Refusal("limit_exceeded", 429, holdable=True)),
        ({"maxConcurrent": 1, "inFlight": 1}, Refusal("limit_exceeded", 429, holdable=False)),
    ],
)
def test_assign_refused_by_the_limits_writes_nothing(stored, refusal, queues):
    h.put_limits("creator-1", **stored)
    with pytest.raises(jobs.LimitRefused) as caught:
        assign()
    assert (caught.value.refusal, str(caught.value)) == (refusal, refusal.reason)
    assert h.job("job-1") is None
    assert limits() == {"creatorId": "creator-1", **stored}


# --- hold -----------------------------------------------------------------------------------


def test_hold_parks_a_new_job_for_its_agent(queues):
    jobs.hold(msg(), now=NOW, reason="agent_offline", only_if_offline=True)
    assert h.job("job-1") == h.held_job("job-1", "agent_offline", updated=NOW, created=NOW)


def test_hold_of_an_assigned_job_drops_its_lease(queues):
    # a held job of the same attempt may be held again (a later refusal): the reason follows
    jobs.hold(msg(), now=NOW, reason="agent_offline", only_if_offline=True)
    jobs.hold(msg(), now=NOW + 5, reason="creator_paused", only_if_offline=False)
    job = h.job("job-1")
    assert (job["reason"], job["updatedAt"], job["createdAt"]) == ("creator_paused", NOW + 5, NOW)


@pytest.mark.parametrize("connection", [None, "conn-9"])
def test_hold_only_if_offline_requires_no_connection(connection, queues):
    set_connection(connection)
    if connection is None:
        jobs.hold(msg(), now=NOW, reason="agent_offline", only_if_offline=True)
        assert h.job("job-1")["status"] == "held"
        return
    with pytest.raises(jobs.AgentOnline) as caught:
        jobs.hold(msg(), now=NOW, reason="agent_offline", only_if_offline=True)
    assert str(caught.value) == "agent-1"
    assert h.job("job-1") is None


def test_hold_for_a_limit_does_not_care_whether_the_agent_is_online(queues):
    set_connection("conn-9")
    jobs.hold(msg(), now=NOW, reason="limit_exceeded", only_if_offline=False)
    assert h.job("job-1")["status"] == "held"


@pytest.mark.parametrize(
    ("status", "attempt", "raised"),
    [("assigned", 1, jobs.AlreadyAssigned), ("assigned", 2, jobs.RequeueInFlight)],
)
def test_hold_never_overwrites_an_assigned_job(status, attempt, raised, queues):
    h.put_job("job-1", status, connectionId="conn-0")
    before = h.job("job-1")
    with pytest.raises(raised):
        jobs.hold(msg(attempt), now=NOW, reason="agent_offline", only_if_offline=True)
    assert h.job("job-1") == before


# --- unassign -------------------------------------------------------------------------------


def test_unassign_puts_the_job_back_to_queued_and_refunds_both_counters(queues):
    assign()
    jobs.unassign(msg(), "conn-1", now=NOW + 3, day=DAY, hold_reason=None)
    assert h.job("job-1") == {**FIELDS, "status": "queued", "updatedAt": NOW + 3, "createdAt": NOW}
    assert limits() == {"creatorId": "creator-1", "inFlight": 0, f"used#{DAY}": 0}


@pytest.mark.parametrize("connection", [None, "conn-1"])
def test_unassign_holding_parks_the_job_when_the_agent_has_no_other_connection(connection, queues):
    set_connection(connection)
    assign()
    jobs.unassign(msg(), "conn-1", now=NOW + 3, day=DAY, hold_reason="delivery_410")
    assert h.job("job-1") == h.held_job("job-1", "delivery_410", updated=NOW + 3, created=NOW)
    assert limits() == {"creatorId": "creator-1", "inFlight": 0, f"used#{DAY}": 0}


def test_unassign_holding_refuses_when_the_agent_has_a_new_connection(queues):
    set_connection("conn-2")
    assign()
    with pytest.raises(jobs.AgentOnline) as caught:
        jobs.unassign(msg(), "conn-1", now=NOW + 3, day=DAY, hold_reason="delivery_410")
    assert str(caught.value) == "agent-1"
    assert h.job("job-1") == ASSIGNED
    assert limits() == {"creatorId": "creator-1", "inFlight": 1, f"used#{DAY}": 1}


def test_unassign_without_holding_ignores_the_agents_connection(queues):
    set_connection("conn-2")
    assign()
    jobs.unassign(msg(), "conn-1", now=NOW + 3, day=DAY, hold_reason=None)
    assert h.job("job-1")["status"] == "queued"


@pytest.mark.parametrize(
    ("connection_id", "attempt", "status"),
    [("conn-2", 1, "assigned"), ("conn-1", 2, "assigned"), ("conn-1", 1, "running")],
)
def test_unassign_of_a_job_no_longer_so_assigned_writes_nothing(connection_id, attempt, status, queues):
    assign()
    if status != "assigned":
        h.put_job("job-1", status, connectionId="conn-1")
    before = h.job("job-1")
    with pytest.raises(jobs.StateChanged) as caught:
        jobs.unassign(msg(attempt), connection_id, now=NOW + 3, day=DAY, hold_reason=None)
    assert str(caught.value) == "job-1"
    assert h.job("job-1") == before
    assert limits() == {"creatorId": "creator-1", "inFlight": 1, f"used#{DAY}": 1}


def test_unassign_with_counters_already_at_zero_still_moves_the_job(queues):
    assign()
    h.put_limits("creator-1", inFlight=0, **{f"used#{DAY}": 0})
    jobs.unassign(msg(), "conn-1", now=NOW + 3, day=DAY, hold_reason=None)
    assert h.job("job-1")["status"] == "queued"
    assert limits() == {"creatorId": "creator-1", "inFlight": 0, f"used#{DAY}": 0}


def test_unassign_refunds_the_quota_of_the_day_it_was_counted_on(queues):
    h.put_limits("creator-1", inFlight=0, **{"used#2020-01-01": 5, f"used#{DAY}": 0})
    assign()
    jobs.unassign(msg(), "conn-1", now=NOW + 3, day=DAY, hold_reason=None)
    assert limits() == {"creatorId": "creator-1", "inFlight": 0, "used#2020-01-01": 5, f"used#{DAY}": 0}


# --- transact -------------------------------------------------------------------------------

OP = {
    "ConditionCheck": {
        "TableName": "t",
        "Key": {"k": {"S": "a"}},
        "ConditionExpression": "attribute_exists(k)",
    }
}
OPS = [OP, {"ConditionCheck": {**OP["ConditionCheck"], "Key": {"k": {"S": "b"}}}}]


def stubbed(*answers: tuple[str, list[dict[str, str]] | None]) -> Stubber:
    """A Stubber'd DynamoDB client answering transact_write_items in order: (code, reasons)."""
    client = boto3.client("dynamodb", region_name=h.REGION)
    stub = Stubber(client)
    for code, reasons in answers:
        if code == "ok":
            stub.add_response("transact_write_items", {}, {"TransactItems": [OPS[0]]})
        else:
            fields = {"CancellationReasons": reasons} if reasons is not None else None
            stub.add_client_error(
                "transact_write_items", service_error_code=code, http_status_code=400, modeled_fields=fields
            )
    stub.activate()
    aws.override("dynamodb", client)
    return stub


@pytest.mark.parametrize(
    ("code", "reasons"),
    [
        ("InternalServerError", None),
        ("TransactionCanceledException", [{"Code": "None"}, {"Code": "ThrottlingError"}]),
        ("TransactionCanceledException", None),
    ],
)
def test_transact_reraises_anything_but_a_failed_condition(code, reasons, queues):
    stub = stubbed((code, reasons))
    with pytest.raises(ClientError) as caught:
        jobs.transact(OPS, optional=1)
    assert caught.value.response["Error"]["Code"] == code
    stub.assert_no_pending_responses()


def test_transact_retries_without_the_optional_op_when_only_it_failed(queues):
    stub = stubbed(
        ("TransactionCanceledException", [{"Code": "None"}, {"Code": "ConditionalCheckFailed"}]), ("ok", None)
    )
    assert jobs.transact(OPS, optional=1) is None
    stub.assert_no_pending_responses()  # the retry carried OPS[0] alone


@pytest.mark.parametrize(
    ("reasons", "optional"),
    [
        ([{"Code": "ConditionalCheckFailed"}, {"Code": "None"}], 1),
        ([{"Code": "ConditionalCheckFailed"}, {"Code": "ConditionalCheckFailed"}], 1),
        ([{"Code": "None"}, {"Code": "ConditionalCheckFailed"}], None),
    ],
)
def test_transact_returns_the_reasons_of_any_other_failed_condition(reasons, optional, queues):
    stub = stubbed(("TransactionCanceledException", reasons))
    assert jobs.transact(OPS, optional=optional) == reasons
    stub.assert_no_pending_responses()
