"""Small parts: time compression, metric filters, EMF, the SSM script runner's scaled time."""

from __future__ import annotations

import json

import pytest

from sandbox.clock import SimClock, prod_minutes
from sandbox.log_metrics import LogMetrics, MetricFilter, parse_pattern
from sandbox.metrics import MetricStore
from sandbox.ssm import _scaled_time, _substitute
from sandbox.template import TemplateError


def test_time_compression_scales_production_durations():
    clock = SimClock(speed=60, real_start=1000.0)
    assert clock.scaled_int(360) == 6  # JobsQueue visibility timeout
    assert clock.scaled_int(10) == 1  # never below one second (SQS takes whole seconds)
    assert clock.real(600) == 10.0
    assert clock.to_prod(1001.0) == 1060.0
    assert prod_minutes(90) == "1.5 min (production time)"
    with pytest.raises(ValueError, match="invalid speed 0: allowed 1-600"):
        SimClock(speed=0)


def test_metric_filter_terms_and_refusal_of_json_patterns():
    assert parse_pattern('"status=410"') == ("status=410",)
    with pytest.raises(TemplateError, match="only term patterns run in the sandbox"):
        parse_pattern("{ $.status = 410 }")
    store = MetricStore(SimClock(speed=60))
    stale = MetricFilter("/aws/lambda/d", ("status=410",), "Huntaze/ByoIP/local", "StaleConnections", 1.0)
    sink = LogMetrics(store, [stale])
    sink("/aws/lambda/d", "batch_item_failed jobId=j1 reason=delivery_410 status=410")
    sink("/aws/lambda/d", "batch_item_failed jobId=j2 reason=agent_offline status=404")
    sink("/aws/lambda/other", "status=410 in another log group")
    assert store.total("Huntaze/ByoIP/local", "StaleConnections") == 1.0


def test_emf_lines_become_metrics_in_production_time():
    clock = SimClock(speed=60, real_start=1000.0)
    store = MetricStore(clock)
    line = json.dumps(
        {
            "Stage": "local",
            "BatchItems": 7,
            "BatchItemFailures": 1,
            "_aws": {
                "Timestamp": 1002_000,
                "CloudWatchMetrics": [
                    {
                        "Namespace": "Huntaze/Dispatcher",
                        "Dimensions": [["Stage"]],
                        "Metrics": [{"Name": "BatchItems"}, {"Name": "BatchItemFailures"}],
                    }
                ],
            },
        }
    )
    assert store.put_emf(line) is True
    assert store.put_emf('{"level": "INFO"}') is False
    (sample,) = store.samples("Huntaze/Dispatcher", "BatchItems", {"Stage": "local"})
    assert (sample.timestamp, sample.value) == (1120.0, 7.0)  # 2 real seconds = 2 production minutes
    assert store.total("Huntaze/Dispatcher", "BatchItemFailures", {"Stage": "local"}) == 1.0


def test_ssm_parameters_and_scaled_time():
    params = {"DlqUrl": "http://q", "MaxMessages": 100}
    payload = {"DlqUrl": "{{ DlqUrl }}", "MaxMessages": "{{MaxMessages}}", "Note": "to {{ DlqUrl }}"}
    assert _substitute(payload, params) == {"DlqUrl": "http://q", "MaxMessages": 100, "Note": "to http://q"}
    shim = _scaled_time(SimClock(speed=600))
    before = shim.monotonic()
    shim.sleep(60)  # one production minute is 0.1 s at 600x
    assert 55 <= shim.monotonic() - before <= 120


