"""AutomationLayer in an environment-agnostic stack (app.py passes no env): no placeholder runbook."""

import json

import aws_cdk as cdk
import pytest
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Template

from automation.layer import AutomationLayer
from contract.config import Config

CONFIG = Config(stage="agn")


def _table(stack, cid, name):
    key = dynamodb.Attribute(name="id", type=dynamodb.AttributeType.STRING)
    return dynamodb.Table(stack, cid, table_name=name, partition_key=key)


@pytest.fixture(scope="module")
def synth(tmp_path_factory):
    outdir = tmp_path_factory.mktemp("cdkout")
    stale = outdir / "runbooks" / "agn" / "runbook.md"
    stale.parent.mkdir(parents=True)
    stale.write_text("# left by an earlier synth, with <region> and <account>\n")
    app = cdk.App(outdir=str(outdir), context={"aws:cdk:bundling-stacks": []})
    stack = cdk.Stack(app, "Agnostic")  # no env: region and account stay CloudFormation tokens
    AutomationLayer(
        stack,
        "Automation",
        config=CONFIG,
        jobs_queue=sqs.Queue(stack, "Jobs", queue_name="byoip-agn-jobs"),
        dlq=sqs.Queue(stack, "Dlq", queue_name="byoip-agn-jobs-dlq"),
        quarantine_queue=sqs.Queue(stack, "Quarantine", queue_name="byoip-agn-jobs-quarantine"),
        jobs_table=_table(stack, "JobsTable", "byoip-agn-jobs"),
        creator_limits_table=_table(stack, "Limits", "byoip-agn-creator-limits"),
        agents_table=_table(stack, "Agents", "byoip-agn-agents"),
        ws_endpoint="https://abc123.execute-api.eu-west-1.amazonaws.com/prod",
        ws_connections_arn="arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/DELETE/@connections/*",
        jwt_secret_arn="arn:aws:secretsmanager:eu-west-1:123456789012:secret:byoip/agn/ws-jwt-AbCdEf",
    )
    return Template.from_stack(stack).to_json(), outdir


def _runbook_description(template):
    (document,) = [
        r["Properties"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::SSM::Document" and r["Properties"]["Name"] == "BYOIP-agn-Runbook"
    ]
    return document["Content"]["description"]


def test_no_placeholder_runbook_file_is_left_for_publishing(synth):
    _, outdir = synth
    assert not (outdir / "runbooks" / "agn" / "runbook.md").exists()


def test_deployed_runbook_gets_region_and_account_from_cloudformation(synth):
    template, _ = synth
    description = _runbook_description(template)
    separator, parts = description["Fn::Join"]
    assert separator == ""
    literal = "".join(part for part in parts if isinstance(part, str))
    assert "<region>" not in literal and "<account>" not in literal
    assert literal.startswith("# BYO-IP triage runbook: stage `agn`")
    references = [part for part in parts if not isinstance(part, str)]
    assert {json.dumps(ref) for ref in references} == {
        '{"Ref": "AWS::Region"}',
        '{"Ref": "AWS::AccountId"}',
    }
    # CloudFormation writes the real values in: the DLQ's ARN is region, account and name joined.
    flat = "".join(
        part
        if isinstance(part, str)
        else {"AWS::Region": "eu-west-3", "AWS::AccountId": "111122223333"}[part["Ref"]]
        for part in parts
    )
    assert "arn:aws:sqs:eu-west-3:111122223333:byoip-agn-jobs-dlq" in flat
