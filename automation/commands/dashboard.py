"""`byoip dashboard preview`: the stage's synthesized dashboards as HTML, drawn with recorded metrics."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from automation.output import REFUSED, console, fail
from automation.stage import stage_config
from contract.config import Config, ConfigError
from monitoring.evaluator.model import EvaluatorError
from monitoring.evaluator.templates import cached_template, file_template
from monitoring.pictures.preview import write_previews
from monitoring.pictures.recorded import load_recording

app = typer.Typer(help="Dashboards, drawn locally.", no_args_is_help=True)
RECORDINGS = Path("reports")
PATTERN = "gameday-*-metrics.json"


def newest_recording(folder: Path = RECORDINGS) -> Path | None:
    """The newest game day's metrics file (`make run` and `byoip gameday` write one)."""
    found = sorted(folder.glob(PATTERN), key=lambda p: p.stat().st_mtime)
    return found[-1] if found else None


@app.command("preview")
def preview(
    stage: Annotated[str, typer.Option("--stage", help="Stage whose template is synthesized.")],
    out: Annotated[Path, typer.Option("--out", help="Directory for <DashboardName>.html.")] = Path(
        "reports/dashboards"
    ),
    metrics: Annotated[
        Path | None,
        typer.Option("--metrics", help=f"Recorded metrics (default: the newest {RECORDINGS}/{PATTERN})."),
    ] = None,
    alert_mode: Annotated[str, typer.Option("--alert-mode", help="composite | all")] = "composite",
    template: Annotated[
        Path | None, typer.Option("--template", help="A synthesized template instead of synthesizing.")
    ] = None,
) -> None:
    """Draw BYOIP-Ops-<stage> and ByoIpRunner-<stage> as they would look, without deploying."""
    config = stage_config(stage)
    try:
        config = Config(stage=config.stage, alert_mode=alert_mode)
    except ConfigError as err:
        fail(str(err))
    source = metrics or newest_recording()
    if source is None:
        fail(
            f"no recorded metrics in {RECORDINGS}/: run `make run` (or `byoip gameday …`) "
            "or give --metrics FILE"
        )
    if not source.is_file():
        fail(f"no such --metrics file: {source}")
    try:
        store, start, end = load_recording(source, config.stage)
        loaded = file_template(template) if template else cached_template(config.stage, config.alert_mode)
    except EvaluatorError as exc:
        fail(str(exc))
    try:
        paths = write_previews(loaded, config.stack_name, store, (start, end), out, source.name)
    except OSError as err:
        fail(f"cannot write --out {out}: {err.strerror or err}", REFUSED)
    if not paths:
        fail("the template has no AWS::CloudWatch::Dashboard", REFUSED)
    for path in paths:
        console.print(f"wrote {path}", markup=False)
