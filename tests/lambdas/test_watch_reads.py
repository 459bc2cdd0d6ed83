"""The creator watch reads what may need a decision, never the fleet (lambdas/common/watch.py)."""

from __future__ import annotations

from typing import Any

from lambdas.common import ddb, tables
from lambdas.lease_reaper.handler import handler as reap
from lambdas.ws_connect.handler import handler as connect
from lambdas.ws_disconnect.handler import handler as disconnect
from tests.lambdas import creator_events
from tests.lambdas import helpers as h


def _record(calls: list[tuple[str, dict[str, Any]]]) -> None:
    def hook(model: Any, params: dict[str, Any], **_: Any) -> None:
        calls.append((model.name, params))

    ddb.dynamodb().meta.events.register("before-parameter-build.dynamodb.*", hook)


def _read_keys(calls: list[tuple[str, dict[str, Any]]]) -> set[str]:
    """Every key value the recorded BatchGetItem/GetItem calls asked for."""
    found = set()
    for op, params in calls:
        requests = params.get("RequestItems", {}).values() if op == "BatchGetItem" else []
        keys = [k for r in requests for k in r["Keys"]] + ([params["Key"]] if op == "GetItem" else [])
        found |= {next(iter(v.values())) for key in keys for v in key.values()}
    return found


def test_idle_connected_agents_cost_the_watch_no_read(queues, clock, out):
    # GIVEN 30 idle connected agents of 6 creators (two of them with limits items) ...
    for n in range(30):
        tok = h.token(f"idle-{n}", f"idle-creator-{n % 6}")
        assert connect(h.connect_event(tok, f"idle-{n}"), None) == {"statusCode": 200}
    h.put_limits("idle-creator-0", maxConcurrent=3)
    h.put_limits("idle-creator-1", dailyQuota=100)
    # ... and one thing to decide: creator-1's agent-1 went offline with a job held for it
    assert connect(h.connect_event(h.token("agent-1", "creator-1"), "c1"), None) == {"statusCode": 200}
    disconnect(h.disconnect_event("c1"), None)
    h.put_job("held-1", "held", reason="agent_offline", createdAt=clock.value - 10)
    h.drain(queues["JOBS_QUEUE_URL"])
    calls: list[tuple[str, dict[str, Any]]] = []
    _record(calls)
    # WHEN the lease reaper (and its watch) runs
    reap({}, None)
    # THEN no table was scanned, only the sparse held-jobs index ...
    scans = [(p["TableName"], p.get("IndexName")) for op, p in calls if op == "Scan"]
    assert scans == [(h.ENV["JOBS_TABLE"], tables.BY_HELD_AGENT.name)]
    queried = sorted({p.get("IndexName") for op, p in calls if op == "Query"})
    assert queried == sorted({tables.BY_LEASE.name, tables.BY_WATCH.name, tables.BY_BREAKER.name})
    # ... and the items read are the held job's agent, its creator's limits and the count shards
    shards = {tables.fleet_pk(n) for n in range(tables.FLEET_SHARDS)}
    assert _read_keys(calls) == {tables.agent_pk("creator-1", "agent-1"), "creator-1"} | shards
    # the gauge still counts the idle fleet
    gauge = [d["AgentsConnected"] for d in out.emf() if "AgentsConnected" in d]
    assert gauge == [30]


def test_windows_breakers_and_episodes_are_found_through_the_indexes_and_leave_them_when_done(
    queues, clock, out
):
    from lambdas.common import breaker, notify
    from lambdas.common.watch import snapshot

    events = creator_events.subscribe()
    # GIVEN an open breaker (creator-b), and creator-e's agent that went offline with a job held
    # for it, whose episode the watch announced
    h.put_limits("creator-b", paused=True, pausedBy=breaker.BREAKER_BY, breakerState=breaker.OPEN,
                 breakerOpenedAt=clock.value)  # fmt: skip
    assert connect(h.connect_event(h.token("agent-1", "creator-e"), "ce1"), None) == {"statusCode": 200}
    disconnect(h.disconnect_event("ce1"), None)
    h.put_job("held-e", "held", creator_id="creator-e", reason="agent_offline", createdAt=clock.value)
    clock.set(clock.value + notify.offline_delay() + 60)
    reap({}, None)
    assert [e["type"] for e in creator_events.received(events)] == [notify.AGENT_OFFLINE]
    # ... and a failure in creator-w's outcome window
    breaker.record("creator-w", "job-1", ok=False, now=clock.value)
    # WHEN the agent is back and its job gone, and the window's failure ages out
    assert connect(h.connect_event(h.token("agent-1", "creator-e"), "ce2"), None) == {"statusCode": 200}
    h.ddb().delete_item(TableName=h.ENV["JOBS_TABLE"], Key=tables.key(tables.JOBS, "held-e"))
    snap = snapshot()
    # THEN the snapshot found each through the indexes: no held job names creator-e any more
    assert set(snap.windows) == {"creator-w"}
    assert snap.limits["creator-b"]["breakerState"] == breaker.OPEN
    assert [a["agentId"] for a in snap.agents["creator-e"]] == ["agent-1"]
    clock.set(clock.value + breaker.BreakerPolicy().window_s + 1)
    reap({}, None)
    # ... the episode's end was announced, and the items left the index (no longer read)
    assert [e["type"] for e in creator_events.received(events)] == [notify.AGENT_BACK]
    snap = snapshot()
    assert (snap.windows, set(snap.agents)) == ({}, set())
    assert set(snap.creators()) == {"creator-b"}
