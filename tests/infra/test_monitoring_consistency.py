"""Catalog ⇄ template consistency: everything the catalog says is what the template does."""

from __future__ import annotations

import json
from typing import Any

import pytest

from contract.config import Config
from monitoring.catalog import ALARMS, COMPOSITE, Math, notifies, rule_ids
from monitoring.dashboards import ALARM_WIDGET_TITLE
from monitoring.first_steps import DESCRIPTION_LIMIT, first_steps
from monitoring.routing import page_wrapper, page_wrappers, pages_in_composite_mode, sends_alarm
from monitoring.sections import SECTIONS, alarm_link, runbook_link
from tests.infra.monitoring_preview import as_text, preview_template

CASES = {
    "prod-composite": (Config(stage="prod"), None),
    "qa-all-with-base-url": (Config("qa", "all", None, "https://runbooks.example.com/ops/"), "us-east-2"),
}


@pytest.fixture(scope="module", params=list(CASES))
def case(request) -> tuple[Config, str, dict[str, Any]]:
    config, region = CASES[request.param]
    return config, region or "${AWS::Region}", preview_template(config, region=region)


def alarm_props(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        r["Properties"]["AlarmName"]: r["Properties"]
        for r in template["Resources"].values()
        if r["Type"] in ("AWS::CloudWatch::Alarm", "AWS::CloudWatch::CompositeAlarm")
    }


def dashboard_widgets(template: dict[str, Any], name: str) -> list[dict[str, Any]]:
    (body,) = [
        as_text(r["Properties"]["DashboardBody"], template)
        for r in template["Resources"].values()
        if r["Type"] == "AWS::CloudWatch::Dashboard" and r["Properties"]["DashboardName"] == name
    ]
    return json.loads(body)["widgets"]


def test_every_alarm_describes_its_meaning_and_links_its_runbook_section(case) -> None:
    config, region, template = case
    props = alarm_props(template)
    for spec in (*ALARMS, COMPOSITE):
        description = as_text(props[config.names.alarm(spec.id)]["AlarmDescription"], template)
        assert description.startswith(spec.meaning + "\nFirst steps: 1) ")
        assert all(step in description for step in first_steps(spec.id, config.stage))
        assert description.endswith(alarm_link(config, spec.id, spec.section, region=region))
        assert "<" not in description and "placeholder" not in description.lower()
        assert len(description) <= DESCRIPTION_LIMIT


def test_a_page_wrapper_describes_the_alarm_it_pages_for(case) -> None:
    # In composite mode the wrapper's email is the page: it carries the unit alarm's first steps
    # and links the unit alarm's own part of the runbook (the runbook has no anchor for a wrapper).
    config, region, template = case
    props = alarm_props(template)
    assert page_wrappers(ALARMS)  # FleetDisconnected, ProbeFailed and the watched pages
    for spec in ALARMS:
        if not pages_in_composite_mode(spec):
            continue
        wrapper = page_wrapper(spec)
        description = as_text(props[config.names.alarm(wrapper.id)]["AlarmDescription"], template)
        assert description.startswith(wrapper.meaning + "\nFirst steps: 1) ")
        assert wrapper.meaning.endswith(spec.meaning)
        assert all(step in description for step in first_steps(spec.id, config.stage))
        assert description.endswith(alarm_link(config, spec.id, spec.section, region=region))
        assert len(description) <= DESCRIPTION_LIMIT


def test_every_alarm_is_on_both_dashboards_alarm_widgets(case) -> None:
    config, _, template = case
    # the unit alarms, Incident, then the `<Id>Page` composites that page in composite mode
    expected = [f"arn:{config.names.alarm(spec.id)}" for spec in (*ALARMS, COMPOSITE, *page_wrappers(ALARMS))]
    for dashboard in (f"BYOIP-Ops-{config.stage}", f"ByoIpRunner-{config.stage}"):
        (widget,) = [
            w
            for w in dashboard_widgets(template, dashboard)
            if w["type"] == "alarm" and w["properties"]["title"] == ALARM_WIDGET_TITLE
        ]
        assert widget["properties"]["alarms"] == expected


