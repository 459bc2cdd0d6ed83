"""The rendered migration runbook, run step by step against both stacks in moto: nothing is lost.

Every `byoip` line of runbooks/templates/migration.md.j2 (rendered for prod) runs here, in the
runbook's order, through the real entry point. The other lines (make deploy, the AWS CLI
look-ups, retiring the old stack) are listed in OUTSIDE and are not run.
"""

import json
import re
import shlex

import boto3
import pytest

from contract.config import Config
from runbooks.render import render_migration
from tests.automation.conftest import REGION
from tests.automation.migration_stacks import OLD_KEY, attach_dispatcher, deploy_both

OUTSIDE = {
    f"export AWS_REGION={REGION}",
    "STAGE=prod make deploy",
    "source old-stack.env",
    "aws cloudformation describe-stacks --stack-name HuntazeByoIpStack-prod --region us-east-1 \\",
    "--query \"Stacks[0].Outputs[?OutputKey=='WebSocketUrl' || OutputKey=='JobsQueueUrl']\"",
    "aws cloudformation delete-stack --stack-name HuntazeByoIpStack --region us-east-1",
}
JOBS, DLQ_JOBS = 25, 3


def runbook_lines():
    markdown = render_migration(Config(stage="prod"), region=REGION, account="123456789012")
    blocks = re.findall(r"```bash\n(.*?)```", markdown, flags=re.S)
    return [line.strip() for block in blocks for line in block.splitlines() if line.strip()]


def seed(old, new):
    """Jobs waiting in the original's queues, items in its tables, a build in its patches bucket."""
    sqs, ddb, s3 = (boto3.client(s, region_name=REGION) for s in ("sqs", "dynamodb", "s3"))
    for i in range(JOBS):
        body = json.dumps({"jobId": f"j{i}", "agentId": f"a{i % 5}", "creatorId": "c1", "kind": "post"})
        attrs = {"byoip-redrive-count": {"DataType": "Number", "StringValue": "1"}} if i % 4 == 0 else {}
        sqs.send_message(QueueUrl=old["JobsQueue86ED6666"], MessageBody=body, MessageAttributes=attrs)
    for i in range(DLQ_JOBS):
        sqs.send_message(QueueUrl=old["JobsDlqB1F0C5A4"], MessageBody=json.dumps({"jobId": f"d{i}"}))
    put = ddb.put_item
    for i in range(40):
        status = "held" if i % 3 == 0 else "completed"
        put(TableName=old["JobsTable2E2B9CFD"], Item={"jobId": {"S": f"old{i}"}, "status": {"S": status}})
    for i in range(5):
        put(TableName=old["AgentsTable1A2B3C4D"], Item={"pk": {"S": f"agent#a{i}"}, "version": {"S": "1.0"}})
    put(TableName=old["CreatorLimits5D6E7F80"], Item={"creatorId": {"S": "c1"}, "paused": {"BOOL": True}})
    put(TableName=old["CreatorLimits5D6E7F80"], Item={"creatorId": {"S": "c2"}, "dailyQuota": {"N": "50"}})
    # a0 already connected to the new API: its newer item must survive the copy.
    put(TableName="byoip-prod-agents", Item={"pk": {"S": "agent#a0"}, "connectionId": {"S": "new-conn"}})
    s3.put_object(Bucket=old["AgentPatchesBucket3C0AD2B1"], Key="latest.json", Body=b'{"version":"1.4"}')
    s3.put_object(Bucket=old["AgentPatchesBucket3C0AD2B1"], Key="builds/1.4/agent.zip", Body=b"zip")


def run_runbook(cli):
    """Run every byoip line with the variables the inventory step printed; the outputs in order."""
    env, outputs, skipped = {}, [], []
    for line in runbook_lines():
        if not line.startswith("byoip "):
            skipped.append(line)
            continue
        command = line.removesuffix(" > old-stack.env")
        args = shlex.split(re.sub(r'"\$(\w+)"', lambda m: shlex.quote(env[m.group(1)]), command))
        result = cli(*args[1:])
        assert result.exit_code == 0, (line, result.output)
        outputs.append(result.stdout)
        if command != line:
            env.update(re.findall(r"^export (\w+)=(\S+)$", result.stdout, flags=re.M))
    return env, outputs, skipped


