"""Every part watched: the catalog entries for the parts the seed's alarms never looked at.

Issue 20, item 4. Data like `monitoring/catalog.py` (which appends `WATCHED_ALARMS` to `ALARMS`);
each number carries its reason. Groups, each with its runbook section:
- W1: errors and throttles of the five functions besides the dispatcher (one generator, the
  dispatcher's own alarms stay as they are) and the WebSocket API's own metrics;
- W2: dead-man's switches of the scheduled lease-reaper and creator watch, failed GuardedRedrive
  executions, EventBridge rules that cannot invoke their target;
- W3: failed rotations of the agents' key and alarm notifications SNS could not deliver.
"""

from __future__ import annotations

from dataclasses import dataclass

from lambdas.common import metrics as m
from monitoring.spec import AlarmSpec, Comparison, Dim, Math, Metric, Missing, Severity

LAMBDA = "AWS/Lambda"
API = "AWS/ApiGateway"
EVENTS = "AWS/Events"
SNS = "AWS/SNS"


@dataclass(frozen=True)
class WatchedFunction:
    """One function's Errors/Throttles alarms: `<prefix>Errors` and (if `throttles`) `<prefix>Throttles`."""

    prefix: str
    dim: Dim
    role: str  # what the function does, for the alarms' meaning
    errors_over: int  # Sum(Errors) per minute above this is a bad minute
    bad_minutes: int  # bad minutes of the last 5 that fire (1 = the first one)
    severity: Severity
    throttles: bool = True


WATCHED_FUNCTIONS: tuple[WatchedFunction, ...] = (
    # The WebSocket handlers run per frame and answer their expected failures themselves (401,
    # 403, 503 on $connect; error frames on messages), so an Errors datapoint is an unhandled
    # exception or a timeout. In a fleet of thousands a stray one (a DynamoDB retry budget spent)
    # is noise the agent retries; 3 or more a minute in 3 of 5 minutes is a broken path, seen
    # within 5 minutes. Throttles: any in 3 of 5 minutes (the reserved concurrency is full and
    # API Gateway answers 500s: stacks/limits.py sizes it for twice the stage throttle).
    WatchedFunction("WsConnect", Dim.WS_CONNECT, "$connect (agents cannot connect)", 2, 3, Severity.HIGH),
    WatchedFunction(
        "WsMessage", Dim.WS_MESSAGE, "agent frames (acks, results, heartbeats)", 2, 3, Severity.HIGH
    ),
    # $disconnect is best effort on AWS too: a lost one leaves a stale connection the dispatcher's
    # 410 handling removes, so it tickets.
    WatchedFunction(
        "WsDisconnect", Dim.WS_DISCONNECT, "$disconnect (stale agent items)", 2, 3, Severity.WARNING
    ),
    # One run a minute: every error is a run whose leases were not reaped; 3 of 5 ignores a
    # single deploy blip (ReaperSilent pages when no run completes at all).
    WatchedFunction("LeaseReaper", Dim.LEASE_REAPER, "the lease pass and creator watch", 0, 3, Severity.HIGH),
    # Four steps every rotation: any error is a failed step (Secrets Manager stops the rotation,
    # RotationFailed pages); this one tickets the function's own failure at once. Secrets Manager
    # calls it a handful of times a month, so there is nothing to throttle.
    WatchedFunction(
        "SecretRotation",
        Dim.SECRET_ROTATION,
        "rotation of the agents' signing key",
        0,
        1,
        Severity.WARNING,
        throttles=False,
    ),
)


def _function_steps(fn: WatchedFunction) -> dict[str, tuple[str, ...]]:
    name = "byoip-{stage}-" + fn.dim.value.partition(":")[2]
    steps = {
        f"{fn.prefix}Errors": (
            f"The first unhandled error in /aws/lambda/{name} (Logs Insights: filter @message like /ERROR/).",
            "A recent deploy? Roll back; else fix the failing call (a missing grant shows AccessDenied).",
        ),
    }
    if fn.throttles:
        steps[f"{fn.prefix}Throttles"] = (
            f"Throttles and ConcurrentExecutions of {name}; account concurrency used by other functions.",
            "Raise its reserved concurrency (stacks/limits.py) or find what floods it.",
        )
    return steps


