"""Print a game day's timeline and summary with Rich, and write its JSON report."""

from __future__ import annotations

import json
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from sandbox.gameday.runner import Result

STYLE = {
    "fault": "bold red",
    "alarm": "red",
    "ok": "green",
    "email": "yellow",
    "automation": "cyan",
    "action": "magenta",
    "recovered": "bold green",
    "note": "dim",
}


def _minutes(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} min"


def _phase(t: float, fault: float | None, recovered: float | None) -> str:
    if fault is not None and t < fault:
        return "setup"
    if recovered is not None and t > recovered:
        return "after"
    return "incident"


def _emails(emails: list[dict]) -> str:
    return f"{len(emails)} ({sum(e['state'] == 'ALARM' for e in emails)} ALARM)"


def print_result(result: Result, console: Console) -> None:
    """The timeline (production minutes since the fault) and the summary table."""
    fault = next((e["time"] for e in result.timeline if e["kind"] == "fault"), None)
    recovered = next((e["time"] for e in result.timeline if e["kind"] == "recovered"), None)
    table = Table(title=f"Game day {result.scenario} (runbook {result.section}) — {result.alert_mode} mode")
    table.add_column("t (prod min)", justify="right")
    table.add_column("phase")
    table.add_column("event", overflow="fold")
    if console.is_terminal:
        table.add_column("runbook", overflow="fold")
    else:  # a log: the link stays whole on one line (the event text folds instead)
        longest = max((len(e["link"]) for e in result.timeline), default=0)
        table.add_column("runbook", no_wrap=True, min_width=max(7, longest))
    for entry in result.timeline:
        t = "" if fault is None else f"{(entry['time'] - fault) / 60:+.1f}"
        phase = _phase(entry["time"], fault, recovered)
        text = f"[{STYLE.get(entry['kind'], '')}]{entry['text']}[/]"
        table.add_row(t, phase, text if phase == "incident" else f"[dim]{text}[/]", entry["link"])
    console.print(table)

    acc = result.accounting
    summary = Table(title="Summary (times in production minutes since the fault)", show_header=False)
    summary.add_column("what")
    summary.add_column("value")
    rows = [
        ("detection (first alarm)", _minutes(result.detection_min)),
        ("first email", _minutes(result.first_email_min)),
        ("recovery (alarms OK, DLQ empty, no job stuck)", _minutes(result.recovery_min)),
        ("alarms fired (from the fault on)", ", ".join(result.fired_alarms) or "none"),
        ("emails sent (fault to recovery)", _emails(result.emails)),
        ("automations", ", ".join(f"{a['document']}: {a['status']}" for a in result.automations) or "none"),
        ("jobs submitted", str(acc.submitted)),
        ("completed / held / parked / failed", f"{acc.completed} / {acc.held} / {acc.parked} / {acc.failed}"),
        ("still pending", str(acc.pending)),
        ("lost", f"[{'bold green' if acc.lost == 0 else 'bold red'}]{acc.lost}[/]"),
        ("re-deliveries (lease expired / reconnect)", str(result.redeliveries)),
        (
            "duplicate completions",
            f"[{'green' if not result.duplicate_completions else 'bold red'}]"
            f"{result.duplicate_completions}[/]",
        ),
        ("wall time", f"{result.wall_seconds:.0f} s at speed {result.speed:g}x"),
        ("outcome", f"[{'green' if result.outcome == 'passed' else 'red'}]{result.outcome}[/]"),
    ]
    if result.setup_alarms or result.setup_emails:
        setup = f"alarms {', '.join(result.setup_alarms) or 'none'}; emails {_emails(result.setup_emails)}"
        rows.insert(5, ("setup, before the fault (not counted)", setup))
    if result.later_emails:
        rows.insert(5, ("emails after recovery (not counted)", _emails(result.later_emails)))
    for what, value in rows:
        summary.add_row(what, value)
    console.print(summary)
    for problem in result.problems:
        console.print(f"[red]problem:[/] {problem}")


def write_report(result: Result, reports_dir: Path) -> Path:
    """reports/gameday-<scenario>-<mode>-<UTC time>.json"""
    reports_dir.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    path = reports_dir / f"gameday-{result.scenario}-{result.alert_mode}-{stamp}.json"
    path.write_text(json.dumps(result.as_dict(), indent=2, default=str))
    return path
