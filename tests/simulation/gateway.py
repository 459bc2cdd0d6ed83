"""The simulated API Gateway management API: which connections are open, what was pushed to each.

It answers PostToConnection 410 for a connection that is not open (closed, vanished without
`$disconnect`, or whose `$connect` failed), records every frame it accepts, and checks two
invariants at the moment of each `job.assign` push:
- tenants never cross: the job's (creatorId, agentId) is the connection's own agent;
- one lease at a time: the job item says `assigned` to exactly this connection, for the
  attempt the frame carries (the assignment is written before the push).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from botocore.awsrequest import AWSResponse

from tests.simulation.faults import error_response

Owner = tuple[str, str]  # (creatorId, agentId)


class Gateway:
    def __init__(self, read_job: Callable[[str], dict[str, Any] | None]) -> None:
        self.read_job = read_job
        self.open: set[str] = set()
        self.owner: dict[str, Owner] = {}
        self.frames: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.submitted: dict[str, Owner] = {}  # jobId -> the agent it was sent for
        self.violations: list[str] = []
        # Agents whose record a fault broke while they kept their connection: a `$connect` that
        # failed after registering, or a 410 fault on an open connection (the dispatcher drops
        # it). Until the agent connects again it looks offline to the backend (excuses.py).
        self.broken_links: set[Owner] = set()
        self.assigns = 0

    def opened(self, connection_id: str, owner: Owner) -> None:
        self.open.add(connection_id)
        self.owner[connection_id] = owner

    def closed(self, connection_id: str) -> None:
        self.open.discard(connection_id)

    def handle(self, op: str, params: dict[str, Any]) -> tuple[AWSResponse, dict[str, Any]]:
        connection_id = params["ConnectionId"]
        if connection_id not in self.open:
            return error_response("GoneException", 410)
        if op == "DeleteConnection":
            self.closed(connection_id)
        elif op == "PostToConnection":
            data = params["Data"]
            frame = json.loads(data.decode() if isinstance(data, bytes) else data)
            self.frames[connection_id].append(frame)
            if frame.get("type") == "job.assign":
                self._check_assign(connection_id, frame)
        return AWSResponse(None, 200, {}, None), {"ResponseMetadata": {"HTTPStatusCode": 200}}

    def _check_assign(self, connection_id: str, frame: dict[str, Any]) -> None:
        self.assigns += 1
        job_id = frame["jobId"]
        owner = self.owner.get(connection_id)
        wanted = self.submitted.get(job_id)
        if wanted is not None and owner != wanted:
            self.violations.append(f"tenant crossed: job {job_id} of {wanted} pushed to {owner}'s connection")
        item = self.read_job(job_id) or {}
        held = (item.get("status"), item.get("connectionId"), item.get("attempt"))
        if held != ("assigned", connection_id, frame.get("attempt")):
            self.violations.append(
                f"double lease: job {job_id} attempt {frame.get('attempt')} pushed to {connection_id}"
                f" while the item says status/connection/attempt = {held}"
            )
