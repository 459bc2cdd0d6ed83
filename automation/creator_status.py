"""One creator on one screen: what `byoip creator status` reads (plain data, no printing).

Everything is read for the one creator asked about: its CreatorLimits item, its agent items
(`agent#<creatorId>#…`: ids never contain `#`, so the prefix names this creator's agents only),
its outcome window (`breaker#<creatorId>`) and the jobs held for it. Nothing of another creator
is read into the result.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from boto3.dynamodb.types import TypeDeserializer

from contract import console as links
from contract.names import Names
from lambdas.common import tables
from lambdas.common.breaker import BreakerPolicy, judge
from lambdas.common.clock import day_of
from monitoring.insights import RULES

_DESERIALIZER = TypeDeserializer()


def plain_item(item: dict[str, Any] | None) -> dict[str, Any]:
    out = {}
    for key, value in (item or {}).items():
        plain = _DESERIALIZER.deserialize(value)
        out[key] = int(plain) if hasattr(plain, "to_integral_value") and plain == int(plain) else plain
    return out


def _scan(dynamodb: Any, **kwargs: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    while True:
        page = dynamodb.scan(**kwargs)
        items.extend(plain_item(i) for i in page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


@dataclass
class CreatorStatus:
    creator_id: str
    limits: dict[str, Any]
    agents: list[dict[str, Any]]
    failures: int
    deliveries: int
    held_by_agent: dict[str, int] = field(default_factory=dict)
    held_by_reason: dict[str, int] = field(default_factory=dict)

    @property
    def held(self) -> int:
        return sum(self.held_by_agent.values())


def creator_status(dynamodb: Any, names: Names, creator_id: str, *, now: int) -> CreatorStatus:
    """Read one creator's limits, agents, outcome window and held jobs."""
    limits_table, agents_table = names.table(tables.CREATOR_LIMITS.short), names.table(tables.AGENTS.short)
    get = dynamodb.get_item
    limits_key = tables.key(tables.CREATOR_LIMITS, creator_id)
    limits = plain_item(get(TableName=limits_table, Key=limits_key, ConsistentRead=True).get("Item"))
    window_key = tables.key(tables.AGENTS, tables.breaker_pk(creator_id))
    window = plain_item(get(TableName=agents_table, Key=window_key).get("Item"))
    agents = _scan(
        dynamodb,
        TableName=agents_table,
        FilterExpression="begins_with(pk, :p)",
        ExpressionAttributeValues={":p": {"S": tables.creator_agents_prefix(creator_id)}},
    )
    held = _scan(
        dynamodb,
        TableName=names.table(tables.JOBS.short),
        IndexName=tables.BY_HELD_AGENT.name,
        FilterExpression="creatorId = :c AND #s = :held",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":c": {"S": creator_id}, ":held": {"S": "held"}},
    )
    verdict = judge(window, BreakerPolicy(), now=now, since=int(limits.get("breakerResetAt", 0)))
    return CreatorStatus(
        creator_id=creator_id,
        limits=limits,
        agents=sorted(agents, key=lambda a: a.get("agentId", "")),
        failures=verdict.failures,
        deliveries=verdict.deliveries,
        held_by_agent=dict(Counter(j.get("agentId", "?") for j in held)),
        held_by_reason=dict(Counter(j.get("reason", "?") for j in held)),
    )


def usage_line(limits: dict[str, Any], now: int) -> str:
    """In flight / concurrency and today's use / quota, e.g. `in flight 2 of 5 · today 40 of 100`."""
    in_flight, cap = limits.get("inFlight", 0), limits.get("maxConcurrent")
    used, quota = limits.get(f"used#{day_of(now)}", 0), limits.get("dailyQuota")
    return f"in flight {in_flight} of {cap if cap is not None else 'no limit'} · today {used} of " + (
        f"{quota}" if quota is not None else "no quota"
    )


@dataclass(frozen=True)
class InsightLink:
    """One per-creator view: the Contributor Insights rule and this creator's lines it counts."""

    what: str
    rule_name: str
    creator_logs: str  # Logs Insights over the rule's log group, filtered to the creator


def insight_links(names: Names, creator_id: str, region: str) -> tuple[str, list[InsightLink]]:
    """The Contributor Insights page (the console cannot filter a rule's graph to one contributor)
    and, per rule of monitoring/insights.py, the creator's own lines in Logs Insights."""
    return links.contributor_insights(region), [
        InsightLink(
            rule.what,
            names.insight_rule(rule.id),
            links.logs_insights(
                region, names.function_log_group(rule.function), rule.creator_query(creator_id)
            ),
        )
        for rule in RULES
    ]
