"""JobsQueue, its DLQ and quarantine, the dispatcher's event source and the lease reaper's schedule."""

from __future__ import annotations

import json

from aws_cdk.assertions import Match

from contract import sizes
from tests.infra.cfn import function, label, one, resources


def _queue(synth, suffix):
    return one(synth.template_dict, "AWS::SQS::Queue", QueueName=f"byoip-{synth.config.stage}-{suffix}")


def test_jobs_queue_visibility_retention_encryption_and_dlq(stage_synth):
    tpl = stage_synth.template_dict
    s = stage_synth.config.stage
    _lid, queue = _queue(stage_synth, "jobs")
    props = queue["Properties"]
    assert props["VisibilityTimeout"] == 360
    assert props["MessageRetentionPeriod"] == 4 * 24 * 3600
    assert props["SqsManagedSseEnabled"] is True
    assert props["RedrivePolicy"]["maxReceiveCount"] == 5
    assert label(tpl, props["RedrivePolicy"]["deadLetterTargetArn"]) == f"byoip-{s}-jobs-dlq"


def test_visibility_is_at_least_six_dispatcher_timeouts(stage_synth):
    _lid, queue = _queue(stage_synth, "jobs")
    _lid, dispatcher = function(stage_synth.template_dict, f"byoip-{stage_synth.config.stage}-dispatcher-sqs")
    assert dispatcher["Properties"]["Timeout"] == sizes.DISPATCHER_TIMEOUT_S
    assert queue["Properties"]["VisibilityTimeout"] >= 6 * dispatcher["Properties"]["Timeout"]


def test_dlq_outlives_the_source_and_may_be_redriven_only_to_it(stage_synth):
    s = stage_synth.config.stage
    _lid, dlq = _queue(stage_synth, "jobs-dlq")
    _lid, source = _queue(stage_synth, "jobs")
    props = dlq["Properties"]
    assert props["MessageRetentionPeriod"] == 14 * 24 * 3600
    assert props["MessageRetentionPeriod"] > source["Properties"]["MessageRetentionPeriod"]
    assert props["SqsManagedSseEnabled"] is True
    policy = props["RedriveAllowPolicy"]
    assert policy["redrivePermission"] == "byQueue"
    (arn,) = policy["sourceQueueArns"]
    # The source is named by ARN (no Ref/GetAtt to the queue object): no circular dependency.
    assert arn == {
        "Fn::Join": [
            "",
            [
                "arn:",
                {"Ref": "AWS::Partition"},
                ":sqs:",
                {"Ref": "AWS::Region"},
                ":",
                {"Ref": "AWS::AccountId"},
                f":byoip-{s}-jobs",
            ],
        ]
    }
    source_lid, _source = _queue(stage_synth, "jobs")
    assert "DependsOn" not in dlq and source_lid not in json.dumps(dlq)


def test_quarantine_queue_keeps_poison_pills_and_is_no_dlq(stage_synth):
    _lid, quarantine = _queue(stage_synth, "jobs-quarantine")
    props = quarantine["Properties"]
    assert props["MessageRetentionPeriod"] == 14 * 24 * 3600
    assert props["SqsManagedSseEnabled"] is True
    assert props["RedriveAllowPolicy"] == {"redrivePermission": "denyAll"}
    assert "RedrivePolicy" not in props


def test_every_queue_denies_plain_http(stage_synth):
    tpl = stage_synth.template_dict
    s = stage_synth.config.stage
    secured = set()
    for policy in resources(tpl, "AWS::SQS::QueuePolicy").values():
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        if any(
            st["Effect"] == "Deny" and st["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
            for st in statements
        ):
            secured |= {label(tpl, q) for q in policy["Properties"]["Queues"]}
    assert secured == {f"byoip-{s}-jobs", f"byoip-{s}-jobs-dlq", f"byoip-{s}-jobs-quarantine"}
    assert len(resources(tpl, "AWS::SQS::Queue")) == 3


def test_dispatcher_event_source_batches_and_reports_item_failures(stage_synth):
    tpl = stage_synth.template_dict
    s = stage_synth.config.stage
    _lid, mapping = one(tpl, "AWS::Lambda::EventSourceMapping")
    props = mapping["Properties"]
    assert label(tpl, props["EventSourceArn"]) == f"byoip-{s}-jobs"
    assert label(tpl, props["FunctionName"]) == f"byoip-{s}-dispatcher-sqs"
    assert props["BatchSize"] == 10
    assert props["MaximumBatchingWindowInSeconds"] == 10
    assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_dispatcher_log_group_is_created_by_the_stack_with_retention(stage_synth):
    tpl = stage_synth.template_dict
    s = stage_synth.config.stage
    name = f"/aws/lambda/byoip-{s}-dispatcher-sqs"
    stage_synth.template.has_resource_properties(
        "AWS::Logs::LogGroup", {"LogGroupName": name, "RetentionInDays": 30}
    )
    _lid, fn = function(tpl, f"byoip-{s}-dispatcher-sqs")
    assert label(tpl, fn["Properties"]["LoggingConfig"]["LogGroup"]) == name


def test_lease_reaper_runs_every_minute(stage_synth):
    tpl = stage_synth.template_dict
    s = stage_synth.config.stage
    _lid, rule = one(tpl, "AWS::Events::Rule", Name=f"byoip-{s}-lease-reaper")
    props = rule["Properties"]
    assert props["ScheduleExpression"] == "rate(1 minute)"
    assert props["State"] == "ENABLED"
    (target,) = props["Targets"]
    assert label(tpl, target["Arn"]) == f"byoip-{s}-lease-reaper"
    stage_synth.template.has_resource_properties(
        "AWS::Lambda::Permission",
        {
            "Principal": "events.amazonaws.com",
            "Action": "lambda:InvokeFunction",
            "SourceArn": Match.any_value(),
        },
    )


def test_stage_names_never_leak_across_stages(synth):
    staging = json.dumps(synth(stage="staging").template_dict)
    assert "byoip-prod" not in staging and "byoip/prod" not in staging
    prod = json.dumps(synth(stage="prod").template_dict)
    assert "staging" not in prod
