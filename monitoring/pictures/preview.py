"""Dashboard previews: every dashboard of a synthesized template, drawn with recorded metrics."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from monitoring.evaluator.engine import Evaluator
from monitoring.evaluator.intrinsics import TemplateResolver
from monitoring.evaluator.loader import load_alarms
from monitoring.evaluator.store import MetricStore
from monitoring.pictures.dashboard import CSS, render_dashboard
from monitoring.pictures.page import page
from monitoring.pictures.svg import alarm_bands

STEP = 60


def dashboards(template: dict[str, Any], stack_name: str) -> dict[str, dict[str, Any]]:
    """DashboardName -> DashboardBody (intrinsics resolved) of every dashboard in the template."""
    resolver = TemplateResolver(template, stack_name=stack_name)
    out = {}
    for resource in template.get("Resources", {}).values():
        if resource.get("Type") == "AWS::CloudWatch::Dashboard":
            props = resource["Properties"]
            out[str(resolver.resolve(props["DashboardName"]))] = json.loads(
                resolver.resolve(props["DashboardBody"])
            )
    return out


def alarm_states(
    template: dict[str, Any], stack_name: str, store: MetricStore, start: float, end: float
) -> tuple[dict[str, str], dict[str, str]]:
    """Each alarm's state at the end of the recording (evaluated every minute from OK), and for
    those that were in ALARM meanwhile, when (minutes since the recording started)."""
    alarms = load_alarms(template, TemplateResolver(template, stack_name=stack_name))
    evaluator = Evaluator(alarms, store, initial_state="OK")
    # up to the minute after the last sample, so the last recorded minute is evaluated too
    evaluator.run(int(start // STEP + 1) * STEP, int(end) + STEP, STEP)
    changes: dict[str, list[tuple[float, str]]] = {}
    for tr in evaluator.transitions:
        changes.setdefault(tr.alarm, []).append((round((tr.time - start) / 60, 1), tr.new))
    notes = {}
    for name, states in changes.items():
        bands = alarm_bands(states, round((end + STEP - start) / 60, 1))
        if bands:
            notes[name] = "ALARM " + ", ".join(f"{a:g}–{b:g} min" for a, b in bands)
    return dict(evaluator.states), notes


def write_previews(
    template: dict[str, Any],
    stack_name: str,
    store: MetricStore,
    span: tuple[float, float],
    out_dir: Path,
    source: str,
) -> list[Path]:
    """One self-contained HTML page per dashboard in `out_dir`; returns the paths."""
    start, end = span
    states, notes = alarm_states(template, stack_name, store, start, end)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, body in sorted(dashboards(template, stack_name).items()):
        count = len(body.get("widgets", []))
        note = f'<p class="muted">Preview of {name} with {source}; not deployed. {count} widgets.</p>'
        html = page(
            f"Dashboard preview: {name}",
            [note, render_dashboard(body, store, start, end, states, notes)],
            CSS,
        )
        path = out_dir / f"{name}.html"
        path.write_text(html, encoding="utf-8")
        paths.append(path)
    return paths
