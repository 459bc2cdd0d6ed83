"""The agent side of the protocol, in ONE place: what a simulated agent sends and how it reads answers.

The state machine never builds a frame or reads a reply itself: it calls `connect`, `send`,
`disconnect` and the frame builders below, and asks `accepted` / `completed` / `closed` /
`assignments`. A change of the frame set (a new ack protocol, a lease token in `job.ack`,
batched results) is made here and nowhere else in tests/simulation.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lambdas.common.auth import mint_token
from tests.lambdas.helpers import SECRET, connect_event, disconnect_event, message_event
from tests.simulation.faults import Fault
from tests.simulation.world import World

Twist = Callable[[], None] | None  # another actor's move, run when an `interleave` fault fires
# Error codes after which the backend has closed (or never knew) the connection.
CLOSING_CODES = ("token_expired", "token_revoked", "not_connected", "superseded", "flooding")


# ---- agent -> backend frames -------------------------------------------------------------------


def ack(job_id: str) -> dict[str, Any]:
    return {"action": "job.ack", "jobId": job_id}


def result(job_id: str, status: str, *, reason: str | None, retryable: bool) -> dict[str, Any]:
    frame: dict[str, Any] = {"action": "job.result", "jobId": job_id, "status": status}
    if reason is not None:
        frame["reason"] = reason
    if status == "failed":
        frame["retryable"] = retryable
    return frame


def heartbeat(job_ids: list[str]) -> dict[str, Any]:
    return {"action": "heartbeat", "version": "1.0.0", "jobs": job_ids[:25]}


def pause(reason: str) -> dict[str, Any]:
    return {"action": "agent.pause", "reason": reason}


# ---- the three routes -----------------------------------------------------------------------


def connect(
    world: World, creator: str, agent: str, connection_id: str, fault: Fault | None, interleave: Twist = None
) -> bool:
    """Open a connection with a fresh token; True when `$connect` answered 200.

    The gateway opens the connection only once `$connect` returned 200: a push meanwhile
    gets 410, as API Gateway answers it. A refused or failed `$connect` never opens it (and
    API Gateway sends no `$disconnect` for it).
    """
    token = mint_token(SECRET, agent, creator)
    response = world.invoke("ws_connect", connect_event(token, connection_id), fault, interleave)
    if (response or {}).get("statusCode") != 200:
        return False
    world.gateway.opened(connection_id, (creator, agent))
    return True


def disconnect(
    world: World, connection_id: str, fault: Fault | None, *, deliver: bool = True, interleave: Twist = None
) -> None:
    """The agent goes away: `$disconnect` runs when `deliver`, else the connection just goes stale."""
    world.gateway.closed(connection_id)
    if deliver:
        world.invoke("ws_disconnect", disconnect_event(connection_id), fault, interleave)


def send(
    world: World, connection_id: str, frame: dict[str, Any], fault: Fault | None, interleave: Twist = None
) -> dict[str, Any] | None:
    """Send one frame; the backend's answer on this connection, or None when none came back."""
    before = len(world.gateway.frames[connection_id])
    world.invoke("ws_message", message_event(frame, connection_id), fault, interleave)
    replies = [f for f in world.gateway.frames[connection_id][before:] if f.get("type") != "job.assign"]
    return replies[-1] if replies else None


# ---- reading the backend's answers ---------------------------------------------------------


def accepted(frame: dict[str, Any], reply: dict[str, Any] | None) -> bool:
    """The backend acknowledged this frame."""
    return bool(reply) and reply.get("type") == "ack" and reply.get("action") == frame["action"]  # type: ignore[union-attr]


def completed(frame: dict[str, Any], reply: dict[str, Any] | None) -> bool:
    """The backend recorded this frame as the job's completion (not a confirmed resend)."""
    return (
        frame["action"] == "job.result"
        and frame["status"] == "completed"
        and accepted(frame, reply)
        and not duplicate(frame, reply)
    )


def duplicate(frame: dict[str, Any], reply: dict[str, Any] | None) -> bool:
    """The backend confirmed a result it had already recorded, recording nothing."""
    return frame["action"] == "job.result" and accepted(frame, reply) and reply.get("duplicate") is True  # type: ignore[union-attr]


def closed(reply: dict[str, Any] | None) -> bool:
    """The backend says this connection is over: the agent must reconnect."""
    return bool(reply) and reply.get("type") == "error" and reply.get("code") in CLOSING_CODES  # type: ignore[union-attr]


def assignments(frames: list[dict[str, Any]]) -> list[tuple[str, int]]:
    """(jobId, attempt) of every job pushed in `frames`."""
    return [(f["jobId"], int(f.get("attempt", 1))) for f in frames if f.get("type") == "job.assign"]
