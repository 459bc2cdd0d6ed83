"""The alarm catalog: every alarm of the stack as data.

Alarms, the composite rule, SNS actions per ALERT_MODE, dashboard alarm widgets, runbook
links and the DLQ automation are all derived from `ALARMS` and `COMPOSITE`; nothing about
an alarm is typed anywhere else. The types live in `monitoring.spec` (re-exported here);
neither module imports CDK, so runbooks, the automation layer and the offline evaluator
can read the catalog cheaply.
"""

from __future__ import annotations

from contract.sizes import DISPATCHER_TIMEOUT_S, DURATION_ALARM_FRACTION
from lambdas.common import metrics as m
from monitoring.spec import (
    AlarmSpec,
    AllOf,
    AnyOf,
    Comparison,
    CompositeSpec,
    Dim,
    LogMetricFilter,
    Math,
    Metric,
    Missing,
    Rule,
    Severity,
    notifies,
    render_rule,
    rule_ids,
)
from monitoring.watched import WATCHED_ALARMS

__all__ = [
    "ALARMS",
    "ALARMS_BY_ID",
    "COMPOSITE",
    "AlarmSpec",
    "AllOf",
    "AnyOf",
    "Comparison",
    "CompositeSpec",
    "Dim",
    "LogMetricFilter",
    "Math",
    "Metric",
    "Missing",
    "Rule",
    "Severity",
    "notifies",
    "render_rule",
    "rule_ids",
]

# Thresholds derived from what the stack deploys (contract/sizes.py).
DURATION_ALARM_S = DURATION_ALARM_FRACTION * DISPATCHER_TIMEOUT_S
BACKLOG_S = 900  # 15 minutes, the spec's figure (tests/unit/test_catalog.py holds it over the retries)

SQS = "AWS/SQS"
LAMBDA = "AWS/Lambda"
STALE_CONNECTIONS = Metric(m.STALE_CONNECTIONS_NAMESPACE, m.STALE_CONNECTIONS, "Sum", Dim.NONE)


def _queue_not_empty(
    alarm_id: str,
    meaning: str,
    dim: Dim,
    *,
    severity: Severity,
    section: str,
    ok_action: bool = False,
    automation: str | None = None,
    first_steps: tuple[str, ...] = (),
) -> AlarmSpec:
    """Any visible message at all is worth acting on; SQS publishes queue metrics every minute."""
    return AlarmSpec(
        id=alarm_id,
        meaning=meaning,
        source=Metric(SQS, "ApproximateNumberOfMessagesVisible", "Maximum", dim),
        period_s=60,
        threshold=0,
        comparison=Comparison.GT,
        evaluation_periods=1,
        datapoints_to_alarm=1,
        missing=Missing.NOT_BREACHING,
        severity=severity,
        section=section,
        ok_action=ok_action,
        automation=automation,
        first_steps=first_steps,
    )