def function_alarms(fn: WatchedFunction) -> tuple[AlarmSpec, ...]:
    """`<prefix>Errors` and `<prefix>Throttles` of one function (section W1; no invocation is fine)."""
    window = 5 if fn.bad_minutes > 1 else 1
    steps = _function_steps(fn)

    def alarm(kind: str, over: int, meaning: str) -> AlarmSpec:
        return AlarmSpec(
            id=f"{fn.prefix}{kind}",
            meaning=meaning,
            source=Metric(LAMBDA, kind, "Sum", fn.dim),
            period_s=60,
            threshold=over,
            comparison=Comparison.GT,
            evaluation_periods=window,
            datapoints_to_alarm=fn.bad_minutes,
            missing=Missing.NOT_BREACHING,
            severity=fn.severity,
            section="W1",
            first_steps=steps[f"{fn.prefix}{kind}"],
        )

    errors = alarm("Errors", fn.errors_over, f"Invocations for {fn.role} fail (unhandled error or timeout).")
    if not fn.throttles:
        return (errors,)
    return errors, alarm(
        "Throttles", 0, f"Invocations for {fn.role} are throttled (reserved concurrency full)."
    )


def _api(name: str) -> Metric:
    return Metric(API, name, "Sum", Dim.WS_API)


# Requests the edge saw in a period: frames and $connects that reached an integration (a
# missing datapoint is no traffic).
_REQUESTS = (("c", _api("ConnectCount")), ("g", _api("MessageCount")), ("n", "FILL(c, 0) + FILL(g, 0)"))

API_ALARMS: tuple[AlarmSpec, ...] = (
    AlarmSpec(
        id="ApiIntegrationErrors",
        meaning="Over 10% of the WebSocket API's requests got a 4xx/5xx answer from their integration.",
        # IntegrationError counts every 4xx/5xx the integration answers, a client's expired or
        # revoked token on $connect (401/403) included, so the signal is a share of all requests:
        # a trickle of bad tokens stays far below 10%, an integration that answers 5xx to
        # everyone (ws-connect's 503 when it cannot register) is near 100%. Under 20 requests in
        # 5 minutes the share says nothing (a 3-agent stage): no datapoint, and the function and
        # probe alarms watch those. One 5-minute period: seen within 5 minutes.
        source=Math(
            "IF(n >= 20, 100 * FILL(e, 0) / n)",
            (("e", _api("IntegrationError")), *_REQUESTS),
        ),
        period_s=300,
        threshold=10,
        comparison=Comparison.GT,
        evaluation_periods=1,
        datapoints_to_alarm=1,
        missing=Missing.NOT_BREACHING,
        severity=Severity.HIGH,
        section="W1",
        first_steps=(
            "WebSocket API graphs on the BYOIP-Ops-{stage} dashboard: which route, $connect or frames?",
            "ws-connect and ws-message errors and logs (reason= of each refused $connect).",
        ),
    ),
    AlarmSpec(
        id="ApiExecutionErrors",
        meaning="API Gateway fails to call the WebSocket API's integrations (permission, function gone).",
        # An execution error is API Gateway itself failing to invoke the function: never the
        # client's doing. More than 5 a minute in 3 of 5 minutes leaves one-off invoke hiccups
        # (a cold start hitting the 29 s integration timeout) out and is seen within 5 minutes.
        source=_api("ExecutionError"),
        period_s=60,
        threshold=5,
        comparison=Comparison.GT,
        evaluation_periods=5,
        datapoints_to_alarm=3,
        missing=Missing.NOT_BREACHING,
        severity=Severity.HIGH,
        section="W1",
        first_steps=(
            "The API's access log (/aws/apigateway/byoip-{stage}-ws-access): integrationErrorMessage per route.",
            "A function deleted or its invoke permission lost? Redeploy the stack.",
        ),
    ),
    AlarmSpec(
        id="EdgeThrottled",
        meaning="Over 5% of WebSocket requests are refused at the edge (429 at the stage throttle, 4xx).",
        # ClientError is what API Gateway answers before any integration runs: on this API almost
        # only 429s of the stage throttle (stacks/limits.py), which is shared by every agent, so
        # one tenant exhausting it throttles everyone. A single bad client (a reconnect loop, a
        # burst after a deploy) makes tens a minute, under 60 a minute (1/s) or under 5% of all
        # requests; both must be passed. 2 of 3 minutes: a burst the bucket absorbs heals in a
        # minute, a tenant hammering the stage pages 2 minutes into it, 3 after its start at worst
        # (3 of 5 paged at 4.9 minutes in the edge game day: too close to the 5 the issue allows).
        # No Lambda runs for these,
        # so nothing else in this catalog sees them: it pages in composite mode too. A minute with
        # traffic under the floor is a healthy 0 (so 3 of 5 counts minutes, not sparse spikes);
        # a minute without any request has no datapoint.
        source=Math(
            "IF(k > 60, 100 * k / (k + n), IF(n > 0, 0))",
            (("x", _api("ClientError")), ("k", "FILL(x, 0)"), *_REQUESTS),
        ),
        period_s=60,
        threshold=5,
        comparison=Comparison.GT,
        evaluation_periods=3,
        datapoints_to_alarm=2,
        missing=Missing.NOT_BREACHING,
        severity=Severity.HIGH,
        section="W1",
        notify_composite=True,
        first_steps=(
            "ClientError against ConnectCount and MessageCount on the dashboard; the access log's sourceIp "
            "of the 429s.",
            "One creator's agents hammering the stage? Revoke their tokens (RevokeTokens) or pause the creator.",
        ),
    ),
)


