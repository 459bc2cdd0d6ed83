"""`byoip redrive`: the spec's redrive helper (StartMessageMoveTask), with checks and a progress bar."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from automation import clients
from automation.arns import BadArn, parse_queue_arn
from automation.commands.dlq import describe, peek, tally
from automation.output import REFUSED, console, fail
from automation.queues import depth, queue_url, require_source_of
from automation.scripts.guarded_redrive import TRANSIENT
from automation.scripts.redrive_dlq import (
    DEFAULT_RATE,
    MAX_RATE,
    MIN_RATE,
    RedriveRefused,
    start_redrive,
    wait_for_task,
)


def redrive(
    source_arn: Annotated[str, typer.Option("--source-arn", help="ARN of the DLQ to drain.")],
    destination_arn: Annotated[str, typer.Option("--destination-arn", help="ARN of the queue to refill.")],
    region: Annotated[str | None, typer.Option("--region", help="AWS region (default: AWS_REGION).")] = None,
    max_pps: Annotated[
        int, typer.Option("--max-pps", help=f"Messages per second, {MIN_RATE}-{MAX_RATE}.")
    ] = DEFAULT_RATE,
    wait: Annotated[
        bool, typer.Option("--wait/--no-wait", help="Wait for the move task and show progress.", metavar="")
    ] = False,
    yes: Annotated[
        bool, typer.Option("--yes", help="Confirm: actually start the move task.", metavar="")
    ] = False,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Check everything, show the plan, move nothing.", metavar=""),
    ] = False,
    poll_seconds: Annotated[float, typer.Option("--poll-seconds", hidden=True)] = 5.0,
    timeout_seconds: Annotated[
        float, typer.Option("--timeout-seconds", help="Give up waiting after this.")
    ] = 3600.0,
) -> None:
    """Move the DLQ's messages back to the destination queue (SQS StartMessageMoveTask)."""
    try:
        source = parse_queue_arn(source_arn, flag="--source-arn")
        destination = parse_queue_arn(destination_arn, flag="--destination-arn")
    except BadArn as err:
        fail(str(err))
    if not MIN_RATE <= max_pps <= MAX_RATE:
        fail(f"--max-pps {max_pps} is outside {MIN_RATE}-{MAX_RATE} messages per second")
    chosen = clients.region_or_fail(region)
    for queue, flag in ((source, "--source-arn"), (destination, "--destination-arn")):
        if queue.region != chosen:
            fail(f"{flag} is in {queue.region} but --region is {chosen}: use the queue's region")
    if source.arn == destination.arn:
        fail("--source-arn and --destination-arn are the same queue")
    if not (yes or dry_run):
        fail("refusing to start a redrive without confirmation: add --yes (or --dry-run to preview)")

    sqs = clients.client("sqs", chosen)
    source_url = queue_url(sqs, source)
    queue_url(sqs, destination)
    require_source_of(sqs, source, source_url, destination)
    count = depth(sqs, source_url)
    plan = (
        f"{count['visible']} visible (+{count['in_flight']} in flight) in {source.name} → {destination.name} "
        f"at ≤ {max_pps} msg/s"
    )
    if dry_run:
        console.print(f"dry run: would move {plan}; nothing started")
        console.print(sample_summary(sqs, source_url))
        return
    try:
        handle = start_redrive(
            sqs, source_arn=source.arn, destination_arn=destination.arn, max_per_second=max_pps
        )
    except RedriveRefused as err:
        fail(str(err), REFUSED)
    console.print(f"started move task: {plan}")
    if not wait:
        console.print(
            f"task handle: {handle}\ncheck it: aws sqs list-message-move-tasks --source-arn {source.arn}"
        )
        return
    report = _wait_with_progress(sqs, source.arn, handle, count["visible"], poll_seconds, timeout_seconds)
    console.print(
        f"{report['status']}: moved {report['moved']}, failed {report['failed']}"
        + (f" ({report['failureReason']})" if report.get("failureReason") else "")
    )
    if report["status"] != "COMPLETED":
        raise typer.Exit(REFUSED)


def sample_summary(sqs: Any, url: str) -> str:
    """Classes of up to 10 DLQ messages: poison pills would only fail again after a redrive."""
    rows = [describe(message) for message in peek(sqs, url, 10)]
    if not rows:
        return "sample: no visible messages"
    line = f"sample of {len(rows)}: {tally(rows)}"
    if any(row["class"] != TRANSIENT for row in rows):
        line += " (poison pills fail again after a redrive: fix or quarantine them first)"
    return line


def _wait_with_progress(sqs, source_arn, handle, expected, poll_seconds, timeout_seconds):  # type: ignore[no-untyped-def]
    with Progress(
        TextColumn("moving"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=not sys.stdout.isatty(),
    ) as progress:
        task = progress.add_task("redrive", total=max(expected, 1))

        def on_progress(report: dict) -> None:
            progress.update(task, completed=report["moved"], total=max(report["toMove"], report["moved"], 1))

        return wait_for_task(
            sqs,
            source_arn=source_arn,
            task_handle=handle,
            poll_seconds=poll_seconds,
            timeout_seconds=timeout_seconds,
            on_progress=on_progress,
        )
