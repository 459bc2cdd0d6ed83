"""PauseCreator / ResumeCreator scripts against moto DynamoDB + SQS."""

import json

import pytest

from automation.scripts.creator_pause import pause_creator, resume_creator
from tests.automation.conftest import held


def limits(ddb, creator):
    return ddb.get_item(TableName="byoip-test-creator-limits", Key={"creatorId": {"S": creator}}).get("Item")


def test_pause_sets_the_flag_with_who_and_why(tables):
    report = pause_creator(
        tables,
        limits_table="byoip-test-creator-limits",
        creator_id="c1",
        reason="site pushback",
        operator="alice",
        now=lambda: 1700000000,
    )

    assert report == {"creatorId": "c1", "paused": True, "pausedBy": "operator:alice"}
    assert limits(tables, "c1") == {
        "creatorId": {"S": "c1"},
        "paused": {"BOOL": True},
        "pauseReason": {"S": "site pushback"},
        "pausedBy": {"S": "operator:alice"},
        "pausedAt": {"N": "1700000000"},
    }


def test_resume_clears_the_flag_and_releases_only_this_creators_held_jobs(tables, sqs):
    # GIVEN a paused creator with two held jobs on two agents, plus unrelated jobs
    queue = sqs.create_queue(QueueName="byoip-test-jobs")["QueueUrl"]
    pause_creator(tables, limits_table="byoip-test-creator-limits", creator_id="c1", reason="r", operator="o")
    held(tables, "j1", "a1", "c1")
    held(tables, "j2", "a2", "c1")
    held(tables, "j3", "a3", "c2")
    held(tables, "j4", "a1", "c1", status="completed")

    # WHEN
    report = resume_creator(
        tables,
        sqs,
        limits_table="byoip-test-creator-limits",
        jobs_table="byoip-test-jobs",
        jobs_queue_url=queue,
        creator_id="c1",
        now=lambda: 500,
    )

    # THEN
    assert report == {"creatorId": "c1", "paused": False, "released": 2}
    # breakerResetAt: a circuit breaker closed by hand starts a fresh failure window (breaker.py)
    assert limits(tables, "c1") == {
        "creatorId": {"S": "c1"},
        "paused": {"BOOL": False},
        "breakerResetAt": {"N": "500"},
    }
    messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    assert sorted(json.loads(m["Body"])["jobId"] for m in messages) == ["j1", "j2"]
    assert json.loads(messages[0]["Body"])["payload"] == {"n": 3}
    assert json.loads(messages[0]["Body"])["attempt"] == 2
    j1 = tables.get_item(TableName="byoip-test-jobs", Key={"jobId": {"S": "j1"}})["Item"]
    assert (j1["status"], j1["updatedAt"], "heldAgentId" in j1) == ({"S": "queued"}, {"N": "500"}, False)
    j3 = tables.get_item(TableName="byoip-test-jobs", Key={"jobId": {"S": "j3"}})["Item"]
    assert j3["status"] == {"S": "held"}


def test_failed_send_leaves_the_job_held(tables, sqs):
    # GIVEN a held job and a queue that cannot be reached
    held(tables, "j1", "a1", "c1")

    class DownSqs:
        def send_message(self, **kwargs):
            raise ConnectionError("queue unreachable")

    # WHEN
    with pytest.raises(ConnectionError):
        resume_creator(
            tables,
            DownSqs(),
            limits_table="byoip-test-creator-limits",
            jobs_table="byoip-test-jobs",
            jobs_queue_url="unused",
            creator_id="c1",
        )

    # THEN the job is still held (a later resume or reconnect releases it), not queued without a message
    j1 = tables.get_item(TableName="byoip-test-jobs", Key={"jobId": {"S": "j1"}})["Item"]
    assert (j1["status"], j1["heldAgentId"]) == ({"S": "held"}, {"S": "c1#a1"})


def test_job_taken_meanwhile_is_left_alone(tables, sqs):
    queue = sqs.create_queue(QueueName="byoip-test-jobs")["QueueUrl"]
    held(tables, "j1", "a1", "c1")

    class DispatcherRaces:
        """The dispatcher assigns the job between our send and our update."""

        def send_message(self, **kwargs):
            tables.update_item(
                TableName="byoip-test-jobs",
                Key={"jobId": {"S": "j1"}},
                UpdateExpression="SET #s = :a REMOVE heldAgentId",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={":a": {"S": "assigned"}},
            )
            return sqs.send_message(**kwargs)

    report = resume_creator(
        tables,
        DispatcherRaces(),
        limits_table="byoip-test-creator-limits",
        jobs_table="byoip-test-jobs",
        jobs_queue_url=queue,
        creator_id="c1",
    )

    assert report["released"] == 1
    j1 = tables.get_item(TableName="byoip-test-jobs", Key={"jobId": {"S": "j1"}})["Item"]
    assert j1["status"] == {"S": "assigned"}


def test_resume_respects_its_job_budget(tables, sqs):
    queue = sqs.create_queue(QueueName="byoip-test-jobs")["QueueUrl"]
    for n in range(5):
        held(tables, f"j{n}", f"a{n}", "c1")

    report = resume_creator(
        tables,
        sqs,
        limits_table="byoip-test-creator-limits",
        jobs_table="byoip-test-jobs",
        jobs_queue_url=queue,
        creator_id="c1",
        max_jobs=3,
    )

    assert report["released"] == 3
