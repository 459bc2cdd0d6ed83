"""`byoip dlq replay`: only the matching messages move, poison pills to the quarantine, nothing lost."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.exceptions import ClientError

from automation.dlq_tools import Filters, replay
from automation.scripts.guarded_redrive import QUARANTINE_REASON_ATTR, REDRIVE_COUNT_ATTR
from tests.automation.conftest import REGION, one_error_line, put_alarm

STAGE = "t"
JOBS, DLQ, QUARANTINE = (f"byoip-{STAGE}-{suffix}" for suffix in ("jobs", "jobs-dlq", "jobs-quarantine"))


def body(job_id, creator="c-1", kind="post", agent="a-1"):
    return json.dumps({"jobId": job_id, "agentId": agent, "creatorId": creator, "kind": kind, "payload": {}})


@pytest.fixture
def queues(sqs):
    return {name: sqs.create_queue(QueueName=name)["QueueUrl"] for name in (JOBS, DLQ, QUARANTINE)}


def put(sqs, url, text, **attributes):
    extra = {name: {"DataType": "String", "StringValue": value} for name, value in attributes.items()}
    sqs.send_message(QueueUrl=url, MessageBody=text, MessageAttributes=extra)


def drain(sqs, url):
    """Every message of a queue (received for good: the test's own read)."""
    found = []
    while batch := sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"], VisibilityTimeout=600
    ).get("Messages", []):
        found.extend(batch)
    return found


def job_ids(messages):
    return sorted(json.loads(m["Body"])["jobId"] for m in messages)


@pytest.fixture
def mixed(sqs, queues):
    """c-1: two posts and an email; c-2: a post; and c-1's poison pill (a note) the dispatcher marked."""
    dlq = queues[DLQ]
    put(sqs, dlq, body("j-1"))
    put(sqs, dlq, body("j-2"))
    put(sqs, dlq, body("j-3", kind="email"))
    put(sqs, dlq, body("j-4", creator="c-2"))
    put(sqs, dlq, body("j-5", kind="note", agent=""), reason="agent_missing")
    return queues


def test_replay_moves_exactly_the_matching_messages(cli, sqs, mixed):
    result = cli("dlq", "replay", "--stage", STAGE, "--region", REGION, "--creator", "c-1", "--kind", "post")
    assert result.exit_code == 0, result.output + result.stderr
    assert f"moved 2 to {JOBS}, 0 to {QUARANTINE}; 3 left in the DLQ" in result.output
    assert job_ids(drain(sqs, mixed[JOBS])) == ["j-1", "j-2"]
    assert job_ids(drain(sqs, mixed[DLQ])) == ["j-3", "j-4", "j-5"]  # visible again at once
    assert drain(sqs, mixed[QUARANTINE]) == []


def test_a_poison_pill_goes_to_the_quarantine_not_the_queue(cli, sqs, mixed):
    result = cli("dlq", "replay", "--stage", STAGE, "--region", REGION, "--creator", "c-1")
    assert result.exit_code == 0, result.stderr
    assert f"moved 3 to {JOBS}, 1 to {QUARANTINE} (agent_missing=1)" in result.output
    moved = drain(sqs, mixed[JOBS])
    assert job_ids(moved) == ["j-1", "j-2", "j-3"]
    assert {m["MessageAttributes"][REDRIVE_COUNT_ATTR]["StringValue"] for m in moved} == {"1"}
    parked = drain(sqs, mixed[QUARANTINE])
    assert job_ids(parked) == ["j-5"]
    assert parked[0]["MessageAttributes"][QUARANTINE_REASON_ATTR]["StringValue"] == "agent_missing"
    assert job_ids(drain(sqs, mixed[DLQ])) == ["j-4"]


def test_exclude_kind_requeues_the_rest_of_a_creators_jobs(cli, sqs, mixed):
    result = cli(
        "dlq", "replay", "--stage", STAGE, "--region", REGION, "--creator", "c-1", "--exclude-kind", "email"
    )
    assert result.exit_code == 0, result.stderr
    assert job_ids(drain(sqs, mixed[JOBS])) == ["j-1", "j-2"]
    assert job_ids(drain(sqs, mixed[QUARANTINE])) == ["j-5"]
    assert job_ids(drain(sqs, mixed[DLQ])) == ["j-3", "j-4"]


def test_filter_by_reason_and_job_id(cli, sqs, mixed):
    result = cli("dlq", "replay", "--stage", STAGE, "--region", REGION, "--job-id", "j-4", "--job-id", "j-2")
    assert result.exit_code == 0, result.stderr
    assert job_ids(drain(sqs, mixed[JOBS])) == ["j-2", "j-4"]
    result = cli("dlq", "replay", "--stage", STAGE, "--region", REGION, "--reason", "agent_missing")
    assert job_ids(drain(sqs, mixed[QUARANTINE])) == ["j-5"]
    assert job_ids(drain(sqs, mixed[DLQ])) == ["j-1", "j-3"]


