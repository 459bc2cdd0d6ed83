"""`byoip redrive` through the root app: checks, dry run against moto, the move task via Stubber."""

import json

import boto3
import pytest
from botocore.stub import Stubber

from tests.automation.conftest import ACCOUNT, REGION, one_error_line

DLQ_ARN = f"arn:aws:sqs:{REGION}:{ACCOUNT}:byoip-t-jobs-dlq"
MAIN_ARN = f"arn:aws:sqs:{REGION}:{ACCOUNT}:byoip-t-jobs"
DLQ_URL = f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/byoip-t-jobs-dlq"
MAIN_URL = f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/byoip-t-jobs"
BASE = ["redrive", "--source-arn", DLQ_ARN, "--destination-arn", MAIN_ARN, "--region", REGION]


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["redrive", "--source-arn", "byoip-t-jobs-dlq", "--destination-arn", MAIN_ARN, "--yes"],
            "error: --source-arn 'byoip-t-jobs-dlq' is not an SQS queue ARN "
            "(expected arn:aws:sqs:<region>:<12-digit account>:<queue name>)",
        ),
        (
            ["redrive", "--source-arn", DLQ_ARN, "--destination-arn", "arn:aws:sns:us-east-1:1:x", "--yes"],
            "error: --destination-arn 'arn:aws:sns:us-east-1:1:x' is not an SQS queue ARN "
            "(expected arn:aws:sqs:<region>:<12-digit account>:<queue name>)",
        ),
        ([*BASE, "--max-pps", "0", "--yes"], "error: --max-pps 0 is outside 1-500 messages per second"),
        ([*BASE, "--max-pps", "501", "--yes"], "error: --max-pps 501 is outside 1-500 messages per second"),
        (
            BASE,
            "error: refusing to start a redrive without confirmation: add --yes (or --dry-run to preview)",
        ),
        (
            [
                "redrive",
                "--source-arn",
                DLQ_ARN,
                "--destination-arn",
                MAIN_ARN,
                "--region",
                "eu-west-1",
                "--yes",
            ],
            "error: --source-arn is in us-east-1 but --region is eu-west-1: use the queue's region",
        ),
        (
            ["redrive", "--source-arn", DLQ_ARN, "--destination-arn", DLQ_ARN, "--region", REGION, "--yes"],
            "error: --source-arn and --destination-arn are the same queue",
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_2(cli, aws, args, message):
    result = cli(*args)
    assert result.exit_code == 2
    assert one_error_line(result) == message


def test_a_queue_that_is_not_a_dlq_is_refused(cli, sqs):
    sqs.create_queue(QueueName="byoip-t-jobs-dlq")  # nobody's DLQ
    sqs.create_queue(QueueName="byoip-t-jobs")

    result = cli(*BASE, "--yes")

    assert result.exit_code == 2
    assert one_error_line(result) == (
        "error: byoip-t-jobs-dlq is not a dead-letter queue (no queue's redrive policy targets it); "
        "--source-arn must be a DLQ"
    )


def test_a_missing_queue_is_named(cli, sqs):
    result = cli(*BASE, "--yes")
    assert result.exit_code == 2
    assert (
        one_error_line(result)
        == f"error: queue byoip-t-jobs-dlq does not exist in {REGION} (account {ACCOUNT})"
    )


def _real_queues(sqs):
    dlq = sqs.create_queue(QueueName="byoip-t-jobs-dlq")["QueueUrl"]
    sqs.create_queue(
        QueueName="byoip-t-jobs",
        Attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": DLQ_ARN, "maxReceiveCount": "5"})},
    )
    for body in ('{"jobId":"j1","agentId":"a1"}', '{"jobId":"j2","agentId":"a2"}', "{oops"):
        sqs.send_message(QueueUrl=dlq, MessageBody=body)
    return dlq


def test_dry_run_checks_and_moves_nothing(cli, sqs):
    dlq = _real_queues(sqs)

    result = cli(*BASE, "--dry-run")

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "dry run: would move 3 visible (+0 in flight) in byoip-t-jobs-dlq → byoip-t-jobs at ≤ 50 msg/s; "
        "nothing started",
        "sample of 3: json_invalid=1, transient=2 "
        "(poison pills fail again after a redrive: fix or quarantine them first)",
    ]
    assert sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["ApproximateNumberOfMessages"])[
        "Attributes"
    ] == {"ApproximateNumberOfMessages": "3"}