def _silent(alarm_id: str, meaning: str, name: str, first_steps: tuple[str, ...]) -> AlarmSpec:
    """A dead-man's switch: fewer than 1 run a minute, and no data at all is breaching.

    With one period of a minute, the alarm reads the last 3 minutes (the evaluator's N + 2,
    monitoring/evaluator/decide.py): one run in them keeps it OK, so a single skipped or late
    schedule tick never fires it, and 3 empty minutes do: the first missed run plus 3 minutes,
    within 5 minutes of the schedule stopping. It pages in both modes.
    """
    return AlarmSpec(
        id=alarm_id,
        meaning=meaning,
        source=Metric(m.BYOIP, name, "Sum", Dim.STAGE),
        period_s=60,
        threshold=1,
        comparison=Comparison.LT,
        evaluation_periods=1,
        datapoints_to_alarm=1,
        missing=Missing.BREACHING,
        severity=Severity.HIGH,
        section="W2",
        notify_composite=True,
        first_steps=first_steps,
    )


# The stack's EventBridge rules that invoke something: a failed invocation is a run that never
# happened. EventBridge publishes FailedInvocations only when it is not zero; SUM([...]) takes a
# missing series as 0.
INVOKING_RULES = (
    ("r", Dim.LEASE_REAPER_RULE),
    ("d", Dim.REDRIVE_RULE),
    ("f", Dim.REDRIVE_FAILED_RULE),
)

