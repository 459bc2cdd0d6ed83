"""Each Automation document's script, run as the document's role (stage `test`'s names, as the
template deploys them), makes only calls that role's policies allow, and uses every grant it has.

The game days run GuardedRedrive through the sandbox's SSM runner; the other documents run in no
game day, so this test runs all five the way aws:executeScript does and evaluates their calls with
the template's policies (tests/iam/check.py), and the whole-suite recording includes them too.
"""

from __future__ import annotations

import json
import time

import boto3
import pytest
from botocore.stub import Stubber

from automation import documents as docs
from contract.callers import AUTOMATION, Caller, acting_as
from contract.names import AUTOMATIONS, Names
from sandbox.iam import recorder
from tests.automation.conftest import ACCOUNT, ERRORS_ALARM, REGION, create_agents_table, held
from tests.automation.test_documents_run import ROLE, execute
from tests.iam.check import evaluate

NAMES = Names("test")
DEPLOYMENT = "automation-documents"
ENDPOINT = "https://abc123.execute-api.us-east-1.amazonaws.com/prod"
BINDING = {"stage": "test", "region": REGION, "env": {"WS_ENDPOINT": ENDPOINT}}


def _as(automation: str) -> acting_as:
    return acting_as(Caller(AUTOMATION, NAMES.document(automation), DEPLOYMENT))


@pytest.fixture
def records(tables, sqs, cloudwatch, errors_alarm, monkeypatch):
    """Every document run once as its role against stage `test`'s resources; the binding and calls."""
    ddb = tables
    create_agents_table(ddb)
    urls = {
        q: sqs.create_queue(QueueName=NAMES.queue(q))["QueueUrl"]
        for q in ("jobs", "jobs-dlq", "jobs-quarantine")
    }
    arn = {q: f"arn:aws:sqs:{REGION}:{ACCOUNT}:{NAMES.queue(q)}" for q in urls}
    held(ddb, "j1", "a1", "c1")
    sqs.send_message(QueueUrl=urls["jobs-dlq"], MessageBody=json.dumps({"jobId": "j2", "agentId": "a1"}))
    sqs.send_message(QueueUrl=urls["jobs-dlq"], MessageBody="not json")
    ddb.put_item(
        TableName=NAMES.table("agents"),
        Item={"pk": {"S": "agent#c1#a1"}, "creatorId": {"S": "c1"}, "connectionId": {"S": "k1"}},
    )
    ddb.put_item(
        TableName=NAMES.table("agents"),
        Item={"pk": {"S": "conn#k1"}, "creatorId": {"S": "c1"}, "agentId": {"S": "a1"}},
    )
    limits, jobs, agents = NAMES.table("creator-limits"), NAMES.table("jobs"), NAMES.table("agents")
    recorder.bind(DEPLOYMENT, **BINDING)  # for the session's check, which reads every process's records
    with recorder.collected() as found:
        with _as("PauseCreator"):
            doc = docs.pause_creator_document(limits_table=limits, role_arn=ROLE)
            assert execute(doc, CreatorId="c1", Reason="site pushback", Operator="alice")["paused"] is True
        with _as("ResumeCreator"):
            doc = docs.resume_creator_document(
                limits_table=limits, jobs_table=jobs, jobs_queue_url=urls["jobs"], role_arn=ROLE
            )
            assert execute(doc, CreatorId="c1")["released"] == 1
        with _as("GuardedRedrive"):
            doc = docs.guarded_redrive_document(
                dlq_url=urls["jobs-dlq"],
                jobs_queue_url=urls["jobs"],
                quarantine_url=urls["jobs-quarantine"],
                errors_alarm_name=ERRORS_ALARM,
                role_arn=ROLE,
            )
            assert execute(doc)["handled"] == 2
        # A copy that cannot be sent (the quarantine is gone) releases the batch at once.
        sqs.send_message(QueueUrl=urls["jobs-dlq"], MessageBody="not json either")
        sqs.delete_queue(QueueUrl=urls["jobs-quarantine"])
        with _as("GuardedRedrive"):
            assert execute(doc)["status"] == "send_failed"
        with _as("EmergencyKeyRotation"):
            _emergency_rotation(monkeypatch, agents)  # before RevokeTokens closes k1
        with _as("RevokeTokens"):
            doc = docs.revoke_tokens_document(
                agents_table=agents, limits_table=limits, ws_endpoint=ENDPOINT, role_arn=ROLE
            )
            assert execute(doc, CreatorId="c1")["closed"] == 1
            assert (
                execute(doc, CreatorId="c1", AgentId="a1")["closed"] == 1
            )  # one agent: its connections only
        with _as("RedriveDlq"):
            _redrive(monkeypatch, arn)
    return [{"binding": DEPLOYMENT, **BINDING}] + found


