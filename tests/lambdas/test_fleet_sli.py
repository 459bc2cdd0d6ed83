"""lease-reaper's fleet signals: the connected-agents gauge and jobs counted late while they wait."""

from __future__ import annotations

import pytest

from lambdas.common import connections, fleet
from lambdas.common.ddb import to_item
from lambdas.common.reserved import PROBE_CREATOR
from lambdas.lease_reaper.handler import handler as reaper
from lambdas.ws_connect.handler import handler as connect
from lambdas.ws_disconnect.handler import handler as disconnect
from tests.lambdas import helpers as h

NOW = 10_000
DEADLINE = 60


def _agent(agent_id: str, creator: str = "c1", **attrs) -> dict:
    return {"agentId": agent_id, "creatorId": creator, **attrs}


def _held(job_id: str, agent_id: str, *, age: int, reason: str = "agent_offline", **attrs) -> dict:
    return {"jobId": job_id, "agentId": agent_id, "creatorId": "c1", "status": "held", "reason": reason,
            "createdAt": NOW - age, **attrs}  # fmt: skip


def _overdue(agents: list[dict], held: list[dict]) -> list[str]:
    found = fleet.overdue({"c1": agents}, {"c1": held}, now=NOW, deadline_s=DEADLINE)
    return [j["jobId"] for j in found]


def test_the_gauge_counts_each_connected_agent_once_through_replacements_and_late_disconnects(queues, clock):
    # GIVEN two agents of c1 and one of c2 with the same agent id, connected
    assert connect(h.connect_event(h.token("a", "c1"), "x1"), None) == {"statusCode": 200}
    assert connect(h.connect_event(h.token("b", "c1"), "y1"), None) == {"statusCode": 200}
    assert connect(h.connect_event(h.token("a", "c2"), "z1"), None) == {"statusCode": 200}
    assert connections.connected_count() == 3
    # WHEN c1's agent a reconnects (its new connection replaces x1) and x1's $disconnect comes late
    assert connect(h.connect_event(h.token("a", "c1"), "x2"), None) == {"statusCode": 200}
    disconnect(h.disconnect_event("x1"), None)
    # THEN it still counts once; the replaced connection's disconnect took nothing off
    assert connections.connected_count() == 3
    # WHEN b leaves, and its $disconnect is delivered twice
    disconnect(h.disconnect_event("y1"), None)
    disconnect(h.disconnect_event("y1"), None)
    assert connections.connected_count() == 2
    # ... and c2's agent leaves and comes back
    disconnect(h.disconnect_event("z1"), None)
    assert connect(h.connect_event(h.token("a", "c2"), "z2"), None) == {"statusCode": 200}
    assert connections.connected_count() == 2


def test_the_gauge_moves_with_the_connection_in_one_transaction(queues, clock, monkeypatch):
    # GIVEN AWS refusing the transaction that would count a new connection
    from botocore.exceptions import ClientError

    from lambdas.common import ddb

    real = ddb.dynamodb()

    class Refusing:
        def __getattr__(self, name):
            return getattr(real, name)

        def transact_write_items(self, **_k):
            raise ClientError(
                {"Error": {"Code": "InternalServerError", "Message": "x"}}, "TransactWriteItems"
            )

    with monkeypatch.context() as m, pytest.raises(ClientError):
        m.setattr(ddb, "dynamodb", lambda: Refusing())
        connections.register("a", "c1", "x1", clock.value)
    # THEN neither the agent's connection nor the count was written
    assert connections.connected_count() == 0
    assert "connectionId" not in (connections.agent("c1", "a") or {})


