"""The CircuitBreakerOpen alarm in the template and its graph on the primary dashboard."""

from __future__ import annotations

from contract.config import Config
from tests.infra.monitoring_preview import as_text, preview_template
from tests.infra.test_monitoring_layer import alarms_by_name, of_type


def test_breaker_alarm_and_its_dashboard_graph() -> None:
    for mode, emails in (("composite", False), ("all", True)):
        template = preview_template(Config(stage="staging", alert_mode=mode), region="eu-west-3")
        alarm = alarms_by_name(template)["BYOIP-staging-CircuitBreakerOpen"]
        assert (alarm["Namespace"], alarm["MetricName"], alarm["Statistic"]) == (
            "Huntaze/ByoIP",
            "CircuitBreakersOpen",
            "Maximum",
        )
        assert alarm["Dimensions"] == [{"Name": "Stage", "Value": "staging"}]
        assert (alarm["Threshold"], alarm["ComparisonOperator"], alarm["TreatMissingData"]) == (
            0,
            "GreaterThanThreshold",
            "notBreaching",
        )
        assert (alarm["Period"], alarm["EvaluationPeriods"], alarm["DatapointsToAlarm"]) == (60, 2, 1)
        assert bool(alarm.get("AlarmActions")) is emails
    (body,) = [
        as_text(d["DashboardBody"], template)
        for d in of_type(template, "AWS::CloudWatch::Dashboard")
        if d["DashboardName"] == "BYOIP-Ops-staging"
    ]
    assert "Creator circuit breakers and events" in body
    for metric in ('"CircuitBreakersOpen"', '"CircuitBreakersOpened"', '"CreatorEvents"'):
        assert metric in body, metric
