"""`BYOIP-Ops-<s>` (primary, consolidated) and `ByoIpRunner-<s>` (deprecated) dashboards.

The primary dashboard's graphs come from cdk-monitoring-constructs (queue + DLQ and
Lambda monitors, custom monitors for our EMF metrics and the WebSocket API, which the
library has no monitor for); its alarm status and runbook widgets are derived from the
catalog, so a new alarm appears on both dashboards without another line here.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cw
from cdk_monitoring_constructs import (
    CustomMetricGroup,
    DefaultDashboardFactory,
    LatencyType,
    MonitoringFacade,
)
from constructs import Construct

from contract import console
from contract.config import Config
from lambdas.common import metrics as m
from monitoring.catalog import (
    ALARMS,
    ALARMS_BY_ID,
    STALE_CONNECTIONS,
    AlarmSpec,
    Dim,
    Metric,
)
from monitoring.metrics import to_cdk
from monitoring.resources import MonitoringResources
from monitoring.sections import SECTIONS, runbook_link
from monitoring.watched import FUNCTION_ALARMS

ALARM_WIDGET_TITLE = "Alarms (catalog + Incident composite)"


def runbook_markdown(config: Config, region: str) -> str:
    """The runbook widget: the runbook itself, then every section with its alarms."""
    lines = [
        f"## Triage runbook\n[Open the {config.stage} runbook]({runbook_link(config, None, region=region)})",
        "",
    ]
    for section in SECTIONS:
        ids = [spec.id for spec in ALARMS if spec.section == section.id]
        suffix = f" — alarms: {', '.join(ids)}" if ids else ""
        lines.append(f"- [{section.title}]({runbook_link(config, section.id, region=region)}){suffix}")
    return "\n".join(lines)


def alarm_status_widget(alarms: list[cw.IAlarm]) -> cw.AlarmStatusWidget:
    return cw.AlarmStatusWidget(alarms=alarms, title=ALARM_WIDGET_TITLE, width=24, height=4)


def primary_dashboard(
    scope: Construct,
    *,
    config: Config,
    resources: MonitoringResources,
    alarms: list[cw.IAlarm],
    region: str,
) -> cw.Dashboard:
    """The consolidated on-call dashboard, built with cdk-monitoring-constructs."""
    factory = DefaultDashboardFactory(
        scope,
        "PrimaryDashboardFactory",
        dashboard_name_prefix=config.names.primary_dashboard,
        create_dashboard=True,
        create_summary_dashboard=False,
        create_alarm_dashboard=False,
    )
    facade = MonitoringFacade(scope, "Dashboards", dashboard_factory=factory)
    facade.add_widget(cw.TextWidget(markdown=runbook_markdown(config, region), width=24, height=6))
    facade.add_widget(alarm_status_widget(alarms))
    facade.monitor_custom(
        human_readable_name="Black-box probe (an agent's whole path, every minute)",
        alarm_friendly_name="Probe",
        metric_groups=_probe_groups(config, resources),
    )
    facade.monitor_sqs_queue_with_dlq(
        queue=resources.jobs_queue,
        dead_letter_queue=resources.dlq,
        human_readable_name="JobsQueue (depth, age) and DLQ",
    )
    if resources.quarantine_queue is not None:
        facade.monitor_custom(
            human_readable_name="Quarantine (poison pills)",
            alarm_friendly_name="Quarantine",
            metric_groups=[
                CustomMetricGroup(
                    title="Parked jobs (visible)",
                    metrics=[_metric(ALARMS_BY_ID["QuarantineNotEmpty"], config, resources)],
                )
            ],
        )
    facade.monitor_lambda_function(
        lambda_function=resources.dispatcher,
        human_readable_name="dispatcher-sqs",
        latency_types_to_render=[LatencyType.P95],
    )
    facade.monitor_custom(
        human_readable_name="Dispatcher batches and jobs",
        alarm_friendly_name="Dispatcher",
        metric_groups=[
            CustomMetricGroup(
                title="Partial-fail %", metrics=[_metric(ALARMS_BY_ID["PartialFailPct"], config, resources)]
            ),
            CustomMetricGroup(
                title="Batch items",
                metrics=[
                    _emf(m.DISPATCHER, name, config, resources)
                    for name in (m.BATCH_ITEMS, m.BATCH_ITEM_FAILURES)
                ],
            ),
            CustomMetricGroup(
                title="Jobs",
                metrics=[
                    _emf(m.BYOIP, name, config, resources)
                    for name in (m.JOBS_ASSIGNED, m.JOBS_COMPLETED, m.JOBS_FAILED, m.JOBS_HELD)
                ],
            ),
        ],
    )
    agent_groups = [
        CustomMetricGroup(
            title="Agent heartbeats", metrics=[_emf(m.BYOIP, m.AGENT_HEARTBEATS, config, resources)]
        ),
        CustomMetricGroup(
            title="Stale connections (410)",
            metrics=[
                to_cdk(STALE_CONNECTIONS, period_s=300, resources=resources, stage=config.stage, label="410s")
            ],
        ),
    ]
    agent_groups.append(
        CustomMetricGroup(
            title="Creator circuit breakers and events",
            metrics=[
                _metric(ALARMS_BY_ID["CircuitBreakerOpen"], config, resources),
                *(_emf(m.BYOIP, n, config, resources) for n in (m.CIRCUIT_BREAKERS_OPENED, m.CREATOR_EVENTS)),
            ],
        )
    )
    agent_groups += [
        CustomMetricGroup(
            title="Connected agents (lease-reaper's gauge) and FleetDisconnected %",
            metrics=[
                to_cdk(
                    Metric(m.BYOIP, m.AGENTS_CONNECTED, "Maximum", Dim.STAGE),
                    period_s=60,
                    resources=resources,
                    stage=config.stage,
                    label="connected agents",
                ),
                _metric(ALARMS_BY_ID["FleetDisconnected"], config, resources),
            ],
        ),
        CustomMetricGroup(
            title="$connect outcomes (ok; the client's 401s; our 503s) and jobs counted late while waiting",
            metrics=[
                *(_emf(m.BYOIP, name, config, resources) for name in m.CONNECT_OUTCOMES.values()),
                _emf(m.DISPATCHER, m.JOBS_WAITING_LATE, config, resources),
            ],
        ),
        CustomMetricGroup(title=CONNECT_REJECTIONS_TITLE, metrics=_connect_rejections(config, resources)),
    ]
    if resources.ws_api is not None and resources.ws_stage is not None:
        agent_groups.append(_websocket_group(resources))
    facade.monitor_custom(
        human_readable_name="Agents", alarm_friendly_name="Agents", metric_groups=agent_groups
    )
    facade.monitor_custom(
        human_readable_name="Every part watched (runbook W1-W3)",
        alarm_friendly_name="Watched",
        metric_groups=_watched_groups(config, resources),
    )
    assert factory.dashboard is not None
    return factory.dashboard


def deprecated_dashboard(
    scope: Construct, *, config: Config, alarms: list[cw.IAlarm], region: str
) -> cw.Dashboard:
    """The old dashboard name, kept for bookmarks: a banner to the primary, then the alarms."""
    primary = config.names.primary_dashboard
    banner = (
        f"# DEPRECATED — use [{primary}]({console.dashboard(region, primary)})\n"
        f"`{config.names.deprecated_dashboard}` is no longer maintained and will be removed; "
        f"every graph and alarm now lives on **{primary}**."
    )
    return cw.Dashboard(
        scope,
        "DeprecatedDashboard",
        dashboard_name=config.names.deprecated_dashboard,
        widgets=[
            [cw.TextWidget(markdown=banner, width=24, height=3, background=cw.TextWidgetBackground.SOLID)],
            [alarm_status_widget(alarms)],
        ],
    )


def _metric(spec: AlarmSpec, config: Config, resources: MonitoringResources) -> cw.Metric | cw.MathExpression:
    return to_cdk(spec.source, period_s=spec.period_s, resources=resources, stage=config.stage, label=spec.id)


CONNECT_REJECTIONS_TITLE = "$connect rejections by reason, per minute (a connect flood shows here first)"


def _connect_rejections(
    config: Config, resources: MonitoringResources
) -> list[cw.Metric | cw.MathExpression]:
    """Every refused `$connect` by its reason (metrics.CONNECT_OUTCOMES but ok), a minute's Sum each."""
    return [
        to_cdk(
            Metric(m.BYOIP, name, "Sum", Dim.STAGE),
            period_s=60,
            resources=resources,
            stage=config.stage,
            label=reason,
        )
        for reason, name in m.CONNECT_OUTCOMES.items()
        if reason != "ok"
    ]


