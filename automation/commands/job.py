"""`byoip job show JOB_ID --stage S`: one job's story (item, transitions, log lines across functions)."""

from __future__ import annotations

import os
import re
import time
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.table import Table

from automation import clients
from automation.job_story import (
    VIAS,
    JobStory,
    LogSearch,
    QueryTimeout,
    existing_log_groups,
    find_job,
    log_groups,
    read_lines,
    story_query,
    transitions,
)
from automation.output import REFUSED, console, fail
from automation.stage import stage_config
from contract import console as links
from lambdas.common.protocol import ID_RULE, is_id
from monitoring.queries import JOB_STORY

_clock = time.time  # tests pin it
MAX_SINCE_SECONDS = 30 * 86400  # the log groups' retention bounds what there is to read anyway
_SINCE = re.compile(r"\A(\d+)([mhd])\Z")
_UNIT = {"m": 60, "h": 3600, "d": 86400}
# Where the sandbox points boto3 (sandbox/moto_server.py): its moto runs no Insights filter.
_LOCAL_ENDPOINT = "AWS_ENDPOINT_URL"

app = typer.Typer(help="One job: its item, its transitions and its log lines.", no_args_is_help=True)


def since_seconds(text: str) -> int:
    """`90m`, `24h`, `7d` in seconds (at most 30 days); a bad value is a one-line error."""
    match = _SINCE.match(text)
    seconds = int(match.group(1)) * _UNIT[match.group(2)] if match else 0
    if not 0 < seconds <= MAX_SINCE_SECONDS:
        fail(f"--since {text!r} must be a duration like 90m, 24h or 7d (at most 30d)")
    return seconds


def default_via() -> str:
    """`filter` against a local endpoint (the sandbox's moto), `insights` against AWS."""
    return "filter" if os.environ.get(_LOCAL_ENDPOINT) else "insights"


@app.command("show")
def show(
    job_id: Annotated[str, typer.Argument(help="The job's id.")],
    stage: Annotated[str, typer.Option("--stage", help="Stage (prod, staging, ...).")],
    region: Annotated[str | None, typer.Option("--region", help="AWS region (default: AWS_REGION).")] = None,
    since: Annotated[str, typer.Option("--since", help="How far back to read logs: 90m, 24h, 7d.")] = "24h",
    via: Annotated[
        str | None,
        typer.Option(
            "--via",
            help="insights (Logs Insights) or filter (FilterLogEvents); default: insights, filter locally.",
        ),
    ] = None,
    wait: Annotated[
        int, typer.Option("--wait", help="Seconds to wait for Logs Insights.", min=1, max=300)
    ] = 60,
) -> None:
    """The job item, its state transitions and its log lines across the functions, oldest first."""
    if not is_id(job_id):
        fail(f"job id {job_id!r} is not an id ({ID_RULE})")
    if via is not None and via not in VIAS:
        fail(f"--via {via!r} must be one of: {', '.join(VIAS)}")
    span = since_seconds(since)
    names = stage_config(stage).names
    chosen = clients.region_or_fail(region)
    item = find_job(clients.client("dynamodb", chosen), names, job_id)
    if item is None:
        fail(f"no job {job_id} in {names.table('jobs')} (stage {stage}, {chosen})", REFUSED)
    trace_id = str(item.get("traceId") or job_id)
    logs = clients.client("logs", chosen)
    groups = existing_log_groups(logs, names)
    end_ms = int(_clock() * 1000)
    start_ms = end_ms - span * 1000
    way = via or default_via()
    story = JobStory(item, transitions(item))
    try:
        search = LogSearch(groups, job_id, trace_id, start_ms, end_ms)
        story.lines, story.truncated = read_lines(logs, search, via=way, wait_seconds=wait)
    except QueryTimeout as err:
        fail(f"{err}; try again with --wait or a shorter --since", REFUSED)
    print_story(story, job_id, trace_id, stage, way, since)
    link = links.logs_insights(
        chosen, list(log_groups(names)), story_query(job_id, trace_id), last_seconds=span
    )
    console.print(f"console: {link}", markup=False)
    console.print(f"saved query: {names.query(JOB_STORY.slug)} (replace JOB_ID)", markup=False)


def _at(epoch_s: float) -> str:
    return datetime.fromtimestamp(epoch_s, UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def _at_ms(epoch_ms: int) -> str:
    return datetime.fromtimestamp(epoch_ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S.%fZ")[:-4] + "Z"


def print_story(story: JobStory, job_id: str, trace_id: str, stage: str, way: str, since: str) -> None:
    """The item, its transitions and the log lines."""
    item = story.item
    console.print(
        f"job {job_id} (stage {stage}): {item.get('status', '?')}, attempt {item.get('attempt', 1)},"
        f" creator {item.get('creatorId', '?')}, agent {item.get('agentId', '?')},"
        f" kind {item.get('kind', '?')}, traceId {trace_id}",
        markup=False,
    )
    table = Table("attribute", "value", title="item")
    for key in sorted(item):
        table.add_row(key, str(item[key]))
    console.print(table)
    console.print("transitions (from the item):", markup=False)
    for epoch, what in story.transitions:
        console.print(f"  {_at(epoch)}  {what}", markup=False)
    how = "Logs Insights" if way == "insights" else "FilterLogEvents"
    console.print(
        f"log lines ({how}, every function's log group, last {since}, jobId {job_id} or"
        f" correlation_id {trace_id}): {len(story.lines)}",
        markup=False,
    )
    for line in story.lines:
        level = f"{line.level} " if line.level not in ("", "INFO") else ""  # warnings and errors stand out
        console.print(
            f"  {_at_ms(line.timestamp_ms)}  {line.function:<15} {level}{line.message}", markup=False
        )
    if story.truncated:
        console.print("  (more lines than shown: narrow --since)", markup=False)
