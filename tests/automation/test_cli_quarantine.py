"""`byoip quarantine export|delete`: every message exported and none deleted; delete asks, then
removes exactly the chosen ones."""

from __future__ import annotations

import json

import boto3
import pytest
from click.testing import CliRunner

from automation.scripts.guarded_redrive import QUARANTINE_REASON_ATTR, SOURCE_MESSAGE_ATTR, release
from tests.automation.conftest import REGION, EntryPoint, one_error_line

QUARANTINE = "byoip-t-jobs-quarantine"
BASE = ("--stage", "t", "--region", REGION)


def body(job_id, creator="c-1", kind="post"):
    return json.dumps({"jobId": job_id, "agentId": "a-1", "creatorId": creator, "kind": kind})


@pytest.fixture
def parked(sqs):
    """The quarantine with 12 poison pills (more than one receive's 10): c-1's j-0..j-9, c-2's k-0, k-1."""
    url = sqs.create_queue(QueueName=QUARANTINE)["QueueUrl"]
    ids = {}
    for job_id, creator in [(f"j-{n}", "c-1") for n in range(10)] + [("k-0", "c-2"), ("k-1", "c-2")]:
        reason = "agent_missing" if creator == "c-2" else "redrive_budget_exhausted"
        sent = sqs.send_message(
            QueueUrl=url,
            MessageBody=body(job_id, creator),
            MessageAttributes={
                QUARANTINE_REASON_ATTR: {"DataType": "String", "StringValue": reason},
                SOURCE_MESSAGE_ATTR: {"DataType": "String", "StringValue": f"src-{job_id}"},
            },
        )
        ids[job_id] = sent["MessageId"]
    return url, ids


def remaining(sqs, url):
    """Job ids still in the queue (the test's own read; made visible again afterwards)."""
    found = []
    while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=30).get(
        "Messages", []
    ):
        found.extend(batch)
    release(sqs, url, found)
    return sorted(json.loads(m["Body"])["jobId"] for m in found)


ALL = sorted([f"j-{n}" for n in range(10)] + ["k-0", "k-1"])


def test_export_to_a_file_writes_every_message_and_deletes_none(cli, sqs, parked, tmp_path):
    url, ids = parked
    out = tmp_path / "q.jsonl"
    result = cli("quarantine", "export", *BASE, "--out", out)
    assert result.exit_code == 0, result.stderr
    assert f"exported 12 message(s) of {QUARANTINE} to {out}; none deleted" in result.output
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert sorted(r["jobId"] for r in records) == ALL
    first = next(r for r in records if r["jobId"] == "k-0")
    assert first["messageId"] == ids["k-0"]
    assert (first["quarantineReason"], first["sourceMessageId"], first["creatorId"]) == (
        "agent_missing",
        "src-k-0",
        "c-2",
    )
    assert json.loads(first["body"])["jobId"] == "k-0"
    assert first["sentAt"].endswith("Z") and first["receiveCount"] >= 1
    assert QUARANTINE_REASON_ATTR in first["messageAttributes"]
    assert remaining(sqs, url) == ALL  # visible again at once, nothing deleted


def test_export_to_s3_uses_sse_kms_with_the_stages_key(cli, sqs, parked):
    url, _ = parked
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="evidence")
    kms = boto3.client("kms", region_name=REGION)
    key_arn = kms.create_key()["KeyMetadata"]["Arn"]
    kms.create_alias(AliasName="alias/byoip-t-data", TargetKeyId=key_arn)
    result = cli("quarantine", "export", *BASE, "--s3", "s3://evidence/incident-7/")
    assert result.exit_code == 0, result.stderr
    (obj,) = s3.list_objects_v2(Bucket="evidence", Prefix="incident-7/")["Contents"]
    assert obj["Key"].startswith(f"incident-7/{QUARANTINE}-") and obj["Key"].endswith(".jsonl")
    head = s3.head_object(Bucket="evidence", Key=obj["Key"])
    assert (head["ServerSideEncryption"], head["SSEKMSKeyId"]) == ("aws:kms", key_arn)
    lines = s3.get_object(Bucket="evidence", Key=obj["Key"])["Body"].read().decode().splitlines()
    assert len(lines) == 12
    assert remaining(sqs, url) == ALL