def _emf(
    namespace: str, name: str, config: Config, resources: MonitoringResources
) -> cw.Metric | cw.MathExpression:
    return to_cdk(
        Metric(namespace, name, "Sum", Dim.STAGE), period_s=300, resources=resources, stage=config.stage
    )


def _watched_groups(config: Config, resources: MonitoringResources) -> list[CustomMetricGroup]:
    """Graphs of the watched parts, each the metric (or expression) its alarm reads."""

    def of(*ids: str) -> list[cw.Metric | cw.MathExpression]:
        return [_metric(ALARMS_BY_ID[alarm_id], config, resources) for alarm_id in ids]

    errors = [i for i in FUNCTION_ALARMS if i.endswith("Errors")]
    throttles = [i for i in FUNCTION_ALARMS if i.endswith("Throttles")]
    return [
        CustomMetricGroup(title="Function errors", metrics=of(*errors)),
        CustomMetricGroup(title="Function throttles", metrics=of(*throttles)),
        # One graph each: both expressions name their request count `n`, and one graph cannot hold two.
        CustomMetricGroup(title="WebSocket API: integration errors %", metrics=of("ApiIntegrationErrors")),
        CustomMetricGroup(title="WebSocket API: refused at the edge %", metrics=of("EdgeThrottled")),
        CustomMetricGroup(
            title="Dead-man's switches (runs a minute)", metrics=of("ReaperSilent", "WatchSilent")
        ),
        CustomMetricGroup(
            title="Redrive, schedules, rotation, alert delivery (failures)",
            metrics=of("RedriveFailed", "ScheduleFailedInvocations", "RotationFailed", "AlertDeliveryFailed"),
        ),
    ]