def _result(**overrides):
    from sandbox.gameday.ledger import Accounting
    from sandbox.gameday.runner import Result

    fields = dict(
        scenario="poison-pill",
        section="A",
        alert_mode="all",
        speed=60.0,
        expected_alarms=["DLQNotEmpty"],
        fired_alarms=["DLQNotEmpty"],
        detection_min=1.0,
        first_email_min=1.0,
        recovery_min=None,
        emails=[{"time": 1060.0, "state": "ALARM", "alarm": "BYOIP-local-DLQNotEmpty"}],
        automations=[],
        accounting=Accounting(submitted=5, completed=5),
        timeline=[
            {"time": 900.0, "kind": "alarm", "text": "HeartbeatDip → ALARM", "link": ""},
            {"time": 1000.0, "kind": "fault", "text": "poison pills", "link": ""},
            {"time": 1060.0, "kind": "email", "text": "email: ALARM DLQNotEmpty", "link": RUNBOOK},
            {
                "time": 1070.0,
                "kind": "automation",
                "text": "automation GuardedRedrive " + "x" * 140,
                "link": "",
            },
        ],
        redeliveries=2,
        duplicate_completions=0,
        wall_seconds=30.0,
        setup_alarms=["HeartbeatDip"],
        setup_emails=[{"time": 900.0, "state": "ALARM", "alarm": "BYOIP-local-HeartbeatDip"}],
    )
    return Result(**(fields | overrides))


RUNBOOK = "https://runbooks.example.internal/byoip/" + "a-long-section-anchor-" * 4 + "dlq-not-empty"


def test_game_day_summary_in_a_log_keeps_links_whole_and_setup_apart(monkeypatch):
    import io

    from rich.console import Console

    from sandbox.console import make_console
    from sandbox.gameday.report import print_result

    monkeypatch.delenv("COLUMNS", raising=False)
    out = io.StringIO()
    print_result(_result(), make_console(file=out))  # a log: $COLUMNS, else 80 columns
    lines = out.getvalue().splitlines()
    assert sum(RUNBOOK in line for line in lines) == 1  # one line, not folded at 80 columns
    assert max(len(line) for line in lines if RUNBOOK not in line) <= 80
    assert any("setup" in line and "HeartbeatDip → ALARM" in line for line in lines)
    wide = io.StringIO()  # the summary's cells, each on one line
    print_result(_result(), Console(file=wide, width=160))
    lines = wide.getvalue().splitlines()
    assert any(
        "setup, before the fault (not counted)" in line and "emails 1 (1 ALARM)" in line for line in lines
    )
    assert any("emails sent (fault to recovery)" in line and "1 (1 ALARM)" in line for line in lines)
    assert any("recovery (alarms OK, DLQ empty, no job stuck)" in line and "—" in line for line in lines)
    assert any("re-deliveries (lease expired / reconnect)" in line and " 2 " in line for line in lines)


def test_game_day_fails_on_duplicate_completions_lost_jobs_and_early_recovery():
    from sandbox.gameday.ledger import Accounting
    from sandbox.gameday.runner import judge

    ok = Accounting(submitted=3, completed=3)
    assert judge(("Backlog",), ["Backlog"], ok, 0, 2.0, 9.0) == []
    assert judge((), [], ok, 0, None, None) == []
    lost = Accounting(submitted=3, completed=2, lost=1, lost_ids=["job-1"])
    assert judge(("Backlog",), ["Backlog"], lost, 1, 9.0, 2.0) == [
        "1 job(s) lost: ['job-1']",
        "1 duplicate completion(s): a job completed twice",
        "recovery (2.0 min) before detection (9.0 min)",
    ]
    assert judge((), ["HeartbeatDip"], ok, 0, 1.0, 5.0) == ["unexpected alarm(s) fired: HeartbeatDip"]
    assert judge(("Backlog",), [], ok, 0, None, None) == ["expected alarm(s) never fired: Backlog"]


def test_reference_agent_logs_reconnect_attempts_with_backoff():
    import asyncio
    import re
    import socket

    from sandbox.agent import Agent

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    lines: list[str] = []

    async def run() -> None:
        agent = Agent(f"ws://127.0.0.1:{port}", "a", lambda: "t", backoff=(0.01, 0.04), log=lines.append)
        task = asyncio.create_task(agent.run())
        while sum(line.startswith("reconnecting") for line in lines) < 3:
            await asyncio.sleep(0.01)
        agent.stop()
        await asyncio.wait_for(task, 5)

    asyncio.run(asyncio.wait_for(run(), 10))
    assert lines[0].startswith("connection lost: ConnectionRefusedError")
    attempts = [re.fullmatch(r"reconnecting in (\d+\.\d) s \(attempt (\d+)\)", x) for x in lines[1:6:2]]
    assert [int(m.group(2)) for m in attempts] == [2, 3, 4]
    assert all(float(m.group(1)) <= 0.04 for m in attempts)


