"""`byoip dlq sample`: peek at DLQ or quarantine messages, with reasons; `byoip dlq replay`: move some."""

from __future__ import annotations

from collections import Counter
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from automation import clients
from automation.arns import BadArn, parse_queue_arn
from automation.dlq_tools import DEFAULT_BUDGET, REASONS, Filters, job_fields, marked_reason, replay
from automation.output import REFUSED, console, fail
from automation.queues import queue_url, queue_url_by_name
from automation.scripts.guarded_redrive import GUARD_ALARM_ID, LIMITS, alarm_state, classify, redrive_count
from automation.stage import stage_config
from contract.names import DLQ, JOBS, QUARANTINE, QUEUES
from lambdas.common.protocol import ID_RULE, is_id

app = typer.Typer(help="Look into the DLQ, or replay chosen messages from it.", no_args_is_help=True)


def peek(sqs: Any, url: str, count: int) -> list[dict[str, Any]]:
    """Receive up to `count` messages and make them visible again at once (nothing deleted)."""
    messages = sqs.receive_message(
        QueueUrl=url,
        MaxNumberOfMessages=count,
        MessageAttributeNames=["All"],
        AttributeNames=["All"],
        VisibilityTimeout=0,  # a peek: the messages stay available to redrives and other readers
    ).get("Messages", [])
    return messages


def describe(message: dict[str, Any], budget: int = DEFAULT_BUDGET) -> dict[str, str]:
    """One message as a table row: its class, the dispatcher's reason, ids and a body excerpt."""
    job = job_fields(message)
    return {
        "class": classify(message, budget),
        "reason": marked_reason(message) or "-",
        "jobId": job["jobId"] or "-",
        "agentId": job["agentId"] or "-",
        "redrives": str(redrive_count(message)),
        "receives": message.get("Attributes", {}).get("ApproximateReceiveCount", "-"),
        "body": message.get("Body", "")[:60],
    }


def refuse_source_queue(sqs: Any, name: str, url: str) -> None:
    """A peek counts as a receive: on a queue with a redrive policy it pushes messages toward its DLQ."""
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["RedrivePolicy"]).get(
        "Attributes", {}
    )
    if attributes.get("RedrivePolicy"):
        fail(
            f"{name} has a redrive policy: peeking would count as a receive and move messages "
            "toward its DLQ; sample its DLQ or the quarantine queue instead"
        )


def tally(rows: list[dict[str, str]], column: str = "class") -> str:
    """`key=count, ...` of one column over sampled rows (sorted; "-" means no value, skipped)."""
    counts = Counter(row[column] for row in rows if row[column] != "-")
    return ", ".join(f"{key}={value}" for key, value in sorted(counts.items()))


@app.command("sample")
def sample(
    stage: Annotated[str | None, typer.Option("--stage", help="Stage whose DLQ to read.")] = None,
    queue_arn: Annotated[
        str | None, typer.Option("--queue-arn", help="Any queue instead (e.g. quarantine).")
    ] = None,
    region: Annotated[str | None, typer.Option("--region", help="AWS region (default: AWS_REGION).")] = None,
    count: Annotated[int, typer.Option("--count", help="How many messages to peek, 1-10.")] = 5,
) -> None:
    """Peek at a few messages (nothing deleted) and classify each: poison pill or transient."""
    if not 1 <= count <= 10:
        fail(f"--count {count} is outside 1-10 (SQS returns at most 10 messages per receive)")
    if (stage is None) == (queue_arn is None):
        fail("name exactly one queue: --stage <stage> (its DLQ) or --queue-arn <arn>")
    chosen = clients.region_or_fail(region)
    sqs = clients.client("sqs", chosen)
    if queue_arn is not None:
        try:
            queue = parse_queue_arn(queue_arn, flag="--queue-arn")
        except BadArn as err:
            fail(str(err))
        name, url = queue.name, queue_url(sqs, queue)
        refuse_source_queue(sqs, name, url)
    else:
        name = stage_config(stage or "").names.queue(DLQ)
        url = queue_url_by_name(sqs, name, chosen)
    rows = [describe(message) for message in peek(sqs, url, count)]
    if not rows:
        console.print(f"{name}: no visible messages")
        return
    print_rows(rows, f"{name}: {len(rows)} message(s) peeked, none deleted")
    console.print("by class: " + tally(rows))


RATE_LOW, RATE_HIGH = LIMITS["max_per_second"]
MAX_LOW, MAX_HIGH = LIMITS["max_messages"]
_Many = list[str] | None


def parse_rate(text: str) -> int:
    """`N/s` (or `N`) as messages per second, within GuardedRedrive's range; else one error line."""
    number = text.strip().removesuffix("/s")
    if not (number.isascii() and number.isdigit()) or not RATE_LOW <= int(number) <= RATE_HIGH:
        fail(f"--rate {text!r} is not a rate of {RATE_LOW}-{RATE_HIGH} messages per second (e.g. 10/s)")
    return int(number)


