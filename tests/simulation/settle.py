"""Operators' tools, interleaved actors, and settling the world to rest (quiescence).

Operators act with the simulation's own clients (never faulted): PauseCreator/ResumeCreator
and GuardedRedrive run their real scripts from automation/scripts; a plain redrive moves the
DLQ back as an SQS move task would (moto has no StartMessageMoveTask).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from automation.scripts import creator_pause
from automation.scripts import guarded_redrive as guarded
from tests.lambdas.helpers import ENV
from tests.simulation import agent_protocol as agents
from tests.simulation.invariants import ACTIVE, final_violations
from tests.simulation.stats import STATS
from tests.simulation.world import World

if TYPE_CHECKING:
    from tests.simulation.machine import JobSimulation

ROUND_SECONDS = 400  # past a lease (300 s) and a visibility timeout (360 s)
MAX_ROUNDS = 40
# Settling redrives each DLQ message once before parking it (the schedule's own redrives use the
# default budget of 3): the end states are the same, at a third of the deliveries.
SETTLE_BUDGET = 1


class _Alarm:
    """CloudWatch's DescribeAlarms for the guard alarm (moto has no metric math to evaluate it)."""

    def __init__(self, state: str) -> None:
        self.state = state

    def describe_alarms(self, AlarmNames: list[str]) -> dict[str, Any]:  # noqa: N803 (boto3's name)
        return {"MetricAlarms": [{"AlarmName": AlarmNames[0], "StateValue": self.state}]}


def guarded_redrive(w: World, alarm_state: str, budget: int = 3) -> dict[str, Any]:
    report = guarded.guarded_redrive(
        w.sqs,
        _Alarm(alarm_state),
        dlq_url=w.urls["dlq"],
        jobs_queue_url=w.urls["jobs"],
        quarantine_url=w.urls["quarantine"],
        errors_alarm_name="BYOIP-test-DispatcherErrors",
        max_messages=1000,
        max_per_second=500,
        redrive_budget=budget,
        max_wait_seconds=0,
        poll_seconds=0,
        receive_wait_seconds=0,
        sleep=lambda _: None,
        clock=lambda: 0.0,
    )
    STATS.count("redriven_guarded", report["redriven"])
    STATS.count("quarantined", report["parked"])
    return report


def move_dlq(w: World) -> int:
    moved = 0
    while True:
        batch = w.sqs.receive_message(
            QueueUrl=w.urls["dlq"], MaxNumberOfMessages=10, MessageAttributeNames=["All"]
        )
        for m in batch.get("Messages", []):
            attrs = m.get("MessageAttributes", {})
            w.sqs.send_message(QueueUrl=w.urls["jobs"], MessageBody=m["Body"], MessageAttributes=attrs)
            w.sqs.delete_message(QueueUrl=w.urls["dlq"], ReceiptHandle=m["ReceiptHandle"])
            moved += 1
        if not batch.get("Messages"):
            return moved


def resume(w: World, creator: str) -> None:
    creator_pause.resume_creator(
        w.ddb,
        w.sqs,
        limits_table=ENV["CREATOR_LIMITS_TABLE"],
        jobs_table=ENV["JOBS_TABLE"],
        jobs_queue_url=w.urls["jobs"],
        creator_id=creator,
        max_jobs=1000,
    )


def set_limits(w: World, creator: str, concurrent: int | None, quota: int | None) -> None:
    sets, removes, values = [], [], {}
    for name, value in (("maxConcurrent", concurrent), ("dailyQuota", quota)):
        if value is None:
            removes.append(name)
        else:
            sets.append(f"{name} = :{name}")
            values[f":{name}"] = {"N": str(value)}
    expression = (f"SET {', '.join(sets)} " if sets else "") + (
        f"REMOVE {', '.join(removes)}" if removes else ""
    )
    kwargs: dict[str, Any] = {"ExpressionAttributeValues": values} if values else {}
    w.ddb.update_item(
        TableName=ENV["CREATOR_LIMITS_TABLE"],
        Key={"creatorId": {"S": creator}},
        UpdateExpression=expression.strip(),
        **kwargs,
    )


TWISTS = ("reconnect", "disconnect", "delivery", "reaper")


def twist(m: JobSimulation, which: int, owner: tuple[str, str], messages: list[dict[str, Any]]) -> None:
    """Another actor, in the middle of an invocation: the agent reconnects or disconnects, another
    poller delivers (the same batch, its visibility run out; else whatever is visible: e.g. a push
    while `$connect` has not returned), or the reaper runs."""
    STATS.count(f"interleaved_{TWISTS[which]}")
    if which == 0:
        old = m.conn[owner]
        if old:
            m.w.gateway.closed(old)  # the old connection went stale; its $disconnect comes later or never
        m.connect(owner, None)
    elif which == 1:
        m.disconnect(owner, True, None)
    elif which == 2:
        m.w.deliver_concurrently(messages or m.w.receive("jobs", 10))
    else:
        m.w.invoke("lease_reaper", {})


def _drain(m: JobSimulation) -> None:
    m.w.expire_visibility()
    while messages := m.w.receive("jobs", 10):
        m.w.deliver(messages, None)


def _cooperate(m: JobSimulation) -> None:
    """Every connected agent finishes every job it was pushed and still holds."""
    for owner, connection_id in list(m.conn.items()):
        if not connection_id:
            continue
        for job_id in dict.fromkeys(j for j, _ in agents.assignments(m._frames(owner))):
            item = m.w.job(job_id) or {}
            if item.get("status") in ACTIVE and (item.get("creatorId"), item.get("agentId")) == owner:
                m._send(owner, agents.result(job_id, "completed", reason=None, retryable=False), None)


def _heal(m: JobSimulation, first: bool) -> None:
    for creator in ("creator-1", "creator-2"):
        if first:
            set_limits(m.w, creator, None, None)
            resume(m.w, creator)
    for owner, connection_id in list(m.conn.items()):
        if first and connection_id:
            m.disconnect(owner, True, None)
        if m.conn[owner] is None:
            m.connect(owner, None)


def _at_rest(w: World) -> bool:
    if w.messages("jobs") or w.messages("dlq"):
        return False
    return not any(i.get("status") in ACTIVE for i in w.scan("JOBS_TABLE"))


def quiesce(m: JobSimulation, *, heal: bool) -> list[str]:
    """No new work, no faults: run every actor until nothing moves, then check the end states."""
    w = m.w
    with w.injector.quiet():
        for n in range(MAX_ROUNDS):
            if heal:
                _heal(m, first=n == 0)
            _drain(m)
            _cooperate(m)
            w.invoke("lease_reaper", {})
            guarded_redrive(w, "OK", SETTLE_BUDGET)
            if _at_rest(w):
                break
            w.advance(ROUND_SECONDS)
        else:
            return [f"nothing may stay in flight forever: not at rest after {MAX_ROUNDS} rounds"]
    return final_violations(w, m.ledger, healed=heal)