ALARMS: tuple[AlarmSpec, ...] = (
    _queue_not_empty(
        "DLQNotEmpty",
        "Jobs reached the DLQ after 5 failed receives; nothing retries them until someone redrives.",
        Dim.DLQ,
        severity=Severity.CRITICAL,
        section="A",
        ok_action=True,  # closes the loop when the DLQ is drained
        automation="GuardedRedrive",
        first_steps=(
            "byoip dlq sample --stage {stage}: poison pills or transient failures? Do not purge the DLQ.",
            "Check the GuardedRedrive run this alarm started: it redrives only while DispatcherErrors is OK "
            "and parks poison pills in quarantine.",
            "Fix the cause, then redrive (byoip redrive, or the RedriveDlq automation).",
        ),
    ),
    AlarmSpec(
        id="Backlog",
        meaning="The oldest job in JobsQueue has waited over 15 minutes: the dispatcher is not keeping up.",
        source=Metric(SQS, "ApproximateAgeOfOldestMessage", "Maximum", Dim.JOBS_QUEUE),
        # BACKLOG_S > 2 x visibility + batching window: a message on its second failed receive
        # stays under it, and re-queued leases (300 s) are fresh messages. Past it, jobs wait
        # because the dispatcher is slow, throttled or failing. 3 consecutive minutes so a single
        # late sample does not flap.
        period_s=60,
        threshold=BACKLOG_S,
        comparison=Comparison.GT,
        evaluation_periods=3,
        datapoints_to_alarm=3,
        missing=Missing.NOT_BREACHING,
        severity=Severity.HIGH,
        section="B",
        first_steps=(
            "byoip triage --stage {stage}: queue depth, age of the oldest job, DLQ size.",
            "Dispatcher errors, throttles and duration on the BYOIP-Ops-{stage} dashboard.",
            "One creator flooding the queue? Pause it with the PauseCreator automation.",
        ),
    ),
    AlarmSpec(
        id="DispatcherErrors",
        meaning="dispatcher-sqs invocations fail as a whole (unhandled error or timeout), not item by item.",
        source=Metric(LAMBDA, "Errors", "Sum", Dim.DISPATCHER),
        # Item failures are partial-batch responses, not Lambda errors: any error is a bug
        # or a timeout. 3 of 5 minutes ignores one cold-start or deploy blip.
        period_s=60,
        threshold=0,
        comparison=Comparison.GT,
        evaluation_periods=5,
        datapoints_to_alarm=3,
        missing=Missing.NOT_BREACHING,
        severity=Severity.HIGH,
        section="D",
        first_steps=(
            "Dispatcher errors by reason: the saved Logs Insights query on the dispatcher log group.",
            "A recent deploy? Roll back or fix dispatcher-sqs; GuardedRedrive waits until this alarm is OK.",
            "Then redrive what reached the DLQ.",
        ),
    ),
    AlarmSpec(
        id="DispatcherThrottles",
        meaning="dispatcher-sqs is throttled: the queue drains slower than the concurrency allows.",
        source=Metric(LAMBDA, "Throttles", "Sum", Dim.DISPATCHER),
        # Scale-up bursts throttle for a minute and heal; 3 of 5 minutes is sustained.
        period_s=60,
        threshold=0,
        comparison=Comparison.GT,
        evaluation_periods=5,
        datapoints_to_alarm=3,
        missing=Missing.NOT_BREACHING,
        severity=Severity.WARNING,
        section="D",
        first_steps=(
            "Throttles and ConcurrentExecutions of dispatcher-sqs; concurrency used by other functions.",
            "Raise its reserved concurrency or lower the event source's maximum concurrency.",
        ),
    ),
    AlarmSpec(
        id="DispatcherDuration",
        meaning=f"dispatcher-sqs p95 duration is above {DURATION_ALARM_S:g} s, "
        f"{DURATION_ALARM_FRACTION:.0%} of its {DISPATCHER_TIMEOUT_S} s timeout.",
        source=Metric(LAMBDA, "Duration", "p95", Dim.DISPATCHER),
        # Batches are close to timing out (and then every item in them is retried).
        # 2 of 3 five-minute periods.
        period_s=300,
        threshold=round(DURATION_ALARM_S * 1000),
        comparison=Comparison.GT,
        evaluation_periods=3,
        datapoints_to_alarm=2,
        missing=Missing.NOT_BREACHING,
        severity=Severity.WARNING,
        section="D",
        first_steps=(
            "Slow calls in the dispatcher log; p95 duration on the BYOIP-Ops-{stage} dashboard.",
            "Reduce work per batch, or raise the timeout together with the queue visibility (at least 6x).",
        ),
    ),
    AlarmSpec(
        id="PartialFailPct",
        meaning="More than 10% of dispatched items failed in 2 of the last 3 five-minute periods.",
        # The spec's 100*failures/MAX(1, items) is not valid metric math: MAX takes one
        # argument (MAX(ts) is a scalar over the range, MAX([ts, ...]) a per-point max of
        # series). IF(condition, trueValue, falseValue) is evaluated per datapoint and
        # accepts a scalar branch, so IF(i > 1, i, 1) is max(1, items) per period. Source:
        # Amazon CloudWatch User Guide, "Metric math syntax and functions" (IF expressions,
        # MAX), https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html
        source=Math(
            "100 * f / IF(i > 1, i, 1)",
            (
                ("f", Metric(m.DISPATCHER, m.BATCH_ITEM_FAILURES, "Sum", Dim.STAGE)),
                ("i", Metric(m.DISPATCHER, m.BATCH_ITEMS, "Sum", Dim.STAGE)),
            ),
        ),
        period_s=300,
        threshold=10,
        comparison=Comparison.GT,
        evaluation_periods=3,
        datapoints_to_alarm=2,
        missing=Missing.NOT_BREACHING,  # no invocations, no items: nothing failed
        severity=Severity.HIGH,
        section="C",
        first_steps=(
            "Partial-batch failures by reason: the saved Logs Insights query on the dispatcher log group.",
            "Heartbeats on the dashboard: an offline fleet or a bad input?",
            "One creator's campaign? Pause it with the PauseCreator automation.",
        ),
    ),
    AlarmSpec(
        id="HeartbeatDip",
        meaning="Agent heartbeats fell by more than half from one 5-minute period to the next (fleet dip).",
        # A fleet dip is a sudden fleet-wide loss (network, bad agent patch, auth), so the
        # signal is this period's heartbeats as a % of the previous period's: DIFF gives
        # the change, prev = cur - DIFF(cur). Slow declines (creators switching devices off
        # in the evening) never halve in 5 minutes and stay quiet. FILL(.., 0) turns a
        # total outage (no heartbeat at all) into 0% instead of missing data. Below 20
        # heartbeats in the previous period the fleet is one or two agents and a ratio
        # means nothing: the expression reports 100 (healthy) while heartbeats arrive, and
        # nothing at all (no datapoint) while none do. Absolute floors were rejected: fleet
        # size differs per stage and over the day.
        source=Math(
            "IF(prev >= 20, 100 * cur / prev, IF(cur > 0, 100))",
            (
                ("hb", Metric(m.BYOIP, m.AGENT_HEARTBEATS, "Sum", Dim.STAGE)),
                ("cur", "FILL(hb, 0)"),
                ("prev", "cur - DIFF(cur)"),
            ),
        ),
        period_s=300,
        threshold=50,
        comparison=Comparison.LT,
        # 1 of 2: DIFF needs the previous period inside the evaluated range.
        evaluation_periods=2,
        datapoints_to_alarm=1,
        # A total outage stays an outage: once no heartbeat arrives at all, 0 against 0 says
        # nothing, the expression gives no datapoint, and `ignore` keeps the state the dip
        # put the alarm in until heartbeats return (comparing each 5 minutes with the
        # previous 5 alone, it cleared itself 10 minutes into the outage). A stage that never
        # had agents stays in its initial state.
        missing=Missing.IGNORE,
        severity=Severity.WARNING,
        section="E",
        first_steps=(
            "Heartbeats and WebSocket connects on the BYOIP-Ops-{stage} dashboard; a recent agent patch?",
            "Pause the affected creators (PauseCreator) until their agents are back.",
        ),
    ),
    AlarmSpec(
        id="StaleConnections",
        meaning="Pushes to agents hit 410 Gone (stale or closed WebSocket connections).",
        source=STALE_CONNECTIONS,
        # A few 410s are normal (agents roam and reconnect); more than 10 in 5 minutes,
        # twice in 15 minutes, means agents drop faster than they reconnect.
        period_s=300,
        threshold=10,
        comparison=Comparison.GT,
        evaluation_periods=3,
        datapoints_to_alarm=2,
        missing=Missing.NOT_BREACHING,  # no matching line, no datapoint
        severity=Severity.WARNING,
        section="E",
        log_filter=LogMetricFilter('"status=410"', STALE_CONNECTIONS),
        first_steps=(
            "410s over time: the saved Logs Insights query; compare with HeartbeatDip.",
            "Pause a creator whose agents keep dropping (PauseCreator).",
        ),
    ),
    AlarmSpec(
        id="CircuitBreakerOpen",
        meaning="A creator's circuit breaker is open: its deliveries kept failing, its jobs are held.",
        # lease-reaper publishes how many breakers are open (or half-open) every minute, 0
        # included. Any open breaker is a creator whose jobs wait, which on-call should know
        # about (the breaker closes itself, but a creator paused for long needs a human). 1 of 2
        # minutes: a single run that could not read (no datapoint) does not clear it, and it
        # clears 2 minutes after the last breaker closed. Thresholds of the breaker itself:
        # lambdas/common/breaker.py, BreakerPolicy.
        source=Metric(m.BYOIP, m.CIRCUIT_BREAKERS_OPEN, "Maximum", Dim.STAGE),
        period_s=60,
        threshold=0,
        comparison=Comparison.GT,
        evaluation_periods=2,
        datapoints_to_alarm=1,
        missing=Missing.NOT_BREACHING,
        severity=Severity.WARNING,
        section="E",
        first_steps=(
            "Which creator: byoip creator status --stage {stage} --creator-id C, or breakerState in "
            "byoip-{stage}-creator-limits (pausedBy circuit-breaker).",
            "Leave it to close itself (a probe job after 5 minutes) or close it by hand with ResumeCreator; "
            "PauseCreator keeps it paused.",
        ),
    ),
    AlarmSpec(
        id="FleetDisconnected",
        meaning="Most agents that were connected are gone: under half of the previous 5 minutes' fleet.",
        # lease-reaper publishes how many agents have a connection every minute (a gauge). Unlike
        # HeartbeatDip (>= 20 heartbeats a minute), it works for a fleet of four: a fleet-wide
        # disconnect (network, auth, the agents table refusing `$connect`) leaves this 5-minute
        # period's peak under half of the previous period's. Maximum on both sides: a blip the
        # fleet recovers from inside the period never pages, a drop that stays does, 5 to 10
        # minutes after it. Below 4 agents before, a ratio is one owner's evening, not an outage:
        # the expression reads 100 while agents are connected and gives no datapoint while none
        # are, and `ignore` keeps a total outage in ALARM until agents come back (as HeartbeatDip).
        source=Math(
            "IF(prev >= 4, 100 * cur / prev, IF(cur > 0, 100))",
            (
                ("cur", Metric(m.BYOIP, m.AGENTS_CONNECTED, "Maximum", Dim.STAGE)),
                ("prev", "cur - DIFF(cur)"),
            ),
        ),
        period_s=300,
        threshold=50,
        comparison=Comparison.LT,
        evaluation_periods=2,  # DIFF needs the previous period inside the evaluated range
        datapoints_to_alarm=1,
        missing=Missing.IGNORE,
        severity=Severity.HIGH,
        section="E",
        notify_composite=True,  # a fleet-wide disconnect pages in both modes,
        first_steps=(
            "Connected agents and $connect outcomes on the BYOIP-Ops-{stage} dashboard: agents trying and "
            "refused (503: ws_connect_failed in the ws-connect log) or not trying at all?",
            "Refused: roll back the deploy that changed ws-connect, its role, the agents table or the key; "
            "not trying: the agents' network or patch (see HeartbeatDip).",
        ),
    ),
    AlarmSpec(
        id="ProbeFailed",
        meaning="The black-box probe could not walk an agent's path (connect, queue, push, result).",
        # The probe runs once a minute and publishes ProbeSuccess 1 (the whole trip made it) or 0
        # (a step failed): the Average of a minute is the share of its runs that made it, so one
        # failed run in a minute makes it < 1, whatever EventBridge's jitter put in that minute.
        # 2 of 2 minutes: one failed run (a cold start past a wait, one lost frame) does not page;
        # a broken path pages at its second failed minute, 2-3 minutes after the break, inside the
        # 5 minutes the issue allows. A path failing half the runs at random fails two runs in a
        # row within minutes. M = N because missing data is filled: at the alarm's creation (a new
        # stage, every sandbox start) CloudWatch has one run at most and fills the other periods of
        # the range as breaching; with M < N that pages every new stage, with M = N it stays OK.
        # Missing data is breaching: a probe that does not run (schedule, throttle, timeout, a
        # deploy that broke it) is an outage of the probe path, and this alarm is what pages when
        # every other signal is quiet; it pages 4 minutes after the last run (the range of N + 2
        # periods must empty, monitoring/evaluator/decide.py).
        source=Metric(m.PROBE, m.PROBE_SUCCESS, "Average", Dim.STAGE),
        period_s=60,
        threshold=1,
        comparison=Comparison.LT,
        evaluation_periods=2,
        datapoints_to_alarm=2,
        missing=Missing.BREACHING,
        severity=Severity.CRITICAL,
        section="P",
        notify_composite=True,  # the signal that sees any outage of the agent's path: pages in both modes,
        first_steps=(
            "The byoip-{stage}-probe log: its line 'probe failed step=S reason=R' names where the agents' "
            "path breaks (connect, send, deliver, complete); no line at all: the probe did not run.",
            "connect: ws-connect's log (401, 503) or the $connect throttle; deliver: the dispatcher's event "
            "source mapping, errors, throttles; complete: ws-message.",
        ),
    ),
    # Only GuardedRedrive writes to the quarantine, and every message is a job given up on (bad
    # JSON, no agent, redrive budget spent). Nothing reads the queue, so the alarm stays in ALARM
    # until someone handles the messages (14-day retention).
    _queue_not_empty(
        "QuarantineNotEmpty",
        "Poison pills were parked in the quarantine queue: jobs that never run unless a human acts.",
        Dim.QUARANTINE,
        severity=Severity.HIGH,
        section="G",
        first_steps=(
            "Sample the byoip-{stage}-jobs-quarantine queue (byoip dlq sample --queue-arn): "
            "read each reason.",
            "Fix the producer or the agent, then have the producer send the jobs again; never move them "
            "back: byoip quarantine export keeps them, byoip quarantine delete removes them.",
        ),
    ),
    # Every part watched (issue 20): the other functions, the WebSocket API, the dead-man's
    # switches, redrive and rotation failures, EventBridge and SNS delivery (monitoring/watched.py).
    *WATCHED_ALARMS,
)

COMPOSITE = CompositeSpec(
    id="Incident",
    meaning="Jobs are being lost (DLQ not empty) or the dispatcher fails while the backlog grows.",
    rule=AnyOf(("DLQNotEmpty", AllOf(("DispatcherErrors", "Backlog")))),
    severity=Severity.CRITICAL,
    section="preflight",
    first_steps=(
        "byoip triage --stage {stage}: which child fired (DLQNotEmpty, or DispatcherErrors and Backlog)?",
        "Follow that alarm's runbook section.",
    ),
)

ALARMS_BY_ID = {spec.id: spec for spec in ALARMS}