@pytest.fixture
def stubbed_sqs(cli):
    client = boto3.client("sqs", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    cli.overrides["sqs"] = client
    with Stubber(client) as stubber:
        stubber.add_response(
            "get_queue_url",
            {"QueueUrl": DLQ_URL},
            {"QueueName": "byoip-t-jobs-dlq", "QueueOwnerAWSAccountId": ACCOUNT},
        )
        stubber.add_response(
            "get_queue_url",
            {"QueueUrl": MAIN_URL},
            {"QueueName": "byoip-t-jobs", "QueueOwnerAWSAccountId": ACCOUNT},
        )
        stubber.add_response(
            "list_dead_letter_source_queues", {"queueUrls": [MAIN_URL]}, {"QueueUrl": DLQ_URL}
        )
        stubber.add_response(
            "get_queue_attributes", {"Attributes": {}}, {"QueueUrl": DLQ_URL, "AttributeNames": ["All"]}
        )
        stubber.add_response(
            "get_queue_attributes",
            {
                "Attributes": {
                    "ApproximateNumberOfMessages": "7",
                    "ApproximateNumberOfMessagesNotVisible": "0",
                }
            },
        )
        yield stubber
        stubber.assert_no_pending_responses()


def _task(status, moved, to_move):
    return {
        "Results": [
            {
                "Status": status,
                "ApproximateNumberOfMessagesMoved": moved,
                "ApproximateNumberOfMessagesToMove": to_move,
            }
        ]
    }


def test_redrive_waits_and_reports(cli, stubbed_sqs):
    stubbed_sqs.add_response(
        "list_message_move_tasks", {"Results": []}, {"SourceArn": DLQ_ARN, "MaxResults": 1}
    )
    stubbed_sqs.add_response(
        "start_message_move_task",
        {"TaskHandle": "h-1"},
        {"SourceArn": DLQ_ARN, "DestinationArn": MAIN_ARN, "MaxNumberOfMessagesPerSecond": 20},
    )
    stubbed_sqs.add_response("list_message_move_tasks", _task("RUNNING", 3, 7))
    stubbed_sqs.add_response("list_message_move_tasks", _task("COMPLETED", 7, 7))

    result = cli(*BASE, "--max-pps", "20", "--wait", "--yes", "--poll-seconds", "0")

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "started move task: 7 visible (+0 in flight) in byoip-t-jobs-dlq → byoip-t-jobs at ≤ 20 msg/s",
        "COMPLETED: moved 7, failed 0",
    ]


def test_redrive_refuses_while_a_task_runs(cli, stubbed_sqs):
    stubbed_sqs.add_response("list_message_move_tasks", _task("RUNNING", 1, 9))

    result = cli(*BASE, "--yes")

    assert result.exit_code == 1
    assert one_error_line(result) == (
        f"error: a move task is already RUNNING on {DLQ_ARN}; wait for it or cancel it first"
    )


def test_failed_task_exits_1_with_counts(cli, stubbed_sqs):
    stubbed_sqs.add_response("list_message_move_tasks", {"Results": []})
    stubbed_sqs.add_response("start_message_move_task", {"TaskHandle": "h-2"})
    failed = _task("FAILED", 2, 7)
    failed["Results"][0]["FailureReason"] = "AWS.SimpleQueueService.NonExistentQueue"
    stubbed_sqs.add_response("list_message_move_tasks", failed)

    result = cli(*BASE, "--wait", "--yes", "--poll-seconds", "0")

    assert result.exit_code == 1
    assert (
        result.stdout.splitlines()[-1]
        == "FAILED: moved 2, failed 5 (AWS.SimpleQueueService.NonExistentQueue)"
    )


