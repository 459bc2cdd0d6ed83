"""Error budget left per SLO over its period, from CloudWatch GetMetricData (for `byoip triage`).

The expression is the SLO catalog's own (`SLO.budget_left()`: 100 x (1 - bad / valid / budget)),
evaluated over one period as long as the SLO's (28 days), so the number is the one the
dashboard's "error budget left" widget shows. No valid event in the period: no datapoint (n/a).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from contract.names import DISPATCHER, DLQ, JOBS, QUARANTINE, Names
from monitoring.slo_spec import SLO
from monitoring.spec import Dim, Metric


def dimensions(dim: Dim, names: Names) -> list[dict[str, str]]:
    """The CloudWatch dimensions a catalog `Dim` stands for, by physical name (no CDK)."""
    by_dim = {
        Dim.JOBS_QUEUE: ("QueueName", names.queue(JOBS)),
        Dim.DLQ: ("QueueName", names.queue(DLQ)),
        Dim.QUARANTINE: ("QueueName", names.queue(QUARANTINE)),
        Dim.DISPATCHER: ("FunctionName", names.function(DISPATCHER)),
        Dim.STAGE: ("Stage", names.stage),
    }
    if dim not in by_dim:
        return []
    name, value = by_dim[dim]
    return [{"Name": name, "Value": value}]


def budget_queries(slo: SLO, names: Names) -> list[dict[str, Any]]:
    """GetMetricData queries: each metric the SLO reads, then its budget-left expression (returned)."""
    period = slo.period_days * 86_400
    expression = slo.budget_left()
    queries: list[dict[str, Any]] = [
        {
            "Id": key,
            "MetricStat": {
                "Metric": {
                    "Namespace": metric.namespace.format(stage=names.stage),
                    "MetricName": metric.name,
                    "Dimensions": dimensions(metric.dim, names),
                },
                "Period": period,
                "Stat": metric.statistic,
            },
            "ReturnData": False,
        }
        for key, metric in expression.using
        if isinstance(metric, Metric)
    ]
    queries.append({"Id": "budget", "Expression": expression.expression, "ReturnData": True})
    return queries


def budget_left(cloudwatch: Any, slo: SLO, names: Names, now: datetime) -> float | None:
    """Percent of the error budget left over the last `slo.period_days` days (None: no valid event)."""
    response = cloudwatch.get_metric_data(
        MetricDataQueries=budget_queries(slo, names),
        StartTime=now - timedelta(days=slo.period_days),
        EndTime=now,
    )
    for result in response.get("MetricDataResults", []):
        if result.get("Id") == "budget" and result.get("Values"):
            return float(result["Values"][0])
    return None
