"""`byoip triage`: the maintenance window, every alarm by severity (page or ticket), the error budget
left per SLO, queue depth and age, DLQ size with reasons, on one screen."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import typer
from rich.table import Table

from automation import clients
from automation.budget import budget_left
from automation.commands.dlq import describe, peek, tally
from automation.commands.maintenance import describe as describe_window
from automation.commands.maintenance import window_of
from automation.output import console
from automation.queues import depth, queue_url_by_name
from automation.stage import stage_config
from contract.names import DLQ, JOBS, QUARANTINE, Names
from monitoring.catalog import ALARMS, COMPOSITE, AlarmSpec, CompositeSpec, Severity
from monitoring.routing import MAINTENANCE, page_wrappers, route
from monitoring.slo_catalog import SLO_ALARMS, SLO_COMPOSITES, SLOS

_STATE_STYLE = {"OK": "green", "ALARM": "bold red", "INSUFFICIENT_DATA": "yellow", "MISSING": "dim"}
# Every alarm the stack derives from the catalogs, composites first within each severity.
SPECS: tuple[AlarmSpec | CompositeSpec, ...] = (
    COMPOSITE,
    *page_wrappers(ALARMS),
    *SLO_COMPOSITES,
    *ALARMS,
    *SLO_ALARMS,
)
SEVERITY_ORDER = (Severity.CRITICAL, Severity.HIGH, Severity.WARNING)


def deployed_alarms(cloudwatch: Any, stage: str) -> dict[str, dict[str, Any]]:
    """Every metric and composite alarm of the stage by name (DescribeAlarms, all pages)."""
    found: dict[str, dict[str, Any]] = {}
    token = None
    while True:
        response = cloudwatch.describe_alarms(
            AlarmNamePrefix=Names(stage).alarm_prefix,
            AlarmTypes=["MetricAlarm", "CompositeAlarm"],
            **({"NextToken": token} if token else {}),
        )
        for alarm in [*response.get("MetricAlarms", []), *response.get("CompositeAlarms", [])]:
            found[alarm["AlarmName"]] = alarm
        token = response.get("NextToken")
        if not token:
            return found


def alarm_states(found: dict[str, dict[str, Any]], stage: str) -> dict[str, dict[str, str]]:
    """State of every catalog and SLO alarm of the stage by id, by severity (MISSING when not deployed)."""
    states = {}
    for severity in SEVERITY_ORDER:
        for spec in (s for s in SPECS if s.severity is severity):
            alarm = found.get(Names(stage).alarm(spec.id), {})
            since = alarm.get("StateUpdatedTimestamp")
            states[spec.id] = {
                "severity": str(severity),
                "route": str(route(spec)),
                "state": alarm.get("StateValue", "MISSING"),
                "since": since.strftime("%Y-%m-%d %H:%M UTC") if since else "-",
                "section": spec.section,
            }
    return states


def window_line(found: dict[str, dict[str, Any]], stage: str) -> str:
    """The maintenance window's state in one line (or that the stage has none)."""
    alarm = found.get(Names(stage).alarm(MAINTENANCE.id))
    return describe_window(window_of(alarm)) if alarm else "maintenance window: not deployed"


def oldest_age(cloudwatch: Any, name: str, now: datetime) -> str:
    """ApproximateAgeOfOldestMessage over the last 5 minutes, or n/a without datapoints."""
    points = cloudwatch.get_metric_statistics(
        Namespace="AWS/SQS",
        MetricName="ApproximateAgeOfOldestMessage",
        Dimensions=[{"Name": "QueueName", "Value": name}],
        StartTime=now - timedelta(minutes=5),
        EndTime=now,
        Period=60,
        Statistics=["Maximum"],
    ).get("Datapoints", [])
    return f"{int(max(p['Maximum'] for p in points))} s" if points else "n/a"


def triage(
    stage: Annotated[str, typer.Option("--stage", help="Stage to look at.")],
    region: Annotated[str | None, typer.Option("--region", help="AWS region (default: AWS_REGION).")] = None,
) -> None:
    """One screen: which alarms fire, how deep and old the queues are, what is in the DLQ."""
    config = stage_config(stage)
    chosen = clients.region_or_fail(region)
    cloudwatch = clients.client("cloudwatch", chosen)
    sqs = clients.client("sqs", chosen)
    now = datetime.now(UTC)

    found = deployed_alarms(cloudwatch, config.stage)
    console.print(window_line(found, config.stage), markup=False)
    states = alarm_states(found, config.stage)
    for severity in SEVERITY_ORDER:
        rows = {alarm_id: row for alarm_id, row in states.items() if row["severity"] == severity}
        routed = next(iter(rows.values()))["route"] if rows else "-"
        alarms = Table(title=f"{severity.upper()} alarms of {config.stage} ({chosen}): {routed}")
        # Alarm names are what on-call copies: never cut them, wrap the other columns instead.
        alarms.add_column("alarm", min_width=max((len(config.names.alarm(i)) for i in rows), default=5))
        for column in ("state", "since", "runbook section"):
            alarms.add_column(column)
        for alarm_id, row in rows.items():
            style = _STATE_STYLE.get(row["state"], "")
            alarms.add_row(
                config.names.alarm(alarm_id), f"[{style}]{row['state']}[/]", row["since"], row["section"]
            )
        console.print(alarms)

    budgets = Table(title="Error budget left")
    for column in ("SLO", "objective", "period", "budget left"):
        budgets.add_column(column)
    for slo in SLOS:
        left = budget_left(cloudwatch, slo, config.names, now)
        shown = "n/a (no events)" if left is None else f"{left:.1f} %"
        budgets.add_row(slo.title, f"{slo.objective:.1%}", f"{slo.period_days} days", shown)
    console.print(budgets)

    queues = Table(title="Queues")
    for column in ("queue", "visible", "in flight", "oldest"):
        queues.add_column(column)
    urls = {}
    for suffix in (JOBS, DLQ, QUARANTINE):
        name = config.names.queue(suffix)
        urls[suffix] = queue_url_by_name(sqs, name, chosen)
        count = depth(sqs, urls[suffix])
        queues.add_row(
            name, str(count["visible"]), str(count["in_flight"]), oldest_age(cloudwatch, name, now)
        )
    console.print(queues)

    sample = [describe(message) for message in peek(sqs, urls[DLQ], 10)]
    if sample:
        reasons = tally(sample, "reason")
        console.print(
            f"DLQ sample of {len(sample)}: {tally(sample)}"
            + (f"; dispatcher reasons: {reasons}" if reasons else "")
        )
        console.print(f"next: byoip dlq sample --stage {config.stage} --region {chosen}")
    else:
        console.print("DLQ sample: empty")
