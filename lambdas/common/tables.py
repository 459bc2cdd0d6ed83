"""Every DynamoDB table of the stack, defined once: short name, key, TTL attribute, indexes, and the
builders of every key and key prefix (docs/contracts.md, *DynamoDB items*, describes the items).

The same pattern as metrics.py: plain data the other layers read.
- stacks/storage.py builds the tables and their indexes from `TABLES`.
- `contract.names.Names.table` accepts only their short names.
- Handlers, the CLI and the sandbox build keys with the functions here.
- The two standard-library SSM scripts (automation/scripts/creator_pause.py, revoke_tokens.py)
  cannot import this package, so they keep their literals; tests/unit/test_tables.py pins them.

No boto3, nothing of ours: anything may import it, the Lambda bundle included.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Any

S = "S"
N = "N"
ALL = "ALL"  # the index holds the whole item
KEYS_ONLY = "KEYS_ONLY"  # the index holds the keys only: a write that changes no index key writes no index


@dataclass(frozen=True)
class Attr:
    name: str
    type: str = S


@dataclass(frozen=True)
class Index:
    name: str
    partition: Attr
    sort: Attr | None = None
    projection: str = ALL


@dataclass(frozen=True)
class Table:
    short: str  # the physical name is byoip-<stage>-<short> (contract.names.Names.table)
    key: Attr
    ttl: str | None = None
    indexes: tuple[Index, ...] = ()


# Sparse indexes: their attributes exist only while a job is leased (ByLease) or held (ByHeldAgent).
BY_LEASE = Index("ByLease", Attr("leaseState"), Attr("leaseExpiresAt", N))
BY_HELD_AGENT = Index("ByHeldAgent", Attr("heldAgentId"), Attr("createdAt", N))
# The creator watch's targeted reads (lambdas/common/watch.py, docs/architecture.md): sparse and
# keys-only, so the per-job and per-heartbeat writes of the items they hold never write the index.
# ByWatch: AgentsTable items the watch must look at, by `watchFor` (WATCH_WINDOW, WATCH_EPISODE).
BY_WATCH = Index("ByWatch", Attr("watchFor"), Attr("pk"), projection=KEYS_ONLY)
# ByBreaker: the creators whose circuit breaker is open or half-open (`breakerState` exists only then).
BY_BREAKER = Index("ByBreaker", Attr("breakerState"), Attr("creatorId"), projection=KEYS_ONLY)

JOBS = Table("jobs", Attr("jobId"), ttl="ttl", indexes=(BY_LEASE, BY_HELD_AGENT))
AGENTS = Table("agents", Attr("pk"), ttl="ttl", indexes=(BY_WATCH,))
CREATOR_LIMITS = Table("creator-limits", Attr("creatorId"), indexes=(BY_BREAKER,))
TABLES = (JOBS, AGENTS, CREATOR_LIMITS)
TABLE_NAMES = tuple(table.short for table in TABLES)

# AgentsTable holds several kinds of item, told apart by the prefix of `pk`.
AGENT_PREFIX = "agent#"  # agent#<creatorId>#<agentId>: the agent (connection, pause, budgets)
CONNECTION_PREFIX = "conn#"  # conn#<connectionId>: which agent a connection is
BUDGET_PREFIX = "budget#"  # budget#<creatorId>: the creator's budget counts (ratelimit.py)
BREAKER_PREFIX = "breaker#"  # breaker#<creatorId>: the breaker's outcome window (breaker.py)
FLEET_PREFIX = "fleet#"  # fleet#<n>: one shard of the connected-agents count (connections.py)
# A reconnect storm spreads its count transactions over this many items: 10,000 agents through
# `$connect` at 263/s write each about 8 times a second (docs/capacity.md).
FLEET_SHARDS = 32

# `watchFor` values (ByWatch): an outcome window with something to judge; an announced offline episode.
WATCH_WINDOW = "window"
WATCH_EPISODE = "episode"


def agent_ref(creator_id: str, agent_id: str) -> str:
    """The agent's identity as one string, `<creatorId>#<agentId>` (ids never contain `#`).

    It keys the agent item and marks the jobs held for the agent (ByHeldAgent's `heldAgentId`).
    """
    return f"{creator_id}#{agent_id}"


def agent_pk(creator_id: str, agent_id: str) -> str:
    return f"{AGENT_PREFIX}{agent_ref(creator_id, agent_id)}"


def creator_agents_prefix(creator_id: str) -> str:
    """The `pk` prefix of every agent item of one creator."""
    return f"{AGENT_PREFIX}{creator_id}#"


def connection_pk(connection_id: str) -> str:
    return f"{CONNECTION_PREFIX}{connection_id}"


def budget_pk(creator_id: str) -> str:
    return f"{BUDGET_PREFIX}{creator_id}"


def breaker_pk(creator_id: str) -> str:
    return f"{BREAKER_PREFIX}{creator_id}"


def fleet_pk(shard: int) -> str:
    return f"{FLEET_PREFIX}{shard}"


def fleet_shard(creator_id: str, agent_id: str) -> int:
    """The count shard of one agent: always the same, so its +1 and its -1 meet on one item."""
    return zlib.crc32(agent_ref(creator_id, agent_id).encode()) % FLEET_SHARDS


def key(table: Table, value: str) -> dict[str, dict[str, str]]:
    """The typed DynamoDB key of `table`'s item whose key is `value`."""
    return {table.key.name: {table.key.type: value}}


def create_table_request(table: Table, name: str) -> dict[str, Any]:
    """boto3 `create_table` arguments for `table` under physical name `name` (moto in tests and
    benchmarks; the stack builds the same key and indexes in stacks/storage.py)."""

    def schema(partition: Attr, sort: Attr | None) -> list[dict[str, str]]:
        keys = [{"AttributeName": partition.name, "KeyType": "HASH"}]
        return keys + ([{"AttributeName": sort.name, "KeyType": "RANGE"}] if sort else [])

    attrs = {table.key.name: table.key.type}
    for index in table.indexes:
        attrs.update({a.name: a.type for a in (index.partition, index.sort) if a})
    request: dict[str, Any] = {
        "TableName": name,
        "KeySchema": schema(table.key, None),
        "AttributeDefinitions": [{"AttributeName": n, "AttributeType": t} for n, t in attrs.items()],
        "BillingMode": "PAY_PER_REQUEST",
    }
    if table.indexes:
        request["GlobalSecondaryIndexes"] = [
            {
                "IndexName": i.name,
                "KeySchema": schema(i.partition, i.sort),
                "Projection": {"ProjectionType": i.projection},
            }
            for i in table.indexes
        ]
    return request
