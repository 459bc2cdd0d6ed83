"""SLO catalog ⇄ template: burn alarms, their composites and SNS actions per mode, the SLO
widgets on the primary dashboard, and the native Application Signals SLOs."""

from __future__ import annotations

from typing import Any

import pytest

from contract.config import Config
from monitoring.sections import runbook_link
from monitoring.slo_alarms import SLO_ALARM_WIDGET_TITLE
from monitoring.slo_catalog import SLO_ALARMS, SLO_COMPOSITES, SLOS
from tests.infra.monitoring_preview import as_text, preview_template
from tests.infra.test_monitoring_consistency import alarm_props, dashboard_widgets

PAGES = {
    f"{slo}{a}"
    for slo in ("JobSuccess", "TimeToAssign", "ConnectSuccess")
    for a in ("FastBurn", "SustainedBurn")
}


@pytest.fixture(scope="module", params=["composite", "all"])
def case(request) -> tuple[Config, dict[str, Any]]:
    config = Config(stage="qa", alert_mode=request.param)
    return config, preview_template(config, region="eu-west-1")


def test_burn_alarms_are_metric_math_on_the_catalog_and_never_notify(case):
    config, template = case
    props = alarm_props(template)
    for spec in SLO_ALARMS:
        alarm = props[config.names.alarm(spec.id)]
        (returned,) = [q for q in alarm["Metrics"] if q["ReturnData"]]
        assert returned["Expression"] == spec.source.expression
        assert {q["MetricStat"]["Period"] for q in alarm["Metrics"] if "MetricStat" in q} == {spec.period_s}
        assert (alarm["Threshold"], alarm["EvaluationPeriods"], alarm["DatapointsToAlarm"]) == (
            spec.threshold,
            1,
            1,
        )
        assert "AlarmActions" not in alarm and "OKActions" not in alarm
        description = as_text(alarm["AlarmDescription"], template)
        assert description.startswith(spec.meaning)
        assert description.endswith(runbook_link(config, spec.section, region="eu-west-1"))


def test_pages_email_in_both_modes_tickets_only_in_all_mode(case):
    config, template = case
    props = alarm_props(template)
    emailing = {spec.id for spec in SLO_COMPOSITES if props[config.names.alarm(spec.id)].get("AlarmActions")}
    assert emailing == (PAGES if config.alert_mode == "composite" else {s.id for s in SLO_COMPOSITES})
    with_ok = {spec.id for spec in SLO_COMPOSITES if props[config.names.alarm(spec.id)].get("OKActions")}
    assert with_ok == PAGES
    rule = as_text(props["BYOIP-qa-TimeToAssignSlowBurn"]["AlarmRule"], template)
    assert (
        rule
        == '(ALARM("arn:BYOIP-qa-TimeToAssignSlowBurn3d") AND ALARM("arn:BYOIP-qa-TimeToAssignSlowBurn6h"))'
    )


def test_primary_dashboard_shows_the_slo_alerts_sli_burn_rates_and_budget(case):
    config, template = case
    widgets = dashboard_widgets(template, "BYOIP-Ops-qa")
    (alerts,) = [w for w in widgets if w["properties"].get("title") == SLO_ALARM_WIDGET_TITLE]
    assert alerts["properties"]["alarms"] == [f"arn:{config.names.alarm(s.id)}" for s in SLO_COMPOSITES]
    titles = [w["properties"].get("title", "") for w in widgets]
    for slo in SLOS:
        assert f"{slo.title}: SLI % (objective {slo.objective:.1%})" in titles
        assert any(t.startswith(f"{slo.title}: burn rate per window") for t in titles)
        (budget,) = [
            w for w in widgets if w["properties"].get("title") == f"{slo.title}: error budget left (28 days)"
        ]
        assert budget["type"] == "metric" and budget["properties"]["view"] == "singleValue"
        assert budget["properties"]["period"] == 28 * 86_400
    (burn,) = [w for w in widgets if w["properties"].get("title", "").startswith("Job success: burn rate")]
    labels = [
        m[-1]["label"] for m in burn["properties"]["metrics"] if isinstance(m[-1], dict) and "label" in m[-1]
    ]
    assert labels == ["burn 5m", "burn 30m", "burn 1h", "burn 6h", "burn 3d"]
    deprecated = dashboard_widgets(template, "ByoIpRunner-qa")
    assert not [w for w in deprecated if w["properties"].get("title") == SLO_ALARM_WIDGET_TITLE]


def test_native_slos_are_request_based_on_the_same_metrics(case):
    _, template = case
    slos = {
        r["Properties"]["Name"]: r["Properties"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::ApplicationSignals::ServiceLevelObjective"
    }
    assert set(slos) == {"BYOIP-qa-JobSuccess", "BYOIP-qa-TimeToAssign", "BYOIP-qa-ConnectSuccess"}
    tta = slos["BYOIP-qa-TimeToAssign"]
    assert tta["Goal"] == {
        "AttainmentGoal": 99.5,
        "Interval": {"RollingInterval": {"Duration": 28, "DurationUnit": "DAY"}},
    }
    metric = tta["RequestBasedSli"]["RequestBasedSliMetric"]
    assert [q.get("Expression") for q in metric["TotalRequestCountMetric"]] == [None, None, None, "a + e + w"]
    bad = metric["MonitoredRequestCountMetric"]["BadCountMetric"]
    assert [(q["Id"], q.get("Expression"), q["ReturnData"]) for q in bad] == [
        ("a", None, False),
        ("o", None, False),
        ("e", None, False),
        ("w", None, False),
        ("bad", "a - o + e + w", True),
    ]
    assert [c["LookBackWindowMinutes"] for c in tta["BurnRateConfigurations"]] == [5, 30, 60, 360, 4320]
    js = slos["BYOIP-qa-JobSuccess"]["RequestBasedSli"]["RequestBasedSliMetric"]
    assert [q["Id"] for q in js["MonitoredRequestCountMetric"]["BadCountMetric"]] == ["f", "bad"]
    cs = slos["BYOIP-qa-ConnectSuccess"]["RequestBasedSli"]["RequestBasedSliMetric"]
    assert [q["Id"] for q in cs["MonitoredRequestCountMetric"]["BadCountMetric"]] == ["s", "r", "t", "bad"]
    assert [q.get("Expression") for q in cs["TotalRequestCountMetric"]][-1] == "k + s + r + t"
