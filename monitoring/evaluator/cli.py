"""`byoip alarms …`: run alarm test files against the synthesized template."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, NoReturn

import typer

from contract.config import Config, ConfigError
from monitoring.evaluator.model import EvaluatorError
from monitoring.evaluator.runner import Runner, TestResult
from monitoring.evaluator.series import format_duration
from monitoring.evaluator.templates import REPO, cached_template, file_template

app = typer.Typer(help="Offline CloudWatch alarm evaluation and alarm tests.", no_args_is_help=True)
DEFAULT_DIR = REPO / "monitoring" / "alarm_tests"
USAGE = 2


def _line(result: TestResult) -> str:
    test = result.test
    facts = [test.alert_mode, f"{result.emails} email{'s' if result.emails != 1 else ''}"]
    if result.detection is not None:
        facts.append(f"detection {format_duration(result.detection)}")
    status = "PASS" if result.ok else "FAIL"
    return f"{status} {Path(test.file).name} :: {test.name} ({', '.join(facts)})"


def _usage_error(message: str) -> NoReturn:
    """Bad flags or files: one line, exit 2 (exit 1 means alarm tests ran and failed)."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(USAGE)


@app.command("test")
def test_command(
    files: Annotated[
        list[Path] | None, typer.Argument(help="YAML test files (default: monitoring/alarm_tests/*.yaml).")
    ] = None,
    template: Annotated[
        Path | None,
        typer.Option(
            "--template",
            help="Use this synthesized template for every test instead of synthesizing "
            "(so give only tests of its stage and alert mode).",
        ),
    ] = None,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Print failures and the summary only.")
    ] = False,
    plot: Annotated[
        Path | None,
        typer.Option("--plot", help="Draw each failing test as DIR/<file>--<test>.html (SVG charts)."),
    ] = None,
) -> None:
    """Run alarm tests; exit 0 when all pass, 1 when any fails (expected vs actual), 2 on bad input."""
    paths = list(files or sorted(DEFAULT_DIR.glob("*.yaml")))
    if not paths:
        _usage_error(f"no alarm test files given and none in {DEFAULT_DIR}")
    missing = [str(path) for path in paths if not path.is_file()]
    if missing:
        _usage_error(f"no such alarm test file: {', '.join(missing)}")
    if plot is not None and plot.exists() and not plot.is_dir():
        _usage_error(f"invalid --plot {plot}: it exists and is not a directory")
    if template is not None:
        try:
            loaded = file_template(template)
        except EvaluatorError as exc:
            _usage_error(str(exc))
        runner = Runner(lambda _stage, _mode: loaded)
    else:
        runner = Runner(cached_template)
    try:
        results = runner.run_files(paths)
    except EvaluatorError as exc:  # a test file that does not parse: reported as a failed run
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    for result in results:
        if not (quiet and result.ok):
            typer.echo(_line(result))
        for failure in result.failures:
            typer.echo(f"    {failure}")
    failed = sum(1 for r in results if not r.ok)
    if plot is not None:
        _plot(results, plot)
    typer.echo(f"{len(results) - failed} passed, {failed} failed ({len(paths)} files)")
    raise typer.Exit(1 if failed else 0)


def _plot(results: list[TestResult], out_dir: Path) -> None:
    from monitoring.evaluator.plot import plot_result  # the pictures load only when asked for

    for result in results:
        if not result.ok and result.evaluator is not None:
            try:
                typer.echo(f"plot: {plot_result(result, result.evaluator, out_dir)}")
            except OSError as err:
                _usage_error(f"cannot write --plot {out_dir}: {err.strerror or err}")


@app.command("list")
def list_command(
    stage: Annotated[str, typer.Option(help="Stage to synthesize.")] = "prod",
    alert_mode: Annotated[str, typer.Option(help="composite | all")] = "composite",
) -> None:
    """List the alarms of the synthesized template with what they read and whom they notify."""
    try:
        Config(stage=stage, alert_mode=alert_mode)  # bad flags: exit 2 before a synth
    except ConfigError as exc:
        _usage_error(str(exc))
    runner = Runner(cached_template)
    try:
        alarms = runner.alarm_set(stage, alert_mode)
    except EvaluatorError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    for alarm in alarms.metric_alarms.values():
        reads = ", ".join(str(m) for m in alarm.metrics)
        typer.echo(
            f"{alarm.name}: {alarm.comparison} {alarm.threshold:g} over {alarm.period}s, "
            f"{alarm.datapoints_to_alarm} of {alarm.evaluation_periods}, missing={alarm.treat_missing_data}; "
            f"reads {reads}; ALARM -> {len(alarm.alarm_actions)} action(s), OK -> {len(alarm.ok_actions)}"
        )
    for composite in alarms.composites.values():
        typer.echo(
            f"{composite.name}: {composite.rule_text}; ALARM -> {len(composite.alarm_actions)} action(s)"
        )
