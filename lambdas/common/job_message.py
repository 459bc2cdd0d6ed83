"""The job message on the queue: `{"jobId","agentId","creatorId","kind","payload","critical"}`
plus an optional `attempt` (re-queues carry the next attempt number) and an optional `traceId`:
the producer's correlation id. It follows the job into the job item, the `job.assign` frame and
the agent's `job.result`, and every log line about the job carries it as `correlation_id`. A
message without one (an older producer) is correlated by its jobId, which every such line carries
already: its lines have no `correlation_id` (job_keys)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from lambdas.common.protocol import is_id

# API Gateway caps a WebSocket message at 128 KB; keep room for the job.assign envelope.
MAX_JOB_BYTES = 120 * 1024
# The keys every log line about one job carries (docs/contracts.md "Log lines"); `correlation_id`
# is Powertools Logger's own key for it.
JOB_KEYS = ("jobId", "correlation_id")


def job_keys(job_id: str, trace_id: str | None) -> dict[str, str]:
    """The log keys of a line about one job: `jobId`, and `correlation_id` when the job has a
    correlation id of its own. A job without one is correlated by its jobId, and a line does not
    say it twice (docs/cost.md: 25 B a line); `byoip job show` matches either key."""
    if trace_id and trace_id != job_id:
        return {"jobId": job_id, "correlation_id": trace_id}
    return {"jobId": job_id}


class BadJob(Exception):
    """A message that can never succeed: it goes to the DLQ with `reason`, never retried."""

    def __init__(self, reason: str, status: int, detail: str, job_id: str = "-") -> None:
        super().__init__(detail)
        self.reason = reason
        self.status = status
        self.detail = detail
        self.job_id = job_id


@dataclass(frozen=True)
class JobMessage:
    job_id: str
    agent_id: str
    creator_id: str
    kind: str
    payload: Any
    critical: bool
    attempt: int = 1
    trace_id: str | None = None  # the producer's `traceId`, when it sent one

    @property
    def correlation_id(self) -> str:
        """The id every log line about this job carries: the producer's traceId, else the jobId."""
        return self.trace_id or self.job_id

    def to_body(self) -> str:
        """The queue message body."""
        body = {
            "jobId": self.job_id,
            "agentId": self.agent_id,
            "creatorId": self.creator_id,
            "kind": self.kind,
            "payload": self.payload,
            "critical": self.critical,
            "attempt": self.attempt,
        }
        if self.trace_id:
            body["traceId"] = self.trace_id
        return json.dumps(body, separators=(",", ":"))

    def assign_frame(self, lease_seconds: int) -> dict[str, Any]:
        """backend → agent `job.assign` frame."""
        return {
            "type": "job.assign",
            "jobId": self.job_id,
            "kind": self.kind,
            "payload": self.payload,
            "attempt": self.attempt,
            "leaseSeconds": lease_seconds,
            "traceId": self.correlation_id,  # agents echo it in job.result; older ones ignore it
        }

    @classmethod
    def from_job_item(cls, item: dict[str, Any], attempt: int) -> JobMessage:
        """Rebuild the message of a stored job (payload is stored as JSON text)."""
        return cls(
            job_id=item["jobId"],
            agent_id=item["agentId"],
            creator_id=item["creatorId"],
            kind=item.get("kind", ""),
            payload=json.loads(item["payload"]) if "payload" in item else None,
            critical=bool(item.get("critical", False)),
            attempt=attempt,
            trace_id=trace_id_of(item.get("traceId")),
        )


def trace_id_of(value: object) -> str | None:
    """A usable correlation id (id syntax), else None: a bad traceId never fails a job."""
    return value if isinstance(value, str) and is_id(value) else None


def parse_job_message(body: str | None) -> JobMessage:
    """Validate a queue message body; raise BadJob (json_invalid, schema_invalid, agent_missing)."""
    if len((body or "").encode("utf-8")) > MAX_JOB_BYTES:
        raise BadJob("schema_invalid", 400, f"message exceeds {MAX_JOB_BYTES} bytes (WebSocket limit)")
    try:
        data = json.loads(body or "")
    except (ValueError, RecursionError):  # deep nesting overflows the parser: bad JSON, not our bug
        raise BadJob("json_invalid", 400, "body is not valid JSON (or nested too deeply)") from None
    if not isinstance(data, dict):
        raise BadJob("json_invalid", 400, "body must be a JSON object")
    job_id = data.get("jobId")
    if not is_id(job_id):
        raise BadJob("schema_invalid", 400, "jobId must be 1-128 characters of [A-Za-z0-9_.:-]")
    agent_id = data.get("agentId")
    if agent_id is None or agent_id == "":
        raise BadJob("agent_missing", 400, "agentId is missing", job_id)
    if not is_id(agent_id):
        raise BadJob("schema_invalid", 400, "agentId must be 1-128 characters of [A-Za-z0-9_.:-]", job_id)
    creator_id = data.get("creatorId")
    if not is_id(creator_id):
        raise BadJob("schema_invalid", 400, "creatorId must be 1-128 characters of [A-Za-z0-9_.:-]", job_id)
    kind = data.get("kind")
    if not isinstance(kind, str) or not kind:
        raise BadJob("schema_invalid", 400, "kind must be a non-empty string", job_id)
    critical = data.get("critical", False)
    attempt = data.get("attempt", 1)
    if not isinstance(critical, bool):
        raise BadJob("schema_invalid", 400, "critical must be true or false", job_id)
    if isinstance(attempt, bool) or not isinstance(attempt, int) or attempt < 1:
        raise BadJob("schema_invalid", 400, "attempt must be a positive integer", job_id)
    trace_id = trace_id_of(data.get("traceId"))
    return JobMessage(job_id, agent_id, creator_id, kind, data.get("payload"), critical, attempt, trace_id)
