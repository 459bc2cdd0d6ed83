"""AgentsTable: the agent item (`agent#<creatorId>#<agentId>`) and the connection item (`conn#<id>`).

An agent is identified by (creatorId, agentId): two creators may name their agents alike, and
nothing one of them does (connect, heartbeat, disconnect, a 410) touches the other's agent.

The connection item answers "which agent is this connection?" with one consistent GetItem.
The agent item's `connectionId` is only ever removed conditionally on its current value,
so a late disconnect or a 410 for an old connection never drops a newer one.

One live connection per agent: `register` returns the connection it replaced, and ws-connect
closes that one (`supersede`): its item is forgotten first, so its `$disconnect` finds nothing to
drop and is no goodbye. The connection item keeps its token's `iat` (`tokenIssuedAt`), so a
connection whose token a revocation covers is closed at its next frame (`closing_reason`).
"""

from __future__ import annotations

import random
import time
from typing import Any

from botocore.exceptions import ClientError

from lambdas.common import ddb, tables
from lambdas.common.reserved import is_probe
from lambdas.common.settings import settings

CONNECTION_TTL_SECONDS = 2 * 3600
# A connection may outlive its token (agents do not reconnect for each token), but not by more
# than this: ws-message closes it at its next frame, so a leaked token is usable for at most
# 15 minutes of lifetime plus 15 minutes of an open connection.
MAX_TOKEN_OVERRUN_SECONDS = 15 * 60
# An agent that leaves on purpose closes its WebSocket with 1000 (normal closure): `$disconnect`
# then records `goodbyeAt` on the agent item, and jobs held for it are its owner's choice, not
# late work of ours (lambdas/common/fleet.py). API Gateway's idle timeout closes with 1001, a lost
# network or a killed process leaves no close frame (1006): an abrupt loss, whose held jobs count.
GOODBYE_CLOSE_CODE = 1000


def agent_key(creator_id: str, agent_id: str) -> dict[str, Any]:
    """Key of the agent item."""
    return tables.key(tables.AGENTS, tables.agent_pk(creator_id, agent_id))


def _conn_key(connection_id: str) -> dict[str, Any]:
    return tables.key(tables.AGENTS, tables.connection_pk(connection_id))


def _table() -> str:
    return settings().agents_table


def register(
    agent_id: str,
    creator_id: str,
    connection_id: str,
    now: int,
    token_expires_at: int = 0,
    token_issued_at: int = 0,
    token_kid: str = "",
) -> str | None:
    """Record a new connection (its token's iat, expiry and key id) and make it the agent's current one.

    Returns the connection it replaced (the agent's previous current one), or None.
    """
    client = ddb.dynamodb()
    client.put_item(
        TableName=_table(),
        Item=ddb.to_item(
            {
                tables.AGENTS.key.name: tables.connection_pk(connection_id),
                "agentId": agent_id,
                "creatorId": creator_id,
                "connectedAt": now,
                "tokenExpiresAt": token_expires_at,
                "tokenIssuedAt": token_issued_at,
                "tokenKid": token_kid,
                "ttl": now + CONNECTION_TTL_SECONDS,
            }
        ),
    )
    return _make_current(creator_id, agent_id, connection_id, now)


def _make_current(creator_id: str, agent_id: str, connection_id: str, now: int) -> str | None:
    """Make the connection the agent's current one; the connection it replaced, or None.

    The connected-agents count (`fleet#<n>` shards) moves in the same transaction as the item's
    `connectionId` appears, so it stays exact whatever fails or races: +1 only when the agent had
    no connection, which marks the agent `counted`, and `drop` takes 1 off only when its
    conditional REMOVE of a counted agent's connection succeeds. A replacement leaves both alone.
    An agent connected before the count existed (a stage upgraded while agents were connected)
    is not `counted`: its disconnect takes nothing off, and it counts from its next connect.
    """
    update = {
        "TableName": _table(),
        "Key": agent_key(creator_id, agent_id),
        "UpdateExpression": "SET agentId = :agent, creatorId = :creator, connectionId = :conn,"
        " connectedAt = :now, lastSeen = :now REMOVE goodbyeAt",
        "ExpressionAttributeValues": ddb.values(
            agent=agent_id, creator=creator_id, conn=connection_id, now=now
        ),
    }
    if not counted(creator_id):
        return _replace(update, None)
    for _ in range(_COUNT_ATTEMPTS):
        counting = {
            **update,
            "UpdateExpression": update["UpdateExpression"].replace(" REMOVE", ", counted = :true REMOVE"),
            "ExpressionAttributeValues": {**update["ExpressionAttributeValues"], **ddb.values(true=True)},
        }
        if _counted_write(creator_id, agent_id, counting, "attribute_not_exists(connectionId)", +1):
            return None
        try:  # the agent has a connection: replace it (the count stays)
            return _replace(update, "attribute_exists(connectionId)")
        except ClientError as err:
            if not ddb.is_condition_failure(err):
                raise
            # that connection dropped in between: count this one as new, again
    raise ClientError(
        {"Error": {"Code": "TransactionConflict", "Message": "the agent's connection kept changing"}},
        "UpdateItem",
    )


