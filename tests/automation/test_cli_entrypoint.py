"""The installed `.venv/bin/byoip` and scripts/redrive-dlq.sh, run as real processes."""

import json
import os
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer

from lambdas.common.auth import verify_token

ROOT = Path(__file__).resolve().parents[2]
BYOIP = Path(sys.executable).parent / "byoip"
SCRIPT = ROOT / "scripts" / "redrive-dlq.sh"
KEY = "s" * 40
REGION = "us-east-1"
ACCOUNT = "123456789012"
DLQ_ARN = f"arn:aws:sqs:{REGION}:{ACCOUNT}:byoip-e2e-jobs-dlq"
MAIN_ARN = f"arn:aws:sqs:{REGION}:{ACCOUNT}:byoip-e2e-jobs"


def run(*args, env=None):
    base = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/tmp"),
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
    }
    return subprocess.run(
        [str(a) for a in args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**base, **(env or {})},
        cwd=ROOT,
    )


def test_console_script_mints_a_token():
    result = run(
        BYOIP, "token", "--agent-id", "a1", "--creator-id", "c1", "--ttl", "60", env={"WS_JWT_SECRET": KEY}
    )
    assert result.returncode == 0, result.stderr
    assert verify_token(result.stdout.strip(), KEY).creator_id == "c1"


def test_console_script_bad_input_is_one_line():
    result = run(BYOIP, "redrive", "--source-arn", "nope", "--destination-arn", MAIN_ARN, "--yes")
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "error: --source-arn 'nope' is not an SQS queue ARN "
        "(expected arn:aws:sqs:<region>:<12-digit account>:<queue name>)"
    ]


SPEC_FLAGS = [
    "--source-arn",
    DLQ_ARN,
    "--destination-arn",
    MAIN_ARN,
    "--region",
    REGION,
    "--max-pps",
    "50",
    "--wait",
]


def test_script_takes_the_spec_flags_and_wants_yes():
    result = run(SCRIPT, *SPEC_FLAGS)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "error: refusing to start a redrive without confirmation: add --yes (or --dry-run to preview)"
    ]


def test_script_rate_bound():
    result = run(SCRIPT, *SPEC_FLAGS[:-3], "--max-pps", "900", "--yes")
    assert result.returncode == 2
    assert result.stderr.splitlines() == ["error: --max-pps 900 is outside 1-500 messages per second"]


@pytest.fixture
def moto_server():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def _server_sqs(endpoint: str):
    """An SQS client on the moto server, with the fake credentials it accepts."""
    return boto3.client(
        "sqs",
        region_name=REGION,
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def test_script_dry_run_against_moto_server(moto_server):
    # GIVEN a DLQ with two messages, wired as JobsQueue's dead-letter target, on moto's server
    sqs = _server_sqs(moto_server)
    dlq = sqs.create_queue(QueueName="byoip-e2e-jobs-dlq")["QueueUrl"]
    sqs.create_queue(
        QueueName="byoip-e2e-jobs",
        Attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": DLQ_ARN, "maxReceiveCount": "5"})},
    )
    for n in range(2):
        sqs.send_message(QueueUrl=dlq, MessageBody=json.dumps({"jobId": f"j{n}", "agentId": "a"}))

    # WHEN the spec's command line runs as a dry run
    result = run(SCRIPT, *SPEC_FLAGS, "--yes", "--dry-run", env={"AWS_ENDPOINT_URL": moto_server})

    # THEN every check passed and nothing moved
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "dry run: would move 2 visible (+0 in flight) in byoip-e2e-jobs-dlq → byoip-e2e-jobs at ≤ 50 msg/s; "
        "nothing started",
        "sample of 2: transient=2",
    ]
    assert sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["ApproximateNumberOfMessages"])[
        "Attributes"
    ] == {"ApproximateNumberOfMessages": "2"}


def test_script_without_credentials_is_one_line(tmp_path):
    empty = tmp_path / "empty"
    empty.write_text("")
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "AWS_CONFIG_FILE": str(empty),
        "AWS_SHARED_CREDENTIALS_FILE": str(empty),
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    result = subprocess.run(
        [str(SCRIPT), *SPEC_FLAGS, "--dry-run"], capture_output=True, text=True, timeout=60, env=env, cwd=ROOT
    )
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "error: no AWS credentials: configure a profile (AWS_PROFILE) or set AWS_ACCESS_KEY_ID "
        "(NoCredentialsError: Unable to locate credentials)"
    ]
    assert result.stdout == ""


def test_an_operation_moto_lacks_is_one_line_exit_1(moto_server):
    # GIVEN a real DLQ wiring on moto's server, which does not implement ListMessageMoveTasks
    sqs = _server_sqs(moto_server)
    sqs.create_queue(QueueName="byoip-e2e-jobs-dlq")
    sqs.create_queue(
        QueueName="byoip-e2e-jobs",
        Attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": DLQ_ARN, "maxReceiveCount": "5"})},
    )

    # WHEN the redrive really starts
    result = run(BYOIP, "redrive", *SPEC_FLAGS[:-1], "--yes", env={"AWS_ENDPOINT_URL": moto_server})

    # THEN the server's 500 is one line naming the call, not a traceback
    assert result.returncode == 1
    (line,) = result.stderr.splitlines()
    assert line.startswith("error: AWS refused ListMessageMoveTasks (500: <!doctype html> <html lang=en>")
    assert len(line) < 300