def test_recovery_wait_scans_the_ledger_sparingly(monkeypatch):
    """Each ledger look scans JobsTable through moto's one-at-a-time DynamoDB: not every poll."""
    import time
    from types import SimpleNamespace

    from sandbox.gameday import ledger, runner
    from sandbox.gameday.timeline import Timeline

    looks: list[float] = []

    def stuck(sent_before: float) -> int:
        looks.append(time.monotonic())
        return 1 if len(looks) < 3 else 0  # two stuck jobs' looks, then drained

    monkeypatch.setattr(ledger, "queue_bodies", lambda name: [])
    g = runner.GameDay(runner.GameDayOptions("dispatcher-errors"))
    g.clock = SimClock(speed=60)
    g.timeline = Timeline(g.clock)
    g.box = SimpleNamespace(options=SimpleNamespace(stage="local"), automation=SimpleNamespace(executions=[]))
    g.alarms = SimpleNamespace(evaluator=SimpleNamespace(states={"byoip-local-Backlog": "OK"}))
    g.ledger = SimpleNamespace(stuck=stuck, held_for=lambda agents, accounting=None: [])
    g.fleet = SimpleNamespace(agents={})
    g.wait_recovered(minutes=3)
    assert len(looks) == 3
    gaps = [b - a for a, b in zip(looks, looks[1:], strict=False)]
    assert min(gaps) >= runner.LEDGER_EVERY_S * 0.9
    assert [e.kind for e in g.timeline.sorted()] == ["recovered"]


def test_recovery_waits_for_every_agent_its_owner_wants_online_and_no_job_held_for_one():
    """Held jobs of an agent that cannot connect are the incident's until it is back; an agent
    offline by its owner's choice (paused) is not waited for; a job still held once its agent is
    connected is one nothing will deliver."""
    from types import SimpleNamespace

    from sandbox.gameday import runner
    from sandbox.gameday.ledger import Accounting, Ledger

    def agent(online: bool, paused: bool):
        return SimpleNamespace(online=SimpleNamespace(is_set=lambda: online), paused=paused)

    g = runner.GameDay(runner.GameDayOptions("connect-denied"))
    g.fleet = SimpleNamespace(
        agents={"a1": agent(True, False), "a2": agent(False, False), "a3": agent(False, True)}
    )
    assert g.missing_agents() == ["a2"]  # a3 is off by its owner's choice
    ledger = Ledger(None, "jobs", {})
    for job_id, agent_id in (("j1", "a1"), ("j2", "a2"), ("j3", "a3")):
        ledger.add_job({"jobId": job_id, "agentId": agent_id})
    g.ledger = ledger
    held = Accounting(held_ids=["j1", "j2", "j3"])
    assert g.held_for_connected(held) == ["j1"]


def test_a_resent_result_confirmed_as_duplicate_is_not_a_second_completion():
    """A job delivered twice (an expired lease on a busy machine) is run and reported twice; the
    backend confirms the second result with `duplicate: true`, which closed nothing."""
    import asyncio
    import json

    from websockets.asyncio.server import serve

    from sandbox.agent import Agent, AgentBehaviour

    results: list[str] = []

    async def backend(ws) -> None:
        for _ in range(2):  # the same job pushed twice
            await ws.send(json.dumps({"type": "job.assign", "jobId": "job-1", "payload": {}}))
            frame = json.loads(await ws.recv())
            while frame.get("action") != "job.result":
                frame = json.loads(await ws.recv())
            results.append(frame["status"])
            ack = {"type": "ack", "action": "job.result", "jobId": "job-1", "requeued": False}
            await ws.send(json.dumps(ack | ({"duplicate": True} if len(results) == 2 else {})))
        await ws.wait_closed()

    async def run() -> Agent:
        async with serve(backend, "127.0.0.1", 0) as server:
            port = server.sockets[0].getsockname()[1]
            agent = Agent(f"ws://127.0.0.1:{port}", "a", lambda: "t", AgentBehaviour(job_seconds=0))
            task = asyncio.create_task(agent.run())
            while len(agent.stats.completed) < 2 or agent._completing or agent._unconfirmed:
                await asyncio.sleep(0.01)
            agent.stop()
            await asyncio.wait_for(task, 30)
            return agent

    agent = asyncio.run(asyncio.wait_for(run(), 60))
    assert results == ["completed", "completed"] and agent.stats.completed == ["job-1", "job-1"]
    assert agent.stats.confirmed == ["job-1"]  # one completion the backend closed, not two


