"""Where an alarm's notification goes, derived from its catalog entry once (no CDK).

On-call's contract (issue 20): CRITICAL and HIGH wake someone up (the page topic), WARNING waits
for working hours (the ticket topic). Only the severity decides; nothing else names a topic.

A maintenance window silences pages, not tickets: every paging composite carries the
`MaintenanceWindow` alarm as its ActionsSuppressor. CloudWatch can suppress composite alarms only
(ActionsSuppressor is a PutCompositeAlarm parameter), so a unit alarm that pages in composite
mode pages through a one-alarm composite `<Id>Page` (rule `ALARM(<Id>)`) that carries the
suppressor; the unit alarm itself then sends no ALARM email in composite mode (its OK action,
if any, stays on it). In `all` mode every unit alarm emails directly, as that mode promises, and
those emails are not suppressed.
"""

from __future__ import annotations

from enum import StrEnum

from lambdas.common import metrics as m
from monitoring.spec import AlarmSpec, Comparison, CompositeSpec, Dim, Metric, Missing, Severity, notifies


class Route(StrEnum):
    PAGE = "page"
    TICKET = "ticket"


ROUTE_OF: dict[Severity, Route] = {
    Severity.CRITICAL: Route.PAGE,
    Severity.HIGH: Route.PAGE,
    Severity.WARNING: Route.TICKET,
}
PAGE_WRAPPER_SUFFIX = "Page"
MAINTENANCE_ID = "MaintenanceWindow"

# The suppressor's state is changed only by `byoip maintenance start|stop` (SetAlarmState): its
# metric is one nothing publishes, and TreatMissingData=ignore keeps whatever state was set at
# every evaluation (with no datapoint at all, `ignore` keeps the current state). A deployed stack
# starts it in INSUFFICIENT_DATA, which suppresses nothing: only ALARM suppresses.
MAINTENANCE = AlarmSpec(
    id=MAINTENANCE_ID,
    meaning=(
        "A maintenance window is open: paging composites hold their actions until it closes "
        "(raised and lowered by `byoip maintenance start|stop` and by `make deploy`)."
    ),
    source=Metric(f"{m.BYOIP}/Maintenance", "MaintenanceWindow", "Maximum", Dim.STAGE),
    period_s=60,
    threshold=0,
    comparison=Comparison.GT,
    evaluation_periods=1,
    datapoints_to_alarm=1,
    missing=Missing.IGNORE,
    severity=Severity.WARNING,
    section="M",
    notify_composite=False,
    notify_all=False,
)
# ActionsSuppressorWaitPeriod: how long a composite holds its actions after a transition, waiting
# for its suppressor to go into ALARM. AWS sizes it to the suppressor's own delay (60 s for a metric
# alarm evaluated every minute; "any integer in seconds" is allowed). Ours has no delay:
# SetAlarmState takes effect at once and `make deploy` raises the window before the deploy starts.
# So 0: a page is never held while no window is open (every second counts toward the 5-minute page).
SUPPRESSOR_WAIT_S = 0
# ActionsSuppressorExtensionPeriod: after the window closes, how long a composite that went into
# ALARM during it may take to settle back to OK before it pages. The unit alarms evaluate every
# minute; two evaluations let a deploy blip clear instead of paging right after the deploy.
SUPPRESSOR_EXTENSION_S = 120


def route(spec: AlarmSpec | CompositeSpec) -> Route:
    """Page or ticket, from the severity."""
    return ROUTE_OF[spec.severity]


def pages_in_composite_mode(spec: AlarmSpec | CompositeSpec) -> bool:
    """Whether the alarm wakes someone in the default mode: the ones a maintenance window holds."""
    return route(spec) is Route.PAGE and notifies(spec, "composite")


def page_wrapper(spec: AlarmSpec) -> CompositeSpec:
    """The one-alarm composite through which a paging unit alarm pages in composite mode."""
    return CompositeSpec(
        id=f"{spec.id}{PAGE_WRAPPER_SUFFIX}",
        meaning=f"Pages for {spec.id} (held during a maintenance window): {spec.meaning}",
        rule=spec.id,
        severity=spec.severity,
        section=spec.section,
        notify_composite=True,
        notify_all=False,  # in all mode the unit alarm emails itself
        ok_action=False,  # the unit alarm keeps its own OK action
    )


def page_wrappers(specs: tuple[AlarmSpec, ...]) -> tuple[CompositeSpec, ...]:
    """One wrapper per unit alarm that pages in composite mode."""
    return tuple(page_wrapper(s) for s in specs if pages_in_composite_mode(s))


def sends_alarm(spec: AlarmSpec | CompositeSpec, alert_mode: str) -> bool:
    """Whether the alarm itself carries its ALARM action in `alert_mode` (wrapped unit alarms do not)."""
    if isinstance(spec, AlarmSpec) and alert_mode == "composite" and pages_in_composite_mode(spec):
        return False
    return notifies(spec, alert_mode)