def filters_from(
    reason: _Many = None,
    creator: _Many = None,
    job_id: _Many = None,
    kind: _Many = None,
    exclude_kind: _Many = None,
    everything: bool = False,
) -> Filters:
    """The command line's filters, checked: ids are ids, reasons are known, some filter or --all."""
    for flag, values in (
        ("--creator", creator),
        ("--job-id", job_id),
        ("--kind", kind),
        ("--exclude-kind", exclude_kind),
    ):
        for value in values or ():
            if not is_id(value):
                fail(f"{flag} {value!r} is not an id ({ID_RULE})")
    for value in reason or ():
        if value not in REASONS:
            fail(f"--reason {value!r} is not a reason; one of: {', '.join(REASONS)}")
    chosen = Filters(
        tuple(reason or ()),
        tuple(creator or ()),
        tuple(job_id or ()),
        tuple(kind or ()),
        tuple(exclude_kind or ()),
        everything,
    )
    if everything and chosen.selective():
        fail("--all takes every message: give filters or --all, not both")
    if not (everything or chosen.selective()):
        fail("name the messages: at least one of --reason, --creator, --job-id, --kind (or --all)")
    return chosen


def stage_queues(sqs: Any, stage: str, region: str) -> dict[str, tuple[str, str]]:
    """The stage's jobs queue, DLQ and quarantine as {suffix: (name, url)}."""
    names = stage_config(stage).names
    return {
        suffix: (names.queue(suffix), queue_url_by_name(sqs, names.queue(suffix), region))
        for suffix in QUEUES
    }


Reason = Annotated[_Many, typer.Option("--reason", help="Dispatcher reason or class (repeatable).")]
Creator = Annotated[_Many, typer.Option("--creator", help="The body's creatorId (repeatable).")]
JobId = Annotated[_Many, typer.Option("--job-id", help="The body's jobId (repeatable).")]
Kind = Annotated[_Many, typer.Option("--kind", help="The body's kind (repeatable).")]
ExcludeKind = Annotated[_Many, typer.Option("--exclude-kind", help="Leave this kind alone (repeatable).")]
Everything = Annotated[bool, typer.Option("--all", help="Every message (instead of filters).", metavar="")]
Region = Annotated[str | None, typer.Option("--region", help="AWS region (default: AWS_REGION).")]


def print_rows(rows: list[dict[str, str]], title: str) -> None:
    if not rows:
        return
    table = Table(title=title)
    for column in rows[0]:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*(escape(value) for value in row.values()))
    console.print(table)


@app.command("replay")
def replay_command(
    stage: Annotated[str, typer.Option("--stage", help="Stage whose DLQ to replay.")],
    reason: Reason = None,
    creator: Creator = None,
    job_id: JobId = None,
    kind: Kind = None,
    exclude_kind: ExcludeKind = None,
    everything: Everything = False,
    rate: Annotated[
        str, typer.Option("--rate", help=f"Messages per second, {RATE_LOW}-{RATE_HIGH}/s.")
    ] = "10/s",
    max_messages: Annotated[
        int, typer.Option("--max", help=f"Most messages moved, {MAX_LOW}-{MAX_HIGH}.")
    ] = 100,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would move; move nothing.", metavar="")
    ] = False,
    force: Annotated[
        bool,
        typer.Option("--force", help="Replay while the dispatcher-errors alarm is in ALARM.", metavar=""),
    ] = False,
    region: Region = None,
) -> None:
    """Move only the DLQ messages matching every filter back to the jobs queue (poison pills: quarantine)."""
    per_second = parse_rate(rate)
    if not MAX_LOW <= max_messages <= MAX_HIGH:
        fail(f"--max {max_messages} is outside {MAX_LOW}-{MAX_HIGH}")
    filters = filters_from(reason, creator, job_id, kind, exclude_kind, everything)
    chosen = clients.region_or_fail(region)
    sqs = clients.client("sqs", chosen)
    queues = stage_queues(sqs, stage, chosen)
    guard = stage_config(stage).names.alarm(GUARD_ALARM_ID)
    if alarm_state(clients.client("cloudwatch", chosen), guard) == "ALARM" and not (force or dry_run):
        fail(
            f"{guard} is in ALARM: replayed jobs would fail again; wait for OK (GuardedRedrive waits "
            "too) or add --force",
            REFUSED,
        )
    report = replay(
        sqs,
        dlq_url=queues[DLQ][1],
        jobs_queue_url=queues[JOBS][1],
        quarantine_url=queues[QUARANTINE][1],
        filters=filters,
        max_messages=max_messages,
        max_per_second=per_second,
        dry_run=dry_run,
    )
    dlq_name = queues[DLQ][0]
    if dry_run:
        print_rows(report.plan, f"{dlq_name}: {report.matched} of {report.scanned} message(s) match")
        to_jobs = sum(row["to"] == "jobs" for row in report.plan)
        console.print(
            f"dry run: would move {to_jobs} to {queues[JOBS][0]} and {report.matched - to_jobs} to "
            f"{queues[QUARANTINE][0]}; nothing moved",
            markup=False,
        )
        return
    parked = ", ".join(f"{name}={n}" for name, n in sorted(report.quarantined.items()))
    console.print(
        f"{dlq_name}: scanned {report.scanned}, moved {report.redriven} to {queues[JOBS][0]}, "
        f"{sum(report.quarantined.values())} to {queues[QUARANTINE][0]}"
        + (f" ({parked})" if parked else "")
        + f"; {report.released} left in the DLQ, visible again",
        markup=False,
    )
    if report.status == "max_reached":
        console.print(f"stopped at --max {max_messages}: run again for the rest", markup=False)
    if report.status == "scan_limit":
        console.print("stopped at the scan limit: run again for the rest", markup=False)
    if report.status == "send_failed":
        fail(f"SendMessage failed, the message is still in the DLQ ({report.error})", REFUSED)
