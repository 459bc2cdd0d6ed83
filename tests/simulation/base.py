"""The simulation's state and the agents' side of it, under the rules of machine.py.

`SimulationBase` holds what one schedule knows (the world, the ledger, each agent's connections
and the frames pushed to them) and the moves every actor shares: an agent connects, disconnects,
sends a frame (counting what the backend confirmed), an interleaved actor's twist, the record of
what each delivery could not reach (excuses.py).
"""

from __future__ import annotations

from hypothesis.stateful import RuleBasedStateMachine

from tests.simulation import agent_protocol as agents
from tests.simulation import settle
from tests.simulation.excuses import REPORTED_FAILURE, job_id_of, refused_delivery
from tests.simulation.faults import Fault
from tests.simulation.invariants import Ledger
from tests.simulation.stats import STATS
from tests.simulation.world import World

OWNERS = (("creator-1", "agent-1"), ("creator-1", "agent-2"), ("creator-2", "agent-1"))
CREATORS = ("creator-1", "creator-2")


class SimulationBase(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.world: World | None = None
        self.ledger = Ledger()
        self.conn: dict[tuple[str, str], str | None] = {o: None for o in OWNERS}
        self.conns: dict[tuple[str, str], list[str]] = {o: [] for o in OWNERS}
        self.delivered: list[str] = []
        self.serial = 0
        self.broken = False
        self.moves: list[tuple[str, dict]] = []  # this schedule's moves, replayable (schedule.py)
        self.moving = False  # inside a move (a rule called by another is part of it)
        STATS.schedules += 1

    def connect(self, owner: tuple[str, str], fault: Fault | None) -> None:
        self.serial += 1
        connection_id = f"conn-{self.serial}"
        fired, writes = self.w.injector.fired.total(), self.w.injector.writes
        if agents.connect(self.w, *owner, connection_id, fault, self._twist(fault, owner, [])):
            self.conn[owner] = connection_id
            self.conns[owner].append(connection_id)
            self.w.gateway.broken_links.discard(owner)
        elif self.w.injector.fired.total() > fired and self.w.injector.writes > writes:
            self.w.gateway.broken_links.add(owner)  # it wrote: it may have registered a conn never opened

    def disconnect(self, owner: tuple[str, str], clean: bool, fault: Fault | None) -> None:
        connection_id = self.conn[owner]
        if connection_id:
            self.conn[owner] = None
            agents.disconnect(
                self.w, connection_id, fault, deliver=clean, interleave=self._twist(fault, owner, [])
            )

    def _rogue(self, owner: tuple[str, str], pick: int) -> None:
        """Another creator's or a sibling agent's job: refused, nothing changes."""
        others = [j for j, (c, a, _) in self.ledger.jobs.items() if (c, a) != owner]
        if not others or not self.conn[owner]:
            return
        job_id = others[pick % len(others)]
        before = self.w.job(job_id)
        frame = agents.result(job_id, "completed", reason=None, retryable=False)
        reply = self._send(owner, frame, None)
        if agents.accepted(frame, reply) or self.w.job(job_id) != before:
            self.w.gateway.violations.append(f"{owner} acted on {job_id} of another agent: {reply}")

    @property
    def w(self) -> World:
        assert self.world is not None
        return self.world

    def _fail_on(self, violations: list[str]) -> None:
        if violations:
            self.broken = True
            STATS.violations += 1
            raise AssertionError("invariant violated:\n  " + "\n  ".join(violations))

    def _frames(self, owner: tuple[str, str]) -> list[dict]:
        return [f for c in self.conns[owner] for f in self.w.gateway.frames[c]]

    def _work(self) -> list[tuple[tuple[str, str], str]]:
        """(agent, job) for every job pushed to an agent that is connected now."""
        if self.world is None:
            return []
        return [
            (owner, job_id)
            for owner in OWNERS
            if self.conn[owner]
            for job_id in dict.fromkeys(j for j, _ in agents.assignments(self._frames(owner)))
        ]

    def _pick_work(self, pick: int) -> tuple[tuple[str, str], str]:
        work = self._work()
        return work[pick % len(work)]

    def _send(self, owner: tuple[str, str], frame: dict, fault: Fault | None) -> dict | None:
        connection_id = self.conn[owner]
        if not connection_id:
            return None
        if frame["action"] == "job.result" and frame["status"] == "failed":
            self.w.excuse({frame["jobId"]}, REPORTED_FAILURE)
        reply = agents.send(self.w, connection_id, frame, fault, self._twist(fault, owner, []))
        if agents.completed(frame, reply):
            self.ledger.completions[frame["jobId"]] += 1
        elif agents.duplicate(frame, reply):
            # a resend may be confirmed only where the job already ended that way, for this agent
            job = self.w.job(frame["jobId"]) or {}
            if (job.get("status"), job.get("creatorId"), job.get("agentId")) != (frame["status"], *owner):
                self.w.gateway.violations.append(f"{owner} got {frame['jobId']} confirmed as a resend: {job}")
        if agents.closed(reply):
            self.conn[owner] = None
            self.w.gateway.closed(connection_id)
        return reply

    def _twist(self, fault: Fault | None, owner: tuple[str, str], messages: list[dict]):  # noqa: ANN202
        """What another actor does when an `interleave` fault fires."""
        if fault is None or fault.kind != "interleave":
            return None
        return lambda: settle.twist(self, fault.twist, owner, messages)

    def _owner_of(self, body: str) -> tuple[str, str]:
        job = self.ledger.jobs.get(job_id_of(body) or "")
        return (job[0], job[1]) if job else OWNERS[0]

    def _on_delivery(self, messages: list[dict]) -> None:
        """Before a dispatcher invocation: what keeps each job of the batch from its agent now."""
        for message in messages:
            job_id = job_id_of(message["Body"]) or ""
            job = self.ledger.jobs.get(job_id)
            if job is not None:
                owner = (job[0], job[1])
                broken = owner in self.w.gateway.broken_links
                for why in refused_delivery(self.w, job, self.conn[owner], connect_broken=broken):
                    self.w.excuse({job_id}, why)
