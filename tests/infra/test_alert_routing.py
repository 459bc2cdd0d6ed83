"""Alert routing in the template: paging unit alarms page through a held wrapper composite, and the
pager endpoint, ticket email and AWS Chatbot channels subscribe where on-call expects them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from contract.config import Config
from monitoring.catalog import ALARMS_BY_ID
from tests.infra.conftest import deployable, synthesize
from tests.infra.monitoring_preview import preview_template

# The probe's alarm: a CRITICAL unit alarm that must page in composite mode.
assert ALARMS_BY_ID["ProbeFailed"].notify_composite
ROUTED = deployable(
    stage="routed",
    ops_alerts_email="oncall@example.com",
    ops_tickets_email="tickets@example.com",
    pager_https_url="https://events.pagerduty.com/integration/abc/enqueue",
    slack_workspace_id="T0123ABCDE",
    slack_channel_id="C0123ABCDE",
    teams_tenant_id="0a1b2c3d-0000-4000-8000-0123456789ab",
    teams_team_id="1a1b2c3d-0000-4000-8000-0123456789ab",
    teams_channel_id="19:abcDEF0123@thread.tacv2",
)


def _by_type(template: dict[str, Any], cfn_type: str) -> dict[str, dict[str, Any]]:
    return {k: r["Properties"] for k, r in template["Resources"].items() if r["Type"] == cfn_type}


def _logical_id(template: dict[str, Any], cfn_type: str, **props: Any) -> str:
    (found,) = [k for k, p in _by_type(template, cfn_type).items() if props.items() <= p.items()]
    return found


@pytest.fixture(scope="module")
def with_paging_unit() -> dict[str, dict[str, Any]]:
    return {mode: preview_template(Config(stage="prod", alert_mode=mode)) for mode in ("composite", "all")}


def test_a_paging_unit_alarm_pages_through_its_held_wrapper(with_paging_unit) -> None:
    template = with_paging_unit["composite"]
    page = {"Ref": _logical_id(template, "AWS::SNS::Topic", TopicName="byoip-prod-ops-alerts")}
    unit_id = _logical_id(template, "AWS::CloudWatch::Alarm", AlarmName="BYOIP-prod-ProbeFailed")
    window_id = _logical_id(template, "AWS::CloudWatch::Alarm", AlarmName="BYOIP-prod-MaintenanceWindow")
    unit = _by_type(template, "AWS::CloudWatch::Alarm")[unit_id]
    assert "AlarmActions" not in unit  # it would page past the maintenance window
    (wrapper,) = [
        p
        for p in _by_type(template, "AWS::CloudWatch::CompositeAlarm").values()
        if p["AlarmName"] == "BYOIP-prod-ProbeFailedPage"
    ]
    assert wrapper["AlarmRule"] == {"Fn::Join": ["", ['ALARM("', {"Fn::GetAtt": [unit_id, "Arn"]}, '")']]}
    assert wrapper["AlarmActions"] == [page]
    assert wrapper["ActionsSuppressor"] == {"Fn::GetAtt": [window_id, "Arn"]}
    assert (wrapper["ActionsSuppressorWaitPeriod"], wrapper["ActionsSuppressorExtensionPeriod"]) == (0, 120)


def test_in_all_mode_the_unit_alarm_pages_itself_and_the_wrapper_stays_quiet(with_paging_unit) -> None:
    template = with_paging_unit["all"]
    page = {"Ref": _logical_id(template, "AWS::SNS::Topic", TopicName="byoip-prod-ops-alerts")}
    alarms = {
        p["AlarmName"]: p
        for t in ("AWS::CloudWatch::Alarm", "AWS::CloudWatch::CompositeAlarm")
        for p in _by_type(template, t).values()
    }
    assert alarms["BYOIP-prod-ProbeFailed"]["AlarmActions"] == [page]
    assert "AlarmActions" not in alarms["BYOIP-prod-ProbeFailedPage"]


@pytest.fixture(scope="module")
def routed(tmp_path_factory: pytest.TempPathFactory):
    return synthesize(ROUTED, Path(tmp_path_factory.mktemp("cdk-routed")))


def test_subscriptions_go_where_on_call_expects(routed) -> None:
    template = routed.template_dict
    page = {"Ref": _logical_id(template, "AWS::SNS::Topic", TopicName="byoip-routed-ops-alerts")}
    subscriptions = sorted(
        (p["Protocol"], p["Endpoint"], "page" if p["TopicArn"] == page else "ticket")
        for p in _by_type(template, "AWS::SNS::Subscription").values()
    )
    assert subscriptions == [
        ("email", "oncall@example.com", "page"),
        ("email", "tickets@example.com", "ticket"),
        ("https", "https://events.pagerduty.com/integration/abc/enqueue", "page"),
    ]


def test_chat_channels_get_both_topics_and_a_read_only_guardrail(routed) -> None:
    template = routed.template_dict
    topics = [
        {"Ref": _logical_id(template, "AWS::SNS::Topic", TopicName=f"byoip-routed-ops-{n}")}
        for n in ("alerts", "tickets")
    ]
    (slack,) = _by_type(template, "AWS::Chatbot::SlackChannelConfiguration").values()
    (teams,) = _by_type(template, "AWS::Chatbot::MicrosoftTeamsChannelConfiguration").values()
    assert (slack["ConfigurationName"], slack["SlackWorkspaceId"], slack["SlackChannelId"]) == (
        "byoip-routed-ops-slack",
        "T0123ABCDE",
        "C0123ABCDE",
    )
    assert (teams["ConfigurationName"], teams["TeamsChannelId"]) == (
        "byoip-routed-ops-teams",
        "19%3AabcDEF0123%40thread.tacv2",  # CloudFormation's pattern wants it URL-encoded
    )
    (guardrail_id,) = _by_type(template, "AWS::IAM::ManagedPolicy")
    for channel in (slack, teams):
        assert channel["SnsTopicArns"] == topics
        assert channel["GuardrailPolicies"] == [{"Ref": guardrail_id}]
        assert channel["UserRoleRequired"] is False
    (statement,) = _by_type(template, "AWS::IAM::ManagedPolicy")[guardrail_id]["PolicyDocument"]["Statement"]
    assert sorted(statement["Action"]) == [
        "cloudwatch:DescribeAlarmHistory",
        "cloudwatch:DescribeAlarms",
        "cloudwatch:GetMetricData",
    ]


def test_the_routed_stage_is_cdk_nag_clean(routed) -> None:
    reports = routed.validation_report["pluginReports"]
    assert [(r["pluginName"], r["conclusion"], r["violations"]) for r in reports] == [
        ("AwsSolutions", "success", [])
    ]
