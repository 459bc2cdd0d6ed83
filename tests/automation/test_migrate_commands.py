"""`byoip migrate …` refusals and edges, each against the smallest moto setup (or a Stubber)."""

import json

import boto3
import pytest
from botocore.stub import Stubber

from automation import migration as mig
from tests.automation.conftest import REGION, one_error_line

COPY_JOBS = (
    "migrate",
    "table",
    "--stage",
    "prod",
    "--from",
    "old-jobs",
    "--to",
    "jobs",
    "--region",
    REGION,
    "--yes",
)


def _table(ddb, name, key="jobId", key_type="S"):
    ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": key, "AttributeType": key_type}],
        BillingMode="PAY_PER_REQUEST",
    )


@pytest.fixture
def ddb(aws):
    return boto3.client("dynamodb", region_name=REGION)


def test_every_mutating_step_needs_yes(cli, aws):
    result = cli("migrate", "queue", "--stage", "prod", "--from-url", "https://x/1/q", "--region", REGION)
    assert result.exit_code == 2
    assert one_error_line(result) == (
        "error: refusing to move the messages of https://x/1/q to byoip-prod-jobs "
        "without confirmation: add --yes"
    )


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["table", "--from", "t", "--to", "limits"],
            "invalid --to 'limits': allowed values are jobs | agents | creator-limits",
        ),
        (
            ["queue", "--from-url", "u", "--to", "quarantine"],
            "invalid --to 'quarantine': allowed values are jobs | jobs-dlq",
        ),
        (
            ["objects", "--from", "b", "--to", "builds"],
            "invalid --to 'builds': allowed values are patches | logs",
        ),
        (["jwt-key"], "give the original key exactly one way: --from-function or --from-secret-id"),
    ],
)
def test_bad_choices_are_one_line_exit_2(cli, aws, args, expected):
    result = cli("migrate", args[0], "--stage", "prod", *args[1:], "--region", REGION, "--yes")
    assert result.exit_code == 2
    assert one_error_line(result) == f"error: {expected}"


def test_a_queue_still_consumed_is_refused(cli, sqs):
    old = sqs.create_queue(QueueName="old-jobs")["QueueUrl"]
    sqs.create_queue(QueueName="byoip-prod-jobs")
    sqs.send_message(QueueUrl=old, MessageBody="{}")
    sqs.receive_message(QueueUrl=old, VisibilityTimeout=300)  # the original's dispatcher holds it
    result = cli("migrate", "queue", "--stage", "prod", "--from-url", old, "--region", REGION, "--yes")
    assert result.exit_code == 1
    assert one_error_line(result) == (
        "error: 1 message(s) in flight in the source: something still consumes it "
        "(freeze the original's dispatcher, then wait for its visibility timeout)"
    )


