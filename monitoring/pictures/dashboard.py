"""A CloudWatch DashboardBody drawn as HTML: the same 24-column grid, every widget in its place.

Text widgets are Markdown rendered to HTML; metric widgets are SVG charts of recorded metrics
(single metrics and metric math, computed by the offline evaluator); alarm widgets list each
alarm with its state; a Contributor Insights graph (a metric widget naming an `insightRule`: its
data are log lines, which no recording holds) and any other widget type are labelled
placeholders, never dropped.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from html import escape
from typing import Any

from monitoring.evaluator.engine import Evaluator
from monitoring.evaluator.model import AlarmSet, EvaluatorError, MetricAlarm, MetricKey, MetricQuery
from monitoring.evaluator.store import MetricStore
from monitoring.pictures.page import markdown
from monitoring.pictures.svg import Chart, Line, render

COLUMN_PX, ROW_PX = 56, 38  # CloudWatch's grid: 24 columns; heights in grid rows
CSS = """
.grid { position: relative; width: GRID_WIDTHpx; }
.widget { position: absolute; box-sizing: border-box; border: 1px solid #ccc; background: #fff;
  overflow: hidden; padding: 4px 8px; font-size: 13px; }
.widget h3 { font-size: 14px; margin: 2px 0 6px; }
.widget.text-solid { background: #f2f6fa; }
.widget.placeholder { background: repeating-linear-gradient(45deg, #fafafa, #fafafa 8px, #f0f0f0 8px,
  #f0f0f0 16px); color: #555; }
.alarms { display: flex; flex-wrap: wrap; }
.alarms div { width: 33%; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.state { display: inline-block; min-width: 60px; font-weight: bold; font-size: 11px; }
.single { display: inline-block; margin: 4px 18px 4px 0; } .single b { font-size: 22px; display: block; }
""".replace("GRID_WIDTH", str(24 * COLUMN_PX))


def widget_box(widget: Mapping[str, Any]) -> tuple[int, int, int, int]:
    """(left, top, width, height) in px of a widget's grid position."""
    x, y = int(widget.get("x", 0)), int(widget.get("y", 0))
    w, h = int(widget.get("width", 6)), int(widget.get("height", 6))
    return x * COLUMN_PX, y * ROW_PX, w * COLUMN_PX, h * ROW_PX


def _line_alarm(qid: str, queries: tuple[MetricQuery, ...], period: int) -> MetricAlarm:
    """One graph line as a metric 'alarm', so the offline evaluator computes it (math included)."""
    is_expression = any(q.id == qid and q.expression for q in queries)
    used = queries if is_expression else tuple(q for q in queries if q.id == qid)
    return MetricAlarm(qid, f"line-{qid}", "", used, qid, period, 0.0, "GreaterThanThreshold", 1, 1)


def _metric_lines(props: Mapping[str, Any]) -> list[tuple[str, MetricAlarm]]:
    """Each visible line of a metric widget: its label and what computes it."""
    period = int(props.get("period", 300))
    queries: list[MetricQuery] = []
    visible: list[tuple[str, str]] = []
    previous: list[Any] = []
    for i, row in enumerate(props.get("metrics", [])):
        options = row[-1] if row and isinstance(row[-1], dict) else {}
        parts = list(row[:-1] if options else row)
        if parts[:1] == ["..."]:  # the previous metric again (with other options)
            parts = previous
        parts = [previous[j] if p == "." and j < len(previous) else p for j, p in enumerate(parts)]
        qid = options.get("id", f"m{i}")
        if "expression" in options:
            queries.append(MetricQuery(qid, expression=options["expression"]))
            label = options.get("label") or options["expression"]
        else:
            previous = parts
            namespace, name, *dims = parts
            key = MetricKey.of(namespace, name, dict(zip(dims[::2], dims[1::2], strict=False)))
            stat = options.get("stat", props.get("stat", "Average"))
            queries.append(MetricQuery(qid, metric=key, stat=stat, period=int(options.get("period", period))))
            label = options.get("label") or name
        if options.get("visible", True):
            visible.append((qid, label))
    return [(label, _line_alarm(qid, tuple(queries), period)) for qid, label in visible]


def dynamic_label(label: str, values: list[float]) -> str:
    """CloudWatch's dynamic labels (${AVG}, ${MAX}, ${MIN}, ${SUM}, ${LAST}) filled in."""
    if not values:
        return re.sub(r"\$\{(AVG|MAX|MIN|SUM|LAST)\}", "–", label)
    stats = {
        "AVG": sum(values) / len(values),
        "MAX": max(values),
        "MIN": min(values),
        "SUM": sum(values),
        "LAST": values[-1],
    }
    return re.sub(r"\$\{(AVG|MAX|MIN|SUM|LAST)\}", lambda m: f"{stats[m.group(1)]:.3g}", label)


def metric_widget(
    props: Mapping[str, Any], store: MetricStore, start: float, end: float, size: tuple[int, int]
) -> str:
    """A metric widget's graph, or its last values for `singleValue`; a line it cannot compute says why."""
    lines, problems = [], []
    for label, alarm in _metric_lines(props):
        evaluator = Evaluator(AlarmSet(metric_alarms={alarm.name: alarm}), store)
        try:
            series = evaluator.series(alarm.name, int(start), int(end))
        except EvaluatorError as exc:
            problems.append(f"{label}: {exc}")
            continue
        values = [v for _, v in series if v is not None]
        lines.append(
            Line(dynamic_label(label, values), [((t + alarm.period - start) / 60, v) for t, v in series])
        )
    notes = "".join(f'<div class="muted">{escape(p)}</div>' for p in problems)
    title = str(props.get("title", ""))
    if props.get("view") == "singleValue":
        cells = []
        for line in lines:
            last = next((v for _, v in reversed(line.points) if v is not None), None)
            shown = "–" if last is None else f"{last:.4g}"
            cells.append(f'<div class="single">{escape(line.label)}<b>{shown}</b></div>')
        return f"<h3>{escape(title)}</h3>{''.join(cells)}{notes}"
    threshold = None
    for annotation in props.get("annotations", {}).get("horizontal", []):
        threshold = float(annotation["value"])
    chart = Chart(
        title,
        lines,
        x_label="minutes since the recording started",
        threshold=threshold,
        x_range=(0.0, max((end - start) / 60, 1.0)),
        width=size[0] - 18,
        height=size[1] - 14,
    )
    return render(chart) + notes


def alarm_widget(props: Mapping[str, Any], states: Mapping[str, str], notes: Mapping[str, str]) -> str:
    rows = []
    for arn in props.get("alarms", []):
        name = str(arn).split(":alarm:")[-1]
        state = states.get(name, "INSUFFICIENT_DATA")
        note = f' <span class="muted">({escape(notes[name])})</span>' if name in notes else ""
        rows.append(
            f'<div><span class="state s-{escape(state)}">{escape(state)}</span> {escape(name)}{note}</div>'
        )
    return f'<h3>{escape(props.get("title", "Alarms"))}</h3><div class="alarms">{"".join(rows)}</div>'


def insight_placeholder(props: Mapping[str, Any]) -> str:
    """A Contributor Insights graph's box: its title, what it ranks and the rule, drawn in the console."""
    title = str(props.get("title", ""))
    rule = props.get("insightRule", {})
    what = title[:1].lower() + title[1:] if title else "top contributors"
    return (
        f"<h3>{escape(title)}</h3>"
        f"<p>Contributor Insights: {escape(what)}, drawn in the console.</p>"
        f'<p class="muted">rule {escape(str(rule.get("ruleName", "?")))} · top '
        f"{escape(str(rule.get('maxContributorCount', '?')))} by {escape(str(rule.get('orderBy', '?')))}</p>"
    )


def render_widget(
    widget: Mapping[str, Any],
    store: MetricStore,
    start: float,
    end: float,
    states: Mapping[str, str],
    notes: Mapping[str, str] | None = None,
) -> str:
    """One widget as an absolutely placed `<div>` on the grid."""
    left, top, width, height = widget_box(widget)
    kind = widget.get("type", "")
    props = widget.get("properties", {})
    classes = ["widget", f"w-{escape(str(kind))}"]
    if kind == "text":
        inner = markdown(str(props.get("markdown", "")))
        if props.get("background") == "solid":
            classes.append("text-solid")
    elif kind == "metric" and "insightRule" in props:
        classes.append("placeholder")
        inner = insight_placeholder(props)
    elif kind == "metric":
        inner = metric_widget(props, store, start, end, (width, height))
    elif kind == "alarm":
        inner = alarm_widget(props, states, notes or {})
    else:
        classes.append("placeholder")
        title = props.get("title", "")
        inner = (
            f"<h3>Widget type “{escape(str(kind))}” is not drawn by the preview</h3>"
            f"<p>{escape(str(title))}</p>"
        )
    style = f"left:{left}px;top:{top}px;width:{width}px;height:{height}px"
    return f'<div class="{" ".join(classes)}" style="{style}">{inner}</div>'


def render_dashboard(
    body: Mapping[str, Any],
    store: MetricStore,
    start: float,
    end: float,
    states: Mapping[str, str],
    notes: Mapping[str, str] | None = None,
) -> str:
    """The grid of one dashboard (an HTML fragment; `CSS` styles it)."""
    widgets = body.get("widgets", [])
    bottom = max((widget_box(w)[1] + widget_box(w)[3] for w in widgets), default=0)
    inner = "".join(render_widget(w, store, start, end, states, notes) for w in widgets)
    return f'<div class="grid" style="height:{bottom}px">{inner}</div>'
