"""The vocabulary of the alarm catalog: what an alarm, a metric and a composite rule are.

Plain frozen dataclasses and enums, no CDK, so every part of the repo can read them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum


class Dim(StrEnum):
    """Which resource a metric's dimensions point at (resolved by the monitoring layer)."""

    JOBS_QUEUE = "jobs_queue"  # QueueName of byoip-<s>-jobs
    DLQ = "dlq"  # QueueName of byoip-<s>-jobs-dlq
    QUARANTINE = "quarantine"  # QueueName of byoip-<s>-jobs-quarantine
    DISPATCHER = "dispatcher"  # FunctionName of byoip-<s>-dispatcher-sqs
    STAGE = "stage"  # Stage=<stage> (our EMF metrics)
    NONE = "none"  # no dimensions (metric-filter metrics)
    # Every part watched (monitoring/watched.py). "function:<short>" is FunctionName of
    # byoip-<s>-<short>; "rule:<short>" RuleName of byoip-<s>-<short> (contract.names.Names.rule).
    WS_CONNECT = "function:ws-connect"
    WS_MESSAGE = "function:ws-message"
    WS_DISCONNECT = "function:ws-disconnect"
    LEASE_REAPER = "function:lease-reaper"
    SECRET_ROTATION = "function:secret-rotation"
    WS_API = "ws_api"  # ApiId and Stage of the WebSocket API's stage
    LEASE_REAPER_RULE = "rule:lease-reaper"
    REDRIVE_RULE = "rule:DLQNotEmpty-GuardedRedrive"
    REDRIVE_FAILED_RULE = "rule:redrive-failed"
    ROTATION_FAILED_RULE = "rule:rotation-failed"
    ALERT_TOPIC = "alert_topic"  # TopicName of byoip-<s>-ops-alerts


class Comparison(StrEnum):
    GT = "GreaterThanThreshold"
    GTE = "GreaterThanOrEqualToThreshold"
    LT = "LessThanThreshold"


class Missing(StrEnum):
    NOT_BREACHING = "notBreaching"
    BREACHING = "breaching"
    IGNORE = "ignore"
    MISSING = "missing"


class Severity(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    WARNING = "warning"


@dataclass(frozen=True)
class Metric:
    """One CloudWatch metric; `{stage}` in the namespace is replaced by the stage."""

    namespace: str
    name: str
    statistic: str
    dim: Dim


@dataclass(frozen=True)
class Math:
    """A metric-math expression over named metrics or named sub-expressions (str)."""

    expression: str
    using: tuple[tuple[str, Metric | str], ...]


@dataclass(frozen=True)
class LogMetricFilter:
    """A metric filter on the dispatcher log group publishing `metric` (value 1 per match)."""

    pattern: str
    metric: Metric


@dataclass(frozen=True)
class AlarmSpec:
    """One unit alarm: what it watches, when it fires, and who hears about it."""

    id: str
    meaning: str
    source: Metric | Math
    period_s: int
    threshold: float
    comparison: Comparison
    evaluation_periods: int
    datapoints_to_alarm: int
    missing: Missing
    severity: Severity
    section: str
    notify_composite: bool = False
    notify_all: bool = True
    ok_action: bool = False
    automation: str | None = None  # SSM document suffix: BYOIP-<s>-<automation>
    log_filter: LogMetricFilter | None = None
    # What on-call does first: plain text, no URL, `{stage}` replaced (monitoring/first_steps.py).
    first_steps: tuple[str, ...] = ()


@dataclass(frozen=True)
class AnyOf:
    rules: tuple[Rule, ...]


@dataclass(frozen=True)
class AllOf:
    rules: tuple[Rule, ...]


Rule = str | AnyOf | AllOf  # a str is a unit alarm id


@dataclass(frozen=True)
class CompositeSpec:
    id: str
    meaning: str
    rule: Rule
    severity: Severity
    section: str
    notify_composite: bool = True
    notify_all: bool = True
    ok_action: bool = True
    # What on-call does first: plain text, no URL, `{stage}` replaced (monitoring/first_steps.py).
    first_steps: tuple[str, ...] = ()


def notifies(spec: AlarmSpec | CompositeSpec, alert_mode: str) -> bool:
    """Whether the alarm sends its ALARM state to SNS under `alert_mode`."""
    return spec.notify_composite if alert_mode == "composite" else spec.notify_all


def rule_ids(rule: Rule) -> list[str]:
    """Unit alarm ids a composite rule references, in order."""
    if isinstance(rule, str):
        return [rule]
    return [alarm_id for sub in rule.rules for alarm_id in rule_ids(sub)]


_OPERATORS = {Comparison.GT: ">", Comparison.GTE: ">=", Comparison.LT: "<"}


def condition_text(spec: AlarmSpec | CompositeSpec) -> str:
    """The alarm's firing condition in one line, derived from the catalog entry.

    e.g. `Sum(Errors) > 0 for 3 of 5 periods of 1 min (missing data: notBreaching)`.
    """
    if isinstance(spec, CompositeSpec):
        return render_rule(spec.rule).replace('ALARM("', "").replace('")', "")
    if isinstance(spec.source, Math):
        signal = spec.source.expression
        parts = ", ".join(
            f"{var} = {src.statistic}({src.name})" if isinstance(src, Metric) else f"{var} = {src}"
            for var, src in spec.source.using
        )
        signal = f"{signal} (where {parts})"
    else:
        signal = f"{spec.source.statistic}({spec.source.name})"
    threshold = f"{spec.threshold:g}"
    period = f"{spec.period_s // 60} min" if spec.period_s % 60 == 0 else f"{spec.period_s} s"
    return (
        f"{signal} {_OPERATORS[spec.comparison]} {threshold} for {spec.datapoints_to_alarm} of "
        f"{spec.evaluation_periods} periods of {period} (missing data: {spec.missing})"
    )


def render_rule(rule: Rule, name: Callable[[str], str] = str) -> str:
    """The rule in CloudWatch AlarmRule syntax, each alarm rendered by `name`."""
    if isinstance(rule, str):
        return f'ALARM("{name(rule)}")'
    joiner = " OR " if isinstance(rule, AnyOf) else " AND "
    return "(" + joiner.join(render_rule(sub, name) for sub in rule.rules) + ")"
