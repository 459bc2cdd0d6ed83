"""The spec's three saved Logs Insights queries, as data (no CDK: the runbooks render them too)."""

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
