"""Bugs the simulation found, each pinned by an explicit test (GIVEN / WHEN / THEN), and proofs
that the invariant checks themselves catch what they are about."""

from __future__ import annotations

from tests.lambdas.helpers import job_body
from tests.simulation import agent_protocol as agents
from tests.simulation import settle
from tests.simulation.conftest import OWNER
from tests.simulation.excuses import CONNECT_BROKEN
from tests.simulation.faults import Fault
from tests.simulation.invariants import Ledger, step_violations
from tests.simulation.world import World


def _pushed_job(world: World, job_id: str = "job-1") -> None:
    """agent-1 of creator-1 online as conn-1, `job_id` dispatched and pushed to it."""
    assert agents.connect(world, "creator-1", "agent-1", "conn-1", None)
    world.sqs.send_message(QueueUrl=world.urls["jobs"], MessageBody=job_body(job_id))
    world.deliver(world.receive("jobs", 10), None)
    assert agents.assignments(world.gateway.frames["conn-1"]) == [(job_id, 1)]


def test_bug1_a_failed_result_without_a_reason_still_stores_one(world):
    """Found by seed 33: `job.result` failed, not retryable, no reason -> a job failed without a reason."""
    _pushed_job(world)
    frame = agents.result("job-1", "failed", reason=None, retryable=False)

    reply = agents.send(world, "conn-1", frame, None)

    assert agents.accepted(frame, reply)
    job = world.job("job-1")
    assert (job["status"], job["reason"]) == ("failed", "agent_failed")


def test_bug1_boundary_the_agents_own_reason_is_kept(world):
    _pushed_job(world)
    frame = agents.result("job-1", "failed", reason="site_error", retryable=False)

    agents.send(world, "conn-1", frame, None)

    assert world.job("job-1")["reason"] == "site_error"


def test_the_checks_see_a_lost_job_and_a_negative_counter(world):
    """The invariants can fail: a job whose message vanished is lost; a counter below zero is reported."""
    ledger = Ledger(jobs={"job-9": ("creator-1", "agent-1", False)})
    world.sqs.send_message(QueueUrl=world.urls["jobs"], MessageBody=job_body("job-9"))
    assert step_violations(world, ledger) == []

    world.sqs.purge_queue(QueueUrl=world.urls["jobs"])
    world.ddb.put_item(
        TableName="byoip-test-creator-limits",
        Item={"creatorId": {"S": "creator-1"}, "inFlight": {"N": "-1"}},
    )

    assert step_violations(world, ledger) == [
        "CreatorLimits creator-1.inFlight = -1 < 0",
        "CreatorLimits creator-1.inFlight = -1 but 0 of its jobs are assigned or running",
        "job job-9 lost: no item and no message anywhere",
    ]


def test_the_gateway_sees_a_push_to_another_tenants_connection(world):
    world.gateway.opened("conn-x", ("creator-2", "agent-1"))
    world.gateway.submitted["job-1"] = ("creator-1", "agent-1")

    world.gateway.handle(
        "PostToConnection",
        {"ConnectionId": "conn-x", "Data": b'{"type":"job.assign","jobId":"job-1","attempt":1}'},
    )

    assert world.gateway.violations[0] == (
        "tenant crossed: job job-1 of ('creator-1', 'agent-1')"
        " pushed to ('creator-2', 'agent-1')'s connection"
    )


def test_false_alarm_a_reconnect_broken_after_registering_explains_the_agent_looking_offline(sim):
    """Found by a directed soak probe: agent-1 is online on conn-1 and connects again; the new
    `$connect` registers conn-2 (its counting transaction finds conn-1, so a plain write replaces
    it), then a timeout after that write answers 503, so API Gateway never opens conn-2. Pushes
    go to conn-2 (410, dropped), the agent looks offline while it still talks on conn-1, and a
    critical job retries into the quarantine: the schedule's fault explains it (it is not
    "nothing in the schedule")."""
    sim.link(owner=OWNER, action="connect", fault=Fault(4, "timeout_after_write"))
    assert sim.w.log[-1].endswith("UpdateItem!timeout_after_write -> 503")
    assert sim.conn[OWNER] == "conn-1"
    sim.send(owner=OWNER, kind="critical", count=1)  # job-3
    sim.advance(seconds=61)

    assert settle.quiesce(sim, heal=False) == []

    assert sim.w.job("job-3")["status"] == "queued"  # parked in the quarantine, never delivered
    assert sim.w.excuses["job-3"] == {CONNECT_BROKEN}
    assert settle.quiesce(sim, heal=True) == []


def test_false_alarm_boundary_a_later_good_connect_ends_the_excuse(sim):
    sim.link(owner=OWNER, action="connect", fault=Fault(4, "timeout_after_write"))
    sim.link(owner=OWNER, action="connect", fault=None)  # conn-3: registered and open
    sim.send(owner=OWNER, kind="critical", count=1)  # job-4
    sim.deliver(size=10, shuffle=0, sqs="as_is", pick=0, fault=None)

    assert sim.w.job("job-4")["status"] == "assigned"
    assert "job-4" not in sim.w.excuses


def test_false_alarm_boundary_a_connect_broken_before_writing_excuses_nothing(sim):
    sim.link(owner=OWNER, action="connect", fault=Fault(0, "die_before"))  # nothing registered
    sim.send(owner=OWNER, kind="critical", count=1)  # job-3, delivered to conn-1
    sim.deliver(size=10, shuffle=0, sqs="as_is", pick=0, fault=None)

    assert sim.w.job("job-3")["status"] == "assigned"
    assert "job-3" not in sim.w.excuses


def test_false_alarm_a_410_fault_on_an_open_connection_explains_the_agent_looking_offline(sim):
    """Found by a directed probe: a gone_410 fault on agent-1's open conn-1 (past the connect grace)
    makes the dispatcher drop conn-1; the agent keeps it and never reconnects, so its next critical
    job retries `agent_offline` into the quarantine: the fault explains it."""
    sim.advance(seconds=11)
    sim.send(owner=OWNER, kind="normal", count=1)  # job-2
    sim.deliver(size=10, shuffle=0, sqs="as_is", pick=0, fault=Fault(0, "gone_410"))
    sim.send(owner=OWNER, kind="critical", count=1)  # job-3

    assert settle.quiesce(sim, heal=False) == []

    assert sim.w.excuses["job-3"] == {CONNECT_BROKEN}
    assert settle.quiesce(sim, heal=True) == []
