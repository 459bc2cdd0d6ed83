"""AutomationLayer in a small fixture stack: documents, EventBridge rule, least-privilege roles."""

import ast
import json
import sys

import aws_cdk as cdk
import pytest
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Match, Template

from automation.layer import MOVE_SOURCE_ACTIONS, AutomationLayer
from automation.scripts import creator_pause, guarded_redrive, redrive_dlq
from contract.config import Config
from monitoring.sections import PARTS

CONFIG = Config(stage="test")


def _table(stack, cid, name, key):
    return dynamodb.Table(
        stack,
        cid,
        table_name=name,
        partition_key=dynamodb.Attribute(name=key, type=dynamodb.AttributeType.STRING),
    )


@pytest.fixture(scope="module")
def synth(tmp_path_factory):
    outdir = tmp_path_factory.mktemp("cdkout")
    app = cdk.App(outdir=str(outdir), context={"aws:cdk:bundling-stacks": []})
    stack = cdk.Stack(app, "Fixture", env=cdk.Environment(account="123456789012", region="eu-west-1"))
    jobs = sqs.Queue(stack, "Jobs", queue_name="byoip-test-jobs")
    layer = AutomationLayer(
        stack,
        "Automation",
        config=CONFIG,
        jobs_queue=jobs,
        dlq=sqs.Queue(stack, "Dlq", queue_name="byoip-test-jobs-dlq"),
        quarantine_queue=sqs.Queue(stack, "Quarantine", queue_name="byoip-test-jobs-quarantine"),
        jobs_table=_table(stack, "JobsTable", "byoip-test-jobs", "jobId"),
        creator_limits_table=_table(stack, "Limits", "byoip-test-creator-limits", "creatorId"),
        agents_table=_table(stack, "Agents", "byoip-test-agents", "pk"),
        ws_endpoint="https://abc123.execute-api.eu-west-1.amazonaws.com/prod",
        ws_connections_arn="arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/DELETE/@connections/*",
        jwt_secret_arn="arn:aws:secretsmanager:eu-west-1:123456789012:secret:byoip/test/ws-jwt-AbCdEf",
    )
    return Template.from_stack(stack), stack, layer, outdir


def documents(template):
    found = template.find_resources("AWS::SSM::Document")
    return {r["Properties"]["Name"]: r["Properties"] for r in found.values()}


def test_six_automations_and_one_runbook_document_per_part_with_schema_0_3(synth):
    template, *_ = synth
    docs = documents(template)
    # The runbook is one SSM document per part (monitoring/sections.py): BYOIP-test-Runbook, -SLO, ...
    runbook_parts = [CONFIG.names.runbook_part(part) for part in PARTS]
    assert runbook_parts[0] == "BYOIP-test-Runbook"
    assert len(set(runbook_parts)) == len(PARTS)
    assert sorted(docs) == sorted(
        [
            "BYOIP-test-GuardedRedrive",
            "BYOIP-test-PauseCreator",
            "BYOIP-test-RedriveDlq",
            "BYOIP-test-ResumeCreator",
            "BYOIP-test-RevokeTokens",
            "BYOIP-test-EmergencyKeyRotation",
            *runbook_parts,
        ]
    )
    for props in docs.values():
        assert props["DocumentType"] == "Automation"
        assert props["UpdateMethod"] == "NewVersion"
        assert props["Content"]["schemaVersion"] == "0.3"


@pytest.mark.parametrize(
    "name, module, handler",
    [
        ("BYOIP-test-RedriveDlq", redrive_dlq, "handler"),
        ("BYOIP-test-GuardedRedrive", guarded_redrive, "handler"),
        ("BYOIP-test-PauseCreator", creator_pause, "pause_handler"),
        ("BYOIP-test-ResumeCreator", creator_pause, "resume_handler"),
    ],
)
def test_scripts_are_the_tested_modules_inlined(synth, name, module, handler):
    template, *_ = synth
    (step,) = documents(template)[name]["Content"]["mainSteps"]
    inputs = step["inputs"]
    assert (step["action"], inputs["Runtime"], inputs["Handler"]) == (
        "aws:executeScript",
        "python3.11",
        handler,
    )
    with open(module.__file__, encoding="utf-8") as source:
        assert inputs["Script"] == source.read()
    # The Automation runtime has the standard library and boto3 only: no repo import at module level.
    top_level = {
        alias.name.split(".")[0]
        for node in ast.parse(inputs["Script"]).body
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in (node.names if isinstance(node, ast.Import) else [ast.alias(node.module or "")])
    }
    assert top_level <= set(sys.stdlib_module_names)
    namespace = {}
    exec(compile(inputs["Script"], name, "exec"), namespace)  # noqa: S102 - the document's own code
    assert callable(namespace[handler])
    for key, ref in inputs["InputPayload"].items():
        assert ref == "{{ " + key + " }}"
        assert key in documents(template)[name]["Content"]["parameters"]


