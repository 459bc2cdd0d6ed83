"""The spec's three saved Logs Insights queries, scoped to the dispatcher log group."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import aws_logs as logs
from constructs import Construct

from stacks.config import Config


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


def query_name(config: Config, query: SavedQuery) -> str:
    """Saved query name; the `/` files them in a per-stage folder in the console."""
    return f"BYOIP-{config.stage}/{query.slug}"


def saved_queries(
    scope: Construct, *, config: Config, log_group: logs.ILogGroup
) -> list[logs.CfnQueryDefinition]:
    """One AWS::Logs::QueryDefinition per query (L1: the L2 QueryString reorders clauses)."""
    return [
        logs.CfnQueryDefinition(
            scope,
            f"Query{index}",
            name=query_name(config, query),
            query_string=query.query,
            log_group_names=[log_group.log_group_name],
        )
        for index, query in enumerate(QUERIES, start=1)
    ]