def test_runbook_widget_links_the_runbook_and_every_section(case) -> None:
    config, region, template = case
    (text,) = [
        w["properties"]["markdown"]
        for w in dashboard_widgets(template, f"BYOIP-Ops-{config.stage}")
        if w["type"] == "text" and "Triage runbook" in w["properties"]["markdown"]
    ]
    assert f"({runbook_link(config, None, region=region)})" in text
    for section in SECTIONS:
        assert f"[{section.title}]({runbook_link(config, section.id, region=region)})" in text


def test_composite_references_alarms_that_exist(case) -> None:
    config, _, template = case
    names = set(alarm_props(template))
    rule = as_text(alarm_props(template)[config.names.alarm(COMPOSITE.id)]["AlarmRule"], template)
    for alarm_id in rule_ids(COMPOSITE.rule):
        assert config.names.alarm(alarm_id) in names
        assert f'ALARM("arn:{config.names.alarm(alarm_id)}")' in rule


def test_alarm_settings_come_from_the_catalog(case) -> None:
    config, _, template = case
    props = alarm_props(template)
    for spec in ALARMS:
        alarm = props[config.names.alarm(spec.id)]
        assert alarm["Threshold"] == spec.threshold
        assert alarm["ComparisonOperator"] == spec.comparison.value
        assert alarm["EvaluationPeriods"] == spec.evaluation_periods
        assert alarm["DatapointsToAlarm"] == spec.datapoints_to_alarm
        assert alarm["TreatMissingData"] == spec.missing.value
        # A unit alarm that pages in composite mode sends its ALARM action through its `<Id>Page`
        # wrapper in that mode (monitoring/routing.py); every other one as the catalog says.
        assert bool(alarm.get("AlarmActions")) == sends_alarm(spec, config.alert_mode)
        if pages_in_composite_mode(spec):
            assert notifies(spec, config.alert_mode)
            wrapper = props[config.names.alarm(page_wrapper(spec).id)]
            assert bool(alarm.get("AlarmActions")) != bool(wrapper.get("AlarmActions"))  # one, never both
        else:
            assert bool(alarm.get("AlarmActions")) == notifies(spec, config.alert_mode)
        assert bool(alarm.get("OKActions")) == spec.ok_action
        if isinstance(spec.source, Math):
            (returned,) = [q for q in alarm["Metrics"] if q["ReturnData"]]
            assert returned["Expression"] == spec.source.expression
            assert {q["Id"] for q in alarm["Metrics"]} - {returned["Id"]} == {k for k, _ in spec.source.using}
            assert {q["MetricStat"]["Period"] for q in alarm["Metrics"] if "MetricStat" in q} == {
                spec.period_s
            }
        else:
            assert (alarm["Namespace"], alarm["MetricName"], alarm["Period"]) == (
                spec.source.namespace.format(stage=config.stage),
                spec.source.name,
                spec.period_s,
            )
            assert alarm.get("Statistic", alarm.get("ExtendedStatistic")) == spec.source.statistic


def test_the_primary_dashboard_shows_connect_rejections_by_reason_per_minute(case) -> None:
    from lambdas.common.metrics import CONNECT_OUTCOMES
    from monitoring.dashboards import CONNECT_REJECTIONS_TITLE

    config, _region, template = case
    (widget,) = [
        w
        for w in dashboard_widgets(template, config.names.primary_dashboard)
        if w.get("properties", {}).get("title") == CONNECT_REJECTIONS_TITLE
    ]
    drawn = [(row[1], row[-1]) for row in widget["properties"]["metrics"]]
    assert drawn == [
        (name, {"label": reason, "period": 60, "stat": "Sum"})
        for reason, name in CONNECT_OUTCOMES.items()
        if reason != "ok"
    ]
