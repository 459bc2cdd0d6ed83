"""Print a game day's timeline and summary with Rich, and write its JSON report."""

from __future__ import annotations

import json
import time
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from sandbox.gameday.html_report import minutes_text, render_html
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


def _phase(t: float, fault: float | None, recovered: float | None) -> str:
    if fault is not None and t < fault:
        return "setup"
    if recovered is not None and t > recovered:
        return "after"
    return "incident"


def _emails(emails: list[dict]) -> str:
    return f"{len(emails)} ({sum(e['state'] == 'ALARM' for e in emails)} ALARM)"


def link_numbers(timeline: list[dict]) -> dict[str, int]:
    """Each distinct link of the timeline, numbered in order of first appearance."""
    numbers: dict[str, int] = {}
    for entry in timeline:
        if entry["link"] and entry["link"] not in numbers:
            numbers[entry["link"]] = len(numbers) + 1
    return numbers


def print_timeline(result: Result, console: Console) -> None:
    """The timeline as a table that fits the console; each link printed once, below it, whole."""
    fault = next((e["time"] for e in result.timeline if e["kind"] == "fault"), None)
    recovered = next((e["time"] for e in result.timeline if e["kind"] == "recovered"), None)
    links = link_numbers(result.timeline)
    table = Table(title=f"Game day {result.scenario} (runbook {result.section}) — {result.alert_mode} mode")
    table.add_column("t (min)", justify="right", no_wrap=True)
    table.add_column("phase", no_wrap=True)
    table.add_column("event", overflow="fold")
    for entry in result.timeline:
        t = "" if fault is None else f"{(entry['time'] - fault) / 60:+.1f}"
        phase = _phase(entry["time"], fault, recovered)
        text = escape(entry["text"]) + (f" [{links[entry['link']]}]" if entry["link"] else "")
        text = f"[{STYLE.get(entry['kind'], '')}]{text}[/]"
        table.add_row(t, phase, text if phase == "incident" else f"[dim]{text}[/]")
    console.print(table)
    for link, number in links.items():
        # soft wrap: a URL stays one line (a terminal wraps it visually; it still copies whole)
        console.print(f"[{number}] runbook: {link}", soft_wrap=True, highlight=False, markup=False)


def print_result(result: Result, console: Console) -> None:
    """The timeline (production minutes since the fault) and the summary table."""
    print_timeline(result, console)

    acc = result.accounting
    summary = Table(title="Summary (times in production minutes since the fault)", show_header=False)
    summary.add_column("what")
    summary.add_column("value")
    rows = [
        ("detection (first alarm)", minutes_text(result.detection_min)),
        ("first email", minutes_text(result.first_email_min)),
        ("recovery (alarms OK, DLQ empty, no job stuck)", minutes_text(result.recovery_min)),
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
    """reports/gameday-<scenario>-<mode>-<UTC time>.json, and beside it the same name with
    `.html` (the self-contained picture report) and `-metrics.json` (every metric sample, for
    `byoip dashboard preview --metrics`)."""
    reports_dir.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    path = reports_dir / f"gameday-{result.scenario}-{result.alert_mode}-{stamp}.json"
    report = result.as_dict()
    path.write_text(json.dumps(report, indent=2, default=str))
    recording = dict(result.recording)
    metrics = recording.pop("metrics", None)
    if recording:
        html_path(path).write_text(render_html(report, recording), encoding="utf-8")
    if metrics is not None:
        metrics_path(path).write_text(json.dumps(metrics))
    return path


def html_path(report: Path) -> Path:
    return report.with_suffix(".html")


def metrics_path(report: Path) -> Path:
    return report.with_name(f"{report.stem}-metrics.json")
