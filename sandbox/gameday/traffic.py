"""A producer: sends job messages to JobsQueue at a steady production-time rate."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from sandbox.clock import SimClock
from sandbox.gameday.ledger import Ledger
from sandbox.ticker import Ticker


@dataclass
class TrafficPlan:
    """What the producer sends; scenarios change it while it runs."""

    agents: list[tuple[str, str]]  # (agentId, creatorId) the jobs go to, round robin
    per_minute: float = 6.0  # jobs per production minute
    critical: bool = False
    kind: str = "profile.refresh"


class Producer:
    """Sends `plan.per_minute` jobs per production minute until stopped."""

    def __init__(self, sqs: Any, queue_url: str, ledger: Ledger, clock: SimClock, plan: TrafficPlan) -> None:
        self.sqs = sqs
        self.queue_url = queue_url
        self.ledger = ledger
        self.clock = clock
        self.plan = plan
        self._turn = 0
        self._ticker = Ticker("producer", self._send_next, self._pace)

    def start(self) -> Producer:
        self._ticker.start()
        return self

    def stop(self) -> None:
        self._ticker.stop()

    def send(
        self,
        agent_id: str | None,
        creator_id: str,
        *,
        critical: bool,
        kind: str | None = None,
        queue_url: str | None = None,
    ) -> str:
        """Send one job to JobsQueue (or `queue_url`); agent_id None makes a poison pill (no agentId)."""
        job_id, body = self._record(agent_id, creator_id, critical, kind)
        self.sqs.send_message(QueueUrl=queue_url or self.queue_url, MessageBody=body)
        return job_id

    def send_together(
        self, agent_id: str, creator_id: str, count: int, *, critical: bool, queue_url: str
    ) -> None:
        """Send `count` (at most 10) jobs in one SendMessageBatch: they land in the queue at once,
        so no queue sample sees only some of them (a seeded DLQ is drawn at its full depth)."""
        entries = [
            {"Id": str(i), "MessageBody": self._record(agent_id, creator_id, critical, None)[1]}
            for i in range(count)
        ]
        answer = self.sqs.send_message_batch(QueueUrl=queue_url, Entries=entries)
        if answer.get("Failed"):
            raise RuntimeError(f"seeding {queue_url} failed: {answer['Failed']}")

    def _record(
        self, agent_id: str | None, creator_id: str, critical: bool, kind: str | None
    ) -> tuple[str, str]:
        """A new job's id and body, entered in the ledger before it is sent."""
        job: dict[str, Any] = {
            "jobId": f"job-{uuid.uuid4().hex[:12]}",
            "creatorId": creator_id,
            "kind": kind or self.plan.kind,
            "payload": {"n": self._turn},
            "critical": critical,
        }
        if agent_id is not None:
            job["agentId"] = agent_id
        body = json.dumps(job)
        if agent_id is None:
            self.ledger.add_poison(body, "missing agentId")
        else:
            self.ledger.add_job(job, self.clock.now())
        return job["jobId"], body

    def send_raw(self, body: str, label: str) -> None:
        """Send a message body as-is (a poison pill from a broken producer)."""
        self.ledger.add_poison(body, label)
        self.sqs.send_message(QueueUrl=self.queue_url, MessageBody=body)

    def _idle(self) -> bool:
        return self.plan.per_minute <= 0 or not self.plan.agents

    def _pace(self) -> float:
        """Real seconds until the next job: the plan's rate, or a short nap while it sends nothing."""
        return 0.1 if self._idle() else self.clock.real(60 / self.plan.per_minute)

    def _send_next(self) -> None:
        plan = self.plan
        if self._idle():
            return
        agent_id, creator_id = plan.agents[self._turn % len(plan.agents)]
        self._turn += 1
        self.send(agent_id, creator_id, critical=plan.critical)
