"""The job state machine under random schedules: Hypothesis drives the real handlers on moto.

Every rule is one actor's move (producer, SQS, dispatcher, agents, reaper, operators) and
every handler invocation may carry one `Fault` at one of its AWS calls. After each step the
invariants of invariants.py must hold; at the end (teardown) the world is settled twice —
as left, then healed (agents back, creators resumed, quotas lifted) — and checked at rest.
"""

from __future__ import annotations

import json
import random

from hypothesis import strategies as st
from hypothesis.stateful import initialize, invariant, precondition, rule

from automation.scripts import creator_pause
from tests.lambdas.helpers import ENV, job_body
from tests.simulation import agent_protocol as agents
from tests.simulation import settle
from tests.simulation.base import CREATORS, OWNERS, SimulationBase
from tests.simulation.excuses import job_id_of
from tests.simulation.faults import KINDS, Fault
from tests.simulation.invariants import step_violations
from tests.simulation.schedule import move, record
from tests.simulation.stats import STATS
from tests.simulation.world import World

# 2026-11-28 13:30 UTC, and 40 s before the next UTC midnight (the daily quota's day changes).
STARTS = (1_795_872_600, 1_795_910_360)
POISON = {
    "bad_json": '{"jobId": "job-bad-json", "agentId": ',
    "no_agent": json.dumps({"jobId": "job-no-agent", "creatorId": "creator-1", "kind": "x", "payload": {}}),
    "bad_id": json.dumps({"jobId": "../escape", "agentId": "agent-1", "creatorId": "creator-1", "kind": "x"}),
}
# Half the invocations run clean; the others get one fault at one of their first AWS calls.
faults = st.one_of(
    st.none(),
    st.builds(Fault, st.integers(0, 5), st.sampled_from(KINDS), st.integers(0, len(settle.TWISTS) - 1)),
)
owners = st.sampled_from(OWNERS)
picks = st.integers(0, 63)


