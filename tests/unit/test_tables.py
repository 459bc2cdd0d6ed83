"""The table schema (lambdas/common/tables.py) is the one definition: Names, the moto tables and the
standard-library SSM scripts (which cannot import it) all agree with it."""

from __future__ import annotations

import re
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from automation.scripts import creator_pause, revoke_tokens
from contract.names import Names
from lambdas.common import tables

SCRIPTS = Path(__file__).resolve().parents[2] / "automation" / "scripts"


def test_names_accept_exactly_the_schemas_tables() -> None:
    names = Names("qa")
    assert [names.table(t.short) for t in tables.TABLES] == [
        "byoip-qa-jobs",
        "byoip-qa-agents",
        "byoip-qa-creator-limits",
    ]
    with pytest.raises(
        ValueError, match="unknown table 'creator_limits': allowed jobs | agents | creator-limits"
    ):
        names.table("creator_limits")


@pytest.mark.parametrize("script", ["creator_pause.py", "revoke_tokens.py"])
def test_the_standard_library_scripts_literals_are_the_schemas(script: str) -> None:
    source = (SCRIPTS / script).read_text()
    keys = set(re.findall(r'Key=\{"(\w+)"', source))
    assert keys and keys <= {t.key.name for t in tables.TABLES}
    prefixes = set(re.findall(r'"S": f?"(\w+#)', source))  # key values: a pk's item-kind prefix
    assert prefixes <= {
        tables.AGENT_PREFIX,
        tables.CONNECTION_PREFIX,
        tables.BUDGET_PREFIX,
        tables.BREAKER_PREFIX,
        tables.FLEET_PREFIX,
    }


def test_the_scripts_build_the_same_keys_and_read_the_same_index() -> None:
    assert revoke_tokens._agent_pk("creator-1", "agent-1") == tables.agent_pk("creator-1", "agent-1")
    assert creator_pause.HELD_INDEX == tables.BY_HELD_AGENT.name
    assert "heldAgentId" == tables.BY_HELD_AGENT.partition.name


def test_a_moto_table_from_the_schema_has_its_key_and_indexes() -> None:
    with mock_aws():
        ddb = boto3.client("dynamodb", region_name="us-east-1")
        ddb.create_table(**tables.create_table_request(tables.JOBS, "byoip-qa-jobs"))
        described = ddb.describe_table(TableName="byoip-qa-jobs")["Table"]
    assert described["KeySchema"] == [{"AttributeName": "jobId", "KeyType": "HASH"}]
    indexes = {
        i["IndexName"]: [k["AttributeName"] for k in i["KeySchema"]]
        for i in described["GlobalSecondaryIndexes"]
    }
    assert indexes == {
        "ByLease": ["leaseState", "leaseExpiresAt"],
        "ByHeldAgent": ["heldAgentId", "createdAt"],
    }


def test_the_watchs_indexes_are_sparse_and_keys_only() -> None:
    with mock_aws():
        ddb = boto3.client("dynamodb", region_name="us-east-1")
        for table in (tables.AGENTS, tables.CREATOR_LIMITS):
            ddb.create_table(**tables.create_table_request(table, table.short))
        described = {
            t.short: ddb.describe_table(TableName=t.short)["Table"]["GlobalSecondaryIndexes"]
            for t in (tables.AGENTS, tables.CREATOR_LIMITS)
        }
    assert {
        k: [(i["IndexName"], i["Projection"]["ProjectionType"]) for i in v] for k, v in described.items()
    } == {
        "agents": [("ByWatch", "KEYS_ONLY")],
        "creator-limits": [("ByBreaker", "KEYS_ONLY")],
    }


def test_an_agents_count_shard_is_stable_and_within_the_shards() -> None:
    shards = {tables.fleet_shard("c", f"agent-{n}") for n in range(200)}
    assert shards == set(range(tables.FLEET_SHARDS))  # 200 agents reach every shard
    assert tables.fleet_shard("c", "agent-1") == tables.fleet_shard("c", "agent-1")
    assert tables.fleet_pk(3) == "fleet#3"
