"""The game day as one self-contained HTML page: summary, timeline, charts, emails, automations.

Drawn from the JSON report and the recording alone (no sandbox needed), charts as inline SVG.
"""

from __future__ import annotations

from html import escape
from typing import Any

from monitoring.pictures.page import figure, page, table
from monitoring.pictures.svg import Chart, Line, render

X_LABEL = "production minutes since the fault"
_OPERATOR = {
    "GreaterThanThreshold": ">",
    "GreaterThanOrEqualToThreshold": "≥",
    "LessThanThreshold": "<",
    "LessThanOrEqualToThreshold": "≤",
}


def minutes_text(value: float | None) -> str:
    """A duration in production minutes, or a dash when it did not happen."""
    return "—" if value is None else f"{value:.1f} min"


def _markers(report: dict[str, Any], origin: float) -> list[tuple[float, str]]:
    out = []
    for entry in report["timeline"]:
        if entry["kind"] in ("fault", "recovered"):
            out.append((round((entry["time"] - origin) / 60, 2), entry["kind"]))
    return out


def _summary(report: dict[str, Any]) -> str:
    acc = report["accounting"]
    outcome = report["outcome"]
    rows = [
        ("outcome", f'<span class="{escape(outcome)}">{escape(outcome)}</span>'),
        ("detection (first alarm)", minutes_text(report["detection_min"])),
        ("first email", minutes_text(report["first_email_min"])),
        ("recovery", minutes_text(report["recovery_min"])),
        ("alarms fired (from the fault on)", escape(", ".join(report["fired_alarms"]) or "none")),
        ("emails (fault to recovery)", str(len(report["emails"]))),
        ("jobs submitted", str(acc["submitted"])),
        (
            "completed / held / parked / failed / pending / lost",
            " / ".join(str(acc[k]) for k in ("completed", "held", "parked", "failed", "pending", "lost")),
        ),
        ("wall time", f"{report['wall_seconds']:.0f} s at {report['speed']:g}x"),
    ]
    rows += [("problem", f'<span class="failed">{escape(p)}</span>') for p in report["problems"]]
    return table(("what", "value"), rows, raw=True)


def _timeline(report: dict[str, Any], origin: float) -> str:
    rows = []
    for entry in report["timeline"]:
        t = f"{(entry['time'] - origin) / 60:+.1f}"
        text = f'<span class="k-{escape(entry["kind"])}">{escape(entry["text"])}</span>'
        link = f'<a href="{escape(entry["link"])}">runbook</a>' if entry["link"] else ""
        rows.append((t, escape(entry["kind"]), text, link))
    return table(("t (min)", "kind", "event", "link"), rows, raw=True)


def _alarm_chart(
    alarm: dict[str, Any], markers: list[tuple[float, str]], x_range: tuple[float, float]
) -> str:
    if "points" not in alarm:
        return ""
    condition = f"{_OPERATOR.get(alarm['comparison'], alarm['comparison'])} {alarm['threshold']:g}"
    chart = Chart(
        title=f"{alarm['id']}: value per {alarm['period_s'] // 60} min, ALARM {condition}",
        lines=[Line(alarm["id"], [(x, y) for x, y in alarm["points"]])],
        x_label=X_LABEL,
        threshold=alarm["threshold"],
        bands=[(a, b) for a, b in alarm["bands"]],
        markers=markers,
        x_range=x_range,
    )
    return figure(render(chart))


def _lines(series: dict[str, list[list[float]]]) -> list[Line]:
    return [Line(label, [(x, y) for x, y in points]) for label, points in series.items()]


def _chart(
    title: str,
    series: dict[str, list[list[float]]],
    markers: list[tuple[float, str]],
    x_range: tuple[float, float],
) -> str:
    chart = Chart(title, _lines(series), x_label=X_LABEL, markers=markers, x_range=x_range)
    return figure(render(chart))


def render_html(report: dict[str, Any], recording: dict[str, Any]) -> str:
    """The whole report page."""
    origin = recording["origin"]
    markers = _markers(report, origin)
    x_range = (recording["start_min"], recording["end_min"])
    alarm_charts = [_alarm_chart(a, markers, x_range) for a in recording["alarms"]]
    composites = [a for a in recording["alarms"] if "rule" in a]
    queue_charts = [
        _chart("Queue depth (messages, max per minute)", recording["queue_depth"], markers, x_range),
        _chart("Age of oldest message (s, max per minute)", recording["queue_age"], markers, x_range),
    ]
    jobs_chart = _chart("Jobs by state (per minute)", recording["jobs"], markers, x_range)
    title = f"Game day {report['scenario']} (runbook {report['section']}) — {report['alert_mode']} mode"
    body = [
        "<h2>Summary</h2>",
        _summary(report),
        "<h2>Alarms that fired</h2>",
        '<p class="muted">Each alarm\'s metric as the alarm sees it (one value per period), its threshold '
        "(dashed) and the periods it was in ALARM (shaded).</p>",
        '<div class="charts">' + "".join(alarm_charts) + "</div>" if any(alarm_charts) else "<p>none</p>",
    ]
    if composites:
        rows = [
            (a["id"], a["rule"], ", ".join(f"{x:+.1f}→{y:+.1f}" for x, y in a["bands"])) for a in composites
        ]
        body.append(table(("composite", "rule", "ALARM (min)"), rows))
    body += [
        "<h2>Queue depth and age</h2>",
        '<div class="charts">' + "".join(queue_charts) + "</div>",
        "<h2>Jobs by state</h2>",
        jobs_chart,
        "<h2>Timeline</h2>",
        _timeline(report, origin),
        "<h2>Emails</h2>",
        _emails(report, origin),
        "<h2>Automations</h2>",
        _automations(report),
    ]
    return page(title, body)


def _emails(report: dict[str, Any], origin: float) -> str:
    emails = report["setup_emails"] + report["emails"] + report["later_emails"]
    if not emails:
        return "<p>none</p>"
    rows = [
        (
            f"{(e['time'] - origin) / 60:+.1f}",
            f'<span class="s-{escape(e["state"])}">{escape(e["state"])}</span>',
            escape(e["subject"]),
            f'<pre class="email">{escape(e["body"])}</pre>',
        )
        for e in sorted(emails, key=lambda e: e["time"])
    ]
    return table(("t (min)", "state", "subject", "body"), rows, raw=True)


def _automations(report: dict[str, Any]) -> str:
    if not report["automations"]:
        return "<p>none</p>"
    rows = [
        (
            a["document"],
            a["status"],
            *map(minutes_text, (a["started_min"], a["finished_min"])),
            a["error"] or "",
        )
        for a in report["automations"]
    ]
    return table(("document", "status", "started", "finished", "error"), rows)