@pytest.fixture
def stacks(aws):
    old, new = deploy_both()
    seed(old, new)
    attach_dispatcher(old)
    return old, new


def drain(sqs, url):
    bodies = {}
    while batch := sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
    ).get("Messages"):
        for m in batch:
            bodies[json.loads(m["Body"])["jobId"]] = m.get("MessageAttributes", {})
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    return bodies


def test_the_runbook_moves_every_job_item_key_and_build(cli, stacks):
    old, new = stacks
    env, outputs, skipped = run_runbook(cli)

    assert set(skipped) == OUTSIDE
    assert env["OLD_JOBS_QUEUE_URL"] == old["JobsQueue86ED6666"]
    assert env["OLD_DISPATCHER"] == old["DispatcherSqs9F8E7D6C"]
    sqs, ddb, s3 = (boto3.client(s, region_name=REGION) for s in ("sqs", "dynamodb", "s3"))
    moved = drain(sqs, new["JobsJobsQueue71AFC10C"])
    assert sorted(moved) == sorted(f"j{i}" for i in range(JOBS))
    assert moved["j4"] == {"byoip-redrive-count": {"DataType": "Number", "StringValue": "1"}}
    assert moved["j5"] == {}
    assert sorted(drain(sqs, new["JobsJobsDlq42CD31F9"])) == ["d0", "d1", "d2"]
    for url in (old["JobsQueue86ED6666"], old["JobsDlqB1F0C5A4"]):
        assert sqs.receive_message(QueueUrl=url).get("Messages") is None
    assert ddb.scan(TableName="byoip-prod-jobs", Select="COUNT")["Count"] == 40
    limits = ddb.get_item(TableName="byoip-prod-creator-limits", Key={"creatorId": {"S": "c1"}})["Item"]
    assert limits["paused"] == {"BOOL": True}
    agents = {i["pk"]["S"]: i for i in ddb.scan(TableName="byoip-prod-agents")["Items"]}
    assert len(agents) == 5 and agents["agent#a0"] == {
        "pk": {"S": "agent#a0"},
        "connectionId": {"S": "new-conn"},
    }
    secret = boto3.client("secretsmanager", region_name=REGION).get_secret_value(SecretId="byoip/prod/ws-jwt")
    assert secret["SecretString"] == OLD_KEY
    patches = new["StorageAgentPatchesBucketE531E1B7"]
    assert s3.get_object(Bucket=patches, Key="latest.json")["Body"].read() == b'{"version":"1.4"}'
    mapping = boto3.client("lambda", region_name=REGION).list_event_source_mappings(
        FunctionName=old["DispatcherSqs9F8E7D6C"]
    )["EventSourceMappings"]
    assert [m["State"] for m in mapping] == ["Disabled"]
    # byoip outputs in runbook order: inventory, key, builds, freeze, 3 copies, 2 moves, 3 copies, triage.
    assert outputs[1] == "byoip/prod/ws-jwt: now holds the original key\n"
    assert outputs[3] == f"frozen: 1 SQS event source mapping(s) of {old['DispatcherSqs9F8E7D6C']} disabled\n"
    assert outputs[5] == (
        f"{old['JobsTable2E2B9CFD']} -> byoip-prod-jobs: 40 read, 40 written, 0 already there; "
        "byoip-prod-jobs holds 40\n"
    )
    assert outputs[6].startswith(
        f"{old['AgentsTable1A2B3C4D']} -> byoip-prod-agents: 5 read, 4 written, 1 already"
    )
    assert outputs[7] == f"moved {JOBS} message(s) to byoip-prod-jobs; the source holds 0 (+0 in flight)\n"
    assert outputs[9].endswith("40 read, 0 written, 40 already there; byoip-prod-jobs holds 40\n")
