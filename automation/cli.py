"""`byoip`: the on-call CLI (redrive, dlq, token, runbook, triage) plus the alarms and sandbox apps."""

from __future__ import annotations

import typer

from automation.commands import dlq, redrive, runbook, token, triage
from monitoring.evaluator.cli import app as alarms_app
from sandbox import cli as sandbox_cli

app = typer.Typer(
    help="BYO-IP on-call tools. AWS commands take --region (default: AWS_REGION).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.command("redrive")(redrive.redrive)
app.command("token")(token.token)
app.command("triage")(triage.triage)
app.add_typer(dlq.app, name="dlq")
app.add_typer(runbook.app, name="runbook")
app.add_typer(alarms_app, name="alarms")
app.add_typer(sandbox_cli.app, name="sandbox")
# The sandbox owns `byoip gameday`; it adds it to the root app itself when it offers one.
if hasattr(sandbox_cli, "register"):
    sandbox_cli.register(app)


def main() -> None:
    """Console-script entry point (`byoip`)."""
    app()