def _replace(update: dict[str, Any], condition: str | None) -> str | None:
    # UPDATED_OLD: every `$connect` sees the connection it replaced, so of N racing connects of
    # one agent each replaced one is seen by exactly one successor, and all but the last close.
    guard = {"ConditionExpression": condition} if condition else {}
    old = ddb.dynamodb().update_item(**update, **guard, ReturnValues="UPDATED_OLD")
    previous = ddb.from_item(old.get("Attributes")) or {}
    replaced = previous.get("connectionId")
    current = update["ExpressionAttributeValues"][":conn"]["S"]
    return str(replaced) if replaced and replaced != current else None


_COUNT_ATTEMPTS = 3


def counted(creator_id: str) -> bool:
    """Whether the creator's agents count in the fleet gauge (every creator but the probe's, whose
    agents connect for a few seconds a minute)."""
    return not is_probe(creator_id)


def _counted_write(
    creator_id: str, agent_id: str, update: dict[str, Any], condition: str, delta: int
) -> bool:
    """The agent item's update under `condition`, and the agent's count shard moved by `delta`, in
    one transaction; False (nothing written) when the condition fails.

    Two transactions on one shard at once conflict (TransactionConflict): a reconnect storm meets
    that, so a conflict is tried again after a short random pause, up to _CONFLICT_ATTEMPTS times.
    Each call carries its own request token (botocore fills it in and keeps it for its own retries
    of that call), so a call that went through and is retried after a lost answer is not applied twice.
    """
    shard = {
        "TableName": _table(),
        "Key": tables.key(tables.AGENTS, tables.fleet_pk(tables.fleet_shard(creator_id, agent_id))),
        "UpdateExpression": "ADD connected :delta",
        "ExpressionAttributeValues": ddb.values(delta=delta),
    }
    items = [{"Update": {**update, "ConditionExpression": condition}}, {"Update": shard}]
    for attempt in range(1, _CONFLICT_ATTEMPTS + 1):
        try:
            ddb.dynamodb().transact_write_items(TransactItems=items)
        except ClientError as err:
            reasons = ddb.cancellation_reasons(err)
            if reasons is not None and ddb.failed_condition(reasons, 0):
                return False
            conflict = reasons is not None and any(r.get("Code") == "TransactionConflict" for r in reasons)
            if not conflict or attempt == _CONFLICT_ATTEMPTS:
                raise
            time.sleep(random.uniform(0.01, 0.04) * attempt)  # noqa: S311 (a pause, not a secret)
            continue
        return True
    return False  # not reached: the last attempt returns or raises


_CONFLICT_ATTEMPTS = 4


def forget(connection_id: str) -> bool:
    """Delete a connection item; True when it was still there (the connection may still be open)."""
    old = ddb.dynamodb().delete_item(TableName=_table(), Key=_conn_key(connection_id), ReturnValues="ALL_OLD")
    return bool(old.get("Attributes"))


def connection(connection_id: str) -> dict[str, Any] | None:
    """The connection item (agentId, creatorId), strongly consistent; None if unknown."""
    return ddb.get(_table(), tables.AGENTS.key.name, tables.connection_pk(connection_id))


def agent(creator_id: str, agent_id: str) -> dict[str, Any] | None:
    """The creator's agent item, strongly consistent; None if that agent never connected."""
    return ddb.get(_table(), tables.AGENTS.key.name, tables.agent_pk(creator_id, agent_id))


def touch(
    creator_id: str, agent_id: str, connection_id: str, now: int, version: str | None, ttl: int = 0
) -> None:
    """Heartbeat bookkeeping: last seen, agent version; the connection TTL pushed forward when due.

    `ttl`: the connection item's TTL as this frame read it (0 unknown). It is written again only
    once less than half of CONNECTION_TTL_SECONDS is left: an hour's margin, so a heartbeat a minute
    costs one write (the agent item) and the connection item a write an hour.
    """
    client = ddb.dynamodb()
    expression = "SET lastSeen = :now"
    vals: dict[str, Any] = {"now": now}
    if version:
        expression += ", version = :version"
        vals["version"] = version
    client.update_item(
        TableName=_table(),
        Key=agent_key(creator_id, agent_id),
        UpdateExpression=expression,
        ExpressionAttributeValues=ddb.values(**vals),
    )
    if ttl - now >= CONNECTION_TTL_SECONDS // 2:
        return
    # Conditional: if a disconnect raced the heartbeat, the connection item stays gone.
    ddb.update_if(
        TableName=_table(),
        Key=_conn_key(connection_id),
        UpdateExpression="SET #ttl = :ttl",
        ConditionExpression="attribute_exists(pk)",
        ExpressionAttributeNames={"#ttl": "ttl"},
        ExpressionAttributeValues=ddb.values(ttl=now + CONNECTION_TTL_SECONDS),
    )


