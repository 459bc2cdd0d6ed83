"""The spec's three saved Logs Insights queries, and one job's story, as data (no CDK: the
runbooks render them too)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SavedQuery:
    slug: str
    title: str
    query: str


# Verbatim from the spec's "Useful CloudWatch Logs Insights Queries"; they match the
# dispatcher's `batch_item_failed jobId=<id> reason=<code> status=<http>` lines.
QUERIES: tuple[SavedQuery, ...] = (
    SavedQuery(
        "error-types-by-reason",
        "Error types breakdown",
        "fields @timestamp, @message\n"
        "| filter @message like /ERROR|Failed|status=/\n"
        "| parse @message /reason=(?<reason>\\w+)/\n"
        "| stats count() as c by reason\n"
        "| sort c desc",
    ),
    SavedQuery(
        "stale-connections-410",
        "Stale connections (410) over time",
        "fields @timestamp, @message\n| filter @message like /status=410/\n| stats count() as c by bin(5m)",
    ),
    SavedQuery(
        "partial-batch-failures-by-reason",
        "Partial-batch failures context",
        "fields @timestamp, @message, jobId, reason\n"
        "| filter @message like /batch_item_failed/\n"
        "| stats count() by reason, bin(1m)",
    ),
)


def job_story_query(job_id: str, trace_id: str, *, limit: int = 1000) -> str:
    """One job's log lines across every function, oldest first: its `jobId` key or its
    `correlation_id` (the job's traceId; docs/contracts.md "Log lines"). A line about a job without a
    traceId of its own has no `correlation_id`: its `jobId` finds it. Ids are id syntax."""
    return (
        "fields @timestamp, @log, @message\n"
        f'| filter jobId = "{job_id}" or correlation_id = "{trace_id}"\n'
        "| sort @timestamp asc\n"
        f"| limit {limit}"
    )


# Saved over every function's log group (`byoip job show` runs it with the ids filled in and
# prints a console link to it): replace JOB_ID with the job's id, or its traceId.
JOB_STORY = SavedQuery("job-story", "One job's story (replace JOB_ID)", job_story_query("JOB_ID", "JOB_ID"))
