"""Catalog → CloudWatch alarms, the metric filter they need, and the Incident composite.

Plain `aws_cloudwatch` on purpose: names, descriptions, thresholds and actions come from
the catalog verbatim, the composite is nested, and one alarm is metric math over EMF
metrics and one sits on a metric filter; cdk-monitoring-constructs generates its own alarm
names and descriptions and builds flat composites only.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_logs as logs
from constructs import Construct

from contract.config import Config
from monitoring.alerting import AlertTopics
from monitoring.catalog import (
    ALARMS,
    COMPOSITE,
    AlarmSpec,
    AnyOf,
    Comparison,
    CompositeSpec,
    Missing,
    Rule,
)
from monitoring.first_steps import description
from monitoring.metrics import to_cdk
from monitoring.resources import MonitoringResources
from monitoring.routing import (
    SUPPRESSOR_EXTENSION_S,
    SUPPRESSOR_WAIT_S,
    page_wrappers,
    pages_in_composite_mode,
    route,
    sends_alarm,
)

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


@dataclass(frozen=True)
class Routing:
    """Where alarms send their actions: the two topics, and the maintenance window that holds pages."""

    topics: AlertTopics
    suppressor: cw.IAlarm | None = None  # None only for the MaintenanceWindow alarm itself


# A page wrapper's email is its unit alarm's page: that alarm's first steps and runbook anchor.
_PAGES_FOR = {wrapper.id: spec.id for spec in ALARMS for wrapper in page_wrappers((spec,))}


def describe(spec: AlarmSpec | CompositeSpec, config: Config, region: str) -> str:
    """Meaning, first steps, then the runbook section and its link (monitoring/first_steps.py)."""
    return description(_PAGES_FOR.get(spec.id, spec.id), spec.meaning, spec.section, config, region)


def unit_alarms(
    scope: Construct, *, config: Config, resources: MonitoringResources, routing: Routing, region: str
) -> dict[str, cw.Alarm]:
    """Every catalog alarm, with SNS actions for `config.alert_mode`."""
    alarms: dict[str, cw.Alarm] = {}
    for spec in ALARMS:
        if spec.log_filter is not None:
            _metric_filter(scope, spec, config, resources)
        alarms[spec.id] = metric_alarm(
            scope, spec, config=config, resources=resources, routing=routing, region=region
        )
    return alarms


def unit_page_composites(
    scope: Construct,
    specs: tuple[AlarmSpec, ...],
    *,
    config: Config,
    alarms: dict[str, cw.IAlarm],
    routing: Routing,
    region: str,
) -> dict[str, cw.CompositeAlarm]:
    """The `<Id>Page` composites through which paging unit alarms page (monitoring/routing.py)."""
    return {
        wrapper.id: composite_alarm(
            scope, wrapper, config=config, alarms=alarms, routing=routing, region=region
        )
        for wrapper in page_wrappers(specs)
    }


def metric_alarm(
    scope: Construct,
    spec: AlarmSpec,
    *,
    config: Config,
    resources: MonitoringResources,
    routing: Routing,
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
    _route(alarm, spec, config, routing)
    return alarm


def incident_composite(
    scope: Construct, *, config: Config, alarms: dict[str, cw.IAlarm], routing: Routing, region: str
) -> cw.CompositeAlarm:
    """The Incident composite built from the catalog's nested rule."""
    return composite_alarm(scope, COMPOSITE, config=config, alarms=alarms, routing=routing, region=region)


def composite_alarm(
    scope: Construct,
    spec: CompositeSpec,
    *,
    config: Config,
    alarms: dict[str, cw.IAlarm],
    routing: Routing,
    region: str,
) -> cw.CompositeAlarm:
    """One composite alarm from its catalog entry, with SNS actions for `config.alert_mode`.

    A paging composite (it pages in composite mode) is held by the maintenance window, in
    both modes, so that the mode changes only which alarms carry actions.
    """
    held = pages_in_composite_mode(spec) and routing.suppressor is not None
    composite = cw.CompositeAlarm(
        scope,
        spec.id,
        composite_alarm_name=config.names.alarm(spec.id),
        alarm_description=describe(spec, config, region),
        alarm_rule=_to_alarm_rule(spec.rule, alarms),
        actions_suppressor=routing.suppressor if held else None,
        actions_suppressor_wait_period=Duration.seconds(SUPPRESSOR_WAIT_S) if held else None,
        actions_suppressor_extension_period=Duration.seconds(SUPPRESSOR_EXTENSION_S) if held else None,
    )
    _route(composite, spec, config, routing)
    return composite


def _route(alarm: cw.AlarmBase, spec: AlarmSpec | CompositeSpec, config: Config, routing: Routing) -> None:
    """SNS actions to the spec's topic (page or ticket, from its severity): ALARM when it sends in
    `config.alert_mode`, OK when it has an OK action."""
    action = cw_actions.SnsAction(routing.topics.of(route(spec)))
    if sends_alarm(spec, config.alert_mode):
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
