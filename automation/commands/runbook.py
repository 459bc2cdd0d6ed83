"""`byoip runbook render`: the stage's runbook as Markdown, to a file or stdout."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from automation import clients
from automation.output import console, errors, fail
from automation.stage import stage_config
from contract.names import Names
from runbooks.render import render_migration, render_runbook

app = typer.Typer(help="The triage runbook, rendered per stage.", no_args_is_help=True)

ACCOUNT_PLACEHOLDER = "<account>"
# --runbook -> where it goes under an --out directory
RUNBOOKS: dict[str, Callable[[Names], str]] = {
    "triage": lambda names: names.runbook_path,
    "migration": lambda names: names.migration_runbook_path,
}


@app.command("render")
def render(
    stage: Annotated[str, typer.Option("--stage", help="Stage to render (prod, staging, ...).")],
    region: Annotated[str | None, typer.Option("--region", help="AWS region (default: AWS_REGION).")] = None,
    account: Annotated[
        str | None, typer.Option("--account", help="12-digit AWS account id for ARNs and links.")
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Write here instead of stdout. A path ending in .md is the file; any other path "
            "is a directory (created if needed) that gets <dir>/<stage>/runbook.md, the layout "
            "RUNBOOK_BASE_URL links expect.",
        ),
    ] = None,
    which: Annotated[
        str,
        typer.Option(
            "--runbook",
            help="triage (the on-call runbook, <stage>/runbook.md) or migration (the cut-over from the "
            "original stack, <stage>/migration.md).",
        ),
    ] = "triage",
) -> None:
    """Render runbooks/templates for one stage with its real names and console links."""
    config = stage_config(stage)
    if which not in RUNBOOKS:
        fail(f"invalid --runbook {which!r}: allowed values are {' | '.join(RUNBOOKS)}")
    chosen = clients.region_or_fail(region)
    if account is not None and not (account.isdigit() and len(account) == 12):
        fail(f"--account {account!r} is not a 12-digit AWS account id")
    renderer = render_migration if which == "migration" else render_runbook
    markdown = renderer(config, region=chosen, account=account or ACCOUNT_PLACEHOLDER)
    if out is None:
        sys.stdout.write(markdown)
        _note_placeholder(account)
        return
    if out.suffix.lower() != ".md":
        # A directory, existing or not (`make synth` passes a fresh cdk.out/runbooks).
        out = out / RUNBOOKS[which](config.names)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(markdown, encoding="utf-8")
    except OSError as err:
        fail(f"cannot write --out {out}: {err.strerror or err} ({err.filename})")
    console.print(f"wrote {out} ({len(markdown.encode())} bytes)", markup=False)
    _note_placeholder(account)


def _note_placeholder(account: str | None) -> None:
    if account is None:
        errors.print(f"note: no --account given; ARNs show {ACCOUNT_PLACEHOLDER}", markup=False)
