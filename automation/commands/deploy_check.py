"""`byoip deploy-check`: refuse a change set that replaces or deletes a stateful resource."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from automation import clients
from automation.change_set import BadChangeSet, dangerous_ids, refusals, resource_changes
from automation.output import REFUSED, console, errors, fail
from automation.stage import stage_config

# Exit code for an empty change set: `make deploy` then stops without executing anything.
NOTHING_TO_DEPLOY = 3
_NO_CHANGES = ("didn't contain changes", "No updates are to be performed")


def deploy_check(
    change_set: Annotated[
        str,
        typer.Option(
            "--change-set",
            help="A describe-change-set JSON file (*.json), or the name of a change set on the stack.",
        ),
    ],
    allow_replace: Annotated[
        list[str] | None,
        typer.Option("--allow-replace", help="Logical id allowed to be replaced or deleted (repeatable)."),
    ] = None,
    stage: Annotated[
        str | None, typer.Option("--stage", help="With a change set name: the stage whose stack it is on.")
    ] = None,
    stack_name: Annotated[
        str | None, typer.Option("--stack-name", help="With a change set name: its stack (not --stage).")
    ] = None,
    region: Annotated[str | None, typer.Option("--region", help="AWS region (default: AWS_REGION).")] = None,
) -> None:
    """Exit 1, one line per resource, if a stateful resource would be replaced or deleted."""
    allowed = {item.strip() for item in allow_replace or []}
    answer = _load(change_set, stage, stack_name, region)
    try:
        changes = resource_changes(answer)
        refused = refusals(answer, allowed)
        dangerous = dangerous_ids(answer)
    except BadChangeSet as err:
        fail(f"--change-set {change_set}: {err}")
    for logical_id in sorted(allowed & dangerous):
        console.print(f"allowed: {logical_id} (--allow-replace)", markup=False)
    for logical_id in sorted(allowed - dangerous):
        errors.print(f"note: --allow-replace {logical_id} matches no replacement or deletion", markup=False)
    if refused:
        for refusal in refused:
            errors.print(refusal.line(), markup=False)
        fail(
            f"refusing to deploy: {len(refused)} stateful resource(s) would be replaced or deleted; "
            "if that is intended, name each with --allow-replace <LogicalId> (make deploy ALLOW_REPLACE=…)",
            REFUSED,
        )
    console.print(
        f"ok: {len(changes)} resource change(s), no stateful resource replaced or deleted"
        + (f" except {len(allowed & dangerous)} allowed" if allowed & dangerous else ""),
        markup=False,
    )


def _load(change_set: str, stage: str | None, stack_name: str | None, region: str | None) -> Any:
    path = Path(change_set)
    if change_set.endswith(".json") or path.exists():
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except OSError as err:
            fail(f"cannot read --change-set {change_set}: {err.strerror or err}")
        except json.JSONDecodeError as err:
            fail(f"--change-set {change_set} is not JSON ({err.msg} at line {err.lineno})")
    if (stage is None) == (stack_name is None):
        fail("a change set given by name needs its stack: pass exactly one of --stage or --stack-name")
    stack = stack_name or stage_config(stage or "").stack_name
    return describe(clients.client("cloudformation", clients.region_or_fail(region)), stack, change_set)


def describe(cloudformation: Any, stack: str, name: str) -> list[dict[str, Any]]:
    """Every page of DescribeChangeSet; a failed change set is refused with its reason."""
    pages: list[dict[str, Any]] = []
    token: str | None = None
    while True:
        kwargs = {"StackName": stack, "ChangeSetName": name, **({"NextToken": token} if token else {})}
        page = cloudformation.describe_change_set(**kwargs)
        if page.get("Status") == "FAILED":
            reason = page.get("StatusReason", "")
            if any(marker in reason for marker in _NO_CHANGES):
                console.print(f"nothing to deploy: change set {name} on {stack} is empty", markup=False)
                raise typer.Exit(NOTHING_TO_DEPLOY)
            fail(f"change set {name} on {stack} FAILED: {reason or 'no reason given'}", REFUSED)
        pages.append(page)
        token = page.get("NextToken")
        if not token:
            return pages
