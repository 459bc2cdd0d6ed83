"""`byoip rotate-key`: a rotation keeps the previous key; --emergency retires it, closes its connections."""

from __future__ import annotations

import hashlib
import uuid

import boto3
import pytest

from automation.scripts import revoke_tokens
from lambdas.common.rotation import STEPS, rotate
from tests.automation.conftest import REGION, create_agents_table

SECRET = "byoip/test/ws-jwt"
OLD = "leaked-key-" + "l" * 40


class _SecretsManager:
    """moto's Secrets Manager, whose RotateSecret runs the stack's rotation steps as the service does."""

    def __init__(self) -> None:
        self._client = boto3.client("secretsmanager", region_name=REGION)

    def rotate_secret(self, *, SecretId: str, RotateImmediately: bool) -> dict:  # noqa: N803
        token = str(uuid.uuid4())
        self._client.put_secret_value(
            SecretId=SecretId, ClientRequestToken=token, SecretString="p" * 64, VersionStages=["AWSPENDING"]
        )
        for step in STEPS[1:]:  # the pending version exists: createSecret's work is done
            rotate(self._client, SecretId, token, step)
        return {"VersionId": token}

    def __getattr__(self, name):
        return getattr(self._client, name)


@pytest.fixture
def stage(tables, monkeypatch):
    """Stage `test`: its key, its WebSocket API, and a connection opened with a token of the key."""
    monkeypatch.setattr(revoke_tokens, "KEYS_CACHE_SECONDS", 0)
    boto3.client("secretsmanager", region_name=REGION).create_secret(Name=SECRET, SecretString=OLD)
    ddb = boto3.client("dynamodb", region_name=REGION)
    create_agents_table(ddb)
    boto3.client("apigatewayv2", region_name=REGION).create_api(
        Name="byoip-test-ws", ProtocolType="WEBSOCKET", RouteSelectionExpression="$request.body.action"
    )
    kid = hashlib.sha256(OLD.encode()).hexdigest()[:16]
    ddb.put_item(TableName="byoip-test-agents", Item={"pk": {"S": "conn#k1"}, "tokenKid": {"S": kid}})
    return ddb


def _stages():
    sm = boto3.client("secretsmanager", region_name=REGION)
    # AWSPENDING stays on the new version here: the service, not the function, removes it after finishSecret
    stages = sm.describe_secret(SecretId=SECRET)["VersionIdsToStages"].values()
    return sorted(s for labels in stages for s in labels if s != "AWSPENDING")


def test_rotate_key_emergency_retires_the_previous_key_and_closes_its_connections(stage, cli):
    cli.overrides["secretsmanager"] = _SecretsManager()
    result = cli("rotate-key", "--stage", "test", "--emergency", "--region", REGION)
    assert result.exit_code == 0, result.stderr
    assert "(no token it signed connects); closed 1 open connection(s)" in result.stdout
    assert _stages() == ["AWSCURRENT"]
    item = stage.get_item(TableName="byoip-test-agents", Key={"pk": {"S": "conn#k1"}})["Item"]
    assert item["revoked"] == {"BOOL": True}


def test_rotate_key_without_emergency_keeps_the_previous_key(stage, cli):
    cli.overrides["secretsmanager"] = _SecretsManager()
    result = cli("rotate-key", "--stage", "test", "--region", REGION)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.endswith("the previous key verifies for 30 minutes after it\n")
    assert _stages() == ["AWSCURRENT", "AWSPREVIOUS"]
    item = stage.get_item(TableName="byoip-test-agents", Key={"pk": {"S": "conn#k1"}})["Item"]
    assert "revoked" not in item
