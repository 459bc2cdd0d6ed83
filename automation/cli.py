"""`byoip`: the on-call CLI (redrive, dlq, token, runbook, triage, maintenance, alarms, patch) plus extras.

Extras (the sandbox's `byoip sandbox` and `byoip gameday`) plug in through the `byoip.cli`
entry-point group, so this module never imports them: the on-call tool runs against production
without moto or websockets installed, and an extra that is not installed answers one line.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from importlib.metadata import entry_points
from typing import NoReturn

import typer
from botocore.exceptions import BotoCoreError, ClientError

from automation.commands import (
    creator,
    dashboard,
    deploy_check,
    dlq,
    job,
    maintenance,
    migrate,
    patch,
    quarantine,
    redrive,
    revoke,
    rotate_key,
    runbook,
    token,
    triage,
)
from automation.errors import aws_error, usage_error
from automation.output import USAGE, errors
from contract.callers import CLI, Caller, acting_as
from monitoring.evaluator.cli import app as alarms_app

INTERRUPTED = 130  # the shell's code for SIGINT
COMPLETE_VAR = "_BYOIP_COMPLETE"  # click's shell-completion switch for prog_name "byoip"

app = typer.Typer(
    help="BYO-IP on-call tools. AWS commands take --region (default: AWS_REGION).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.command("redrive")(redrive.redrive)
app.command("token")(token.token)
app.command("revoke")(revoke.revoke)
app.command("rotate-key")(rotate_key.rotate_key)
app.command("triage")(triage.triage)
app.command("deploy-check")(deploy_check.deploy_check)
app.add_typer(dlq.app, name="dlq")
app.add_typer(quarantine.app, name="quarantine")
app.add_typer(maintenance.app, name="maintenance")
app.add_typer(runbook.app, name="runbook")
app.add_typer(migrate.app, name="migrate")
app.add_typer(dashboard.app, name="dashboard")
app.add_typer(patch.app, name="patch")
app.add_typer(creator.app, name="creator")
app.add_typer(job.app, name="job")
app.add_typer(alarms_app, name="alarms")
EXTRAS_GROUP = "byoip.cli"  # entry points: name = command, value = a Typer app or a command function
EXTRA_INSTALL = "pip install -e '.[sandbox]'"
# The AWS calls a command makes are the operator's, with their own credentials (contract/callers.py);
# an extra (the sandbox) is not an operator's command: its functions and documents name themselves.
OPERATOR = Caller(CLI, "operator")


def _unavailable(name: str, missing: str) -> Callable[..., None]:
    def command() -> None:
        _error(f"`byoip {name}` needs the sandbox extra ({missing} is not installed): {EXTRA_INSTALL}")
        raise typer.Exit(USAGE)

    return command


def mount_extras(root: typer.Typer) -> None:
    """Mount every installed extra's commands; one that cannot load says why when called."""
    for point in sorted(entry_points(group=EXTRAS_GROUP), key=lambda p: p.name):
        try:
            target = point.load()
        except ImportError as err:
            root.command(
                point.name,
                help=f"Unavailable: {err.name or err} is not installed ({EXTRA_INSTALL}).",
                context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
            )(_unavailable(point.name, err.name or str(err)))
            continue
        if isinstance(target, typer.Typer):
            root.add_typer(target, name=point.name)
        else:
            root.command(point.name)(target)


def _error(message: str) -> None:
    errors.print(f"error: {message}", markup=False)


mount_extras(app)


def run(args: Sequence[str]) -> int:
    """Run one command line; every failure becomes one line on stderr and an exit code.

    2: bad usage or local setup (flags, credentials, region); 1: AWS or the operation refused;
    130: interrupted. Click's own messages are kept, without the boxed usage panel.
    """
    command = typer.main.get_command(app)
    if COMPLETE_VAR in os.environ:  # shell completion: typer's own main handles the protocol
        return command.main(args=list(args), prog_name="byoip")
    try:
        # Not command.main(): it turns Ctrl-C into a bare Exit(130), indistinguishable from a
        # command that handled Ctrl-C itself (the sandbox prints its own line and exits 130).
        with command.make_context("byoip", list(args)) as ctx:
            if args and args[0] in {p.name for p in entry_points(group=EXTRAS_GROUP)}:
                command.invoke(ctx)
            else:
                with acting_as(OPERATOR):
                    command.invoke(ctx)
    except typer.Exit as done:  # --help, or a command's own exit code
        return done.exit_code
    except typer.TyperException as err:  # typer's vendored click: usage errors and the like
        if type(err).__name__ == "NoArgsIsHelpError":
            # A bare group (`byoip`, `byoip dlq`): typer already printed its help.
            return USAGE
        _error(usage_error(err))
        return err.exit_code
    except (KeyboardInterrupt, EOFError, typer.Abort):
        errors.print("interrupted", markup=False)
        return INTERRUPTED
    except (ClientError, BotoCoreError) as err:
        message, code = aws_error(err)
        _error(message)
        return code
    except BrokenPipeError:  # `byoip runbook render … | head`: the reader left; no traceback at exit
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    return 0


def main(args: Sequence[str] | None = None) -> NoReturn:
    """Console-script entry point (`byoip`)."""
    sys.exit(run(sys.argv[1:] if args is None else args))


if __name__ == "__main__":  # `python -m automation.cli ...` (a worktree's code, not the installed script's)
    main()