def test_without_wait_prints_the_handle(cli, stubbed_sqs):
    stubbed_sqs.add_response("list_message_move_tasks", {"Results": []})
    stubbed_sqs.add_response("start_message_move_task", {"TaskHandle": "h-3"})

    result = cli(*BASE, "--yes")

    assert result.exit_code == 0
    assert "task handle: h-3" in result.stdout


def test_a_destination_that_does_not_feed_the_dlq_is_refused(cli, sqs):
    _real_queues(sqs)
    sqs.create_queue(QueueName="byoip-t-other")
    other = f"arn:aws:sqs:{REGION}:{ACCOUNT}:byoip-t-other"

    result = cli(
        "redrive", "--source-arn", DLQ_ARN, "--destination-arn", other, "--region", REGION, "--dry-run"
    )

    assert result.exit_code == 2
    assert one_error_line(result) == (
        "error: --destination-arn byoip-t-other is not a source queue of byoip-t-jobs-dlq "
        "(its source queues: byoip-t-jobs); redrive a DLQ only back to the queue that fed it"
    )


def _stub_lookups(stubber, dlq_attributes):
    for name, url in (("byoip-t-jobs-dlq", DLQ_URL), ("byoip-t-jobs", MAIN_URL)):
        stubber.add_response(
            "get_queue_url", {"QueueUrl": url}, {"QueueName": name, "QueueOwnerAWSAccountId": ACCOUNT}
        )
    stubber.add_response("list_dead_letter_source_queues", {"queueUrls": [MAIN_URL]}, {"QueueUrl": DLQ_URL})
    stubber.add_response("get_queue_attributes", {"Attributes": dlq_attributes})


def test_the_dlqs_redrive_allow_policy_narrows_the_destinations(cli):
    client = boto3.client("sqs", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    cli.overrides["sqs"] = client
    policy = {
        "redrivePermission": "byQueue",
        "sourceQueueArns": [f"arn:aws:sqs:{REGION}:{ACCOUNT}:byoip-t-a"],
    }
    with Stubber(client) as stubber:
        _stub_lookups(stubber, {"RedriveAllowPolicy": json.dumps(policy)})

        result = cli(*BASE, "--dry-run")

        stubber.assert_no_pending_responses()
    assert result.exit_code == 2
    assert one_error_line(result) == (
        "error: --destination-arn byoip-t-jobs is not a source queue of byoip-t-jobs-dlq "
        "(its source queues: none); redrive a DLQ only back to the queue that fed it"
    )


def test_aws_refusing_list_message_move_tasks_is_one_line_exit_1(cli, stubbed_sqs):
    stubbed_sqs.add_client_error(
        "list_message_move_tasks",
        service_error_code="AccessDenied",
        service_message="User: arn:aws:iam::123456789012:user/oncall is not authorized to perform: "
        "sqs:ListMessageMoveTasks",
        http_status_code=403,
    )

    result = cli(*BASE, "--yes")

    assert result.exit_code == 1
    assert one_error_line(result) == (
        "error: AWS refused ListMessageMoveTasks (AccessDenied: User: arn:aws:iam::123456789012:user/oncall "
        "is not authorized to perform: sqs:ListMessageMoveTasks)"
    )
    assert result.stdout == ""


def test_the_commands_calls_are_recorded_as_the_operators_and_not_evaluated(cli, sqs):
    """No template role holds an operator's credentials: the IAM check lists these calls only."""
    from sandbox.iam import recorder
    from tests.iam.check import evaluate

    dlq = _real_queues(sqs)  # set-up, as no one: not recorded
    with recorder.collected() as records:
        assert cli(*BASE, "--dry-run").exit_code == 0

    assert {r["caller"] for r in records} == {"cli:operator"}
    assert ("sqs:GetQueueAttributes", f"arn:aws:sqs:{REGION}:{ACCOUNT}:byoip-t-jobs-dlq") in {
        (r["action"], r["resource"]) for r in records
    }
    assert dlq.endswith("byoip-t-jobs-dlq")
    report = evaluate(records)
    assert report.denials == []
    assert report.not_evaluated == report.triples
