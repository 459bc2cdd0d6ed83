"""`byoip dlq sample`: peek at DLQ (or quarantine) messages without deleting them, with reasons."""

from __future__ import annotations

import json
from collections import Counter
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from automation import clients
from automation.arns import BadArn, parse_queue_arn
from automation.output import console, fail
from automation.queues import queue_url, queue_url_by_name
from automation.scripts.guarded_redrive import classify, redrive_count
from automation.stage import stage_config
from contract.names import DLQ

app = typer.Typer(help="Look into the DLQ without changing it.", no_args_is_help=True)

DEFAULT_BUDGET = 3  # the GuardedRedrive document's RedriveBudget default


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
    try:
        body = json.loads(message.get("Body", ""))
    except (ValueError, RecursionError):  # classify() names it json_invalid
        body = {}
    body = body if isinstance(body, dict) else {}
    marked = message.get("MessageAttributes", {}).get("reason", {}).get("StringValue", "")
    return {
        "class": classify(message, budget),
        "reason": marked or "-",
        "jobId": str(body.get("jobId", "-")),
        "agentId": str(body.get("agentId", "-")),
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
    table = Table(title=f"{name}: {len(rows)} message(s) peeked, none deleted")
    for column in rows[0]:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*(escape(value) for value in row.values()))
    console.print(table)
    console.print("by class: " + tally(rows))
