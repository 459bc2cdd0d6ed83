"""`byoip migrate …`: the cut-over from the original stack to this one (docs/migration.md)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from automation import clients
from automation import migration as mig
from automation.output import REFUSED, console, errors, fail
from automation.queues import queue_url_by_name
from automation.stage import stage_config
from contract.names import DLQ, JOBS, ORIGINAL_STACK_NAME
from lambdas.common.tables import TABLE_NAMES

app = typer.Typer(help="Move an installation of the original stack over to this one.", no_args_is_help=True)

Region = Annotated[str | None, typer.Option("--region", help="AWS region (default: AWS_REGION).")]
Stage = Annotated[str, typer.Option("--stage", help="Stage of the new stack (its names are derived).")]
Yes = Annotated[bool, typer.Option("--yes", help="Confirm: actually change something.", metavar="")]
TABLES = {short: short for short in TABLE_NAMES}
QUEUES = {"jobs": JOBS, "jobs-dlq": DLQ}
BUCKETS = {"patches": "StorageAgentPatchesBucket", "logs": "StorageAgentLogsBucket"}


def _confirm(yes: bool, what: str) -> None:
    if not yes:
        fail(f"refusing to {what} without confirmation: add --yes")


def _choice(value: str, allowed: dict[str, str], flag: str) -> str:
    if value not in allowed:
        fail(f"invalid {flag} {value!r}: allowed values are {' | '.join(allowed)}")
    return allowed[value]


@app.command("inventory")
def inventory(
    old_stack: Annotated[str, typer.Option("--old-stack", help="The original stack.")] = ORIGINAL_STACK_NAME,
    region: Region = None,
) -> None:
    """`export OLD_…=…` lines for the runbook: the original's queues, tables, buckets, functions."""
    cfn = clients.client("cloudformation", clients.region_or_fail(region))
    found = mig.inventory(cfn, old_stack)
    for variable, value in found.variables.items():
        console.print(f"export {variable}={value}", markup=False)
    for variable in found.missing:
        errors.print(f"note: {variable}: no single match in {old_stack}; set it by hand", markup=False)
    for logical_id, cfn_type, physical in found.unmatched:
        note = f"note: {logical_id} ({cfn_type}) {physical}: not migrated, stays with {old_stack}"
        errors.print(note, markup=False)


@app.command("freeze")
def freeze(
    function: Annotated[str, typer.Option("--function", help="The original's dispatcher function.")],
    region: Region = None,
    yes: Yes = False,
) -> None:
    """Stop the original's dispatcher from consuming its queue (disable its SQS event source mappings)."""
    _confirm(yes, f"disable the SQS event sources of {function}")
    lam = clients.client("lambda", clients.region_or_fail(region))
    uuids = mig.freeze_consumer(lam, function)
    if not uuids:
        fail(f"{function} has no SQS event source mapping: is it the original's dispatcher?", REFUSED)
    console.print(f"frozen: {len(uuids)} SQS event source mapping(s) of {function} disabled", markup=False)


@app.command("jwt-key")
def jwt_key(
    stage: Stage,
    from_function: Annotated[
        str | None, typer.Option("--from-function", help="The original's ws-connect (WS_JWT_SECRET).")
    ] = None,
    from_secret_id: Annotated[
        str | None, typer.Option("--from-secret-id", help="Or the secret holding it.")
    ] = None,
    region: Region = None,
    yes: Yes = False,
) -> None:
    """Give the new stack the original's signing key, so the tokens agents hold stay valid."""
    config = stage_config(stage)
    if (from_function is None) == (from_secret_id is None):
        fail("give the original key exactly one way: --from-function or --from-secret-id")
    _confirm(yes, "replace the new stack's signing key")
    chosen = clients.region_or_fail(region)
    secrets = clients.client("secretsmanager", chosen)
    destination = config.names.jwt_secret
    try:
        key = mig.read_jwt_key(
            clients.client("lambda", chosen), secrets, function=from_function, secret_id=from_secret_id
        )
        changed = mig.copy_jwt_key(secrets, key=key, destination=destination)
    except mig.MigrationRefused as err:
        fail(str(err), REFUSED)
    state = "now holds" if changed else "already held"
    console.print(f"{destination}: {state} the original key", markup=False)


