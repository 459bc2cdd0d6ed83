"""Template tests for the monitoring layer: two stages x both ALERT_MODEs.

`prod` is region-agnostic (links carry `${AWS::Region}`), `staging` is pinned to
eu-west-3 with an ops email and a runbook base URL. Expected values are written out here or
read from the catalog entries' own fields (id, severity, notify_composite), never from the
code under test (monitoring/routing.py); the consistency tests derive the rest.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from contract import sizes
from contract.config import Config
from contract.names import FUNCTIONS
from monitoring.catalog import ALARMS, Severity
from tests.infra.monitoring_preview import as_text, preview_template

CONFIGS = {
    ("prod", "composite"): (Config(stage="prod", alert_mode="composite"), None),
    ("prod", "all"): (Config(stage="prod", alert_mode="all"), None),
    ("staging", "composite"): (
        Config("staging", "composite", "ops@example.com", "https://runbooks.example.com/byoip"),
        "eu-west-3",
    ),
    ("staging", "all"): (
        Config("staging", "all", "ops@example.com", "https://runbooks.example.com/byoip"),
        "eu-west-3",
    ),
}
# The ids themselves are pinned to docs/contracts.md in tests/unit/test_catalog.py.
UNIT_IDS = [spec.id for spec in ALARMS]
# Unit alarms that page in composite mode too (monitoring/watched.py: nothing composite covers them).
COMPOSITE_PAGES = [spec.id for spec in ALARMS if spec.notify_composite]
# ... through their one-alarm `<Id>Page` composite, which the maintenance window holds
# (monitoring/routing.py): in composite mode the wrapper pages, not the unit alarm.
PAGE_WRAPPERS = [f"{alarm_id}Page" for alarm_id in COMPOSITE_PAGES]
# The SLO catalog's alarms (tests/infra/test_slo_template.py checks them against their catalog).
SLO_WINDOW_IDS = [
    f"{slo}{alert}{window}"
    for slo in ("JobSuccess", "TimeToAssign", "ConnectSuccess")
    for alert, windows in (
        ("FastBurn", ("1h", "5m")),
        ("SustainedBurn", ("6h", "30m")),
        ("SlowBurn", ("3d", "6h")),
    )
    for window in windows
]
SLO_PAGES = [
    f"{slo}{alert}"
    for slo in ("JobSuccess", "TimeToAssign", "ConnectSuccess")
    for alert in ("FastBurn", "SustainedBurn")
]
SLO_TICKETS = ["JobSuccessSlowBurn", "TimeToAssignSlowBurn", "ConnectSuccessSlowBurn"]
REGION_OF = {"prod": "${AWS::Region}", "staging": "eu-west-3"}
STAGE_MODES = list(CONFIGS)


@pytest.fixture(scope="module")
def templates() -> dict[tuple[str, str], dict[str, Any]]:
    return {key: preview_template(config, region=region) for key, (config, region) in CONFIGS.items()}


def of_type(template: dict[str, Any], cfn_type: str) -> list[dict[str, Any]]:
    return [r.get("Properties", {}) for r in template["Resources"].values() if r["Type"] == cfn_type]


def alarms_by_name(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    alarms = of_type(template, "AWS::CloudWatch::Alarm") + of_type(
        template, "AWS::CloudWatch::CompositeAlarm"
    )
    return {props["AlarmName"]: props for props in alarms}


def topic_ref(template: dict[str, Any], name: str = "ops-alerts") -> dict[str, str]:
    """Ref of the page topic (`ops-alerts`) or the ticket topic (`ops-tickets`)."""
    (logical_id,) = [
        k
        for k, r in template["Resources"].items()
        if r["Type"] == "AWS::SNS::Topic" and r["Properties"]["TopicName"].endswith(f"-{name}")
    ]
    return {"Ref": logical_id}


# Severity decides the topic (monitoring/routing.py): WARNING is a ticket, CRITICAL and HIGH page.
TICKET_IDS = {
    *(spec.id for spec in ALARMS if spec.severity is Severity.WARNING),
    *SLO_WINDOW_IDS,
    *SLO_TICKETS,
}


@pytest.mark.parametrize("key", STAGE_MODES)
def test_every_catalog_alarm_and_the_composite_exist_in_both_modes(templates, key) -> None:
    stage = key[0]
    template = templates[key]
    # the catalog's (seed and watched), SLO windows, the maintenance window
    assert len(of_type(template, "AWS::CloudWatch::Alarm")) == len(UNIT_IDS) + len(SLO_WINDOW_IDS) + 1
    # Incident, the SLO pages and tickets, one page wrapper per unit alarm paging in composite mode
    assert len(of_type(template, "AWS::CloudWatch::CompositeAlarm")) == (
        1 + len(SLO_PAGES) + len(SLO_TICKETS) + len(PAGE_WRAPPERS)
    )
    assert set(alarms_by_name(template)) == {
        f"BYOIP-{stage}-{i}"
        for i in [
            *UNIT_IDS,
            "Incident",
            *SLO_WINDOW_IDS,
            *SLO_PAGES,
            *SLO_TICKETS,
            *PAGE_WRAPPERS,
            "MaintenanceWindow",
        ]
    }


@pytest.mark.parametrize("key", STAGE_MODES)
def test_alarm_actions_follow_alert_mode(templates, key) -> None:
    stage, mode = key
    template = templates[key]
    notifying = {name for name, props in alarms_by_name(template).items() if props.get("AlarmActions")}
    # In composite mode a paging unit alarm pages through its wrapper; in all mode it emails
    # itself and the wrapper carries no ALARM action.
    expected = (
        ["Incident", *PAGE_WRAPPERS, *SLO_PAGES]
        if mode == "composite"
        else [*UNIT_IDS, "Incident", *SLO_PAGES, *SLO_TICKETS]
    )
    assert notifying == {f"BYOIP-{stage}-{i}" for i in expected}
    for name in notifying:
        topic = "ops-tickets" if name.removeprefix(f"BYOIP-{stage}-") in TICKET_IDS else "ops-alerts"
        assert alarms_by_name(template)[name]["AlarmActions"] == [topic_ref(template, topic)], name


@pytest.mark.parametrize("key", STAGE_MODES)
def test_dlq_and_incident_send_ok_to_sns_in_both_modes(templates, key) -> None:
    stage = key[0]
    template = templates[key]
    with_ok = {
        name: props["OKActions"] for name, props in alarms_by_name(template).items() if "OKActions" in props
    }
    ref = topic_ref(template)
    assert with_ok == {f"BYOIP-{stage}-{i}": [ref] for i in ["DLQNotEmpty", "Incident", *SLO_PAGES]}


@pytest.mark.parametrize("key", STAGE_MODES)
def test_paging_composites_are_held_by_the_maintenance_window(templates, key) -> None:
    stage = key[0]
    template = templates[key]
    window = alarms_by_name(template)[f"BYOIP-{stage}-MaintenanceWindow"]
    # A metric nothing publishes, missing data ignored: only SetAlarmState changes its state.
    assert (window["MetricName"], window["TreatMissingData"], window["Threshold"]) == (
        "MaintenanceWindow",
        "ignore",
        0,
    )
    assert "AlarmActions" not in window and "OKActions" not in window
    (window_id,) = [
        lid
        for lid, r in template["Resources"].items()
        if r["Properties"].get("AlarmName") == f"BYOIP-{stage}-MaintenanceWindow"
    ]
    held = {
        props["AlarmName"]: (
            props["ActionsSuppressor"],
            props["ActionsSuppressorWaitPeriod"],
            props["ActionsSuppressorExtensionPeriod"],
        )
        for props in of_type(template, "AWS::CloudWatch::CompositeAlarm")
        if "ActionsSuppressor" in props
    }
    assert held == {
        f"BYOIP-{stage}-{i}": ({"Fn::GetAtt": [window_id, "Arn"]}, 0, 120)
        for i in ["Incident", *SLO_PAGES, *PAGE_WRAPPERS]
    }


@pytest.mark.parametrize("stage", ["prod", "staging"])
def test_modes_differ_exactly_in_which_unit_alarms_notify(templates, stage) -> None:
    notifying: dict[str, dict[str, Any]] = {}
    stripped = []
    for mode in ("composite", "all"):
        template = copy.deepcopy(templates[(stage, mode)])
        notifying[mode] = {}
        for resource in template["Resources"].values():
            props = resource.get("Properties", {})
            if not resource["Type"].startswith("AWS::CloudWatch::"):
                continue
            if actions := props.pop("AlarmActions", None):
                notifying[mode][props["AlarmName"]] = actions
        stripped.append(template)
    assert stripped[0] == stripped[1]

    def names(ids: list[str]) -> set[str]:
        return {f"BYOIP-{stage}-{i}" for i in ids}

    # Incident and the SLO pages notify in both modes, the same way.
    both = names(["Incident", *SLO_PAGES])
    assert set(notifying["composite"]) & set(notifying["all"]) == both
    assert {n: notifying["composite"][n] for n in both} == {n: notifying["all"][n] for n in both}
    # All mode adds every unit alarm (paging ones email themselves) and the SLO tickets ...
    assert set(notifying["all"]) - set(notifying["composite"]) == names([*UNIT_IDS, *SLO_TICKETS])
    # ... and loses the page wrappers, through which composite mode pages those unit alarms.
    assert set(notifying["composite"]) - set(notifying["all"]) == names(PAGE_WRAPPERS)


@pytest.mark.parametrize("key", STAGE_MODES)
def test_composite_rule_is_dlq_or_errors_and_backlog(templates, key) -> None:
    stage = key[0]
    composite = alarms_by_name(templates[key])[f"BYOIP-{stage}-Incident"]
    p = f"arn:BYOIP-{stage}-"
    assert as_text(composite["AlarmRule"], templates[key]) == (
        f'(ALARM("{p}DLQNotEmpty") OR (ALARM("{p}DispatcherErrors") AND ALARM("{p}Backlog")))'
    )


@pytest.mark.parametrize("stage", ["prod", "staging"])
def test_stale_connections_metric_filter_feeds_its_alarm(templates, stage) -> None:
    template = templates[(stage, "composite")]
    (metric_filter,) = of_type(template, "AWS::Logs::MetricFilter")
    assert metric_filter["FilterPattern"] == '"status=410"'
    assert as_text(metric_filter["LogGroupName"], template) == "ref:AWS::Logs::LogGroup"
    assert metric_filter["MetricTransformations"] == [
        {"MetricName": "StaleConnections", "MetricNamespace": f"Huntaze/ByoIP/{stage}", "MetricValue": "1"}
    ]
    alarm = alarms_by_name(template)[f"BYOIP-{stage}-StaleConnections"]
    assert (alarm["Namespace"], alarm["MetricName"], alarm["Statistic"]) == (
        f"Huntaze/ByoIP/{stage}",
        "StaleConnections",
        "Sum",
    )
    assert "Dimensions" not in alarm


@pytest.mark.parametrize("stage", ["prod", "staging"])
def test_partial_fail_pct_is_metric_math_cloudwatch_accepts(templates, stage) -> None:
    alarm = alarms_by_name(templates[(stage, "all")])[f"BYOIP-{stage}-PartialFailPct"]
    queries = {q["Id"]: q for q in alarm["Metrics"]}
    (returned,) = [q for q in alarm["Metrics"] if q["ReturnData"]]
    assert returned["Expression"] == "100 * f / IF(i > 1, i, 1)"
    for query_id, name in (("f", "BatchItemFailures"), ("i", "BatchItems")):
        assert queries[query_id]["MetricStat"] == {
            "Metric": {
                "Dimensions": [{"Name": "Stage", "Value": stage}],
                "MetricName": name,
                "Namespace": "Huntaze/Dispatcher",
            },
            "Period": 300,
            "Stat": "Sum",
        }
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (10, "GreaterThanThreshold")
    assert (alarm["DatapointsToAlarm"], alarm["EvaluationPeriods"]) == (2, 3)


def test_dispatcher_duration_and_backlog_thresholds(templates) -> None:
    alarms = alarms_by_name(templates[("prod", "composite")])
    duration = alarms["BYOIP-prod-DispatcherDuration"]
    timeout_ms = sizes.DISPATCHER_TIMEOUT_S * 1000
    assert (duration["ExtendedStatistic"], duration["Threshold"]) == ("p95", 0.8 * timeout_ms)
    backlog = alarms["BYOIP-prod-Backlog"]
    assert (backlog["MetricName"], backlog["Statistic"], backlog["Threshold"]) == (
        "ApproximateAgeOfOldestMessage",
        "Maximum",
        900,
    )
    dlq = alarms["BYOIP-prod-DLQNotEmpty"]
    assert (dlq["MetricName"], dlq["Threshold"], dlq["ComparisonOperator"]) == (
        "ApproximateNumberOfMessagesVisible",
        0,
        "GreaterThanThreshold",
    )


@pytest.mark.parametrize("stage", ["prod", "staging"])
def test_dashboards_and_deprecated_banner_links_to_primary(templates, stage) -> None:
    template = templates[(stage, "composite")]
    bodies = {
        d["DashboardName"]: as_text(d["DashboardBody"], template)
        for d in of_type(template, "AWS::CloudWatch::Dashboard")
    }
    assert set(bodies) == {f"BYOIP-Ops-{stage}", f"ByoIpRunner-{stage}"}
    first = _widgets(bodies[f"ByoIpRunner-{stage}"])[0]
    region = REGION_OF[stage]
    assert first["type"] == "text"
    assert first["properties"]["markdown"].startswith("# DEPRECATED")
    primary_url = (
        f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}"
        f"#dashboards/dashboard/BYOIP-Ops-{stage}"
    )
    assert f"[BYOIP-Ops-{stage}]({primary_url})" in first["properties"]["markdown"]


def test_primary_dashboard_graphs_everything_the_issue_lists(templates) -> None:
    template = templates[("staging", "composite")]
    (body,) = [
        as_text(d["DashboardBody"], template)
        for d in of_type(template, "AWS::CloudWatch::Dashboard")
        if d["DashboardName"] == "BYOIP-Ops-staging"
    ]
    for needle in (
        '"ApproximateNumberOfMessagesVisible"',
        '"ApproximateAgeOfOldestMessage"',
        '"Invocations"',
        '"Errors"',
        '"Throttles"',
        '"stat":"p95"',
        "100 * f / IF(i > 1, i, 1)",
        '"JobsAssigned"',
        '"JobsCompleted"',
        '"JobsFailed"',
        '"AgentHeartbeats"',
        '"Huntaze/ByoIP/staging","StaleConnections"',
        '"ConnectCount"',
        '"type":"alarm"',
    ):
        assert needle in body, needle


@pytest.mark.parametrize("stage", ["prod", "staging"])
def test_three_saved_queries_on_the_dispatcher_log_group_and_the_job_story(templates, stage) -> None:
    template = templates[(stage, "all")]
    queries = {q["Name"]: q for q in of_type(template, "AWS::Logs::QueryDefinition")}
    assert queries[f"BYOIP-{stage}/error-types-by-reason"]["QueryString"] == (
        "fields @timestamp, @message\n| filter @message like /ERROR|Failed|status=/\n"
        "| parse @message /reason=(?<reason>\\w+)/\n| stats count() as c by reason\n| sort c desc"
    )
    assert queries[f"BYOIP-{stage}/stale-connections-410"]["QueryString"] == (
        "fields @timestamp, @message\n| filter @message like /status=410/\n| stats count() as c by bin(5m)"
    )
    assert queries[f"BYOIP-{stage}/partial-batch-failures-by-reason"]["QueryString"] == (
        "fields @timestamp, @message, jobId, reason\n| filter @message like /batch_item_failed/\n"
        "| stats count() by reason, bin(1m)"
    )
    story = queries.pop(f"BYOIP-{stage}/job-story")
    assert len(queries) == 3
    for query in queries.values():
        assert as_text(query["LogGroupNames"], template) == ["ref:AWS::Logs::LogGroup"]
    # one job's story reads every function's log group, by the job's keys
    assert story["LogGroupNames"] == [f"/aws/lambda/byoip-{stage}-{f}" for f in FUNCTIONS]
    assert '| filter jobId = "JOB_ID" or correlation_id = "JOB_ID"' in story["QueryString"]


@pytest.mark.parametrize("key", STAGE_MODES)
def test_topic_output_and_email_subscription(templates, key) -> None:
    stage = key[0]
    template = templates[key]
    page, ticket = of_type(template, "AWS::SNS::Topic")
    assert (page["TopicName"], ticket["TopicName"]) == (
        f"byoip-{stage}-ops-alerts",
        f"byoip-{stage}-ops-tickets",
    )
    # One key for both: the same encryption.
    assert page["KmsMasterKeyId"] == ticket["KmsMasterKeyId"]
    assert as_text(page["KmsMasterKeyId"], template) == "ref:AWS::KMS::Key"
    assert template["Outputs"]["OpsAlertsTopicArn"]["Value"] == topic_ref(template)
    assert template["Outputs"]["OpsTicketsTopicArn"]["Value"] == topic_ref(template, "ops-tickets")
    subscriptions = of_type(template, "AWS::SNS::Subscription")
    if stage == "staging":
        assert [(s["Protocol"], s["Endpoint"], s["TopicArn"]) for s in subscriptions] == [
            ("email", "ops@example.com", topic_ref(template))
        ]
    else:
        assert subscriptions == []
    for policy in of_type(template, "AWS::SNS::TopicPolicy"):
        (statement,) = policy["PolicyDocument"]["Statement"]
        assert statement["Effect"] == "Deny"
        assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert len(of_type(template, "AWS::SNS::TopicPolicy")) == 2


def _widgets(body: str) -> list[dict[str, Any]]:
    return json.loads(body)["widgets"]


def test_quarantine_alarm_and_its_dashboard_graph(templates) -> None:
    template = templates[("staging", "all")]
    alarm = alarms_by_name(template)["BYOIP-staging-QuarantineNotEmpty"]
    assert (alarm["MetricName"], alarm["Statistic"], alarm["Threshold"], alarm["ComparisonOperator"]) == (
        "ApproximateNumberOfMessagesVisible",
        "Maximum",
        0,
        "GreaterThanThreshold",
    )
    assert [d["Name"] for d in alarm["Dimensions"]] == ["QueueName"]  # which queue: test_monitoring_stack
    assert (alarm["Period"], alarm["EvaluationPeriods"], alarm["DatapointsToAlarm"]) == (60, 1, 1)
    (body,) = [
        as_text(d["DashboardBody"], template)
        for d in of_type(template, "AWS::CloudWatch::Dashboard")
        if d["DashboardName"] == "BYOIP-Ops-staging"
    ]
    assert "Quarantine (poison pills)" in body and "Parked jobs (visible)" in body
    assert "G. Quarantine Not Empty (poison pills)" in body  # the runbook widget's section link
