"""The monitoring layer inside the real ByoIpStack: it watches the stack's own resources."""

from __future__ import annotations

import copy

import pytest

from monitoring.catalog import ALARMS
from monitoring.routing import page_wrappers
from monitoring.slo_catalog import SLO_ALARMS, SLO_COMPOSITES
from tests.infra.cfn import label, resources

# In composite mode the unit alarms that page do so through their `<Id>Page` composites.
WRAPPER_IDS = [wrapper.id for wrapper in page_wrappers(ALARMS)]
SLO_PAGE_IDS = [c.id for c in SLO_COMPOSITES if c.notify_composite]  # FastBurn, SustainedBurn
SLO_TICKET_IDS = [c.id for c in SLO_COMPOSITES if not c.notify_composite]  # SlowBurn


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
    # the alarm catalog's unit alarms, Incident and page wrappers, the SLO catalog's windows and
    # alerts, and the MaintenanceWindow
    assert len(alarms) == len(ALARMS) + 1 + len(WRAPPER_IDS) + len(SLO_ALARMS) + len(SLO_COMPOSITES) + 1

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
    queries = [q for q in queries if q["Name"] != f"BYOIP-{s}/job-story"]  # every function's groups
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
        f"BYOIP-prod-{s}{a}"
        for s in ("JobSuccess", "TimeToAssign", "ConnectSuccess")
        for a in ("FastBurn", "SustainedBurn")
    ]
    assert pages == [f"BYOIP-prod-{i}" for i in SLO_PAGE_IDS]
    if alert_mode == "composite":  # FleetDisconnected, ProbeFailed, ... page through their wrappers
        assert notifying == sorted(["BYOIP-prod-Incident", *(f"BYOIP-prod-{i}" for i in WRAPPER_IDS), *pages])
    else:  # every unit alarm emails itself; the wrappers do not
        assert notifying == sorted(
            [f"BYOIP-prod-{i}" for i in [*(a.id for a in ALARMS), "Incident", *SLO_PAGE_IDS, *SLO_TICKET_IDS]]
        )
    (topic_id,) = [
        lid
        for lid, r in resources(template, "AWS::SNS::Topic").items()
        if r["Properties"]["TopicName"] == "byoip-prod-ops-alerts"
    ]
    assert template["Outputs"]["OpsAlertsTopicArn"]["Value"] == {"Ref": topic_id}


@pytest.mark.parametrize("stage", ["prod", "staging"])
def test_whole_templates_differ_only_in_which_unit_alarms_and_tickets_notify(synth, stage) -> None:
    notifying: dict[str, dict[str, object]] = {}
    stripped = []
    for alert_mode in ("composite", "all"):
        template = copy.deepcopy(synth(stage=stage, alert_mode=alert_mode).template_dict)
        notifying[alert_mode] = {}
        for cfn_type in ("AWS::CloudWatch::Alarm", "AWS::CloudWatch::CompositeAlarm"):
            for res in resources(template, cfn_type).values():
                actions = res["Properties"].pop("AlarmActions", None)
                if actions:
                    notifying[alert_mode][res["Properties"]["AlarmName"]] = actions
        stripped.append(template)
    assert stripped[0] == stripped[1]
    composite, every = notifying["composite"], notifying["all"]

    def names(ids) -> set[str]:
        return {f"BYOIP-{stage}-{i}" for i in ids}

    # Incident and the SLO pages notify in both modes, to the same topic
    both = names(["Incident", *SLO_PAGE_IDS])
    assert set(composite) & set(every) == both
    assert {n: composite[n] for n in both} == {n: every[n] for n in both}
    # all mode: every unit alarm (the paging ones email themselves) and the three SLO tickets
    assert set(every) - set(composite) == names([*(a.id for a in ALARMS), *SLO_TICKET_IDS])
    # composite mode: the unit alarms that page do it through their wrappers
    assert set(composite) - set(every) == names(WRAPPER_IDS)


def test_monitoring_resources_raise_no_cdk_nag_findings(stage_synth) -> None:
    findings = [
        (violation["ruleName"], construct["constructPath"])
        for plugin in stage_synth.validation_report["pluginReports"]
        for violation in plugin["violations"]
        for construct in violation["violatingConstructs"]
    ]
    assert [f for f in findings if "/Monitoring/" in f[1]] == []
