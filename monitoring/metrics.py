"""Catalog metric definitions → CDK metric objects bound to this stage's resources."""

from __future__ import annotations

import re

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cw

from contract.names import Names
from monitoring.catalog import Dim, Math, Metric
from monitoring.resources import MonitoringResources


def dimensions(dim: Dim, resources: MonitoringResources, stage: str) -> dict[str, str]:
    """The dimension map a catalog `Dim` stands for."""
    if dim is Dim.JOBS_QUEUE:
        return {"QueueName": resources.jobs_queue.queue_name}
    if dim is Dim.DLQ:
        return {"QueueName": resources.dlq.queue_name}
    if dim is Dim.QUARANTINE:
        if resources.quarantine_queue is None:
            raise ValueError("an alarm watches the quarantine queue: pass quarantine_queue")
        return {"QueueName": resources.quarantine_queue.queue_name}
    if dim is Dim.DISPATCHER:
        return {"FunctionName": resources.dispatcher.function_name}
    if dim is Dim.STAGE:
        return {"Stage": stage}
    kind, _, short = dim.value.partition(":")
    if kind == "function":
        return {"FunctionName": Names(stage).function(short)}
    if kind == "rule":
        return {"RuleName": Names(stage).rule(short)}
    if dim is Dim.WS_API:
        if resources.ws_api is None or resources.ws_stage is None:
            raise ValueError("an alarm watches the WebSocket API: pass ws_api and ws_stage")
        return {"ApiId": resources.ws_api.api_id, "Stage": resources.ws_stage.stage_name}
    if dim is Dim.ALERT_TOPIC:
        return {"TopicName": Names(stage).ops_alerts_topic}
    return {}


def to_cdk(
    source: Metric | Math,
    *,
    period_s: int,
    resources: MonitoringResources,
    stage: str,
    label: str | None = None,
) -> cw.Metric | cw.MathExpression:
    """A CDK Metric or MathExpression for a catalog metric or math expression."""
    period = Duration.seconds(period_s)
    if isinstance(source, Metric):
        return cw.Metric(
            namespace=source.namespace.format(stage=stage),
            metric_name=source.name,
            statistic=source.statistic,
            dimensions_map=dimensions(source.dim, resources, stage),
            period=period,
            label=label,
        )
    built: dict[str, cw.IMetric] = {}

    def build(expression: str) -> dict[str, cw.IMetric]:
        # A str in `using` is a sub-expression over the names defined before it.
        names = _identifiers(expression)
        for key, value in source.using:
            if key not in names or key in built:
                continue
            if isinstance(value, Metric):
                built[key] = to_cdk(value, period_s=period_s, resources=resources, stage=stage)
            else:
                built[key] = cw.MathExpression(expression=value, using_metrics=build(value), period=period)
        # In the catalog's order: iterating the set would order them by the process's hash seed,
        # and the template would change from one synth to the next.
        return {key: built[key] for key, _ in source.using if key in names and key in built}

    return cw.MathExpression(
        expression=source.expression, using_metrics=build(source.expression), period=period, label=label
    )


def _identifiers(expression: str) -> set[str]:
    """Lower-case identifiers in a metric-math expression (function names are upper case)."""
    return set(re.findall(r"\b[a-z][A-Za-z0-9_]*\b", expression))
