"""`byoip creator status`: one creator on one screen, nothing of another creator, one-line errors."""

from __future__ import annotations

import time

import boto3
import pytest
from boto3.dynamodb.types import TypeSerializer

from contract import console
from contract.names import Names
from monitoring.insights import RULES
from tests.automation.conftest import REGION, create_agents_table, held, one_error_line

NOW = int(time.time())


@pytest.fixture
def stage(tables, monkeypatch):
    """Stage `test`: creator c-1 paused by its breaker, one agent online and one offline, two held
    jobs; creator c-2 (same agent name) with a job held and a pause of its own."""
    monkeypatch.setattr("automation.commands.creator._clock", lambda: NOW)
    ddb = boto3.client("dynamodb", region_name=REGION)
    create_agents_table(ddb)

    def put(table, **attrs):
        item = {k: TypeSerializer().serialize(v) for k, v in attrs.items()}
        ddb.put_item(TableName=f"byoip-test-{table}", Item=item)

    put(
        "creator-limits",
        creatorId="c-1",
        paused=True,
        pausedBy="circuit-breaker",
        pauseReason="5 of the last 6 deliveries failed",
        pausedAt=NOW - 120,
        breakerState="open",
        breakerOpenedAt=NOW - 120,
        inFlight=1,
        maxConcurrent=4,
        dailyQuota=50,
        **{f"used#{time.strftime('%Y-%m-%d', time.gmtime(NOW))}": 7},
    )
    put(
        "creator-limits", creatorId="c-2", paused=True, pausedBy="operator:zoe", pauseReason="secret-campaign"
    )
    put("agents", pk="agent#c-1#a-1", agentId="a-1", creatorId="c-1", connectionId="k1", lastSeen=NOW - 30)
    put(
        "agents",
        pk="agent#c-1#a-2",
        agentId="a-2",
        creatorId="c-1",
        lastSeen=NOW - 900,
        offlineNotifiedAt=NOW - 300,
    )
    put("agents", pk="agent#c-2#a-1", agentId="a-1", creatorId="c-2", lastSeen=NOW - 99)
    put(
        "agents",
        pk="breaker#c-1",
        creatorId="c-1",
        **{f"o:j{n}:{NOW - 60}": f"{NOW - 60} fail" for n in range(5)},
        **{f"o:k:{NOW - 61}": f"{NOW - 61} ok"},
    )
    held(ddb, "j-held-1", "a-1", "c-1")
    held(ddb, "j-held-2", "a-2", "c-1")
    held(ddb, "j-other", "a-1", "c-2")
    for job_id, reason in (("j-held-1", "creator_paused"), ("j-held-2", "agent_offline")):
        ddb.update_item(
            TableName="byoip-test-jobs",
            Key={"jobId": {"S": job_id}},
            UpdateExpression="SET reason = :r",
            ExpressionAttributeValues={":r": {"S": reason}},
        )
    return ddb


def held_line(lines: list[str]) -> str:
    (line,) = [line for line in lines if line.startswith("held jobs: ")]
    return line


def test_status_shows_one_creator_on_one_screen(cli, stage):
    result = cli("creator", "status", "--stage", "test", "--creator-id", "c-1", "--region", REGION)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "creator c-1 (stage test)"
    assert lines[1].startswith("paused: yes, by circuit-breaker since ")
    assert lines[1].endswith("(5 of the last 6 deliveries failed)")
    assert lines[2].startswith("circuit breaker: open since ")
    assert lines[2].endswith("; recent deliveries: 5 failed of 6")
    assert lines[3] == "limits: in flight 1 of 4 · today 7 of 50"
    assert held_line(lines) == "held jobs: 2 (agent_offline 1, creator_paused 1)"
    a1 = next(line for line in lines if "a-1" in line)
    a2 = next(line for line in lines if "a-2" in line)
    assert "online" in a1 and " 1 " in a1
    assert "offline since" in a2 and "offline at" in a2
    # nothing of creator c-2 (same agent name a-1, its own pause and job)
    for other in ("c-2", "zoe", "secret-campaign", "j-other"):
        assert other not in result.stdout


def test_a_creator_with_nothing_recorded_is_unpaused_and_closed(cli, stage):
    result = cli("creator", "status", "--stage", "test", "--creator-id", "c-9", "--region", REGION)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[1:4] == [
        "paused: no",
        "circuit breaker: closed; recent deliveries: 0 failed of 0",
        "limits: in flight 0 of no limit · today 0 of no quota",
    ]
    assert held_line(result.stdout.splitlines()) == "held jobs: 0 (none)"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--creator-id", "c#1"), "error: --creator-id 'c#1' is not an id"),
        (("--creator-id", ""), "error: --creator-id '' is not an id"),
    ],
)
def test_bad_creator_id_is_one_error_line(cli, stage, args, message):
    result = cli("creator", "status", "--stage", "test", "--region", REGION, *args)
    assert result.exit_code == 2
    assert one_error_line(result).startswith(message)


def test_status_links_each_per_creator_view_filtered_to_the_creator(cli, stage):
    result = cli("creator", "status", "--stage", "test", "--creator-id", "c-1", "--region", REGION)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    start = lines.index(
        f"top creators (Contributor Insights): https://{REGION}.console.aws.amazon.com/cloudwatch/home"
        f"?region={REGION}#contributorinsights:rules"
    )
    views = lines[start + 1 :]
    names = Names("test")
    assert len(views) == len(RULES)
    for rule, line in zip(RULES, views, strict=True):
        logs = console.logs_insights(
            REGION, names.function_log_group(rule.function), rule.creator_query("c-1")
        )
        assert (
            line == f"  by {rule.what}: rule BYOIP-test-TopCreators-{rule.id}; this creator's lines: {logs}"
        )
        # the link's query names this creator and the rule's own log line
        assert "creatorId*20*3d*20*22c-1*22" in logs and rule.prefix.split()[0] in logs
