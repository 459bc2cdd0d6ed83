"""`byoip maintenance start|stop|status`: the maintenance window that holds pages.

The window is the `MaintenanceWindow` alarm, every paging composite's ActionsSuppressor
(monitoring/routing.py). Nothing publishes its metric and it ignores missing data, so the state
set here (SetAlarmState) stays until it is set again: ALARM = open, anything else = closed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

import typer

from automation import clients
from automation.output import REFUSED, console, fail
from automation.stage import stage_config
from contract.names import Names
from monitoring.routing import MAINTENANCE, SUPPRESSOR_EXTENSION_S

OPEN = "ALARM"
REASON_MAX = 200  # StateReason allows 1,023 characters; a reason is a line, not a report
OPENED = "maintenance window opened: "

app = typer.Typer(
    help="Maintenance window: hold pages while you deploy or repair (byoip maintenance start|stop|status).",
    no_args_is_help=True,
)

Stage = Annotated[str, typer.Option("--stage", help="Stage (prod, staging, ...).")]
Region = Annotated[str | None, typer.Option("--region", help="AWS region (default: AWS_REGION).")]
MissingOk = Annotated[
    bool,
    typer.Option("--missing-ok", help="Succeed with a note when the stage has no window yet (first deploy)."),
]


@dataclass(frozen=True)
class Window:
    """The window's alarm as CloudWatch reports it."""

    name: str
    open: bool
    since: datetime | None
    reason: str


def window(cloudwatch: Any, names: Names) -> Window | None:
    """The stage's MaintenanceWindow alarm, or None when it is not deployed."""
    name = names.alarm(MAINTENANCE.id)
    alarms = cloudwatch.describe_alarms(AlarmNames=[name], AlarmTypes=["MetricAlarm"]).get("MetricAlarms", [])
    return window_of(alarms[0]) if alarms else None


def window_of(alarm: dict[str, Any]) -> Window:
    """The window as one DescribeAlarms entry of its alarm shows it."""
    return Window(
        name=str(alarm["AlarmName"]),
        open=alarm.get("StateValue") == OPEN,
        since=alarm.get("StateUpdatedTimestamp"),
        reason=str(alarm.get("StateReason", "")),
    )


def describe(found: Window) -> str:
    """One line: open since when and why, or closed."""
    since = found.since.strftime("%Y-%m-%d %H:%M UTC") if found.since else "?"
    if found.open:
        return f"maintenance window OPEN since {since} ({found.reason}): pages are held"
    return "maintenance window closed: pages go out"


def _found(stage: str, region: str | None, missing_ok: bool) -> tuple[Any, Window | None]:
    """The CloudWatch client and the stage's window; a window not deployed fails unless `missing_ok`."""
    names = stage_config(stage).names
    chosen = clients.region_or_fail(region)
    cloudwatch = clients.client("cloudwatch", chosen)
    found = window(cloudwatch, names)
    if found is None:
        message = f"no alarm {names.alarm(MAINTENANCE.id)} in {chosen}: is stage {stage} deployed there?"
        if not missing_ok:
            fail(message, REFUSED)
        console.print(f"note: {message} (nothing to do)", markup=False)
    return cloudwatch, found


def _reason(reason: str) -> str:
    text = reason.strip()
    if not text or len(text) > REASON_MAX or not text.isprintable():
        fail(f"--reason must be 1-{REASON_MAX} printable characters on one line, got {reason!r}")
    return text


@app.command("start")
def start(
    stage: Stage,
    reason: Annotated[
        str, typer.Option("--reason", help="Why (shown by status and triage).")
    ] = "maintenance",
    region: Region = None,
    missing_ok: MissingOk = False,
) -> None:
    """Open the window: paging composites hold their actions until `stop`."""
    text = _reason(reason)
    cloudwatch, found = _found(stage, region, missing_ok)
    if found is None:
        return
    if found.open:
        console.print(f"already open: {describe(found)}", markup=False)
        return
    cloudwatch.set_alarm_state(AlarmName=found.name, StateValue=OPEN, StateReason=OPENED + text)
    console.print(f"maintenance window OPEN on {stage}: pages are held ({text})", markup=False)


@app.command("stop")
def stop(stage: Stage, region: Region = None, missing_ok: MissingOk = False) -> None:
    """Close the window: a composite still in ALARM pages after the extension period."""
    cloudwatch, found = _found(stage, region, missing_ok)
    if found is None:
        return
    if not found.open:
        console.print("already closed: pages go out", markup=False)
        return
    cloudwatch.set_alarm_state(AlarmName=found.name, StateValue="OK", StateReason="maintenance window closed")
    console.print(
        f"maintenance window closed on {stage}: still in ALARM pages in {SUPPRESSOR_EXTENSION_S} s",
        markup=False,
    )


@app.command("status")
def status(stage: Stage, region: Region = None) -> None:
    """Whether the window is open, since when and why."""
    _, found = _found(stage, region, missing_ok=False)
    assert found is not None
    console.print(describe(found), markup=False)
