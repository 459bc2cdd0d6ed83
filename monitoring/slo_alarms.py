"""SLO catalog → burn-rate metric alarms, their composites, and the SLO widgets.

The alarms are built by the same functions as the alarm catalog's, so names, descriptions
(meaning + runbook section link) and SNS actions per ALERT_MODE are derived the same way.
"""

from __future__ import annotations

import re

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cw
from constructs import Construct

from contract.config import Config
from monitoring.alarms import Routing, composite_alarm, metric_alarm
from monitoring.metrics import to_cdk
from monitoring.resources import MonitoringResources
from monitoring.slo_catalog import ALERTS, SLO_ALARMS, SLO_COMPOSITES, SLOS
from monitoring.slo_spec import SLO
from monitoring.spec import Math

SLO_ALARM_WIDGET_TITLE = "SLO burn-rate alerts (pages and tickets)"


def slo_alarms(
    scope: Construct, *, config: Config, resources: MonitoringResources, routing: Routing, region: str
) -> tuple[dict[str, cw.Alarm], dict[str, cw.CompositeAlarm]]:
    """Every burn-rate window alarm and every alert composite of the SLO catalog."""
    units = {
        spec.id: metric_alarm(scope, spec, config=config, resources=resources, routing=routing, region=region)
        for spec in SLO_ALARMS
    }
    composites = {
        spec.id: composite_alarm(
            scope, spec, config=config, alarms=dict(units), routing=routing, region=region
        )
        for spec in SLO_COMPOSITES
    }
    return units, composites


def slo_widgets(
    *, config: Config, resources: MonitoringResources, composites: list[cw.IAlarm]
) -> list[list[cw.IWidget]]:
    """Rows for the primary dashboard: the SLO alerts, then per SLO its SLI, burn rates and budget."""
    rows: list[list[cw.IWidget]] = [
        [cw.AlarmStatusWidget(alarms=composites, title=SLO_ALARM_WIDGET_TITLE, width=24, height=3)]
    ]
    for slo in SLOS:
        rows.append(_slo_row(slo, config, resources))
    return rows


def _slo_row(slo: SLO, config: Config, resources: MonitoringResources) -> list[cw.IWidget]:
    def metric(source: Math, period_s: int, label: str) -> cw.IMetric:
        # One graph shows the same expression at several periods: each needs its own ids.
        return to_cdk(
            _suffixed(source, f"_{period_s}"),
            period_s=period_s,
            resources=resources,
            stage=config.stage,
            label=label,
        )

    sli = cw.GraphWidget(
        title=f"{slo.title}: SLI % (objective {slo.objective:.1%})",
        left=[metric(slo.sli(), 300, "SLI % (5 min)"), metric(slo.sli(), 3_600, "SLI % (1 h)")],
        left_annotations=[cw.HorizontalAnnotation(value=slo.objective * 100, label="objective")],
        width=9,
        height=6,
    )
    windows = sorted({w for a in ALERTS for w in (a.long, a.short)}, key=lambda w: w.period_s)
    burn = cw.GraphWidget(
        title=f"{slo.title}: burn rate per window (1 = budget spent in exactly {slo.period_days} days)",
        left=[metric(slo.burn(), w.period_s, f"burn {w.label}") for w in windows],
        left_annotations=[
            cw.HorizontalAnnotation(value=a.factor, label=f"{a.name} > {a.factor:g}") for a in ALERTS
        ],
        width=9,
        height=6,
    )
    budget = cw.SingleValueWidget(
        title=f"{slo.title}: error budget left ({slo.period_days} days)",
        metrics=[metric(slo.budget_left(), slo.period_days * 86_400, "budget left %")],
        start=f"-P{slo.period_days}D",
        period=Duration.days(slo.period_days),
        width=6,
        height=6,
    )
    return [sli, burn, budget]


def _suffixed(source: Math, suffix: str) -> Math:
    """The same expression with every id renamed `<id><suffix>`."""
    names = {key for key, _ in source.using}

    def rename(text: str) -> str:
        return re.sub(r"\b[a-z][A-Za-z0-9_]*\b", lambda t: t[0] + suffix if t[0] in names else t[0], text)

    return Math(
        rename(source.expression),
        tuple((key + suffix, rename(v) if isinstance(v, str) else v) for key, v in source.using),
    )
