"""What a heartbeat writes: the agent item, and only the leases that are due, at most MAX_LEASE_WRITES.

A lease is due when its job is still `assigned` (the listing acknowledges it) or less than two
thirds of LEASE_SECONDS (300 s here: 200 s) is left. Writes are counted on the handlers' own
DynamoDB client, by operation, table and key.
"""

from __future__ import annotations

import pytest

from contract.callers import as_nobody
from lambdas.common import aws
from lambdas.common.job_updates import MAX_LEASE_WRITES
from lambdas.ws_message.handler import handler as message
from tests.lambdas import helpers as h
from tests.lambdas.conftest import NOW

WRITES = ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems")
AGENT_ITEM = ("UpdateItem", h.ENV["AGENTS_TABLE"], "agent#creator-1#agent-1")
JOBS = [f"job-{n:02d}" for n in range(25)]


@pytest.fixture
def writes(online):
    """(operation, table, key) of every DynamoDB write the handlers make, in order."""
    made: list[tuple[str, str, str]] = []

    def record(model, params, **_):
        if model.name in WRITES:
            key = next(iter((params.get("Key") or {}).values()), {}).get("S", "")
            made.append((model.name, params.get("TableName", ""), key))

    aws.client("dynamodb").meta.events.register("provide-client-params.dynamodb", record)
    return made


def heartbeat(jobs: list[str]) -> dict:
    before = len(h.frames("conn-1"))
    assert message(h.message_event({"action": "heartbeat", "jobs": jobs}, "conn-1"), None) == {
        "statusCode": 200
    }
    (reply,) = h.frames("conn-1")[before:]
    return reply


def _lease(
    job_id: str, status: str, expires: int, agent: str = "agent-1", creator: str = "creator-1"
) -> None:
    h.put_job(
        job_id, status, agent, creator, leaseState="active", leaseExpiresAt=expires, connectionId="conn-1"
    )


def test_heartbeat_listing_25_fresh_leases_writes_only_the_agent_item(writes, clock, out):
    # the attack (issue 21): one heartbeat listing 25 job ids cost 27 DynamoDB writes
    for job_id in JOBS:
        _lease(job_id, "running", NOW + 300)
    clock.set(NOW + 60)  # 240 s of each lease left: more than 200
    writes.clear()
    reply = heartbeat(JOBS)
    assert writes == [AGENT_ITEM]
    assert reply == {
        "type": "ack",
        "action": "heartbeat",
        "leasesExtended": 0,
        "extendedJobs": [],
        "deferredJobs": [],
    }
    assert {h.job(j)["leaseExpiresAt"] for j in JOBS} == {NOW + 300}
    assert h.agent("agent-1")["lastSeen"] == NOW + 60


def test_a_lease_is_due_below_two_thirds_left_and_an_unacknowledged_job_always(writes, clock, out):
    _lease("at-200", "running", NOW + 200)
    _lease("at-199", "running", NOW + 199)
    _lease("fresh-assigned", "assigned", NOW + 300)
    writes.clear()
    reply = heartbeat(["at-200", "at-199", "fresh-assigned"])
    assert (reply["extendedJobs"], reply["deferredJobs"], reply["leasesExtended"]) == (
        ["at-199", "fresh-assigned"],
        [],
        2,
    )
    assert writes == [AGENT_ITEM] + [
        ("UpdateItem", h.ENV["JOBS_TABLE"], j) for j in ("at-199", "fresh-assigned")
    ]
    assert [h.job(j)["leaseExpiresAt"] for j in ("at-200", "at-199", "fresh-assigned")] == [
        NOW + 200,
        NOW + 300,
        NOW + 300,
    ]
    assert h.job("fresh-assigned")["status"] == "running"


def test_due_leases_beyond_the_bound_are_answered_as_deferred_most_urgent_written_first(writes, clock, out):
    # GIVEN 25 held jobs, 14 due: 13 expiring in 100 + n s, one fresh but unacknowledged
    assert MAX_LEASE_WRITES == 10
    due = [f"due-{n:02d}" for n in range(13)]
    for n, job_id in enumerate(due):
        _lease(job_id, "running", NOW + 100 + n)
    _lease("new", "assigned", NOW + 300)
    fresh = [f"fresh-{n:02d}" for n in range(11)]
    for job_id in fresh:
        _lease(job_id, "running", NOW + 250)
    writes.clear()
    # WHEN the agent lists them all (in an order of its own)
    reply = heartbeat(sorted(fresh + due + ["new"], reverse=True))
    # THEN the 10 most urgent are written, the other 4 due are answered as deferred, none dropped
    assert reply["extendedJobs"] == due[:10]
    assert reply["deferredJobs"] == [*due[10:], "new"]
    assert len(writes) == 1 + MAX_LEASE_WRITES
    # AND listing the deferred ones again at once extends them
    writes.clear()
    again = heartbeat(reply["deferredJobs"])
    assert (again["extendedJobs"], again["deferredJobs"]) == ([*due[10:], "new"], [])
    assert {h.job(j)["leaseExpiresAt"] for j in [*due, "new"]} == {NOW + 300}
    assert {h.job(j)["leaseExpiresAt"] for j in fresh} == {NOW + 250}


def test_jobs_that_are_not_the_agents_cost_no_write(writes, clock, out):
    _lease("other-agent", "running", NOW + 10, agent="agent-2")
    _lease("other-creator", "running", NOW + 10, creator="creator-2")
    h.put_job("closed", "completed")
    _lease("queued", "queued", NOW + 10)
    writes.clear()
    reply = heartbeat(["other-agent", "other-creator", "closed", "queued", "missing"])
    assert (reply["extendedJobs"], reply["deferredJobs"], writes) == ([], [], [AGENT_ITEM])
    assert h.job("other-agent")["leaseExpiresAt"] == NOW + 10


def test_a_job_closed_between_the_read_and_the_write_is_not_reported_extended(writes, clock, out):
    _lease("job-1", "running", NOW + 10)
    _lease("job-2", "running", NOW + 10)

    def close_job_1(**_):  # a result for job-1 lands right after the heartbeat read the leases
        with as_nobody():  # (another writer's call, not ws-message's: the IAM check leaves it out)
            h.put_job("job-1", "completed")

    aws.client("dynamodb").meta.events.register("after-call.dynamodb.BatchGetItem", close_job_1)
    reply = heartbeat(["job-1", "job-2"])
    assert (reply["extendedJobs"], reply["deferredJobs"]) == (["job-2"], [])
    assert h.job("job-1")["status"] == "completed" and "leaseExpiresAt" not in h.job("job-1")
