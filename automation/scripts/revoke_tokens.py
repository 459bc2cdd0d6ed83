"""Revoke agent tokens: one agent's, or every agent's of a creator, and close their connections.

Inlined into `BYOIP-<s>-RevokeTokens` (aws:executeScript) and run by `byoip revoke`.
Tokens issued at or before `tokensValidAfter` are refused by ws-connect from then on (on the
agent item for one agent, on the creator's CreatorLimits item for all of them); the open
connections are marked revoked (ws-message closes one at its next frame) and closed at once
with DeleteConnection. Items follow docs/contracts.md: the agent item's key is
`agent#<creatorId>#<agentId>`. Standard library only at module level.
"""

import time


def _agent_pk(creator_id, agent_id):
    return f"agent#{creator_id}#{agent_id}"


def revoke_tokens(
    dynamodb, connections_api, *, agents_table, limits_table, creator_id, agent_id=None, now=time.time
):
    """Set tokensValidAfter, then close every open connection it concerns; returns a summary."""
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
    closed = [
        connection_id
        for connection_id in _open_connections(dynamodb, agents_table, creator_id, agent_id)
        if _close(dynamodb, connections_api, agents_table, connection_id)
    ]
    return {"creatorId": creator_id, "agentId": agent_id, "tokensValidAfter": at, "closed": len(closed)}


def _open_connections(dynamodb, agents_table, creator_id, agent_id):
    """Current connection ids of the agent, or of every agent of the creator (an operator's scan)."""
    if agent_id:
        item = dynamodb.get_item(
            TableName=agents_table, Key={"pk": {"S": _agent_pk(creator_id, agent_id)}}, ConsistentRead=True
        ).get("Item", {})
        return [item["connectionId"]["S"]] if "connectionId" in item else []
    found, start = [], None
    while True:
        kwargs = {
            "TableName": agents_table,
            "FilterExpression": "begins_with(pk, :p) AND attribute_exists(connectionId)",
            "ExpressionAttributeValues": {":p": {"S": f"agent#{creator_id}#"}},
            "ConsistentRead": True,
        }
        if start:
            kwargs["ExclusiveStartKey"] = start
        page = dynamodb.scan(**kwargs)
        found.extend(item["connectionId"]["S"] for item in page.get("Items", []))
        start = page.get("LastEvaluatedKey")
        if not start:
            return found


def _close(dynamodb, connections_api, agents_table, connection_id):
    """Mark the connection revoked (its next frame closes it), then close it now; True if it was open."""
    try:
        dynamodb.update_item(
            TableName=agents_table,
            Key={"pk": {"S": f"conn#{connection_id}"}},
            UpdateExpression="SET revoked = :t",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues={":t": {"BOOL": True}},
        )
    except dynamodb.exceptions.ConditionalCheckFailedException:
        return False  # already gone
    try:
        connections_api.delete_connection(ConnectionId=connection_id)
    except connections_api.exceptions.GoneException:
        pass  # closed meanwhile; the revoked mark and tokensValidAfter still hold
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
