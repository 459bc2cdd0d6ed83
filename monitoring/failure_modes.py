"""The failure-mode catalog: each way the system can stop working, and how on-call would know.

Beside the alarm and SLO catalogs and in their style: data, no CDK. A mode names what breaks,
what the system answers meanwhile (most of these raise no Lambda error at all: that is why they
are here), the signal that shows it, the alarms that page on it (the first one's runbook section is the
mode's) and the game day that proves the page comes in time. The runbook renders it as "What breaks and
how you would know"; tests/unit/test_failure_modes.py fails when a mode has no alarm that pages
in both ALERT_MODEs, no runbook section or no game day that judges its page, and the game days
(sandbox/gameday/quiet.py) fail when the first page comes later than `page_within_min`
production minutes after the fault, or only after the outage ended.
"""

from __future__ import annotations

from dataclasses import dataclass

# The bar for every quiet mode: the first page within 5 production minutes of the fault,
# while the outage lasts. Every paging signal below has a detection delay well inside it.
PAGE_WITHIN_MIN = 5.0


@dataclass(frozen=True)
class FailureMode:
    id: str
    title: str
    quiet: str  # what the system answers meanwhile, and why no error shows it
    signal: str  # what shows it
    pages: tuple[str, ...]  # alarm or composite ids that page on it; the first one's runbook section
    game_day: str  # sandbox scenario that injects it and judges the page
    page_within_min: float = PAGE_WITHIN_MIN


FAILURE_MODES: tuple[FailureMode, ...] = (
    FailureMode(
        id="connect-denied",
        title="Agents cannot register: ws-connect lost its write on the agents table",
        quiet=(
            "Every `$connect` is answered 503 after ws-connect's registration write is denied; the "
            "handler returns an answer, so Lambda counts no error, and jobs are held for agents "
            "that look offline."
        ),
        signal=(
            "The black-box probe cannot connect; `$connect` outcomes turn `register_failed` "
            "(ConnectSuccess SLO); the connected fleet shrinks; jobs wait past their deadline for "
            "agents that try to connect."
        ),
        pages=("ProbeFailed", "ConnectSuccessFastBurn", "FleetDisconnected", "TimeToAssignFastBurn"),
        game_day="connect-denied",
    ),
    FailureMode(
        id="secret-unreadable",
        title="The JWT signing key cannot be read",
        quiet=(
            "ws-connect cannot verify any token: every `$connect` is refused, and an agent only "
            "sees a failed handshake."
        ),
        signal=(
            "The probe cannot connect; `$connect` outcomes turn `secret_unavailable`; the connected "
            "fleet shrinks."
        ),
        pages=("ProbeFailed", "ConnectSuccessFastBurn", "FleetDisconnected"),
        game_day="secret-unreadable",
    ),
    FailureMode(
        id="dispatcher-disabled",
        title="The dispatcher's event source mapping is disabled",
        quiet=(
            "Nothing invokes dispatcher-sqs, so it has no errors, no throttles and no duration; jobs "
            "age in JobsQueue and Backlog only fires after 15 minutes."
        ),
        signal="The probe's job is never pushed; jobs wait past their deadline (TimeToAssign).",
        pages=("ProbeFailed", "TimeToAssignFastBurn"),
        game_day="dispatcher-disabled",
    ),
    FailureMode(
        id="edge-throttled",
        title="One tenant exhausts the WebSocket stage throttle",
        quiet=(
            "API Gateway answers 429 at the edge; no Lambda runs, so no function metric moves, and "
            "every other creator's agents are refused too."
        ),
        signal="The API's 4xx (ClientError) against its connects and messages; the probe is refused.",
        pages=("EdgeThrottled", "ProbeFailed"),
        game_day="edge-throttled",
    ),
    FailureMode(
        id="reaper-stopped",
        title="The lease-reaper's schedule stops firing",
        quiet=(
            "A disabled or failing EventBridge rule invokes nothing: expired leases are never "
            "re-queued, breakers never close and offline agents' creators are never told."
        ),
        signal="The reaper's and the creator watch's run heartbeats stop (dead-man's switches).",
        pages=("ReaperSilent", "WatchSilent"),
        game_day="reaper-stopped",
    ),
    FailureMode(
        id="redrive-failing",
        title="GuardedRedrive fails or times out",
        quiet=(
            "The automation ends Failed while DLQNotEmpty stays in ALARM: an alarm acts only on a "
            "change of state, so nothing would ever start it again."
        ),
        signal="The automation's status change to Failed or TimedOut.",
        pages=("RedriveFailed",),
        game_day="redrive-failing",
    ),
    FailureMode(
        id="rotation-failing",
        title="The JWT key rotation fails",
        quiet=(
            "Secrets Manager retries the rotation in the background; agents keep working with the "
            "old key until it is too old to trust, and nobody hears of it."
        ),
        signal="The rotation function's errors.",
        pages=("RotationFailed",),
        game_day="rotation-failing",
    ),
    FailureMode(
        id="dispatcher-failing",
        title="Every dispatcher invocation fails (a bad deploy)",
        quiet="Not quiet: Lambda errors, and jobs age in JobsQueue.",
        signal="DispatcherErrors with Backlog; the probe's job is never pushed.",
        pages=("Incident", "ProbeFailed"),
        game_day="dispatcher-errors",
    ),
    FailureMode(
        id="jobs-dead-lettered",
        title="Jobs reach the DLQ (poison pills, receives spent)",
        quiet="Not quiet: messages in the DLQ.",
        signal="DLQNotEmpty (the Incident composite); GuardedRedrive starts from it.",
        pages=("Incident",),
        game_day="poison-pill",
    ),
)

FAILURE_MODES_BY_ID = {mode.id: mode for mode in FAILURE_MODES}
