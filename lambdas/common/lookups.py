"""The dispatcher's one read per job: the agent item and the creator's limits, in one BatchGetItem.

Both are read eventually consistent (half the read units of a strong read), because a stale
answer is harmless here:
- the agent item: an old `connectionId` gets a 410 (the connection is dropped only if it is
  still the agent's current one, then the job is retried or held only while the agent is
  offline, checked in the hold's own transaction); a missed new connection holds the job,
  and the hold's offline check fails and retries it;
- the limits item decides whether the assignment must move counters: a limit or pause set
  in the last second may miss a job dispatched meanwhile, as if it had been set a second
  later. Counters stay exact whatever the read said: a job records whether it was counted
  (`limitsDay`: the day, or "-"), and only counted jobs release a slot.
"""

from __future__ import annotations

from typing import Any

from lambdas.common import ddb, tables
from lambdas.common.connections import agent_key
from lambdas.common.settings import settings


def agent_and_limits(creator_id: str, agent_id: str) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """(agent item, CreatorLimits item), each None when absent."""
    config = settings()
    found = ddb.batch_get(
        {
            config.agents_table: {"Keys": [agent_key(creator_id, agent_id)], "ConsistentRead": False},
            config.creator_limits_table: {
                "Keys": [tables.key(tables.CREATOR_LIMITS, creator_id)],
                "ConsistentRead": False,
            },
        }
    )
    agents, limits = found.get(config.agents_table, []), found.get(config.creator_limits_table, [])
    return (agents[0] if agents else None), (limits[0] if limits else None)
