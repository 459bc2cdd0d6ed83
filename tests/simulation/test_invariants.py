"""Each invariant fires on a planted bug, with a message that says what went wrong.

The bug is planted in the handlers' own code (a lambdas/common function monkeypatched for the
test) or written straight into the state; the schedule is the state machine's own moves.
"""

from __future__ import annotations

from lambdas.common import batch, dispatch, job_updates
from lambdas.common.dispatch import ItemFailure
from lambdas.common.jobs import UNCOUNTED
from tests.lambdas.helpers import ENV, job_body
from tests.simulation import settle
from tests.simulation.conftest import OWNER
from tests.simulation.invariants import Ledger, final_violations, step_violations
from tests.simulation.settle import quiesce

# The bug: the ownership condition of an ack forgets that the job must still be active.
ACTIVE_ONLY = "#status IN (:assigned, :running)"
FORGETS_STATUS = job_updates._OWNED.replace(ACTIVE_ONLY, f"({ACTIVE_ONLY} OR attribute_exists(jobId))")


def _pushed(sim, job_id="job-2"):
    """One normal job of agent-1 (job-2: conn-1 took the first serial), delivered and pushed."""
    sim.send(OWNER, "normal", 1)
    sim.deliver(size=10, shuffle=0, sqs="as_is", pick=0, fault=None)
    assert sim._work() == [(OWNER, job_id)]


def _result(sim, status="completed", with_reason=False):
    sim.result(pick=0, status=status, retryable=False, with_reason=with_reason, fault=None)


def test_a_result_accepted_twice_is_a_double_completion(sim, monkeypatch):
    _pushed(sim)
    _result(sim)
    assert step_violations(sim.w, sim.ledger) == []

    close = job_updates.close
    monkeypatch.setattr(job_updates, "close", lambda *args, **kwargs: close(*args, **kwargs) or True)
    _result(sim)  # the resend's failed close is taken for a success: a new completion, not a duplicate

    assert step_violations(sim.w, sim.ledger) == ["job job-2 completed 2 times"]


def test_an_ack_after_the_result_is_a_reopened_job(sim, monkeypatch):
    _pushed(sim)
    _result(sim)
    assert step_violations(sim.w, sim.ledger) == []

    assert ACTIVE_ONLY in job_updates._OWNED
    monkeypatch.setattr(job_updates, "_OWNED", FORGETS_STATUS)
    sim.ack(pick=0, fault=None)

    assert step_violations(sim.w, sim.ledger) == [
        "creator-1 has 1 active job(s) and no CreatorLimits item",
        "job job-2 was completed, now running: a final state reopened",
        "job job-2 is running without an active lease: the reaper never sees it",
    ]


def test_a_push_without_the_assignment_is_a_double_lease(sim, monkeypatch):
    """The job is assigned to conn-1; the agent reconnects (conn-3) and the message comes again."""
    _pushed(sim)
    sim.link(owner=OWNER, action="connect", fault=None)
    monkeypatch.setattr(dispatch.jobs, "assign", lambda *args, **kwargs: None)  # no conditional write

    sim.deliver(size=10, shuffle=0, sqs="duplicate", pick=0, fault=None)

    assert step_violations(sim.w, sim.ledger) == [
        "double lease: job job-2 attempt 1 pushed to conn-3"
        " while the item says status/connection/attempt = ('assigned', 'conn-1', 1)"
    ]


# ---- at rest (quiescence) ----------------------------------------------------------------------

JOB = ("creator-1", "agent-1", False)


def _item(world, status, **extra):
    item = {"jobId": {"S": "job-9"}, "creatorId": {"S": "creator-1"}, "agentId": {"S": "agent-1"}}
    item |= {"status": {"S": status}, "limitsDay": {"S": UNCOUNTED}, **extra}
    world.ddb.put_item(TableName=ENV["JOBS_TABLE"], Item=item)


def test_at_rest_a_message_left_in_the_dlq_and_an_unfinished_job(world):
    lease = {"leaseState": {"S": "active"}, "leaseExpiresAt": {"N": str(world.now() + 60)}}
    _item(world, "assigned", **lease)
    world.sqs.send_message(
        QueueUrl=world.urls["dlq"],
        MessageBody=job_body("job-9"),
        MessageAttributes={"reason": {"DataType": "String", "StringValue": "planted"}},
    )

    assert final_violations(world, Ledger(jobs={"job-9": JOB}), healed=False) == [
        "1 message(s) still in dlq at quiescence",
        "job job-9 ends assigned, neither finished, held nor parked",
    ]


def test_at_rest_a_held_job_is_accepted_only_before_healing(world):
    _item(world, "held", heldAgentId={"S": "creator-1#agent-1"})
    ledger = Ledger(jobs={"job-9": JOB})

    assert final_violations(world, ledger, healed=False) == []
    assert final_violations(world, ledger, healed=True) == [
        "job job-9 ends held, neither finished, held nor parked"
    ]


def test_at_rest_a_slot_still_taken(world):
    world.ddb.put_item(
        TableName=ENV["CREATOR_LIMITS_TABLE"], Item={"creatorId": {"S": "creator-1"}, "inFlight": {"N": "1"}}
    )

    assert final_violations(world, Ledger(), healed=True) == [
        "CreatorLimits creator-1.inFlight = 1 but 0 of its jobs are assigned or running",
        "CreatorLimits creator-1.inFlight = 1 at rest",
    ]


def test_at_rest_a_parked_job_needs_a_reason_the_schedule_gave_it(world):
    world.sqs.send_message(
        QueueUrl=world.urls["quarantine"],
        MessageBody=job_body("job-9"),
        MessageAttributes={"byoip-quarantine-reason": {"DataType": "String", "StringValue": "budget"}},
    )
    ledger = Ledger(jobs={"job-9": JOB})
    assert final_violations(world, ledger, healed=True) == [
        "job job-9 parked in the quarantine though nothing in the schedule explains it"
    ]

    world.excuse({"job-9"}, "a delivery found its agent not connected")

    assert final_violations(world, ledger, healed=True) == []


def test_at_rest_a_healthy_agents_completed_job_stored_as_failed(sim, monkeypatch):
    _pushed(sim)
    close = job_updates.close
    monkeypatch.setattr(
        job_updates, "close", lambda *a, **k: close(*a, **{**k, "status": "failed", "reason": "planted"})
    )

    _result(sim, "completed")

    assert quiesce(sim, heal=True) == [
        "job job-2 failed (planted) though nothing in the schedule explains it: its agent was connected"
        " at every delivery, its creator neither paused nor limited, its lease never lapsed, it"
        " reported no failure and no fault touched it"
    ]


def test_at_rest_a_failure_the_agent_reported_is_explained(sim):
    _pushed(sim)

    _result(sim, "failed")

    assert quiesce(sim, heal=True) == []
    assert sim.w.job("job-2")["status"] == "failed"


def test_at_rest_nothing_stays_in_flight_forever(sim, monkeypatch):
    """The planted bug: the dispatcher fails every record, so SQS redelivers it for ever."""

    def fails(body, *, now):
        raise ItemFailure("job-2", "planted", 500)

    monkeypatch.setattr(batch, "dispatch", fails)
    monkeypatch.setattr(settle, "MAX_ROUNDS", 3)
    sim.send(OWNER, "critical", 1)

    assert quiesce(sim, heal=False) == ["nothing may stay in flight forever: not at rest after 3 rounds"]