def _probe_groups(config: Config, resources: MonitoringResources) -> list[CustomMetricGroup]:
    """ProbeFailed's own signal, then the trip's latency: p50 is the usual trip, p99 its worst minutes."""
    latency = [
        to_cdk(
            Metric(m.PROBE, m.PROBE_LATENCY, stat, Dim.STAGE),
            period_s=300,
            resources=resources,
            stage=config.stage,
            label=f"latency {stat} (ms)",
        )
        for stat in ("p50", "p99")
    ]
    return [
        CustomMetricGroup(
            title="Probe success (share of runs)",
            metrics=[_metric(ALARMS_BY_ID["ProbeFailed"], config, resources)],
        ),
        CustomMetricGroup(title="Probe latency, queue to result (ms)", metrics=latency),
    ]


def _websocket_group(resources: MonitoringResources) -> CustomMetricGroup:
    assert resources.ws_api is not None and resources.ws_stage is not None
    dims = {"ApiId": resources.ws_api.api_id, "Stage": resources.ws_stage.stage_name}
    return CustomMetricGroup(
        title="WebSocket API",
        metrics=[
            cw.Metric(
                namespace="AWS/ApiGateway",
                metric_name=name,
                dimensions_map=dims,
                statistic="Sum",
                period=Duration.minutes(5),
            )
            for name in ("ConnectCount", "MessageCount", "ClientError", "IntegrationError", "ExecutionError")
        ],
    )
