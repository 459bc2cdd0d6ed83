"""Revoke agent tokens: one agent's, or every agent's of a creator, and close their connections.

Inlined into `BYOIP-<s>-RevokeTokens` (aws:executeScript) and run by `byoip revoke`.
Tokens issued at or before `tokensValidAfter` are refused by ws-connect from then on (on the
agent item for one agent, on the creator's CreatorLimits item for all of them); then EVERY
connection item of the agent (or of the creator's agents) is marked revoked and closed at once
with DeleteConnection: not only the agent's current connection, but any older one still open (a
leaked token that connected before the agent did). A connection this misses (one registered
while it ran, or whose DeleteConnection fails) is closed by ws-message at its next frame: its
token's `iat` is at or before `tokensValidAfter`. Items follow docs/contracts.md: the agent item's
key is `agent#<creatorId>#<agentId>`, a connection item's `conn#<connectionId>` with `agentId` and
`creatorId`. Standard library only at module level.
"""

import time


def _agent_pk(creator_id, agent_id):
    return f"agent#{creator_id}#{agent_id}"


def revoke_tokens(
    dynamodb, connections_api, *, agents_table, limits_table, creator_id, agent_id=None, now=time.time
):
    """Set tokensValidAfter, then close every open connection it concerns; returns a summary.

    `closed` counts the connections marked revoked, `unreachable` those of them whose
    DeleteConnection failed (other than gone): ws-message closes those at their next frame.
    """
    at = int(now())
    if agent_id:
        dynamodb.update_item(
            TableName=agents_table,
            Key={"pk": {"S": _agent_pk(creator_id, agent_id)}},
            UpdateExpression="SET tokensValidAfter = :t, agentId = :a, creatorId = :c",
            ExpressionAttributeValues={":t": {"N": str(at)}, ":a": {"S": agent_id}, ":c": {"S": creator_id}},
        )
    else:
        dynamodb.update_item(
            TableName=limits_table,
            Key={"creatorId": {"S": creator_id}},
            UpdateExpression="SET tokensValidAfter = :t",
            ExpressionAttributeValues={":t": {"N": str(at)}},
        )
    outcomes = [
        _close(dynamodb, connections_api, agents_table, connection_id)
        for connection_id in _open_connections(dynamodb, agents_table, creator_id, agent_id)
    ]
    return {
        "creatorId": creator_id,
        "agentId": agent_id,
        "tokensValidAfter": at,
        "closed": sum(outcome is not None for outcome in outcomes),
        "unreachable": sum(outcome is False for outcome in outcomes),
    }


def _open_connections(dynamodb, agents_table, creator_id, agent_id):
    """Every connection item of the agent, or of every agent of the creator (an operator's scan)."""
    condition = "begins_with(pk, :p) AND creatorId = :c"
    values = {":p": {"S": "conn#"}, ":c": {"S": creator_id}}
    if agent_id:
        condition += " AND agentId = :a"
        values[":a"] = {"S": agent_id}
    found, start = [], None
    while True:
        kwargs = {
            "TableName": agents_table,
            "FilterExpression": condition,
            "ExpressionAttributeValues": values,
            "ProjectionExpression": "pk",
            "ConsistentRead": True,
        }
        if start:
            kwargs["ExclusiveStartKey"] = start
        page = dynamodb.scan(**kwargs)
        found.extend(item["pk"]["S"].removeprefix("conn#") for item in page.get("Items", []))
        start = page.get("LastEvaluatedKey")
        if not start:
            return found


def _close(dynamodb, connections_api, agents_table, connection_id):
    """Mark the connection revoked (its next frame closes it), then close it now.

    None when it was already gone, True when closed, False when DeleteConnection failed.
    """
    try:
        dynamodb.update_item(
            TableName=agents_table,
            Key={"pk": {"S": f"conn#{connection_id}"}},
            UpdateExpression="SET revoked = :t",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues={":t": {"BOOL": True}},
        )
    except dynamodb.exceptions.ConditionalCheckFailedException:
        return None  # already gone
    try:
        connections_api.delete_connection(ConnectionId=connection_id)
    except connections_api.exceptions.GoneException:
        pass  # closed meanwhile; the revoked mark and tokensValidAfter still hold
    except connections_api.exceptions.ClientError:
        return False  # e.g. throttled: the revoked mark closes it at its next frame; go on with the rest
    return True


def handler(events, context):
    """aws:executeScript entry point of RevokeTokens."""
    import boto3

    return revoke_tokens(
        boto3.client("dynamodb"),
        boto3.client("apigatewaymanagementapi", endpoint_url=events["WsEndpoint"]),
        agents_table=events["AgentsTable"],
        limits_table=events["CreatorLimitsTable"],
        creator_id=events["CreatorId"],
        agent_id=events.get("AgentId") or None,
    )