def test_a_storms_conflicting_count_transaction_is_tried_again_and_counts_once(queues, clock, monkeypatch):
    # GIVEN DynamoDB cancelling the first two count transactions: another one held the shard
    from botocore.exceptions import ClientError

    from lambdas.common import ddb

    real, conflicts, pauses = ddb.dynamodb(), [2], []
    conflict = {
        "Error": {"Code": "TransactionCanceledException", "Message": "conflict"},
        "CancellationReasons": [{"Code": "None"}, {"Code": "TransactionConflict"}],
    }

    class Busy:
        def __getattr__(self, name):
            return getattr(real, name)

        def transact_write_items(self, **k):
            if conflicts[0]:
                conflicts[0] -= 1
                raise ClientError(conflict, "TransactWriteItems")
            return real.transact_write_items(**k)

    monkeypatch.setattr(ddb, "dynamodb", lambda: Busy())
    monkeypatch.setattr(connections.time, "sleep", pauses.append)
    # WHEN an agent connects, then disconnects
    assert connections.register("a", "c1", "x1", clock.value) is None
    assert connections.connected_count() == 1
    conflicts[0] = 1
    assert connections.drop("c1", "a", "x1", clock.value) is True
    # THEN each went through once, after a short pause per conflict
    assert connections.connected_count() == 0
    assert len(pauses) == 3 and all(0 < p < 0.2 for p in pauses)


def test_an_agent_connected_before_the_count_existed_counts_from_its_next_connect(queues, clock):
    # GIVEN an agent item written before this version: connected, not marked counted
    h.ddb().put_item(
        TableName=h.ENV["AGENTS_TABLE"],
        Item=to_item({"pk": "agent#c1#a", "agentId": "a", "creatorId": "c1", "connectionId": "old"}),
    )
    # WHEN it disconnects: its connection is dropped, and the count does not go below zero
    assert connections.drop("c1", "a", "old", clock.value) is True
    assert connections.connected_count() == 0
    assert "connectionId" not in connections.agent("c1", "a")
    # ... and from its next connect on it counts
    assert connections.register("a", "c1", "new", clock.value) is None
    assert connections.connected_count() == 1
    assert connections.drop("c1", "a", "new", clock.value) is True
    assert connections.connected_count() == 0


def test_the_black_box_probe_is_in_neither_signal(queues, clock):
    # its agents connect for a few seconds a minute, and its jobs stay out of every SLI
    probe = PROBE_CREATOR
    assert connections.register("probe-1", probe, "p1", clock.value) is None
    assert connections.agent(probe, "probe-1")["connectionId"] == "p1"
    assert connections.connected_count() == 0
    assert connections.drop(probe, "probe-1", "p1", clock.value) is True
    assert connections.connected_count() == 0
    held = {probe: [{**_held("j1", "probe-1", age=600), "creatorId": probe}]}
    assert fleet.overdue({probe: [_agent("probe-1", probe)]}, held, now=NOW, deadline_s=DEADLINE) == []


def test_a_job_held_past_the_deadline_for_a_lost_agent_is_overdue_from_the_second_after():
    lost = [_agent("a", lastSeen=NOW - 300)]
    assert _overdue(lost, [_held("j1", "a", age=DEADLINE)]) == []
    assert _overdue(lost, [_held("j1", "a", age=DEADLINE + 1)]) == ["j1"]


@pytest.mark.parametrize("reason", ["agent_offline", "delivery_410"])
def test_both_absence_reasons_count(reason):
    assert _overdue([_agent("a")], [_held("j1", "a", age=600, reason=reason)]) == ["j1"]


@pytest.mark.parametrize(
    ("agents", "job", "why"),
    [
        ([_agent("a", goodbyeAt=NOW - 900)], _held("j", "a", age=600), "the agent said goodbye"),
        ([], _held("j", "a", age=600), "the agent never connected"),
        ([_agent("a", "c2")], _held("j", "a", age=600), "only another creator's agent of that name exists"),
        ([_agent("a")], _held("j", "a", age=600, reason="creator_paused"), "the creator is paused"),
        ([_agent("a")], _held("j", "a", age=600, reason="limit_exceeded"), "the creator's quota"),
        ([_agent("a")], _held("j", "a", age=600, waitCountedAt=NOW - 60), "counted already"),
    ],
)
def test_jobs_waiting_by_their_owners_choice_or_counted_already_are_not_overdue(agents, job, why):
    assert _overdue(agents, [job]) == [], why


