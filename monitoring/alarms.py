"""Catalog → CloudWatch alarms, the metric filter they need, and the Incident composite.

Plain `aws_cloudwatch` on purpose: names, descriptions, thresholds and actions come from
the catalog verbatim, the composite is nested, and one alarm is metric math over EMF
metrics and one sits on a metric filter; cdk-monitoring-constructs generates its own alarm
names and descriptions and builds flat composites only.
"""

from __future__ import annotations

from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from constructs import Construct

from contract.config import Config
from monitoring.catalog import (
    ALARMS,
    COMPOSITE,
    AlarmSpec,
    AnyOf,
    Comparison,
    CompositeSpec,
    Missing,
    Rule,
    notifies,
)
from monitoring.first_steps import description
from monitoring.metrics import to_cdk
from monitoring.resources import MonitoringResources

_COMPARISON = {
    Comparison.GT: cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
    Comparison.GTE: cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    Comparison.LT: cw.ComparisonOperator.LESS_THAN_THRESHOLD,
}
_MISSING = {
    Missing.NOT_BREACHING: cw.TreatMissingData.NOT_BREACHING,
    Missing.BREACHING: cw.TreatMissingData.BREACHING,
    Missing.IGNORE: cw.TreatMissingData.IGNORE,
    Missing.MISSING: cw.TreatMissingData.MISSING,
}


def describe(spec: AlarmSpec | CompositeSpec, config: Config, region: str) -> str:
    """Meaning, first steps, then the runbook section and its link (monitoring/first_steps.py)."""
    return description(spec.id, spec.meaning, spec.section, config, region)


def unit_alarms(
    scope: Construct, *, config: Config, resources: MonitoringResources, topic: sns.ITopic, region: str
) -> dict[str, cw.Alarm]:
    """Every catalog alarm, with SNS actions for `config.alert_mode`."""
    alarms: dict[str, cw.Alarm] = {}
    for spec in ALARMS:
        if spec.log_filter is not None:
            _metric_filter(scope, spec, config, resources)
        alarms[spec.id] = metric_alarm(
            scope, spec, config=config, resources=resources, topic=topic, region=region
        )
    return alarms


def metric_alarm(
    scope: Construct,
    spec: AlarmSpec,
    *,
    config: Config,
    resources: MonitoringResources,
    topic: sns.ITopic,
    region: str,
) -> cw.Alarm:
    """One metric alarm from its catalog entry, with SNS actions for `config.alert_mode`."""
    alarm = cw.Alarm(
        scope,
        spec.id,
        alarm_name=config.names.alarm(spec.id),
        alarm_description=describe(spec, config, region),
        metric=to_cdk(spec.source, period_s=spec.period_s, resources=resources, stage=config.stage),
        threshold=spec.threshold,
        comparison_operator=_COMPARISON[spec.comparison],
        evaluation_periods=spec.evaluation_periods,
        datapoints_to_alarm=spec.datapoints_to_alarm,
        treat_missing_data=_MISSING[spec.missing],
    )
    _route(alarm, spec, config, topic)
    return alarm


def incident_composite(
    scope: Construct, *, config: Config, alarms: dict[str, cw.IAlarm], topic: sns.ITopic, region: str
) -> cw.CompositeAlarm:
    """The Incident composite built from the catalog's nested rule."""
    return composite_alarm(scope, COMPOSITE, config=config, alarms=alarms, topic=topic, region=region)


def composite_alarm(
    scope: Construct,
    spec: CompositeSpec,
    *,
    config: Config,
    alarms: dict[str, cw.IAlarm],
    topic: sns.ITopic,
    region: str,
) -> cw.CompositeAlarm:
    """One composite alarm from its catalog entry, with SNS actions for `config.alert_mode`."""
    composite = cw.CompositeAlarm(
        scope,
        spec.id,
        composite_alarm_name=config.names.alarm(spec.id),
        alarm_description=describe(spec, config, region),
        alarm_rule=_to_alarm_rule(spec.rule, alarms),
    )
    _route(composite, spec, config, topic)
    return composite


def _route(alarm: cw.AlarmBase, spec: AlarmSpec | CompositeSpec, config: Config, topic: sns.ITopic) -> None:
    """SNS actions: ALARM when the spec notifies in `config.alert_mode`, OK when it has an OK action."""
    action = cw_actions.SnsAction(topic)
    if notifies(spec, config.alert_mode):
        alarm.add_alarm_action(action)
    if spec.ok_action:
        alarm.add_ok_action(action)


def _to_alarm_rule(rule: Rule, alarms: dict[str, cw.IAlarm]) -> cw.IAlarmRule:
    if isinstance(rule, str):
        return cw.AlarmRule.from_alarm(alarms[rule], cw.AlarmState.ALARM)
    parts = [_to_alarm_rule(sub, alarms) for sub in rule.rules]
    return cw.AlarmRule.any_of(*parts) if isinstance(rule, AnyOf) else cw.AlarmRule.all_of(*parts)


def _metric_filter(scope: Construct, spec: AlarmSpec, config: Config, resources: MonitoringResources) -> None:
    assert spec.log_filter is not None
    metric = spec.log_filter.metric
    logs.MetricFilter(
        scope,
        f"{spec.id}Filter",
        log_group=resources.dispatcher_log_group,
        filter_name=config.names.metric_filter(spec.id),
        filter_pattern=logs.FilterPattern.literal(spec.log_filter.pattern),
        metric_namespace=metric.namespace.format(stage=config.stage),
        metric_name=metric.name,
        metric_value="1",
    )