def test_guarded_redrive_defaults_point_at_this_stage(synth):
    template, *_ = synth
    params = documents(template)["BYOIP-test-GuardedRedrive"]["Content"]["parameters"]
    assert params["ErrorsAlarmName"]["default"] == "BYOIP-test-DispatcherErrors"
    assert (params["MaxMessages"]["default"], params["RedriveBudget"]["default"]) == (100, 3)
    assert params["QuarantineQueueUrl"]["default"] == {
        "Ref": _logical_id_of(template, "AWS::SQS::Queue", "Quarantine")
    }


def test_runbook_document_carries_the_rendered_markdown(synth):
    template, *_ = synth
    content = documents(template)["BYOIP-test-Runbook"]["Content"]
    assert content["description"].startswith("# BYO-IP triage runbook: stage `test`")
    assert '<a id="a-dlq-not-empty"></a>' in content["description"]
    assert "eu-west-1" in content["description"]


def flat(value):
    """A template string value with Fn::Join flattened and the partition written out."""
    if isinstance(value, str):
        return value
    if "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return separator.join(flat(part) for part in parts)
    if value == {"Ref": "AWS::Partition"}:
        return "aws"
    return json.dumps(value)


def test_dlq_alarm_state_change_to_alarm_starts_guarded_redrive(synth):
    template, *_ = synth
    rules = {r["Properties"]["Name"]: r for r in template.find_resources("AWS::Events::Rule").values()}
    # the other rule restarts a failed run (tests/infra/test_watched_rules.py)
    assert sorted(rules) == ["byoip-test-DLQNotEmpty-GuardedRedrive", "byoip-test-redrive-failed"]
    props = rules["byoip-test-DLQNotEmpty-GuardedRedrive"]["Properties"]
    pattern = props["EventPattern"]
    assert (pattern["source"], pattern["detail-type"]) == (
        ["aws.cloudwatch"],
        ["CloudWatch Alarm State Change"],
    )
    assert pattern["detail"] == {"alarmName": ["BYOIP-test-DLQNotEmpty"], "state": {"value": ["ALARM"]}}
    assert [flat(r) for r in pattern["resources"]] == [
        "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:BYOIP-test-DLQNotEmpty"
    ]
    (target,) = props["Targets"]
    assert flat(target["Arn"]) == (
        "arn:aws:ssm:eu-west-1:123456789012:automation-definition/BYOIP-test-GuardedRedrive:$DEFAULT"
    )
    assert target["RoleArn"]["Fn::GetAtt"][0].startswith("AutomationDLQNotEmptyEventsRole")
    role_ref = json.dumps({"Fn::GetAtt": [_logical_id(template, "AutomationGuardedRedriveRole"), "Arn"]})
    assert flat(target["Input"]) == '{"AutomationAssumeRole":["' + role_ref + '"]}'


def _logical_id_of(template, kind, prefix):
    (logical_id,) = [k for k in template.find_resources(kind) if k.startswith(prefix)]
    return logical_id


def _logical_id(template, prefix):
    return _logical_id_of(template, "AWS::IAM::Role", prefix)


def _policy_of(template, role_fragment):
    policies = template.find_resources(
        "AWS::IAM::Policy",
        {"Properties": {"Roles": [{"Ref": Match.string_like_regexp(role_fragment)}]}},
    )
    (policy,) = policies.values()
    return policy["Properties"]["PolicyDocument"]["Statement"]


def _actions(statements):
    out = set()
    for statement in statements:
        actions = statement["Action"]
        out |= {actions} if isinstance(actions, str) else set(actions)
    return out