def test_a_job_held_for_a_connected_agent_is_overdue_too():
    # the watch releases it in this run, but it waited past the deadline all the same
    assert _overdue([_agent("a", connectionId="x")], [_held("j1", "a", age=600)]) == ["j1"]


def test_each_job_is_counted_once_while_it_is_still_held(queues, clock, out):
    # GIVEN two jobs held long ago, one of them released meanwhile
    h.put_job("j1", "held", reason="agent_offline", createdAt=clock.value - 600)
    h.put_job("j2", "queued", createdAt=clock.value - 600)
    jobs = [h.job("j1"), {**h.job("j2"), "status": "held"}]  # j2 as the snapshot read it
    # WHEN counted twice
    first = fleet.count_waiting(jobs, now=clock.value)
    second = fleet.count_waiting([h.job("j1")], now=clock.value + 60)
    # THEN j1 counts once (its item says when), j2 (no longer held) never
    assert (first, second) == (1, 0)
    assert h.job("j1")["waitCountedAt"] == clock.value
    assert "waitCountedAt" not in h.job("j2")


def test_a_write_aws_refuses_leaves_the_job_for_the_next_run(queues, clock, out, monkeypatch):
    from botocore.exceptions import ClientError

    from lambdas.common import ddb

    h.put_job("j1", "held", reason="agent_offline", createdAt=clock.value - 600)

    def refused(**_k):
        raise ClientError({"Error": {"Code": "InternalServerError", "Message": "x"}}, "UpdateItem")

    monkeypatch.setattr(ddb, "update_if", refused)
    assert fleet.count_waiting([h.job("j1")], now=clock.value) == 0
    monkeypatch.undo()
    assert "waitCountedAt" not in h.job("j1")


def _closed(connection_id: str, code: int) -> dict:
    event = h.disconnect_event(connection_id)
    event["requestContext"]["disconnectStatusCode"] = code
    return event


def test_the_reaper_publishes_the_gauge_and_the_jobs_newly_late(queues, clock, out):
    # GIVEN agent-1 connected, agent-2 lost abruptly (1006), agent-3 gone by its owner's choice (1000)
    for n in (1, 2, 3):
        assert connect(h.connect_event(h.token(f"agent-{n}"), f"conn-{n}"), None) == {"statusCode": 200}
    disconnect(_closed("conn-2", 1006), None)
    disconnect(_closed("conn-3", 1000), None)
    # ... and a job held for each absent agent for 10 minutes, one for agent-2 for 30 s
    h.put_job("lost-late", "held", agent_id="agent-2", reason="agent_offline", createdAt=clock.value - 600)
    h.put_job("lost-fresh", "held", agent_id="agent-2", reason="agent_offline", createdAt=clock.value - 30)
    h.put_job("bye-late", "held", agent_id="agent-3", reason="agent_offline", createdAt=clock.value - 600)
    out.logs()
    # WHEN the reaper runs twice, a minute apart
    reaper({}, None)
    clock.set(clock.value + 60)
    reaper({}, None)
    # THEN one agent connected each time; the lost agent's late job counts at the first run, its
    # fresh one once it passes the deadline (the second), the goodbye's never
    docs = [d for d in out.emf() if "AgentsConnected" in d]
    assert [(d["AgentsConnected"], d["JobsWaitingLate"]) for d in docs] == [(1, 1), (1, 1)]
    namespaces = {
        m["Name"]: d["Namespace"] for d in docs[0]["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]
    }
    assert (namespaces["AgentsConnected"], namespaces["JobsWaitingLate"]) == (
        "Huntaze/ByoIP",
        "Huntaze/Dispatcher",
    )
    assert "waitCountedAt" in h.job("lost-late") and "waitCountedAt" in h.job("lost-fresh")
    assert "waitCountedAt" not in h.job("bye-late")
