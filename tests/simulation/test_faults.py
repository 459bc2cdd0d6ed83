"""Faults count where they changed something; a stale read shows a handler an item's older version."""

from __future__ import annotations

from tests.lambdas.helpers import job_body
from tests.simulation import agent_protocol as agents
from tests.simulation.faults import Fault


def _queue(world, job_id="job-1", agent="agent-1"):
    world.sqs.send_message(QueueUrl=world.urls["jobs"], MessageBody=job_body(job_id, agent))
    return world.receive("jobs", 10)


def test_a_stale_read_shows_the_dispatcher_the_agent_before_it_connected(world):
    """The agent item was just written: read eventually consistent, it is not there yet."""
    assert agents.connect(world, "creator-1", "agent-1", "conn-1", None)

    response = world.deliver(_queue(world), Fault(0, "stale_read"))

    assert len(response["batchItemFailures"]) == 1  # retried: "offline", though the hold saw it online
    assert agents.assignments(world.gateway.frames["conn-1"]) == []
    assert world.injector.fired == {"stale_read:BatchGetItem": 1}
    assert world.log[-1].startswith("dispatcher_sqs stale_read@0: BatchGetItem!stale_read ")

    world.expire_visibility()
    world.deliver(world.receive("jobs", 10), None)

    assert agents.assignments(world.gateway.frames["conn-1"]) == [("job-1", 1)]


def test_a_stale_read_of_items_not_written_since_is_idle(world):
    """Nothing of agent-9 or its creator was ever written: the older version is the same."""
    world.deliver(_queue(world, agent="agent-9"), Fault(0, "stale_read"))

    assert world.injector.fired == {}
    assert world.injector.idle == {"stale_read:BatchGetItem": 1}


def test_a_410_from_a_connection_that_answers_410_anyway_is_idle(world):
    assert agents.connect(world, "creator-1", "agent-1", "conn-1", None)
    agents.disconnect(world, "conn-1", None, deliver=False)  # vanished: its item still names it

    world.deliver(_queue(world), Fault(0, "gone_410"))

    assert world.injector.idle == {"gone_410:PostToConnection": 1}
    assert "gone_410:PostToConnection" not in world.injector.fired


def test_a_410_from_an_open_connection_fires(world):
    assert agents.connect(world, "creator-1", "agent-1", "conn-1", None)

    world.deliver(_queue(world), Fault(0, "gone_410"))

    assert world.injector.fired == {"gone_410:PostToConnection": 1}
    assert agents.assignments(world.gateway.frames["conn-1"]) == []
