"""`byoip triage`: alarm states, queue depth and age, DLQ size with reasons, on one screen."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import typer
from rich.table import Table

from automation import clients
from automation.commands.dlq import describe, peek, tally
from automation.output import console
from automation.queues import depth, queue_url_by_name
from automation.stage import stage_config
from contract.names import DLQ, JOBS, QUARANTINE, Names
from monitoring.catalog import ALARMS, COMPOSITE, AlarmSpec, CompositeSpec

_STATE_STYLE = {"OK": "green", "ALARM": "bold red", "INSUFFICIENT_DATA": "yellow", "MISSING": "dim"}


def alarm_states(cloudwatch: Any, stage: str) -> dict[str, dict[str, str]]:
    """State of every catalog alarm of the stage (MISSING when not deployed)."""
    response = cloudwatch.describe_alarms(
        AlarmNamePrefix=Names(stage).alarm_prefix, AlarmTypes=["MetricAlarm", "CompositeAlarm"]
    )
    found = {
        a["AlarmName"]: a for a in [*response.get("MetricAlarms", []), *response.get("CompositeAlarms", [])]
    }
    states = {}
    specs: tuple[AlarmSpec | CompositeSpec, ...] = (COMPOSITE, *ALARMS)
    for spec in specs:
        alarm = found.get(Names(stage).alarm(spec.id), {})
        since = alarm.get("StateUpdatedTimestamp")
        states[spec.id] = {
            "state": alarm.get("StateValue", "MISSING"),
            "since": since.strftime("%Y-%m-%d %H:%M UTC") if since else "-",
            "section": spec.section,
        }
    return states


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

    alarms = Table(title=f"Alarms of {config.stage} ({chosen})")
    for column in ("alarm", "state", "since", "runbook section"):
        alarms.add_column(column)
    for alarm_id, row in alarm_states(cloudwatch, config.stage).items():
        style = _STATE_STYLE.get(row["state"], "")
        alarms.add_row(
            config.names.alarm(alarm_id), f"[{style}]{row['state']}[/]", row["since"], row["section"]
        )
    console.print(alarms)

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
