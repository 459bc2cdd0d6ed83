"""The monitoring layer inside the real ByoIpStack: it watches the stack's own resources."""

from __future__ import annotations

import copy

import pytest

from tests.infra.cfn import label, resources


def _alarms(template):
    return {
        res["Properties"]["AlarmName"]: res["Properties"]
        for res in (
            *resources(template, "AWS::CloudWatch::Alarm").values(),
            *resources(template, "AWS::CloudWatch::CompositeAlarm").values(),
        )
    }


def test_alarms_watch_the_stacks_queue_dlq_and_dispatcher(stage_synth) -> None:
    s = stage_synth.config.stage
    template = stage_synth.template_dict
    alarms = _alarms(template)
    assert len(alarms) == 12 + 18  # the alarm catalog's, and the SLO catalog's 12 windows and 6 alerts

    def watched(alarm_id: str) -> list[tuple[str, str]]:
        return [
            (d["Name"], label(template, d["Value"])) for d in alarms[f"BYOIP-{s}-{alarm_id}"]["Dimensions"]
        ]

    assert watched("DLQNotEmpty") == [("QueueName", f"byoip-{s}-jobs-dlq")]
    assert watched("Backlog") == [("QueueName", f"byoip-{s}-jobs")]
    assert watched("QuarantineNotEmpty") == [("QueueName", f"byoip-{s}-jobs-quarantine")]
    for alarm_id in ("DispatcherErrors", "DispatcherThrottles", "DispatcherDuration"):
        assert watched(alarm_id) == [("FunctionName", f"byoip-{s}-dispatcher-sqs")]


def test_filter_and_queries_read_the_dispatcher_log_group(stage_synth) -> None:
    s = stage_synth.config.stage
    template = stage_synth.template_dict
    (metric_filter,) = [r["Properties"] for r in resources(template, "AWS::Logs::MetricFilter").values()]
    assert metric_filter["FilterPattern"] == '"status=410"'
    assert label(template, metric_filter["LogGroupName"]) == f"/aws/lambda/byoip-{s}-dispatcher-sqs"
    queries = [r["Properties"] for r in resources(template, "AWS::Logs::QueryDefinition").values()]
    assert len(queries) == 3
    for query in queries:
        assert query["Name"].startswith(f"BYOIP-{s}/")
        assert [label(template, g) for g in query["LogGroupNames"]] == [
            f"/aws/lambda/byoip-{s}-dispatcher-sqs"
        ]


@pytest.mark.parametrize("alert_mode", ["composite", "all"])
def test_alert_mode_reaches_the_deployed_template(synth, alert_mode) -> None:
    template = synth(stage="prod", alert_mode=alert_mode).template_dict
    notifying = sorted(name for name, props in _alarms(template).items() if props.get("AlarmActions"))
    # The SLO pages (FastBurn, SustainedBurn) email in both modes, the SlowBurn tickets in all.
    pages = [
        f"BYOIP-prod-{s}{a}" for s in ("JobSuccess", "TimeToAssign") for a in ("FastBurn", "SustainedBurn")
    ]
    if alert_mode == "composite":
        assert notifying == sorted(["BYOIP-prod-Incident", "BYOIP-prod-ProbeFailed", *pages])
    else:
        assert len(notifying) == 12 + 6
    (topic_id,) = [
        lid
        for lid, r in resources(template, "AWS::SNS::Topic").items()
        if r["Properties"]["TopicName"] == "byoip-prod-ops-alerts"
    ]
    assert template["Outputs"]["OpsAlertsTopicArn"]["Value"] == {"Ref": topic_id}


@pytest.mark.parametrize("stage", ["prod", "staging"])
def test_whole_templates_differ_only_in_which_unit_alarms_and_tickets_notify(synth, stage) -> None:
    notifying_only_in_all = set()
    stripped = []
    for alert_mode in ("composite", "all"):
        template = copy.deepcopy(synth(stage=stage, alert_mode=alert_mode).template_dict)
        for res in resources(template, "AWS::CloudWatch::Alarm").values():
            if res["Properties"].pop("AlarmActions", None):
                notifying_only_in_all.add((alert_mode, res["Properties"]["AlarmName"]))
        for res in resources(template, "AWS::CloudWatch::CompositeAlarm").values():
            if res["Properties"]["AlarmName"].endswith("SlowBurn") and res["Properties"].pop(
                "AlarmActions", None
            ):
                notifying_only_in_all.add((alert_mode, res["Properties"]["AlarmName"]))
        stripped.append(template)
    assert stripped[0] == stripped[1]
    # ProbeFailed pages in both modes; every other unit alarm and the two SLO tickets only in `all`
    in_both = {name for mode, name in notifying_only_in_all if mode == "composite"}
    assert in_both == {f"BYOIP-{stage}-ProbeFailed"}
    only_all = {name for mode, name in notifying_only_in_all if mode == "all"} - in_both
    assert len(only_all) == 10 + 2


def test_monitoring_resources_raise_no_cdk_nag_findings(stage_synth) -> None:
    findings = [
        (violation["ruleName"], construct["constructPath"])
        for plugin in stage_synth.validation_report["pluginReports"]
        for violation in plugin["violations"]
        for construct in violation["violatingConstructs"]
    ]
    assert [f for f in findings if "/Monitoring/" in f[1]] == []
