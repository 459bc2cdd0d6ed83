"""The EventBridge rules behind RedriveFailed and RotationFailed (monitoring/watched.py)."""

from __future__ import annotations

from aws_cdk.assertions import Match

from automation.documents import GUARDED_REDRIVE_RESTART
from tests.infra.cfn import label, one


def test_a_failed_guarded_redrive_starts_it_again_after_a_delay(stage_synth):
    tpl = stage_synth.template_dict
    s = stage_synth.config.stage
    _lid, rule = one(tpl, "AWS::Events::Rule", Name=f"byoip-{s}-redrive-failed")
    props = rule["Properties"]
    assert props["EventPattern"] == {
        "source": ["aws.ssm"],
        "detail-type": ["EC2 Automation Execution Status-change Notification"],
        "detail": {
            "Definition": [f"BYOIP-{s}-GuardedRedrive"],
            "Status": ["Failed", "TimedOut", "Cancelled"],
        },
    }
    (target,) = props["Targets"]
    assert f"automation-definition/BYOIP-{s}-GuardedRedrive:$DEFAULT" in str(target["Arn"])
    assert '"StartDelaySeconds":["240"]' in str(target["Input"])
    assert '"MaxWaitSeconds":["240"]' in str(target["Input"])
    assert GUARDED_REDRIVE_RESTART == {"StartDelaySeconds": "240", "MaxWaitSeconds": "240"}
    # the events role may start that document only, passing the document's own role
    stage_synth.template.has_resource_properties(
        "AWS::IAM::Policy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [Match.object_like({"Action": "ssm:StartAutomationExecution", "Effect": "Allow"})]
                )
            },
            "Roles": [{"Ref": Match.string_like_regexp("RedriveFailedEventsRole")}],
        },
    )


def test_rotation_failed_events_of_the_agents_key_are_matched_without_a_target(stage_synth):
    tpl = stage_synth.template_dict
    s = stage_synth.config.stage
    _lid, rule = one(tpl, "AWS::Events::Rule", Name=f"byoip-{s}-rotation-failed")
    props = rule["Properties"]
    pattern = props["EventPattern"]
    assert (pattern["source"], pattern["detail-type"]) == (
        ["aws.secretsmanager"],
        ["AWS Service Event via CloudTrail"],
    )
    assert pattern["detail"]["eventName"] == ["RotationFailed"]
    (secret,) = pattern["detail"]["additionalEventData"]["SecretId"]
    assert label(tpl, secret) == f"byoip/{s}/ws-jwt"
    assert "Targets" not in props
