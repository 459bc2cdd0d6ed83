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

An emergency rotation of the agents' key (`BYOIP-<s>-EmergencyKeyRotation`, `byoip rotate-key
--emergency`) lives here too, as it closes connections the same way: it rotates the secret, retires
the previous key at once (AWSPREVIOUS removed: ws-connect accepts no token it signed) and closes
every open connection whose token the new key did not sign (the connection item's `tokenKid`).
"""

import hashlib
import time

# RotateSecret returns once the rotation started; its steps usually finish within seconds.
ROTATION_WAIT_SECONDS = 300
ROTATION_POLL_SECONDS = 5
# ws-connect caches the keys this long (lambdas/common/keys.py CACHE_SECONDS; a test holds them
# equal): a warm container may accept the retired key until then, so connections are swept again.
KEYS_CACHE_SECONDS = 60


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


def emergency_rotation(
    secrets, dynamodb, connections_api, *, secret_id, agents_table, sleep=time.sleep, now=time.monotonic
):
    """Rotate now, retire the previous key, close the connections of any other key; returns a summary."""
    old = _current_version(secrets, secret_id)
    new = secrets.rotate_secret(SecretId=secret_id, RotateImmediately=True)["VersionId"]
    deadline = now() + ROTATION_WAIT_SECONDS
    while _current_version(secrets, secret_id) != new:
        if now() >= deadline:
            raise RuntimeError(
                f"the rotation to version {new} did not finish within {ROTATION_WAIT_SECONDS} s: "
                "see the rotation function's log; the previous key was not retired"
            )
        sleep(ROTATION_POLL_SECONDS)
    secrets.update_secret_version_stage(
        SecretId=secret_id, VersionStage="AWSPREVIOUS", RemoveFromVersionId=old
    )
    key = secrets.get_secret_value(SecretId=secret_id, VersionStage="AWSCURRENT")["SecretString"]
    kid = hashlib.sha256(key.encode()).hexdigest()[:16]  # lambdas/common/keys.py's key_id
    closed = _close_not_signed_by(dynamodb, connections_api, agents_table, kid)
    sleep(KEYS_CACHE_SECONDS)  # then no ws-connect holds the retired key: a last sweep
    closed += _close_not_signed_by(dynamodb, connections_api, agents_table, kid)
    return {"retiredVersion": old, "currentVersion": new, "closed": closed}


def _close_not_signed_by(dynamodb, connections_api, agents_table, kid):
    found = _connections_not_signed_by(dynamodb, agents_table, kid)
    return sum(1 for c in found if _close(dynamodb, connections_api, agents_table, c))


def _current_version(secrets, secret_id):
    stages = secrets.describe_secret(SecretId=secret_id).get("VersionIdsToStages", {})
    return next(version for version, labels in stages.items() if "AWSCURRENT" in labels)


def _connections_not_signed_by(dynamodb, agents_table, kid):
    """Ids of the open connections whose token another key signed (or that recorded no key)."""
    found, start = [], None
    while True:
        kwargs = {
            "TableName": agents_table,
            "FilterExpression": "begins_with(pk, :p) AND (attribute_not_exists(tokenKid) OR tokenKid <> :k)"
            " AND attribute_not_exists(revoked)",
            "ExpressionAttributeValues": {":p": {"S": "conn#"}, ":k": {"S": kid}},
            "ConsistentRead": True,
        }
        if start:
            kwargs["ExclusiveStartKey"] = start
        page = dynamodb.scan(**kwargs)
        found.extend(item["pk"]["S"][len("conn#") :] for item in page.get("Items", []))
        start = page.get("LastEvaluatedKey")
        if not start:
            return found


def emergency_handler(events, context):
    """aws:executeScript entry point of EmergencyKeyRotation."""
    import boto3

    return emergency_rotation(
        boto3.client("secretsmanager"),
        boto3.client("dynamodb"),
        boto3.client("apigatewaymanagementapi", endpoint_url=events["WsEndpoint"]),
        secret_id=events["SecretId"],
        agents_table=events["AgentsTable"],
    )


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