def test_a_refused_send_deletes_nothing_it_did_not_deliver():
    sqs = boto3.client("sqs", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    stub = Stubber(sqs)
    messages = [
        {"MessageId": f"m{i}", "ReceiptHandle": f"r{i}", "Body": f'{{"jobId":"j{i}"}}'} for i in range(3)
    ]
    stub.add_response("receive_message", {"Messages": messages})
    stub.add_response(
        "send_message_batch",
        {
            "Successful": [{"Id": "0", "MessageId": "n0", "MD5OfMessageBody": "x"}],
            "Failed": [{"Id": i, "SenderFault": False, "Code": "InternalError"} for i in ("1", "2")],
        },
    )
    stub.add_response(
        "delete_message_batch",
        {"Successful": [{"Id": "0"}], "Failed": []},
        {"QueueUrl": "old", "Entries": [{"Id": "0", "ReceiptHandle": "r0"}]},
    )
    with stub, pytest.raises(mig.MigrationRefused) as refused:
        mig.move_messages(sqs, source_url="old", destination_url="new")
    assert str(refused.value) == (
        "the destination refused a message (InternalError); 1 moved so far, the rest is still in the source"
    )
    stub.assert_no_pending_responses()


def test_tables_with_other_keys_are_not_copied(cli, ddb):
    _table(ddb, "old-jobs", key="id", key_type="N")
    _table(ddb, "byoip-prod-jobs")
    result = cli(*COPY_JOBS)
    assert result.exit_code == 1
    assert (
        one_error_line(result) == "error: old-jobs is keyed id(N) but byoip-prod-jobs jobId(S): copy refused"
    )


def test_running_jobs_hold_the_jobs_copy_back_unless_allowed(cli, ddb):
    _table(ddb, "old-jobs")
    _table(ddb, "byoip-prod-jobs")
    for job, status in (("j1", "assigned"), ("j2", "running"), ("j3", "completed"), ("j4", "held")):
        ddb.put_item(TableName="old-jobs", Item={"jobId": {"S": job}, "status": {"S": status}})
    refused = cli(*COPY_JOBS)
    assert refused.exit_code == 1
    assert one_error_line(refused).startswith(
        "error: 2 job(s) still assigned/running in old-jobs: wait for their"
    )
    assert ddb.scan(TableName="byoip-prod-jobs")["Count"] == 0

    allowed = cli(*COPY_JOBS, "--allow-active")
    assert allowed.exit_code == 0
    assert (
        allowed.stdout
        == "old-jobs -> byoip-prod-jobs: 4 read, 4 written, 0 already there; byoip-prod-jobs holds 4\n"
    )


def test_a_short_original_key_is_refused(cli, aws):
    secrets = boto3.client("secretsmanager", region_name=REGION)
    secrets.create_secret(Name="old/jwt", SecretString="short-key")
    secrets.create_secret(Name="byoip/prod/ws-jwt", SecretString="n" * 64)
    result = cli(
        "migrate", "jwt-key", "--stage", "prod", "--from-secret-id", "old/jwt", "--region", REGION, "--yes"
    )
    assert result.exit_code == 1
    assert one_error_line(result) == (
        "error: the original key is 9 bytes; the new ws-connect requires >= 32 (HS256): keep the new stack's "
        "generated key and switch the token issuer to it instead"
    )
    assert secrets.get_secret_value(SecretId="byoip/prod/ws-jwt")["SecretString"] == "n" * 64


def test_freezing_a_function_without_a_queue_is_refused(cli, aws):
    iam = boto3.client("iam", region_name=REGION)
    trust = {"Version": "2012-10-17", "Statement": []}
    role = iam.create_role(RoleName="r", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    boto3.client("lambda", region_name=REGION).create_function(
        FunctionName="not-the-dispatcher",
        Runtime="python3.12",
        Role=role,
        Handler="h.h",
        Code={"ZipFile": b"x"},
    )
    result = cli("migrate", "freeze", "--function", "not-the-dispatcher", "--region", REGION, "--yes")
    assert result.exit_code == 1
    assert one_error_line(result) == (
        "error: not-the-dispatcher has no SQS event source mapping: is it the original's dispatcher?"
    )


def test_inventory_leaves_ambiguous_and_unknown_resources_to_a_human(cli):
    cfn = boto3.client("cloudformation", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    rows = [
        ("JobsQueue86ED6666", "AWS::SQS::Queue", "https://sqs/q"),
        ("JobsTableA", "AWS::DynamoDB::Table", "t-a"),
        ("JobsTableB", "AWS::DynamoDB::Table", "t-b"),
        ("CreatorLimits5D6E7F80", "AWS::DynamoDB::Table", "limits"),
        ("DataKey1234", "AWS::KMS::Key", "key-1"),
    ]
    summaries = [
        {
            "LogicalResourceId": lid,
            "ResourceType": rtype,
            "PhysicalResourceId": pid,
            "LastUpdatedTimestamp": "2026-01-01T00:00:00Z",
            "ResourceStatus": "CREATE_COMPLETE",
        }
        for lid, rtype, pid in rows
    ]
    stub = Stubber(cfn)
    stub.add_response(
        "list_stack_resources", {"StackResourceSummaries": summaries}, {"StackName": "HuntazeByoIpStack"}
    )
    stub.activate()
    cli.overrides["cloudformation"] = cfn
    result = cli("migrate", "inventory", "--region", REGION)
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        "export OLD_JOBS_QUEUE_URL=https://sqs/q",
        "export OLD_CREATOR_LIMITS_TABLE=limits",
    ]
    notes = result.stderr.splitlines()
    assert "note: OLD_JOBS_TABLE: no single match in HuntazeByoIpStack; set it by hand" in notes
    assert "note: DataKey1234 (AWS::KMS::Key) key-1: not migrated, stays with HuntazeByoIpStack" in notes
    assert "note: JobsTableA (AWS::DynamoDB::Table) t-a: not migrated, stays with HuntazeByoIpStack" in notes


def test_the_migration_runbook_renders_beside_the_triage_runbook(cli, tmp_path):
    render = ["runbook", "render", "--region", REGION, "--runbook"]
    result = cli(*render, "migration", "--stage", "staging", "--out", tmp_path)
    assert result.exit_code == 0
    text = (tmp_path / "staging" / "migration.md").read_text()
    assert text.startswith("# BYO-IP migration runbook: stage `staging`")
    assert 'byoip migrate queue --stage staging --from-url "$OLD_JOBS_QUEUE_URL" --to jobs' in text
    bad = cli(*render, "cutover", "--stage", "prod")
    assert bad.exit_code == 2
    assert one_error_line(bad) == "error: invalid --runbook 'cutover': allowed values are triage | migration"


def test_old_items_are_rekeyed_to_the_creator_scoped_agent_identity():
    from automation.migration import to_current_schema

    agent = {"pk": {"S": "agent#a-1"}, "creatorId": {"S": "c-1"}, "connectionId": {"S": "old-api-conn"}}
    assert to_current_schema(agent) == {"pk": {"S": "agent#c-1#a-1"}, "creatorId": {"S": "c-1"}}
    held = {"jobId": {"S": "j"}, "creatorId": {"S": "c-1"}, "heldAgentId": {"S": "a-1"}}
    assert to_current_schema(held)["heldAgentId"] == {"S": "c-1#a-1"}
    assert to_current_schema({"pk": {"S": "conn#abc"}, "creatorId": {"S": "c-1"}}) is None
    current = {"pk": {"S": "agent#c-1#a-1"}, "creatorId": {"S": "c-1"}}
    assert to_current_schema(current) == current
    assert to_current_schema(
        {"jobId": {"S": "j"}, "heldAgentId": {"S": "c-1#a-1"}, "creatorId": {"S": "c-1"}}
    )["heldAgentId"] == {"S": "c-1#a-1"}
