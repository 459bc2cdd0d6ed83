"""What on-call does first for each alarm: data, shown in the alarm's email and its runbook page.

The alarm description (monitoring/alarms.py: `describe`) and the runbook's alarm header
(runbooks/templates/macros.md.j2, through runbooks/context.py) both render these, so the
first steps are typed once. Plain text, no URL (the email's runbook link is the description's
only URL), `{stage}` is replaced by the stage. The runbook page has the full procedure.
"""

from __future__ import annotations

from contract.config import Config
from monitoring.sections import SECTIONS_BY_ID, alarm_link
from monitoring.watched import WATCHED_FIRST_STEPS

# CloudWatch API Reference, MetricAlarm / PutMetricAlarm: AlarmDescription is 0-1024 characters.
DESCRIPTION_LIMIT = 1024

FIRST_STEPS: dict[str, tuple[str, ...]] = {
    "DLQNotEmpty": (
        "byoip dlq sample --stage {stage}: poison pills or transient failures? Do not purge the DLQ.",
        "Check the GuardedRedrive run this alarm started: it redrives only while DispatcherErrors is OK "
        "and parks poison pills in quarantine.",
        "Fix the cause, then redrive (byoip redrive, or the RedriveDlq automation).",
    ),
    "Backlog": (
        "byoip triage --stage {stage}: queue depth, age of the oldest job, DLQ size.",
        "Dispatcher errors, throttles and duration on the BYOIP-Ops-{stage} dashboard.",
        "One creator flooding the queue? Pause it with the PauseCreator automation.",
    ),
    "DispatcherErrors": (
        "Dispatcher errors by reason: the saved Logs Insights query on the dispatcher log group.",
        "A recent deploy? Roll back or fix dispatcher-sqs; GuardedRedrive waits until this alarm is OK.",
        "Then redrive what reached the DLQ.",
    ),
    "DispatcherThrottles": (
        "Throttles and ConcurrentExecutions of dispatcher-sqs; concurrency used by other functions.",
        "Raise its reserved concurrency or lower the event source's maximum concurrency.",
    ),
    "DispatcherDuration": (
        "Slow calls in the dispatcher log; p95 duration on the BYOIP-Ops-{stage} dashboard.",
        "Reduce work per batch, or raise the timeout together with the queue visibility (at least 6x).",
    ),
    "PartialFailPct": (
        "Partial-batch failures by reason: the saved Logs Insights query on the dispatcher log group.",
        "Heartbeats on the dashboard: an offline fleet or a bad input?",
        "One creator's campaign? Pause it with the PauseCreator automation.",
    ),
    "HeartbeatDip": (
        "Heartbeats and WebSocket connects on the BYOIP-Ops-{stage} dashboard; a recent agent patch?",
        "Pause the affected creators (PauseCreator) until their agents are back.",
    ),
    "StaleConnections": (
        "410s over time: the saved Logs Insights query; compare with HeartbeatDip.",
        "Pause a creator whose agents keep dropping (PauseCreator).",
    ),
    "CircuitBreakerOpen": (
        "Which creator: byoip creator status --stage {stage} --creator-id C, or breakerState in "
        "byoip-{stage}-creator-limits (pausedBy circuit-breaker).",
        "Leave it to close itself (a probe job after 5 minutes) or close it by hand with ResumeCreator; "
        "PauseCreator keeps it paused.",
    ),
    "FleetDisconnected": (
        "Connected agents and $connect outcomes on the BYOIP-Ops-{stage} dashboard: agents trying and "
        "refused (503: ws_connect_failed in the ws-connect log) or not trying at all?",
        "Refused: roll back the deploy that changed ws-connect, its role, the agents table or the key; "
        "not trying: the agents' network or patch (see HeartbeatDip).",
    ),
    "QuarantineNotEmpty": (
        "Sample the byoip-{stage}-jobs-quarantine queue (byoip dlq sample --queue-arn): read each reason.",
        "Fix the producer or the agent, then have the producer send the jobs again; never move them back.",
    ),
    "ProbeFailed": (
        "The byoip-{stage}-probe log: its line 'probe failed step=S reason=R' names where the agents' "
        "path breaks (connect, send, deliver, complete); no line at all: the probe did not run.",
        "connect: ws-connect's log (401, 503) or the $connect throttle; deliver: the dispatcher's event "
        "source mapping, errors, throttles; complete: ws-message.",
    ),
    "Incident": (
        "byoip triage --stage {stage}: which child fired (DLQNotEmpty, or DispatcherErrors and Backlog)?",
        "Follow that alarm's runbook section.",
    ),
    **WATCHED_FIRST_STEPS,
}


def first_steps(alarm_id: str, stage: str) -> tuple[str, ...]:
    """The alarm's first steps for `stage` (empty for an alarm without any)."""
    return tuple(step.format(stage=stage) for step in FIRST_STEPS.get(alarm_id, ()))


def description(alarm_id: str, meaning: str, section: str, config: Config, region: str) -> str:
    """Meaning, first steps, then the runbook link (the alarm's own section with a base URL)."""
    steps = first_steps(alarm_id, config.stage)
    title = SECTIONS_BY_ID[section].title
    lines = [meaning]
    if steps:
        lines.append("First steps: " + " ".join(f"{i}) {step}" for i, step in enumerate(steps, 1)))
    lines.append(f"Runbook {title}, alarm {alarm_id}: {alarm_link(config, alarm_id, section, region=region)}")
    return "\n".join(lines)
