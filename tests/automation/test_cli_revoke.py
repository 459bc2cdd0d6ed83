"""`byoip revoke`: tokensValidAfter set, open connections closed, one-line errors."""

from __future__ import annotations

import boto3
import pytest

from tests.automation.conftest import REGION, create_agents_table, one_error_line


@pytest.fixture
def stage(tables):
    """Stage `test` in moto: its agents table, its WebSocket API and two connected agents of c-1."""
    ddb = boto3.client("dynamodb", region_name=REGION)
    create_agents_table(ddb)
    boto3.client("apigatewayv2", region_name=REGION).create_api(
        Name="byoip-test-ws", ProtocolType="WEBSOCKET", RouteSelectionExpression="$request.body.action"
    )
    for creator, agent, conn in (("c-1", "a-1", "k1"), ("c-1", "a-2", "k2"), ("c-2", "a-1", "k3")):
        ddb.put_item(
            TableName="byoip-test-agents",
            Item={
                "pk": {"S": f"agent#{creator}#{agent}"},
                "creatorId": {"S": creator},
                "connectionId": {"S": conn},
            },
        )
        ddb.put_item(
            TableName="byoip-test-agents",
            Item={"pk": {"S": f"conn#{conn}"}, "creatorId": {"S": creator}, "agentId": {"S": agent}},
        )
    return ddb


def _revoked(ddb, conn):
    return "revoked" in ddb.get_item(TableName="byoip-test-agents", Key={"pk": {"S": f"conn#{conn}"}})["Item"]


def test_revoking_a_creator_closes_only_its_agents(cli, stage):
    result = cli("revoke", "--stage", "test", "--creator-id", "c-1", "--region", REGION)
    assert result.exit_code == 0, result.output
    assert "closed 2 open connection(s)" in result.stdout
    assert [_revoked(stage, c) for c in ("k1", "k2", "k3")] == [True, True, False]
    limits = stage.get_item(TableName="byoip-test-creator-limits", Key={"creatorId": {"S": "c-1"}})["Item"]
    assert int(limits["tokensValidAfter"]["N"]) > 0


def test_revoking_one_agent_closes_only_that_agent(cli, stage):
    result = cli("revoke", "--stage", "test", "--creator-id", "c-1", "--agent-id", "a-2", "--region", REGION)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("revoked tokens of agent a-2 of creator c-1 issued at or before ")
    assert [_revoked(stage, c) for c in ("k1", "k2", "k3")] == [False, True, False]
    agent = stage.get_item(TableName="byoip-test-agents", Key={"pk": {"S": "agent#c-1#a-2"}})["Item"]
    assert int(agent["tokensValidAfter"]["N"]) > 0


def test_revoking_one_agent_closes_its_older_connection_too(cli, stage):
    # GIVEN a-2 of c-1 also holds an older connection k0 (a leaked token connected before the agent)
    stage.put_item(
        TableName="byoip-test-agents",
        Item={"pk": {"S": "conn#k0"}, "creatorId": {"S": "c-1"}, "agentId": {"S": "a-2"}},
    )
    # WHEN the agent is revoked
    result = cli("revoke", "--stage", "test", "--creator-id", "c-1", "--agent-id", "a-2", "--region", REGION)
    # THEN both of its connections are marked and closed, not only the current one
    assert result.exit_code == 0, result.output
    assert "closed 2 open connection(s)" in result.stdout
    assert [_revoked(stage, c) for c in ("k0", "k1", "k2", "k3")] == [True, False, True, False]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--creator-id", "c 1"], "error: --creator-id 'c 1' is not an id (1-128 characters of"),
        (["--creator-id", "c-1", "--agent-id", "a-1\n"], "error: --agent-id 'a-1\\n' is not an id"),
        (["--creator-id", "c-1", "--stage", "Prod"], "error: invalid STAGE 'Prod'"),
    ],
)
def test_bad_input_is_one_line_exit_2(cli, stage, args, message):
    result = cli("revoke", "--stage", "test", *args, "--region", REGION)
    assert result.exit_code == 2
    assert one_error_line(result).startswith(message)


def test_a_stage_that_is_not_deployed_is_refused(cli, tables):
    result = cli("revoke", "--stage", "qa", "--creator-id", "c-1", "--region", REGION)
    assert result.exit_code == 1
    assert one_error_line(result) == (
        f"error: no WebSocket API named byoip-qa-ws in {REGION}: is stage qa deployed there?"
    )
