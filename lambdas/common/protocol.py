"""The agent protocol (DESIGN.md) and the job message: parsing, validation, outbound frames.

Agent → backend frames are JSON objects routed on `action`. Validation happens before any
AWS call but the connection lookup and frame count (ratelimit.py), so a malformed frame costs
that read (and a share of a count write) and one PostToConnection (the error frame), nothing else.
Besides DESIGN.md's fields, `heartbeat` may list the `jobs` the agent is working on
(at most MAX_HEARTBEAT_JOBS ids): that is their acknowledgement (running, lease extended), so
current agents send no `job.ack`; older agents' `job.ack` frames are still accepted.
A current agent also sends `job.result` with `"ack": false` (no answer when it records the
result) and lists the results it has not seen confirmed in the heartbeat's `results` (at most
MAX_HEARTBEAT_RESULTS ids); the heartbeat's answer names the recorded ones (`recordedJobs`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from lambdas.common.patch_manifest import PATCH_REJECT_REASONS, VERSION_PATTERN

MAX_FRAME_BYTES = 32 * 1024  # API Gateway's WebSocket frame size
MAX_HEARTBEAT_JOBS = 25
# jobs + results fit one BatchGetItem (100 keys); each listed result costs 0.5 RRU there.
MAX_HEARTBEAT_RESULTS = 75
MAX_TEXT = 256  # reasons, versions: short free text
ID_SYNTAX = r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}"  # an id's characters, unanchored
# \A…\Z, not ^…$: `$` also matches before a final newline, so "job-1\n" would pass.
ID_PATTERN = re.compile(rf"\A{ID_SYNTAX}\Z")
ID_RULE = "1-128 characters of A-Z a-z 0-9 _ . : -, starting with a letter or digit"

# A field's allowed types (bool is never an int here, nor an int a bool).
BOOL = (bool,)
TEXT = (str,)
LIST = (list,)
RESULT_STATUSES = ("completed", "failed")
# An action's reply may carry this key: the backend logs it and never sends it.
LOG_LINE = "_log"


def is_id(value: object) -> bool:
    """True for a job, agent or creator id: the whole string matches ID_PATTERN."""
    return isinstance(value, str) and ID_PATTERN.fullmatch(value) is not None


class FrameError(Exception):
    """A frame the backend refuses; `code` goes back to the agent in an error frame."""

    def __init__(self, code: str, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.detail = detail  # `key=value …` for the backend's log line only, never sent


Check = Callable[[dict[str, Any], dict[str, Any]], None]


def _no_check(fields: dict[str, Any], data: dict[str, Any]) -> None:
    """An action whose fields need nothing beyond their types."""


@dataclass(frozen=True)
class Schema:
    """An action's frame: field -> (allowed types, required), then the checks types cannot state."""

    fields: dict[str, tuple[tuple[type, ...], bool]]
    check: Check = _no_check


@dataclass(frozen=True)
class AgentRequest:
    action: str
    fields: dict[str, Any]


def parse_frame(schemas: Mapping[str, Schema], body: str | None, *, is_base64: bool = False) -> AgentRequest:
    """Validate one agent frame against the action registry's schemas; raise FrameError with a
    precise code and message. ws-message calls it through `agent_actions.parse_agent_frame`."""
    raw = body or ""
    if is_base64:
        raise FrameError("json_invalid", "binary frames are not accepted; send a JSON text frame")
    if len(raw.encode("utf-8")) > MAX_FRAME_BYTES:
        raise FrameError("frame_too_large", f"frame exceeds {MAX_FRAME_BYTES} bytes")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):  # deep nesting ("[" * 100000) overflows the parser
        raise FrameError("json_invalid", "frame is not valid JSON (or nested too deeply)") from None
    if not isinstance(data, dict):
        raise FrameError("json_invalid", "frame must be a JSON object")
    action = data.get("action")
    schema = schemas.get(action) if isinstance(action, str) else None
    if schema is None:
        raise FrameError("unknown_action", f"action must be one of: {', '.join(schemas)}")
    fields: dict[str, Any] = {}
    for name, (types, required) in schema.fields.items():
        value = data.get(name)
        if value is None:
            if required:
                raise FrameError("schema_invalid", f"{action} needs field '{name}'")
            continue
        if not isinstance(value, types) or (types is not BOOL and isinstance(value, bool)):
            raise FrameError("schema_invalid", f"{action}.{name} has the wrong type")
        fields[name] = value[:MAX_TEXT] if isinstance(value, str) and name in ("reason", "version") else value
    job_id = fields.get("jobId")
    if job_id is not None and not is_id(job_id):
        raise FrameError("schema_invalid", "jobId must be 1-128 characters of [A-Za-z0-9_.:-]")
    schema.check(fields, data)
    return AgentRequest(action, fields)


def check_result(fields: dict[str, Any], data: dict[str, Any]) -> None:
    if fields["status"] not in RESULT_STATUSES:
        raise FrameError("schema_invalid", "job.result status must be 'completed' or 'failed'")
    fields["result"] = data.get("result")
    if not is_id(fields.get("traceId", "")):
        fields.pop("traceId", None)  # a bad correlation id is dropped, never refused


def check_heartbeat(fields: dict[str, Any], data: dict[str, Any]) -> None:
    for name, most in (("jobs", MAX_HEARTBEAT_JOBS), ("results", MAX_HEARTBEAT_RESULTS)):
        ids = fields.get(name)
        if ids is not None and (len(ids) > most or not all(is_id(j) for j in ids)):
            rule = f"at most {most} job ids, each 1-128 characters of [A-Za-z0-9_.:-]"
            raise FrameError("schema_invalid", f"heartbeat.{name} must be {rule}")


def check_patch_rejected(fields: dict[str, Any], data: dict[str, Any]) -> None:
    if fields["reason"] not in PATCH_REJECT_REASONS:
        raise FrameError(
            "schema_invalid", f"patch.rejected reason must be one of: {', '.join(PATCH_REJECT_REASONS)}"
        )
    if not VERSION_PATTERN.fullmatch(fields["version"]):
        raise FrameError(
            "schema_invalid", "patch.rejected version must be 1-64 characters of [0-9A-Za-z._+-]"
        )


def error_frame(code: str, message: str) -> dict[str, Any]:
    """backend → agent error frame."""
    return {"type": "error", "code": code, "message": message}


def ack_frame(action: str, **extra: Any) -> dict[str, Any]:
    """backend → agent acknowledgement of `action`."""
    return {"type": "ack", "action": action, **extra}


def encode(frame: dict[str, Any]) -> bytes:
    """Wire bytes of an outbound frame."""
    return json.dumps(frame, separators=(",", ":")).encode("utf-8")