def _emergency_rotation(monkeypatch, agents):
    """EmergencyKeyRotation with Secrets Manager stubbed (moto cannot run the rotation function): the
    recorder sees its calls as made; DynamoDB and the management API are moto's."""
    secret = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{NAMES.jwt_secret}-AbCdEf"
    client = boto3.client("secretsmanager", region_name=REGION)
    stub = Stubber(client)
    ids = {"SecretId": secret}
    v1, v2 = "1" * 32, "2" * 32  # version ids are at least 32 characters
    stub.add_response("describe_secret", {"VersionIdsToStages": {v1: ["AWSCURRENT"]}}, ids)
    stub.add_response("rotate_secret", {"VersionId": v2}, {**ids, "RotateImmediately": True})
    stub.add_response(
        "describe_secret", {"VersionIdsToStages": {v1: ["AWSPREVIOUS"], v2: ["AWSCURRENT"]}}, ids
    )
    retire = {**ids, "VersionStage": "AWSPREVIOUS", "RemoveFromVersionId": v1}
    stub.add_response("update_secret_version_stage", {}, retire)
    stub.add_response("get_secret_value", {"SecretString": "n" * 64}, {**ids, "VersionStage": "AWSCURRENT"})
    real = boto3.client
    monkeypatch.setattr(
        boto3, "client", lambda service, **kw: client if service == "secretsmanager" else real(service, **kw)
    )
    monkeypatch.setattr(
        time, "sleep", lambda seconds: None
    )  # the script's wait out of ws-connect's key cache
    with stub:
        doc = docs.emergency_key_rotation_document(
            secret_arn=secret, agents_table=agents, ws_endpoint=ENDPOINT, role_arn=ROLE
        )
        assert execute(doc)["closed"] == 1  # conn#k1 recorded no key id


def _redrive(monkeypatch, arn):
    """RedriveDlq on a real SQS client whose move-task calls are stubbed (moto has none): the
    recorder sees them as made."""
    client = boto3.client("sqs", region_name=REGION)
    stub = Stubber(client)
    source = {"SourceArn": arn["jobs-dlq"]}
    stub.add_response("list_message_move_tasks", {"Results": []}, {**source, "MaxResults": 1})
    started = {**source, "DestinationArn": arn["jobs"], "MaxNumberOfMessagesPerSecond": 20}
    stub.add_response("start_message_move_task", {"TaskHandle": "h"}, started)
    done = {"Results": [{"Status": "COMPLETED", "ApproximateNumberOfMessagesMoved": 1}]}
    stub.add_response("list_message_move_tasks", done, {**source, "MaxResults": 1})
    monkeypatch.setattr(boto3, "client", lambda service, **kw: client)
    with stub:
        doc = docs.redrive_dlq_document(dlq_arn=arn["jobs-dlq"], jobs_queue_arn=arn["jobs"], role_arn=ROLE)
        assert execute(doc, MaxPerSecond=20)["status"] == "COMPLETED"


def test_every_document_is_allowed_every_call_and_uses_every_grant(records):
    report = evaluate(records)

    assert report.denials == []
    assert {c for c, _, _ in report.triples} == {f"automation:{NAMES.document(a)}" for a in AUTOMATIONS}
    assert [u for u in report.unused() if u[0].startswith("automation:")] == []
