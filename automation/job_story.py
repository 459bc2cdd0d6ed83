"""One job's story: what `byoip job show` reads (plain data, no printing).

The job item (JobsTable), the transitions its timestamps record, and every log line about the
job across the functions' log groups, oldest first. A line is about the job when its JSON keys
say so: `jobId` is the job's, or `correlation_id` is the job's `traceId` (docs/contracts.md
"Log lines"; a line has `correlation_id` only when it differs from the jobId, and every line about
the job has its `jobId`). Two ways to read the lines, both bounded in time and in work:

- `insights`: one Logs Insights query (StartQuery over every function's log group, then
  GetQueryResults polled every POLL_SECONDS for at most `wait_seconds`). Used against AWS.
- `filter`: FilterLogEvents on each log group with the same time bound and a JSON filter
  pattern, at most MAX_PAGES pages a group. Used against the sandbox, whose moto implements
  neither Insights' `filter` command nor JSON filter patterns (it returns every line in the
  time range); the keys are checked again here on every line, which makes both ways exact.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from automation.creator_status import plain_item
from contract.names import FUNCTIONS, Names
from monitoring.queries import job_story_query

MAX_LINES = 1_000  # per story: the query's `limit`, and where the filter way stops
MAX_PAGES = 20  # FilterLogEvents pages per log group
POLL_SECONDS = 1.0
VIAS = ("insights", "filter")


class QueryTimeout(Exception):
    """Logs Insights did not finish within the wait."""


@dataclass(frozen=True)
class LogLine:
    timestamp_ms: int
    function: str  # the function's short name (dispatcher-sqs, ws-message, ...)
    message: str  # the Powertools `message`, else the raw line
    level: str = ""


@dataclass(frozen=True)
class LogSearch:
    """What to read: the job's lines in `groups` (name -> function) between the bounds (epoch ms)."""

    groups: dict[str, str]
    job_id: str
    trace_id: str
    start_ms: int
    end_ms: int


@dataclass
class JobStory:
    item: dict[str, Any]
    transitions: list[tuple[int, str]]
    lines: list[LogLine] = field(default_factory=list)
    truncated: bool = False


def story_query(job_id: str, trace_id: str) -> str:
    """The Logs Insights query for one job (monitoring.queries: the saved query's text)."""
    return job_story_query(job_id, trace_id, limit=MAX_LINES)


def filter_pattern(job_id: str, trace_id: str) -> str:
    """The FilterLogEvents JSON pattern matching the same lines as story_query."""
    return f'{{ ($.jobId = "{job_id}") || ($.correlation_id = "{trace_id}") }}'


def find_job(dynamodb: Any, names: Names, job_id: str) -> dict[str, Any] | None:
    """The job's item (strongly consistent), or None."""
    found = dynamodb.get_item(
        TableName=names.table("jobs"), Key={"jobId": {"S": job_id}}, ConsistentRead=True
    )
    return plain_item(found["Item"]) if "Item" in found else None


def transitions(item: dict[str, Any]) -> list[tuple[int, str]]:
    """What the item's timestamps say happened, oldest first.

    The item keeps its current state only: the steps in between (held, assigned, re-queued)
    are in the log lines; these are the points the item itself dates.
    """
    status = item.get("status", "?")
    attempt = item.get("attempt", 1)
    reason = f", reason {item['reason']}" if item.get("reason") else ""
    steps: list[tuple[int, str]] = []
    if "createdAt" in item:
        steps.append((int(item["createdAt"]), "created (first held or assigned by the dispatcher)"))
    if "waitCountedAt" in item:
        steps.append((int(item["waitCountedAt"]), "counted late while held (lease-reaper)"))
    if "finishedAt" in item:
        steps.append((int(item["finishedAt"]), f"finished: {status} (attempt {attempt}{reason})"))
    elif "updatedAt" in item:
        steps.append((int(item["updatedAt"]), f"last change: {status} (attempt {attempt}{reason})"))
    if item.get("leaseState") == "active" and "leaseExpiresAt" in item:
        steps.append((int(item["leaseExpiresAt"]), f"lease expires (agent {item.get('agentId', '?')})"))
    return sorted(steps, key=lambda step: step[0])


def log_groups(names: Names) -> dict[str, str]:
    """Log group name -> function short name, for every function of the stage."""
    return {names.function_log_group(short): short for short in FUNCTIONS}