def test_export_to_s3_without_a_stage_key_needs_kms_key(cli, sqs, parked):
    boto3.client("s3", region_name=REGION).create_bucket(Bucket="evidence")
    result = cli("quarantine", "export", *BASE, "--s3", "s3://evidence/x")
    assert result.exit_code == 2
    assert one_error_line(result) == (
        f"error: no KMS key alias/byoip-t-data in {REGION}: pass --kms-key <key ARN> for the export's SSE-KMS"
    )
    assert remaining(sqs, parked[0]) == ALL


def run(args, answer=None):
    return CliRunner().invoke(EntryPoint(), [str(a) for a in args], input=answer)


def test_delete_asks_and_a_no_deletes_nothing(sqs, parked):
    url, _ = parked
    result = run(["quarantine", "delete", *BASE, "--creator", "c-2"], answer="n\n")
    assert result.exit_code == 1
    assert "Delete these 2 message(s)" in result.output
    assert one_error_line(result) == "error: not confirmed: nothing deleted"
    assert remaining(sqs, url) == ALL


def test_delete_by_filter_after_a_yes_deletes_exactly_those(sqs, parked):
    url, _ = parked
    result = run(["quarantine", "delete", *BASE, "--creator", "c-2"], answer="y\n")
    assert result.exit_code == 0, result.stderr
    assert f"deleted 2 message(s) from {QUARANTINE}" in result.output
    assert remaining(sqs, url) == [f"j-{n}" for n in range(10)]


def test_delete_by_the_quarantine_reason(cli, sqs, parked):
    result = cli("quarantine", "delete", *BASE, "--reason", "agent_missing", "--yes")
    assert result.exit_code == 0, result.stderr
    assert remaining(sqs, parked[0]) == [f"j-{n}" for n in range(10)]


def test_delete_by_id_with_yes(cli, sqs, parked):
    url, ids = parked
    result = cli("quarantine", "delete", *BASE, "--id", ids["j-3"], "--id", ids["k-1"], "--yes")
    assert result.exit_code == 0, result.stderr
    assert sorted(set(ALL) - set(remaining(sqs, url))) == ["j-3", "k-1"]


def test_delete_of_an_unknown_id_deletes_nothing(cli, sqs, parked):
    result = cli("quarantine", "delete", *BASE, "--id", "0000-none", "--yes")
    assert result.exit_code == 0
    assert "not in byoip-t-jobs-quarantine: 0000-none" in result.output
    assert remaining(sqs, parked[0]) == ALL


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["export"], "error: name exactly one destination: --out FILE or --s3 s3://bucket/prefix"),
        (["export", "--out", "x", "--s3", "s3://b/p"], "error: name exactly one destination"),
        (["export", "--s3", "evidence"], "error: --s3 'evidence' is not s3://bucket/prefix"),
        (["export", "--out", "x", "--kms-key", "k"], "error: --kms-key is for --s3"),
        (["delete"], "error: name the messages: at least one of --reason, --creator, --job-id, --kind"),
        (["delete", "--id", "m-1", "--creator", "c-1"], "error: name the messages by --id or by filters"),
        (["delete", "--id", "not an id"], "error: --id 'not an id' is not an SQS message id"),
    ],
)
def test_bad_input_is_one_clear_error(cli, sqs, parked, args, message):
    result = cli("quarantine", args[0], *BASE, *args[1:])
    assert result.exit_code == 2
    assert one_error_line(result).startswith(message)
    assert remaining(sqs, parked[0]) == ALL