def test_dry_run_moves_nothing_and_shows_the_plan(cli, sqs, mixed):
    result = cli("dlq", "replay", "--stage", STAGE, "--region", REGION, "--creator", "c-1", "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert f"dry run: would move 3 to {JOBS} and 1 to {QUARANTINE}; nothing moved" in result.output
    assert "agent_missing" in result.output
    assert drain(sqs, mixed[JOBS]) == [] and drain(sqs, mixed[QUARANTINE]) == []
    assert job_ids(drain(sqs, mixed[DLQ])) == ["j-1", "j-2", "j-3", "j-4", "j-5"]


def test_max_stops_the_run_and_leaves_the_rest_visible(cli, sqs, mixed):
    result = cli("dlq", "replay", "--stage", STAGE, "--region", REGION, "--all", "--max", "2")
    assert result.exit_code == 0, result.stderr
    assert "stopped at --max 2" in result.output
    assert len(drain(sqs, mixed[JOBS])) + len(drain(sqs, mixed[QUARANTINE])) == 2
    assert len(drain(sqs, mixed[DLQ])) == 3


def test_a_failed_send_loses_nothing(cli, sqs, mixed):
    failing = boto3.client("sqs", region_name=REGION)

    def refuse(params, **_):
        if params["QueueUrl"] == mixed[JOBS]:
            raise ClientError({"Error": {"Code": "KMS.AccessDenied", "Message": "no"}}, "SendMessage")

    failing.meta.events.register("before-call.sqs.SendMessage", refuse)
    cli.overrides["sqs"] = failing
    result = cli("dlq", "replay", "--stage", STAGE, "--region", REGION, "--job-id", "j-1")
    assert result.exit_code == 1
    assert "SendMessage failed, the message is still in the DLQ" in one_error_line(result)
    assert drain(sqs, mixed[JOBS]) == []
    assert job_ids(drain(sqs, mixed[DLQ])) == ["j-1", "j-2", "j-3", "j-4", "j-5"]


def test_replay_waits_for_the_guards_alarm_unless_forced(cli, sqs, cloudwatch, mixed):
    put_alarm(cloudwatch, f"BYOIP-{STAGE}-DispatcherErrors", "ALARM")
    args = ("dlq", "replay", "--stage", STAGE, "--region", REGION, "--job-id", "j-1")
    result = cli(*args)
    assert result.exit_code == 1
    assert one_error_line(result) == (
        f"error: BYOIP-{STAGE}-DispatcherErrors is in ALARM: replayed jobs would fail again; "
        "wait for OK (GuardedRedrive waits too) or add --force"
    )
    assert drain(sqs, mixed[JOBS]) == []
    assert cli(*args, "--dry-run").exit_code == 0  # a look moves nothing: allowed
    assert drain(sqs, mixed[JOBS]) == []
    assert cli(*args, "--force").exit_code == 0
    assert job_ids(drain(sqs, mixed[JOBS])) == ["j-1"]


def test_replay_keeps_to_the_rate(sqs, queues, clock):
    for n in range(25):
        put(sqs, queues[DLQ], body(f"j-{n}"))
    report = replay(
        sqs,
        dlq_url=queues[DLQ],
        jobs_queue_url=queues[JOBS],
        quarantine_url=queues[QUARANTINE],
        filters=Filters(creators=("c-1",)),
        max_messages=100,
        max_per_second=10,
        dry_run=False,
        sleep=clock.sleep,
        clock=clock,
    )
    assert (report.redriven, report.status) == (25, "drained")
    assert clock.now == pytest.approx(2.5)  # 25 messages at 10/s


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "error: name the messages: at least one of --reason, --creator, --job-id, --kind (or --all)"),
        (["--exclude-kind", "post"], "error: name the messages"),
        (["--all", "--creator", "c-1"], "error: --all takes every message: give filters or --all, not both"),
        (["--all", "--rate", "fast"], "error: --rate 'fast' is not a rate of 1-500 messages per second"),
        (["--all", "--rate", "0/s"], "error: --rate '0/s' is not a rate of 1-500"),
        (["--all", "--max", "0"], "error: --max 0 is outside 1-10000"),
        (["--reason", "oops"], "error: --reason 'oops' is not a reason; one of: transient, json_invalid"),
        (["--creator", "bad id"], "error: --creator 'bad id' is not an id"),
    ],
)
def test_bad_input_is_one_clear_error(cli, sqs, queues, args, message):
    result = cli("dlq", "replay", "--stage", STAGE, "--region", REGION, *args)
    assert result.exit_code == 2
    assert one_error_line(result).startswith(message)
    assert len(drain(sqs, queues[DLQ])) == 0 and drain(sqs, queues[JOBS]) == []
