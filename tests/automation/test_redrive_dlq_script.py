"""RedriveDlq script: StartMessageMoveTask path, exercised with Stubber (moto lacks the API)."""

import boto3
import pytest
from botocore.stub import Stubber

from automation.scripts.redrive_dlq import RedriveRefused, check_rate, redrive_dlq

DLQ = "arn:aws:sqs:us-east-1:123456789012:byoip-test-jobs-dlq"
MAIN = "arn:aws:sqs:us-east-1:123456789012:byoip-test-jobs"


@pytest.fixture
def stubbed():
    client = boto3.client("sqs", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def _task(status, moved, to_move, **extra):
    return {
        "Results": [
            dict(
                Status=status,
                ApproximateNumberOfMessagesMoved=moved,
                ApproximateNumberOfMessagesToMove=to_move,
                SourceArn=DLQ,
                **extra,
            )
        ]
    }


def test_starts_at_default_rate_waits_and_reports_counts(stubbed, clock):
    # GIVEN no earlier task, then a task that runs one poll and completes
    client, stubber = stubbed
    listing = {"SourceArn": DLQ, "MaxResults": 1}
    stubber.add_response("list_message_move_tasks", {"Results": []}, listing)
    stubber.add_response(
        "start_message_move_task",
        {"TaskHandle": "h-1"},
        {"SourceArn": DLQ, "DestinationArn": MAIN, "MaxNumberOfMessagesPerSecond": 50},
    )
    stubber.add_response("list_message_move_tasks", _task("RUNNING", 3, 7, TaskHandle="h-1"), listing)
    stubber.add_response("list_message_move_tasks", _task("COMPLETED", 7, 7), listing)
    seen = []

    # WHEN
    report = redrive_dlq(
        client,
        source_arn=DLQ,
        destination_arn=MAIN,
        poll_seconds=5,
        on_progress=lambda r: seen.append(r["moved"]),
        sleep=clock.sleep,
        clock=clock,
    )

    # THEN
    assert report == {
        "taskHandle": "h-1",
        "status": "COMPLETED",
        "moved": 7,
        "toMove": 7,
        "failed": 0,
        "failureReason": "",
    }
    assert seen == [3, 7]
    assert clock.sleeps == [5]


def test_refuses_while_a_move_task_is_running(stubbed):
    client, stubber = stubbed
    stubber.add_response(
        "list_message_move_tasks",
        _task("RUNNING", 1, 9, TaskHandle="h-0"),
        {"SourceArn": DLQ, "MaxResults": 1},
    )

    with pytest.raises(RedriveRefused, match="already RUNNING"):
        redrive_dlq(client, source_arn=DLQ, destination_arn=MAIN)


def test_failed_task_reports_the_messages_left_behind(stubbed, clock):
    client, stubber = stubbed
    stubber.add_response("list_message_move_tasks", _task("COMPLETED", 2, 2))
    stubber.add_response("start_message_move_task", {"TaskHandle": "h-2"})
    stubber.add_response(
        "list_message_move_tasks",
        _task("FAILED", 4, 10, FailureReason="AWS.SimpleQueueService.NonExistentQueue"),
    )

    report = redrive_dlq(
        client, source_arn=DLQ, destination_arn=MAIN, max_per_second=500, sleep=clock.sleep, clock=clock
    )

    assert (report["status"], report["moved"], report["failed"]) == ("FAILED", 4, 6)
    assert report["failureReason"] == "AWS.SimpleQueueService.NonExistentQueue"


def test_wait_is_bounded(stubbed, clock):
    client, stubber = stubbed
    stubber.add_response("list_message_move_tasks", {"Results": []})
    stubber.add_response("start_message_move_task", {"TaskHandle": "h-3"})
    for _ in range(3):
        stubber.add_response("list_message_move_tasks", _task("RUNNING", 1, 100, TaskHandle="h-3"))

    report = redrive_dlq(
        client,
        source_arn=DLQ,
        destination_arn=MAIN,
        poll_seconds=10,
        timeout_seconds=20,
        sleep=clock.sleep,
        clock=clock,
    )

    assert report["status"] == "TIMED_OUT_WAITING"
    assert clock.sleeps == [10, 10]


def test_no_wait_returns_the_handle(stubbed):
    client, stubber = stubbed
    stubber.add_response("list_message_move_tasks", {"Results": []})
    stubber.add_response("start_message_move_task", {"TaskHandle": "h-4"})

    assert redrive_dlq(client, source_arn=DLQ, destination_arn=MAIN, wait=False)["taskHandle"] == "h-4"


@pytest.mark.parametrize("rate", [0, 501, -5])
def test_rate_outside_bounds_is_refused(rate):
    with pytest.raises(RedriveRefused, match="outside 1-500"):
        check_rate(rate)


@pytest.mark.parametrize("rate", [1, 500])
def test_rate_on_the_bounds_is_accepted(rate):
    assert check_rate(rate) == rate