SCHEDULED_ALARMS: tuple[AlarmSpec, ...] = (
    _silent(
        "ReaperSilent",
        "lease-reaper has not completed a run for 3 minutes: expired leases are not re-queued.",
        m.REAPER_RUNS,
        first_steps=(
            "Is rule byoip-{stage}-lease-reaper enabled, and does lease-reaper run (Invocations, Errors)?",
            "Re-enable the rule or fix the function; expired leases are re-queued on its next run.",
        ),
    ),
    _silent(
        "WatchSilent",
        "The creator watch has not completed a run for 3 minutes: breakers and held jobs are not stepped.",
        m.WATCH_RUNS,
        first_steps=(
            "lease-reaper's log: creator_watch lines missing? The watch could not read its tables.",
            "Fix the reads (grants, throttled tables); breakers and held jobs step again on the next run.",
        ),
    ),
    AlarmSpec(
        id="RedriveFailed",
        meaning="A GuardedRedrive run failed, timed out or was cancelled; it is started again after a delay.",
        # The redrive-failed rule matches SSM's status-change event of those executions (and
        # starts the document again, automation/layer.py). Any match is a failure. Kept in ALARM
        # 15 minutes after the last one: a redrive that keeps failing is retried every 4 to 9
        # minutes (its start delay plus its guard wait), so the alarm stays up, one page per
        # incident, and clears once a retry succeeds.
        source=Metric(EVENTS, "MatchedEvents", "Sum", Dim.REDRIVE_FAILED_RULE),
        period_s=60,
        threshold=0,
        comparison=Comparison.GT,
        evaluation_periods=15,
        datapoints_to_alarm=1,
        missing=Missing.NOT_BREACHING,
        severity=Severity.HIGH,
        section="W2",
        notify_composite=True,
        first_steps=(
            "The failed BYOIP-{stage}-GuardedRedrive execution in SSM Automation: its error.",
            "It restarts every 4 minutes while it fails; fix the cause or redrive by hand (byoip redrive).",
        ),
    ),
    AlarmSpec(
        id="ScheduleFailedInvocations",
        meaning="An EventBridge rule could not invoke its target: a reaper run or a redrive never ran.",
        # Failed permanently: a missing function, a role that may not invoke, a throttle that
        # outlived EventBridge's retries. Any one is a run that never happened; 1 of 1 minute.
        source=Math(
            f"SUM([{', '.join(var for var, _ in INVOKING_RULES)}])",
            tuple((var, Metric(EVENTS, "FailedInvocations", "Sum", dim)) for var, dim in INVOKING_RULES),
        ),
        period_s=60,
        threshold=0,
        comparison=Comparison.GT,
        evaluation_periods=1,
        datapoints_to_alarm=1,
        missing=Missing.NOT_BREACHING,
        severity=Severity.HIGH,
        section="W2",
        first_steps=(
            "FailedInvocations per rule of byoip-{stage}-*: which target cannot be invoked?",
            "Restore the target or the rule's permission (redeploy the stack).",
        ),
    ),
)

DELIVERY_ALARMS: tuple[AlarmSpec, ...] = (
    AlarmSpec(
        id="RotationFailed",
        meaning="Secrets Manager could not rotate the agents' signing key (RotationFailed event).",
        # The rotation-failed rule matches Secrets Manager's RotationFailed event of the key.
        # The rotation stops half done (AWSPENDING left behind) and is not retried before the next
        # schedule, so one event pages, and the alarm stays in ALARM an hour for triage.
        source=Metric(EVENTS, "MatchedEvents", "Sum", Dim.ROTATION_FAILED_RULE),
        period_s=60,
        threshold=0,
        comparison=Comparison.GT,
        evaluation_periods=60,
        datapoints_to_alarm=1,
        missing=Missing.NOT_BREACHING,
        severity=Severity.HIGH,
        section="W3",
        notify_composite=True,
        first_steps=(
            "Secret byoip/{stage}/ws-jwt: the secret-rotation log names the failed step; AWSPENDING left over?",
            "Fix the cause, then rotate again (aws secretsmanager rotate-secret); tokens keep verifying.",
        ),
    ),
    AlarmSpec(
        id="AlertDeliveryFailed",
        meaning="SNS could not deliver alarm notifications of the ops alerts topic to a subscriber.",
        # Every failed delivery is a page or ticket nobody received (SNS counts a notification
        # failed after its delivery retries). 1 of 1 minute; the alarm shows on the dashboards
        # and in `byoip triage` even when its own notification cannot be delivered.
        source=Metric(SNS, "NumberOfNotificationsFailed", "Sum", Dim.ALERT_TOPIC),
        period_s=60,
        threshold=0,
        comparison=Comparison.GT,
        evaluation_periods=1,
        datapoints_to_alarm=1,
        missing=Missing.NOT_BREACHING,
        severity=Severity.HIGH,
        section="W3",
        first_steps=(
            "The byoip-{stage}-ops-alerts subscriptions: a bounced email, an HTTPS endpoint down?",
            "Fix the subscription; read the missed alarms in byoip triage --stage {stage}.",
        ),
    ),
)

FUNCTION_ALARMS: dict[str, WatchedFunction] = {
    spec.id: fn for fn in WATCHED_FUNCTIONS for spec in function_alarms(fn)
}
WATCHED_ALARMS: tuple[AlarmSpec, ...] = (
    *(spec for fn in WATCHED_FUNCTIONS for spec in function_alarms(fn)),
    *API_ALARMS,
    *SCHEDULED_ALARMS,
    *DELIVERY_ALARMS,
)