def drop(
    creator_id: str | None, agent_id: str | None, connection_id: str, now: int, *, goodbye: bool = False
) -> bool:
    """Forget a connection; True when it was still the agent's current connection.

    `goodbye`: the agent left on purpose (GOODBYE_CLOSE_CODE); the agent item records when, or
    forgets an earlier goodbye when it did not.
    """
    client = ddb.dynamodb()
    client.delete_item(TableName=_table(), Key=_conn_key(connection_id))
    if not agent_id or not creator_id:
        return False
    # Fails (False) when the agent already has a newer connection: that one is left alone.
    update = {
        "TableName": _table(),
        "Key": agent_key(creator_id, agent_id),
        "UpdateExpression": "REMOVE connectionId, counted SET lastSeen = :now, goodbyeAt = :now"
        if goodbye
        else "REMOVE connectionId, counted, goodbyeAt SET lastSeen = :now",
        "ExpressionAttributeValues": ddb.values(conn=connection_id, now=now),
    }
    if counted(creator_id):
        counted_values = {**update["ExpressionAttributeValues"], **ddb.values(true=True)}
        counting = {**update, "ExpressionAttributeValues": counted_values}
        if _counted_write(creator_id, agent_id, counting, "connectionId = :conn AND counted = :true", -1):
            return True
        # not the current connection, or an agent connected before the count existed (not counted)
    return ddb.update_if(**update, ConditionExpression="connectionId = :conn")


def connected_count() -> int:
    """How many agents have a connection now: the sum of the count shards (one BatchGetItem)."""
    keys = [tables.key(tables.AGENTS, tables.fleet_pk(n)) for n in range(tables.FLEET_SHARDS)]
    found = ddb.batch_get({_table(): {"Keys": keys, "ProjectionExpression": "connected"}})
    return sum(int(item.get("connected", 0)) for item in found.get(_table(), []))


def revoked_since(creator_id: str, agent_id: str, limits_item: dict[str, Any] | None) -> int:
    """Tokens issued at or before this epoch are revoked (creator-wide or for this agent); 0 if none."""
    agent_item = agent(creator_id, agent_id) or {}
    return max(
        int((limits_item or {}).get("tokensValidAfter", 0)), int(agent_item.get("tokensValidAfter", 0))
    )


def revoke_agent_tokens(creator_id: str, agent_id: str, now: int) -> bool:
    """Refuse the agent's tokens issued at or before `now` (its `tokensValidAfter`, never moved back)."""
    return ddb.update_if(
        TableName=_table(),
        Key=agent_key(creator_id, agent_id),
        UpdateExpression="SET tokensValidAfter = :now",
        ConditionExpression="attribute_exists(pk)"
        " AND (attribute_not_exists(tokensValidAfter) OR tokensValidAfter < :now)",
        ExpressionAttributeValues=ddb.values(now=now),
    )


def closing_reason(item: dict[str, Any], now: int, revoked_at: int = 0) -> str | None:
    """Why an open connection must be closed at its next frame: revoked, or its token long expired.

    `revoked_at` is the agent's revocation mark (`revoked_since`): a connection whose token was
    issued at or before it is revoked even if the revocation never reached it (its item unmarked,
    its DeleteConnection failed). An item without `tokenIssuedAt` (made before it was recorded)
    counts as issued at 0.
    """
    if item.get("revoked"):
        return "token_revoked"
    if revoked_at and int(item.get("tokenIssuedAt") or 0) <= revoked_at:
        return "token_revoked"
    expires = int(item.get("tokenExpiresAt") or 0)
    if expires and now > expires + MAX_TOKEN_OVERRUN_SECONDS:
        return "token_expired"
    return None


def offline_check_op(
    creator_id: str, agent_id: str, stale_connection_id: str | None = None
) -> dict[str, Any]:
    """Transaction op: the agent has no connection (or only the stale one we are dropping)."""
    condition = "attribute_not_exists(connectionId)"
    vals: dict[str, Any] = {}
    if stale_connection_id:
        condition += " OR connectionId = :stale"
        vals["stale"] = stale_connection_id
    op: dict[str, Any] = {
        "TableName": _table(),
        "Key": agent_key(creator_id, agent_id),
        "ConditionExpression": condition,
    }
    if vals:
        op["ExpressionAttributeValues"] = ddb.values(**vals)
    return {"ConditionCheck": op}