@pytest.mark.parametrize(
    "role, actions",
    [
        (
            "RedriveDlqRole",
            {
                "sqs:StartMessageMoveTask",
                "sqs:ListMessageMoveTasks",
                "sqs:ReceiveMessage",
                "sqs:DeleteMessage",
                "sqs:GetQueueAttributes",
                "sqs:SendMessage",
            },
        ),
        (
            "GuardedRedriveRole",
            {
                "sqs:ReceiveMessage",
                "sqs:DeleteMessage",
                "sqs:ChangeMessageVisibility",
                "sqs:SendMessage",
                "cloudwatch:DescribeAlarms",
            },
        ),
        ("PauseCreatorRole", {"dynamodb:UpdateItem"}),
        ("ResumeCreatorRole", {"dynamodb:UpdateItem", "dynamodb:Scan", "sqs:SendMessage"}),
        ("DLQNotEmptyEventsRole", {"ssm:StartAutomationExecution", "iam:PassRole"}),
    ],
)
def test_roles_are_least_privilege(synth, role, actions):
    template, *_ = synth
    statements = _policy_of(template, role)
    assert _actions(statements) == actions
    text = json.dumps(statements)
    assert '"*"' not in text and ":*" not in text and "/*" not in text


def test_automation_roles_trust_only_ssm(synth):
    template, *_ = synth
    roles = template.find_resources("AWS::IAM::Role")
    principals = sorted(
        r["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]["Service"]
        for r in roles.values()
    )
    # two EventBridge roles: the DLQ alarm's start and the redrive-failed restart
    assert principals == ["events.amazonaws.com"] * 2 + ["ssm.amazonaws.com"] * 6


def test_events_role_may_start_only_guarded_redrive_and_pass_only_its_role(synth):
    template, *_ = synth
    by_action = {s["Action"]: s["Resource"] for s in _policy_of(template, "DLQNotEmptyEventsRole")}
    assert flat(by_action["ssm:StartAutomationExecution"]) == (
        "arn:aws:ssm:eu-west-1:123456789012:automation-definition/BYOIP-test-GuardedRedrive:$DEFAULT"
    )
    assert by_action["iam:PassRole"] == {
        "Fn::GetAtt": [_logical_id(template, "AutomationGuardedRedriveRole"), "Arn"]
    }


def test_synth_writes_the_readable_runbook(synth):
    *_, outdir = synth
    text = (outdir / "runbooks" / "test" / "runbook.md").read_text()
    assert "arn:aws:sqs:eu-west-1:123456789012:byoip-test-jobs-dlq" in text
    assert "<region>" not in text and "<account>" not in text


def _grants(statements):
    """action -> the logical ids (or ARN strings) it is allowed on."""
    out = {}
    for statement in statements:
        actions = [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]
        resources = (
            statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        )
        names = sorted(r["Fn::GetAtt"][0] if "Fn::GetAtt" in r else flat(r) for r in resources)
        for action in actions:
            out[action] = names
    return out


def test_redrive_roles_touch_only_their_queues(synth):
    template, *_ = synth
    dlq, jobs, quarantine = (
        _logical_id_of(template, "AWS::SQS::Queue", p) for p in ("Dlq", "Jobs", "Quarantine")
    )
    redrive = _grants(_policy_of(template, "RedriveDlqRole"))
    assert redrive.pop("sqs:SendMessage") == [jobs]
    assert redrive == {action: [dlq] for action in MOVE_SOURCE_ACTIONS}
    guarded = _grants(_policy_of(template, "GuardedRedriveRole"))
    assert guarded["sqs:SendMessage"] == sorted([jobs, quarantine])
    assert guarded["sqs:ReceiveMessage"] == guarded["sqs:DeleteMessage"] == [dlq]
    assert guarded["cloudwatch:DescribeAlarms"] == [
        "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:BYOIP-test-DispatcherErrors"
    ]
    jobs_table = _logical_id_of(template, "AWS::DynamoDB::Table", "JobsTable")
    resume = _grants(_policy_of(template, "ResumeCreatorRole"))
    assert resume["dynamodb:Scan"] == [json.dumps({"Fn::GetAtt": [jobs_table, "Arn"]}) + "/index/ByHeldAgent"]


def test_every_document_fits_the_ssm_size_limit(synth):
    template, *_ = synth
    # CreateDocument rejects content over 64 KB (MaxDocumentSizeExceeded); flat() writes the region in.
    for name, props in documents(template).items():
        content = props["Content"]
        size = len(json.dumps({**content, "description": flat(content["description"])}).encode())
        assert size < 60_000, (name, size)