def existing_log_groups(logs: Any, names: Names) -> dict[str, str]:
    """log_groups() that exist (StartQuery refuses a missing group; a function that never ran
    has none): one DescribeLogGroups by the stage's function prefix."""
    wanted = log_groups(names)
    prefix = f"/aws/lambda/{names.prefix}-"
    found: set[str] = set()
    for page in logs.get_paginator("describe_log_groups").paginate(logGroupNamePrefix=prefix):
        found.update(group["logGroupName"] for group in page.get("logGroups", []))
    return {group: short for group, short in wanted.items() if group in found}


def _is_about(raw: str, job_id: str, trace_id: str) -> tuple[bool, str, str]:
    """Whether a raw log line is about the job; its message and level."""
    try:
        data = json.loads(raw)
    except ValueError:
        return False, raw, ""
    if not isinstance(data, dict):
        return False, raw, ""
    about = data.get("jobId") == job_id or data.get("correlation_id") == trace_id
    return about, str(data.get("message", raw)), str(data.get("level", ""))


def read_filter(logs: Any, search: LogSearch) -> tuple[list[LogLine], bool]:
    """FilterLogEvents over every group; (lines oldest first, truncated)."""
    lines: list[LogLine] = []
    truncated = False
    job_id, trace_id = search.job_id, search.trace_id
    for group, function in search.groups.items():
        request: dict[str, Any] = {
            "logGroupName": group,
            "startTime": search.start_ms,
            "endTime": search.end_ms,
            "filterPattern": filter_pattern(job_id, trace_id),
        }
        for page in range(MAX_PAGES):
            try:
                found = logs.filter_log_events(**request)
            except logs.exceptions.ResourceNotFoundException:
                break  # a function that never logged has no group yet
            for event in found.get("events", []):
                about, message, level = _is_about(event["message"], job_id, trace_id)
                if about:
                    lines.append(LogLine(int(event["timestamp"]), function, message, level))
            token = found.get("nextToken")
            if not token:
                break
            request["nextToken"] = token
            truncated = truncated or page == MAX_PAGES - 1
    lines.sort(key=lambda line: line.timestamp_ms)
    return lines[:MAX_LINES], truncated or len(lines) > MAX_LINES


def read_insights(
    logs: Any, search: LogSearch, *, wait_seconds: float, sleep: Callable[[float], None] = time.sleep
) -> tuple[list[LogLine], bool]:
    """One Logs Insights query over every group; (lines oldest first, truncated)."""
    job_id, trace_id, groups = search.job_id, search.trace_id, search.groups
    query_id = logs.start_query(
        logGroupNames=list(groups),
        startTime=search.start_ms // 1000,
        endTime=search.end_ms // 1000 + 1,
        queryString=story_query(job_id, trace_id),
        limit=MAX_LINES,
    )["queryId"]
    waited = 0.0
    while True:
        answer = logs.get_query_results(queryId=query_id)
        if answer["status"] in ("Complete", "Failed", "Cancelled", "Timeout"):
            break
        if waited >= wait_seconds:
            logs.stop_query(queryId=query_id)
            raise QueryTimeout(f"Logs Insights did not finish in {wait_seconds:g} s")
        sleep(POLL_SECONDS)
        waited += POLL_SECONDS
    if answer["status"] != "Complete":
        raise QueryTimeout(f"Logs Insights query {answer['status'].lower()}")
    lines = []
    for row in answer.get("results", []):
        fields = {f["field"]: f.get("value", "") for f in row}
        about, message, level = _is_about(fields.get("@message", ""), job_id, trace_id)
        if about:
            group = fields.get("@log", "").split(":", 1)[-1]  # `<account>:<group>`
            lines.append(
                LogLine(_insights_ms(fields.get("@timestamp", "")), groups.get(group, group), message, level)
            )
    lines.sort(key=lambda line: line.timestamp_ms)
    return lines, len(answer.get("results", [])) >= MAX_LINES


def _insights_ms(stamp: str) -> int:
    """Insights' `@timestamp` (`2026-12-07 18:53:01.123`, UTC; moto answers epoch ms) in epoch ms."""
    if stamp.isdigit():
        return int(stamp)
    return int(datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=UTC).timestamp() * 1000)


def read_lines(logs: Any, search: LogSearch, *, via: str, wait_seconds: float) -> tuple[list[LogLine], bool]:
    """The job's lines, `via` insights or filter."""
    if not search.groups:
        return [], False  # no function of the stage has logged yet
    if via == "insights":
        return read_insights(logs, search, wait_seconds=wait_seconds)
    return read_filter(logs, search)