@app.command("table")
def table(
    stage: Stage,
    source: Annotated[str, typer.Option("--from", help="The original's table name.")],
    to: Annotated[str, typer.Option("--to", help="jobs | agents | creator-limits")],
    region: Region = None,
    yes: Yes = False,
    allow_active: Annotated[
        bool,
        typer.Option(
            "--allow-active",
            help="Copy jobs although some are assigned/running in the source (the new reaper re-queues "
            "them when their lease runs out, if they carry leaseState/leaseExpiresAt).",
            metavar="",
        ),
    ] = False,
) -> None:
    """Copy every item into the new table; items the new table already has are left as they are."""
    destination = stage_config(stage).names.table(_choice(to, TABLES, "--to"))
    _confirm(yes, f"copy {source} into {destination}")
    ddb = clients.client("dynamodb", clients.region_or_fail(region))
    old, new = mig.key_schema(ddb, source), mig.key_schema(ddb, destination)
    if old != new:
        fail(f"{source} is keyed {_keys(old)} but {destination} {_keys(new)}: copy refused", REFUSED)
    active = mig.count_active(ddb, source) if to == "jobs" else 0
    if active and not allow_active:
        fail(
            f"{active} job(s) still assigned/running in {source}: wait for their results and run again, "
            "or pass --allow-active to have them run again on the new stack",
            REFUSED,
        )
    copied = mig.copy_items(ddb, source=source, destination=destination)
    total = mig.count_items(ddb, destination)
    console.print(
        f"{source} -> {destination}: {copied.read} read, {copied.written} written, "
        f"{copied.present} already there"
        + (f", {copied.skipped} old connections skipped" if copied.skipped else "")
        + f"; {destination} holds {total}",
        markup=False,
    )


def _keys(schema: list[dict[str, str]]) -> str:
    return "+".join(f"{k['AttributeName']}({k['AttributeType']})" for k in schema)


@app.command("objects")
def objects(
    stage: Stage,
    source: Annotated[str, typer.Option("--from", help="The original's bucket name.")],
    to: Annotated[str, typer.Option("--to", help="patches | logs")],
    region: Region = None,
    yes: Yes = False,
) -> None:
    """Copy the current version of every object into the new stack's bucket (existing keys kept)."""
    config = stage_config(stage)
    prefix = _choice(to, BUCKETS, "--to")
    _confirm(yes, f"copy s3://{source} into the new {to} bucket")
    chosen = clients.region_or_fail(region)
    destination = _stack_bucket(clients.client("cloudformation", chosen), config.stack_name, prefix)
    copied = mig.copy_objects(clients.client("s3", chosen), source=source, destination=destination)
    console.print(
        f"s3://{source} -> s3://{destination}: {copied.written} copied, {copied.present} already there",
        markup=False,
    )


def _stack_bucket(cfn: Any, stack: str, prefix: str) -> str:
    for page in cfn.get_paginator("list_stack_resources").paginate(StackName=stack):
        for res in page["StackResourceSummaries"]:
            if res["ResourceType"] == "AWS::S3::Bucket" and res["LogicalResourceId"].startswith(prefix):
                return str(res["PhysicalResourceId"])
    fail(f"no {prefix} bucket in stack {stack}: deploy the new stack first", REFUSED)


@app.command("queue")
def queue(
    stage: Stage,
    source_url: Annotated[str, typer.Option("--from-url", help="The original's queue URL.")],
    to: Annotated[str, typer.Option("--to", help="jobs | jobs-dlq")] = "jobs",
    region: Region = None,
    yes: Yes = False,
) -> None:
    """Move every message (body and attributes) to the new queue; the source ends empty."""
    config = stage_config(stage)
    name = config.names.queue(_choice(to, QUEUES, "--to"))
    _confirm(yes, f"move the messages of {source_url} to {name}")
    chosen = clients.region_or_fail(region)
    sqs = clients.client("sqs", chosen)
    destination = queue_url_by_name(sqs, name, chosen)
    _visible, in_flight = mig.queue_depth(sqs, source_url)
    if in_flight:
        fail(
            f"{in_flight} message(s) in flight in the source: something still consumes it "
            "(freeze the original's dispatcher, then wait for its visibility timeout)",
            REFUSED,
        )
    try:
        moved = mig.move_messages(sqs, source_url=source_url, destination_url=destination)
    except mig.MigrationRefused as err:
        fail(str(err), REFUSED)
    left, left_in_flight = mig.queue_depth(sqs, source_url)
    console.print(
        f"moved {moved} message(s) to {name}; the source holds {left} (+{left_in_flight} in flight)",
        markup=False,
    )
    if left or left_in_flight:
        fail("the source is not empty yet (a producer still sends to it?): run the step again", REFUSED)
