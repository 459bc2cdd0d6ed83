"""`byoip creator pause|resume`: a whole creator or one kind of its jobs, then its held jobs released."""

from __future__ import annotations

import json

import pytest

from automation.scripts import creator_pause
from lambdas.common import limits
from tests.automation.conftest import REGION, create_agents_table, held, one_error_line

BASE = ("--stage", "test", "--region", REGION)
BY_ZOE = ("--operator", "zoe")


@pytest.fixture
def stage(tables, sqs):
    """Creator c-1 with held jobs of two kinds (post, email), creator c-2 with a held email."""
    url = sqs.create_queue(QueueName="byoip-test-jobs")["QueueUrl"]
    create_agents_table(tables)
    held(tables, "j-post", "a-1", "c-1")
    held(tables, "j-mail", "a-1", "c-1", kind="email")
    held(tables, "j-other", "a-1", "c-2", kind="email")
    return tables, url


def limits_item(ddb, creator):
    return ddb.get_item(TableName="byoip-test-creator-limits", Key={"creatorId": {"S": creator}}).get(
        "Item", {}
    )


def status_of(ddb, job_id):
    return ddb.get_item(TableName="byoip-test-jobs", Key={"jobId": {"S": job_id}})["Item"]["status"]["S"]


def queued(sqs, url):
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    return sorted(json.loads(m["Body"])["jobId"] for m in messages)


def test_the_script_and_the_dispatcher_name_a_kind_pause_alike():
    assert creator_pause.KIND_PAUSE_PREFIX == limits.KIND_PAUSE_PREFIX


def test_pause_and_resume_a_whole_creator(cli, stage, sqs):
    ddb, url = stage
    result = cli("creator", "pause", "c-1", *BASE, "--reason", "campaign off", *BY_ZOE)
    assert result.exit_code == 0, result.stderr
    assert "paused creator c-1 (by operator:zoe)" in result.output
    item = limits_item(ddb, "c-1")
    assert (item["paused"], item["pausedBy"], item["pauseReason"]) == (
        {"BOOL": True},
        {"S": "operator:zoe"},
        {"S": "campaign off"},
    )
    result = cli("creator", "resume", "c-1", *BASE)
    assert result.exit_code == 0, result.stderr
    assert "resumed creator c-1; released 2 held job(s)" in result.output
    assert limits_item(ddb, "c-1")["paused"] == {"BOOL": False}
    assert queued(sqs, url) == ["j-mail", "j-post"]
    assert status_of(ddb, "j-other") == "held"


def test_pause_one_kind_then_resume_it_releases_only_that_kind(cli, stage, sqs):
    ddb, url = stage
    result = cli(
        "creator", "pause", "c-1", *BASE, "--kind", "email", "--reason", "bad segment", "--operator", "zoe"
    )
    assert result.exit_code == 0, result.stderr
    assert "paused jobs of kind email of creator c-1 (by operator:zoe)" in result.output
    pause = limits_item(ddb, "c-1")["pausedKind#email"]["M"]
    assert (pause["by"], pause["reason"]) == ({"S": "operator:zoe"}, {"S": "bad segment"})
    assert "paused" not in limits_item(ddb, "c-1")
    status = cli("creator", "status", "--creator-id", "c-1", *BASE)
    assert "paused kind email: by operator:zoe" in status.output
    # a whole-creator resume leaves the paused kind paused and its jobs held
    result = cli("creator", "resume", "c-1", *BASE)
    assert "released 1 held job(s)" in result.output
    assert "still paused on their own: kinds email" in result.output
    assert queued(sqs, url) == ["j-post"] and status_of(ddb, "j-mail") == "held"
    result = cli("creator", "resume", "c-1", *BASE, "--kind", "email")
    assert result.exit_code == 0, result.stderr
    assert "resumed jobs of kind email of creator c-1; released 1 held job(s)" in result.output
    assert "pausedKind#email" not in limits_item(ddb, "c-1")
    assert status_of(ddb, "j-mail") == "queued" and status_of(ddb, "j-other") == "held"


def test_a_kind_resume_releases_nothing_while_the_creator_is_paused(cli, stage, sqs):
    ddb, url = stage
    cli("creator", "pause", "c-1", *BASE, "--reason", "all off", *BY_ZOE)
    cli("creator", "pause", "c-1", *BASE, "--kind", "email", "--reason", "bad segment", *BY_ZOE)
    result = cli("creator", "resume", "c-1", *BASE, "--kind", "email")
    assert "released 0 held job(s)" in result.output
    assert "creator c-1 itself is still paused" in result.output
    assert queued(sqs, url) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["pause", "bad id", "--reason", "r"], "error: CREATOR 'bad id' is not an id"),
        (["pause", "c-1", "--reason", "r", "--kind", "a b"], "error: --kind 'a b' is not an id"),
        (["pause", "c-1", "--reason", " "], "error: --reason must be 1-200 characters"),
        (["resume", "c-1", "--max-jobs", "0"], "error: --max-jobs 0 is outside 1-1000"),
    ],
)
def test_bad_input_is_one_clear_error(cli, stage, args, message):
    result = cli("creator", *args, *BASE)
    assert result.exit_code == 2
    assert one_error_line(result).startswith(message)
    assert limits_item(stage[0], "c-1") == {}
