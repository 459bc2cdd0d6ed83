"""`byoip`: the on-call CLI (redrive, dlq, token, runbook, triage) plus the alarms and sandbox apps."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import NoReturn

import typer
from botocore.exceptions import BotoCoreError, ClientError

from automation.commands import dlq, redrive, runbook, token, triage
from automation.errors import aws_error, usage_error
from automation.output import USAGE, errors
from monitoring.evaluator.cli import app as alarms_app
from sandbox import cli as sandbox_cli

INTERRUPTED = 130  # the shell's code for SIGINT

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


def _error(message: str) -> None:
    errors.print(f"error: {message}", markup=False)


def run(args: Sequence[str]) -> int:
    """Run one command line; every failure becomes one line on stderr and an exit code.

    2: bad usage or local setup (flags, credentials, region); 1: AWS or the operation refused;
    130: interrupted. Click's own messages are kept, without the boxed usage panel.
    """
    command = typer.main.get_command(app)
    try:
        result = command.main(args=list(args), prog_name="byoip", standalone_mode=False)
    except typer.TyperException as err:  # typer's vendored click: usage errors and the like
        if type(err).__name__ == "NoArgsIsHelpError":
            # A bare group (`byoip`, `byoip dlq`): typer already printed its help.
            return USAGE
        _error(usage_error(err))
        return err.exit_code
    except typer.Abort:
        errors.print("interrupted", markup=False)
        return INTERRUPTED
    except (ClientError, BotoCoreError) as err:
        message, code = aws_error(err)
        _error(message)
        return code
    if result == INTERRUPTED:  # typer turns KeyboardInterrupt into Exit(130)
        errors.print("interrupted", markup=False)
    return result if isinstance(result, int) else 0


def main(args: Sequence[str] | None = None) -> NoReturn:
    """Console-script entry point (`byoip`)."""
    sys.exit(run(sys.argv[1:] if args is None else args))
