"""`byoip alarms test --plot DIR`: a failing test drawn as a page of SVG charts.

For every alarm the test expects something of: its metric (or expression) per period as the
alarm sees it, the threshold, the periods it was actually in ALARM (shaded) and the expected
states at their times (markers), then a table of expected against actual states.
"""

from __future__ import annotations

import re
from pathlib import Path

from monitoring.evaluator.engine import Evaluator
from monitoring.evaluator.runner import T0, TestResult
from monitoring.evaluator.series import format_duration
from monitoring.pictures.page import figure, page, table
from monitoring.pictures.svg import Chart, Line, alarm_bands, render


def state_at(ev: Evaluator, alarm: str, t: int, initial: str) -> str:
    """The alarm's state at evaluation time t, from the evaluator's transitions."""
    state = initial
    for tr in ev.transitions:
        if tr.alarm == alarm and tr.time <= t:
            state = tr.new
    return state


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:80]


def _full(ev: Evaluator, short: str) -> str:
    return next((n for n in ev.alarms.names if n == short or n.endswith(f"-{short}")), short)


def plot_result(result: TestResult, ev: Evaluator, out_dir: Path) -> Path:
    """Write the page of one (failing) test; returns its path."""
    test = result.test
    end = max((e.at for e in test.expect), default=0) + 60
    initial = test.initial_state if isinstance(test.initial_state, str) else "OK"
    charts, rows = [], []
    shorts = list(dict.fromkeys(a for e in test.expect for a in e.alarms))
    for short in shorts:
        name = _full(ev, short)
        changes = [((tr.time - T0) / 60, tr.new) for tr in ev.transitions if tr.alarm == name]
        markers = [(e.at / 60, f"expect {e.alarms[short]}") for e in test.expect if short in e.alarms]
        for e in test.expect:
            if short in e.alarms:
                actual = state_at(ev, name, T0 + e.at, initial)
                mark = "" if actual == e.alarms[short] else "differs"
                rows.append((format_duration(e.at), short, e.alarms[short], actual, mark))
        alarm = ev.alarms.metric_alarms.get(name)
        lines, threshold = [], None
        if alarm is not None:
            series = ev.series(name, T0, T0 + end)
            lines = [Line(short, [((t + alarm.period - T0) / 60, v) for t, v in series])]
            threshold = alarm.threshold
        chart = Chart(
            title=f"{short}: expected vs actual" + ("" if alarm else " (composite: ALARM periods only)"),
            lines=lines,
            x_label="minutes since t=0",
            threshold=threshold,
            bands=alarm_bands(changes, end / 60),
            band_label="actual ALARM",
            markers=markers,
            x_range=(0, end / 60),
        )
        charts.append(figure(render(chart)))
    inputs = [
        Line(str(metric), [(i * test.interval / 60, v) for i, v in enumerate(values)])
        for metric, values, _count in test.series
    ]
    charts.insert(
        0, figure(render(Chart("Input series (one value per interval)", inputs, "minutes since t=0")))
    )
    body = [
        f"<p>{test.file} :: {test.name} ({test.alert_mode} mode)</p>",
        "<h2>Failures</h2>",
        "<pre>" + "\n".join(result.failures).replace("<", "&lt;") + "</pre>",
        "<h2>Alarms</h2>",
        '<div class="charts">' + "".join(charts) + "</div>",
        "<h2>Expected and actual states</h2>",
        table(("at", "alarm", "expected", "actual", ""), rows),
    ]
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{Path(test.file).stem}--{_slug(test.name)}.html"
    path.write_text(page(f"Failing alarm test: {test.name}", body), encoding="utf-8")
    return path
