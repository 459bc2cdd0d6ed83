"""Where every submitted job ended up: completed, held, parked, failed, pending — or lost.

Read from the system's own state: JobsTable items, the queues' contents (listed by the
sandbox's moto server without receiving them) and nothing else. A job is *lost* when it
is in none of those places: no item, no message anywhere.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sandbox.moto_server import queue_messages

TERMINAL = {"completed": "completed", "held": "held", "failed": "failed"}


def queue_bodies(name: str) -> list[str]:
    """Bodies of every message in a queue, visible or not, without receiving them."""
    return [m["body"] for m in queue_messages(name)]


@dataclass
class Accounting:
    submitted: int = 0
    completed: int = 0
    held: int = 0
    parked: int = 0
    failed: int = 0
    pending: int = 0
    lost: int = 0
    lost_ids: list[str] = field(default_factory=list)
    pending_ids: list[str] = field(default_factory=list)
    held_ids: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in self.__dict__.items() if not k.endswith("_ids")}
        return out | {"lost_ids": self.lost_ids[:20]}


class Ledger:
    """Remembers what was submitted; `account()` finds where each one is now."""

    def __init__(self, dynamodb: Any, jobs_table: str, queues: dict[str, str]) -> None:
        self.dynamodb = dynamodb
        self.jobs_table = jobs_table
        self.queues = queues  # role ('jobs', 'dlq', 'quarantine') -> queue name
        self._lock = threading.Lock()
        self.jobs: dict[str, dict[str, Any]] = {}
        self.sent_at: dict[str, float] = {}  # jobId -> production time it was sent
        self.poison: dict[str, str] = {}  # body -> label

    def add_job(self, job: dict[str, Any], sent_at: float = 0.0) -> None:
        with self._lock:
            self.jobs[job["jobId"]] = job
            self.sent_at[job["jobId"]] = sent_at

    def stuck(self, sent_before: float) -> int:
        """Jobs sent before `sent_before` (production time) that are still pending."""
        pending = self.account().pending_ids
        with self._lock:
            return sum(self.sent_at.get(job_id, 0.0) < sent_before for job_id in pending)

    def held_for(self, agents: set[str], accounting: Accounting | None = None) -> list[str]:
        """Held jobs whose agent is one of `agents` (e.g. the connected ones: nothing should hold them)."""
        held = (accounting or self.account()).held_ids
        with self._lock:
            return [j for j in held if self.jobs.get(j, {}).get("agentId") in agents]

    def add_poison(self, body: str, label: str) -> None:
        with self._lock:
            self.poison[body] = label

    def statuses(self) -> dict[str, str]:
        """jobId -> status from JobsTable."""
        out: dict[str, str] = {}
        kwargs: dict[str, Any] = {"TableName": self.jobs_table, "ProjectionExpression": "jobId, #s"}
        kwargs["ExpressionAttributeNames"] = {"#s": "status"}
        while True:
            page = self.dynamodb.scan(**kwargs)
            for item in page.get("Items", []):
                out[item["jobId"]["S"]] = item.get("status", {}).get("S", "")
            if "LastEvaluatedKey" not in page:
                return out
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def account(self) -> Accounting:
        """Where each submitted job and poison pill is now."""
        statuses = self.statuses()
        bodies = {role: queue_bodies(name) for role, name in self.queues.items()}
        queued_ids = Counter()
        for role in ("jobs", "dlq"):
            for body in bodies[role]:
                queued_ids[_job_id(body)] += 1
        parked_ids = {_job_id(body) for body in bodies["quarantine"]}
        with self._lock:
            jobs, poison = dict(self.jobs), dict(self.poison)
        acc = Accounting(submitted=len(jobs) + len(poison))
        for job_id in jobs:
            status = statuses.get(job_id, "")
            if status in TERMINAL:
                setattr(acc, TERMINAL[status], getattr(acc, TERMINAL[status]) + 1)
                if status == "held":
                    acc.held_ids.append(job_id)
            elif job_id in parked_ids:
                acc.parked += 1
            elif status in ("queued", "assigned", "running") or queued_ids[job_id]:
                acc.pending += 1
                acc.pending_ids.append(job_id)
            else:
                acc.lost += 1
                acc.lost_ids.append(job_id)
        for body, label in poison.items():
            if body in bodies["quarantine"]:
                acc.parked += 1
            elif body in bodies["dlq"] or body in bodies["jobs"]:
                acc.pending += 1
            else:
                acc.lost += 1
                acc.lost_ids.append(f"poison:{label}")
        return acc


def _job_id(body: str) -> str | None:
    try:
        value = json.loads(body)
    except (json.JSONDecodeError, TypeError):
        return None
    job_id = value.get("jobId") if isinstance(value, dict) else None
    return job_id if isinstance(job_id, str) else None