class JobSimulation(SimulationBase):
    @initialize(
        start=st.sampled_from(STARTS),
        online=st.sets(owners),
        jobs=st.lists(st.tuples(owners, st.sampled_from(["normal", "critical"])), max_size=6),
    )
    @move
    def start(
        self, start: int, online: set[tuple[str, str]], jobs: list[tuple[tuple[str, str], str]]
    ) -> None:
        """Some agents online and some jobs already queued, so that the first steps have work."""
        self.world = World(start).__enter__()
        self.world.on_delivery = self._on_delivery
        for owner in sorted(online):
            self.connect(owner, None)
        for owner, kind in jobs:
            self.send(owner, kind, 1)

    # ---- producer and SQS ---------------------------------------------------------------------

    @rule(
        owner=owners,
        kind=st.sampled_from(["normal", "critical", *sorted(POISON), "id_reuse"]),
        count=st.integers(1, 3),
    )
    @move
    def send(self, owner: tuple[str, str], kind: str, count: int) -> None:
        """The producer: `count` jobs for one agent (normal or critical), or one poison pill; `id_reuse`
        is a job of `owner` under the id of another agent's job already stored (another tenant's, or
        the same creator's other agent): it must be parked, and that job left as it was."""
        if kind == "id_reuse":
            taken = [j for j, (c, a, _) in self.ledger.jobs.items() if (c, a) != owner and self.w.job(j)]
            if taken:
                body = job_body(taken[-1], owner[1], owner[0]) + " " * len(self.ledger.poison)
                self.ledger.poison[body] = kind
                self.w.sqs.send_message(QueueUrl=self.w.urls["jobs"], MessageBody=body)
            return
        if kind in POISON:
            body = POISON[kind] + " " * len(self.ledger.poison)  # each pill its own body
            self.ledger.poison[body] = kind
            self.w.sqs.send_message(QueueUrl=self.w.urls["jobs"], MessageBody=body)
            return
        for _ in range(count):
            self.serial += 1
            job_id = f"job-{self.serial}"
            self.ledger.jobs[job_id] = (*owner, kind == "critical")
            self.w.gateway.submitted[job_id] = owner
            body = job_body(job_id, owner[1], owner[0], critical=kind == "critical")
            self.w.sqs.send_message(QueueUrl=self.w.urls["jobs"], MessageBody=body)

    @precondition(lambda self: self.world is not None and bool(self.world.messages("jobs")))
    @rule(
        size=st.integers(1, 10),
        shuffle=st.integers(0, 3),
        sqs=st.sampled_from(["as_is", "visibility_expired", "duplicate"]),
        pick=picks,
        fault=faults,
    )
    @move
    def deliver(self, size: int, shuffle: int, sqs: str, pick: int, fault: Fault | None) -> None:
        """One dispatcher invocation on a batch, records in any order. Before it, SQS may make every
        in-flight message visible again (timeouts ran out) or deliver an old message once more."""
        if sqs == "visibility_expired":
            STATS.count("visibility_expired", self.w.expire_visibility())
        elif sqs == "duplicate" and self.delivered:
            body = self.delivered[pick % len(self.delivered)]
            self.w.sqs.send_message(QueueUrl=self.w.urls["jobs"], MessageBody=body)
        messages = self.w.receive("jobs", size)
        if not messages:
            return
        random.Random(shuffle).shuffle(messages)
        self.delivered.extend(m["Body"] for m in messages)
        owner = self._owner_of(messages[0]["Body"])
        if self.w.deliver(messages, fault, self._twist(fault, owner, messages)) is None:
            self.ledger.died.update(filter(None, (job_id_of(m["Body"]) for m in messages)))

    # ---- agents ----------------------------------------------------------------------------

    @rule(owner=owners, action=st.sampled_from(["connect", "disconnect", "vanish"]), fault=faults)
    @move
    def link(self, owner: tuple[str, str], action: str, fault: Fault | None) -> None:
        """(Re)connect (an older connection is left as it is), disconnect, or vanish (no `$disconnect`)."""
        if action == "connect":
            self.connect(owner, fault)
        else:
            self.disconnect(owner, action == "disconnect", fault)

    @precondition(lambda self: bool(self._work()))
    @rule(pick=picks, fault=faults)
    @move
    def ack(self, pick: int, fault: Fault | None) -> None:
        """A connected agent starts one of the jobs pushed to it (maybe on an older connection)."""
        owner, job_id = self._pick_work(pick)
        self._send(owner, agents.ack(job_id), fault)

    @precondition(lambda self: bool(self._work()))
    @rule(
        pick=picks,
        status=st.sampled_from(["completed", "failed"]),
        retryable=st.booleans(),
        with_reason=st.booleans(),
        fault=faults,
    )
    @move
    def result(self, pick: int, status: str, retryable: bool, with_reason: bool, fault: Fault | None) -> None:
        owner, job_id = self._pick_work(pick)
        reason = "site_error" if with_reason else None
        self._send(owner, agents.result(job_id, status, reason=reason, retryable=retryable), fault)

    @rule(owner=owners, action=st.sampled_from(["heartbeat", "rogue", "pause"]), pick=picks, fault=faults)
    @move
    def agent_other(self, owner: tuple[str, str], action: str, pick: int, fault: Fault | None) -> None:
        """A heartbeat listing its jobs, its own circuit breaker, or a result for a job not its own."""
        if action == "heartbeat":
            jobs = [j for j, _ in agents.assignments(self._frames(owner))]
            self._send(owner, agents.heartbeat(list(dict.fromkeys(reversed(jobs)))), fault)
        elif action == "pause":
            self._send(owner, agents.pause("site pushed back"), fault)
        else:
            self._rogue(owner, pick)

    # ---- reaper, clock, operators ------------------------------------------------------------

    @rule(fault=faults)
    @move
    def reap(self, fault: Fault | None) -> None:
        self.w.invoke("lease_reaper", {}, fault, self._twist(fault, OWNERS[0], []))

    @rule(seconds=st.sampled_from([1, 11, 61, 301, 361, 1800]))
    @move
    def advance(self, seconds: int) -> None:
        self.w.advance(seconds)

    @rule(
        creator=st.sampled_from(CREATORS),
        action=st.sampled_from(["pause", "resume", "limits", "redrive", "guarded_redrive", "guard_closed"]),
        concurrent=st.sampled_from([None, 1, 2]),
        quota=st.sampled_from([None, 1, 3]),
    )
    @move
    def operator(self, creator: str, action: str, concurrent: int | None, quota: int | None) -> None:
        """PauseCreator / ResumeCreator, a quota change, a plain or a guarded redrive (guard OK or not)."""
        if action == "pause":
            creator_pause.pause_creator(
                self.w.ddb,
                limits_table=ENV["CREATOR_LIMITS_TABLE"],
                creator_id=creator,
                reason="sim",
                operator="sim",
            )
        elif action == "resume":
            settle.resume(self.w, creator)
        elif action == "limits":
            settle.set_limits(self.w, creator, concurrent, quota)
        elif action == "redrive":
            STATS.count("redriven_plain", settle.move_dlq(self.w))
        else:
            settle.guarded_redrive(self.w, "OK" if action == "guarded_redrive" else "ALARM")

    # ---- invariants ------------------------------------------------------------------------

    @invariant()
    def holds(self) -> None:
        if self.world is None:
            return
        STATS.steps += 1
        self._fail_on(step_violations(self.w, self.ledger))

    def teardown(self) -> None:
        if self.world is None:
            return
        try:
            if not self.broken:
                self._fail_on(settle.quiesce(self, heal=False))
                self._fail_on(settle.quiesce(self, heal=True))
        finally:
            STATS.absorb(self.w, self.ledger.jobs)
            record(self)
            self.world.__exit__(None, None, None)