def test_the_reference_agent_lists_deferred_leases_again_at_once():
    """A heartbeat answer's `deferredJobs` (due leases over the frame's write bound) are sent again
    in a heartbeat of their own, only those the agent still holds."""
    import asyncio
    import json

    from websockets.asyncio.server import serve

    from sandbox.agent import Agent, AgentBehaviour

    listed: list[list[str]] = []

    async def backend(ws) -> None:
        for job_id in ("job-1", "job-2"):
            await ws.send(json.dumps({"type": "job.assign", "jobId": job_id, "payload": {}}))
        while True:
            frame = json.loads(await ws.recv())
            if frame.get("action") == "heartbeat":
                listed.append(frame.get("jobs", []))
                ack = {"type": "ack", "action": "heartbeat", "deferredJobs": ["job-2", "job-gone"]}
                await ws.send(json.dumps(ack))

    async def run() -> None:
        async with serve(backend, "127.0.0.1", 0) as server:
            port = server.sockets[0].getsockname()[1]
            # jobs that never finish; the regular heartbeat always lists both
            behaviour = AgentBehaviour(job_seconds=3600, heartbeat_seconds=0.05)
            agent = Agent(f"ws://127.0.0.1:{port}", "a", lambda: "t", behaviour)
            task = asyncio.create_task(agent.run())
            while ["job-2"] not in listed:
                await asyncio.sleep(0.01)
            agent.stop()
            await asyncio.wait_for(task, 30)

    asyncio.run(asyncio.wait_for(run(), 60))
    assert all(jobs in ([], ["job-1", "job-2"], ["job-2"]) for jobs in listed)  # never job-gone


def test_the_reference_agent_confirms_results_through_heartbeats_and_resends_unconfirmed_ones():
    """A result sent with `"ack": false` is listed in heartbeats until `recordedJobs` names it; one
    listed RESEND_AFTER times without confirmation is sent again (the backend takes it as a no-op)."""
    import asyncio
    import json

    from websockets.asyncio.server import serve

    from sandbox.agent import RESEND_AFTER, Agent, AgentBehaviour

    results: list[dict] = []
    listings: list[list[str]] = []

    async def backend(ws) -> None:
        await ws.send(json.dumps({"type": "job.assign", "jobId": "job-1", "payload": {}}))
        while True:
            frame = json.loads(await ws.recv())
            if frame.get("action") == "job.result":
                results.append(frame)  # recorded, and not answered: the agent asked for no answer
            elif frame.get("action") == "heartbeat":
                listed = frame.get("results", [])
                listings.append(listed)
                # the first result is "lost"; once the resend arrived, the heartbeat confirms it
                recorded = [j for j in listed if len(results) > 1]
                await ws.send(json.dumps({"type": "ack", "action": "heartbeat", "recordedJobs": recorded}))

    async def run() -> Agent:
        async with serve(backend, "127.0.0.1", 0) as server:
            port = server.sockets[0].getsockname()[1]
            behaviour = AgentBehaviour(job_seconds=0, heartbeat_seconds=0.02)
            agent = Agent(f"ws://127.0.0.1:{port}", "a", lambda: "t", behaviour)
            task = asyncio.create_task(agent.run())
            while not agent.stats.confirmed:
                await asyncio.sleep(0.01)
            agent.stop()
            await asyncio.wait_for(task, 30)
            return agent

    agent = asyncio.run(asyncio.wait_for(run(), 60))
    assert [(r["jobId"], r["status"], r["ack"]) for r in results] == [("job-1", "completed", False)] * 2
    assert listings.count(["job-1"]) >= RESEND_AFTER + 1  # listed until the resend was confirmed
    assert (agent.stats.confirmed, agent.stats.resent, agent._unconfirmed) == (["job-1"], 1, {})
