"""The SLO catalog as native CloudWatch SLOs (`AWS::ApplicationSignals::ServiceLevelObjective`).

Request-based, on our own metrics: total = the SLO's valid events, bad = its bad events, the
same metric math the burn-rate alarms use, over a rolling window of the SLO's period. The
console then shows attainment, the error budget left and the burn rate over every window of
the catalog. Alerting stays with the generated alarms: the native SLO only draws.
"""

from __future__ import annotations

import re
from typing import Any

from aws_cdk import aws_applicationsignals as signals
from constructs import Construct

from contract.config import Config
from monitoring.metrics import dimensions
from monitoring.resources import MonitoringResources
from monitoring.slo_catalog import ALERTS, SLOS
from monitoring.slo_spec import SLO
from monitoring.spec import Metric

_Q = signals.CfnServiceLevelObjective

METRIC_PERIOD_S = 60


def native_slos(
    scope: Construct, *, config: Config, resources: MonitoringResources
) -> dict[str, signals.CfnServiceLevelObjective]:
    """One request-based SLO per catalog SLO, named `BYOIP-<stage>-<SloId>`."""
    windows = sorted({w.period_s // 60 for a in ALERTS for w in (a.long, a.short)})
    return {
        slo.id: signals.CfnServiceLevelObjective(
            scope,
            f"{slo.id}Slo",
            name=config.names.slo(slo.id),
            description=f"{slo.title}: {slo.meaning}"[:1024],
            request_based_sli=_Q.RequestBasedSliProperty(
                request_based_sli_metric=_Q.RequestBasedSliMetricProperty(
                    total_request_count_metric=_queries(slo, slo.valid, "total", config, resources),
                    monitored_request_count_metric=_Q.MonitoredRequestCountMetricProperty(
                        bad_count_metric=_queries(slo, slo.bad, "bad", config, resources)
                    ),
                )
            ),
            goal=_Q.GoalProperty(
                attainment_goal=round(slo.objective * 100, 6),
                interval=_Q.IntervalProperty(
                    rolling_interval=_Q.RollingIntervalProperty(duration=slo.period_days, duration_unit="DAY")
                ),
            ),
            burn_rate_configurations=[
                _Q.BurnRateConfigurationProperty(look_back_window_minutes=m) for m in windows
            ],
        )
        for slo in SLOS
    }


def _queries(
    slo: SLO, expression: str, result_id: str, config: Config, resources: MonitoringResources
) -> list[Any]:
    """The SLO's metrics, then the expression (the only query that returns data)."""
    metrics = [
        _Q.MetricDataQueryProperty(
            id=key,
            return_data=False,
            metric_stat=_Q.MetricStatProperty(
                metric=_Q.MetricProperty(
                    namespace=metric.namespace.format(stage=config.stage),
                    metric_name=metric.name,
                    dimensions=[
                        _Q.DimensionProperty(name=k, value=v)
                        for k, v in dimensions(metric.dim, resources, config.stage).items()
                    ],
                ),
                period=METRIC_PERIOD_S,
                stat=metric.statistic,
            ),
        )
        for key, metric in slo.using
        if isinstance(metric, Metric) and key in re.findall(r"\b[a-z]\w*", expression)
    ]
    return [*metrics, _Q.MetricDataQueryProperty(id=result_id, expression=expression, return_data=True)]
