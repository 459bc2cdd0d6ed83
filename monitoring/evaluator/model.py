"""Plain data for the offline evaluator: metrics, alarms, rules, transitions and notifications."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

OK = "OK"
ALARM = "ALARM"
INSUFFICIENT_DATA = "INSUFFICIENT_DATA"
STATES = (OK, ALARM, INSUFFICIENT_DATA)

TREATMENTS = ("missing", "notBreaching", "breaching", "ignore")
OPERATORS = (
    "GreaterThanThreshold",
    "GreaterThanOrEqualToThreshold",
    "LessThanThreshold",
    "LessThanOrEqualToThreshold",
)


class EvaluatorError(ValueError):
    """Bad template, metric, expression or test input; the message is one line for the user."""


@dataclass(frozen=True, order=True)
class MetricKey:
    """A CloudWatch metric identity: namespace, name and the full dimension set."""

    namespace: str
    name: str
    dimensions: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        # Metric keys index every sample and cache entry: hash once, not on every lookup.
        object.__setattr__(self, "_hash", hash((self.namespace, self.name, self.dimensions)))

    def __hash__(self) -> int:
        return self._hash  # type: ignore[attr-defined,no-any-return]

    @classmethod
    def of(cls, namespace: str, name: str, dimensions: dict[str, str] | None = None) -> MetricKey:
        return cls(namespace, name, tuple(sorted((dimensions or {}).items())))

    def __str__(self) -> str:
        dims = ",".join(f"{k}={v}" for k, v in self.dimensions)
        return f"{self.namespace}:{self.name}{{{dims}}}"


@dataclass(frozen=True)
class MetricQuery:
    """One entry of an alarm's `Metrics` list (or the single metric of a classic alarm)."""

    id: str
    metric: MetricKey | None = None
    stat: str | None = None
    period: int | None = None
    expression: str | None = None
    return_data: bool | None = None


@dataclass(frozen=True)
class MetricAlarm:
    """An `AWS::CloudWatch::Alarm` with every intrinsic already resolved."""

    logical_id: str
    name: str
    arn: str
    queries: tuple[MetricQuery, ...]
    result_id: str
    period: int
    threshold: float
    comparison: str
    evaluation_periods: int
    datapoints_to_alarm: int
    treat_missing_data: str = "missing"
    actions_enabled: bool = True
    alarm_actions: tuple[str, ...] = ()
    ok_actions: tuple[str, ...] = ()
    insufficient_data_actions: tuple[str, ...] = ()
    low_sample_percentile: str = "evaluate"

    @property
    def metrics(self) -> tuple[MetricKey, ...]:
        return tuple(q.metric for q in self.queries if q.metric is not None)


@dataclass(frozen=True)
class CompositeAlarm:
    """An `AWS::CloudWatch::CompositeAlarm`; `rule` is the parsed AlarmRule."""

    logical_id: str
    name: str
    arn: str
    rule_text: str
    rule: Any
    actions_enabled: bool = True
    alarm_actions: tuple[str, ...] = ()
    ok_actions: tuple[str, ...] = ()
    insufficient_data_actions: tuple[str, ...] = ()
    actions_suppressor: str | None = None  # name of the alarm whose ALARM state holds the actions
    suppressor_wait: int = 60  # ActionsSuppressorWaitPeriod (s); CDK's default
    suppressor_extension: int = 60  # ActionsSuppressorExtensionPeriod (s); CDK's default


@dataclass(frozen=True)
class EventRule:
    """An enabled `AWS::Events::Rule` whose pattern can match a CloudWatch alarm state change."""

    logical_id: str
    name: str
    pattern: dict[str, Any]
    targets: tuple[str, ...]


@dataclass
class AlarmSet:
    """Everything the evaluator reads from one template."""

    metric_alarms: dict[str, MetricAlarm] = field(default_factory=dict)
    composites: dict[str, CompositeAlarm] = field(default_factory=dict)
    rules: list[EventRule] = field(default_factory=list)
    topics: dict[str, str] = field(default_factory=dict)  # topic ARN -> topic name
    account: str = "123456789012"
    region: str = "us-east-1"

    @property
    def names(self) -> list[str]:
        return [*self.metric_alarms, *self.composites]

    def metrics(self) -> set[MetricKey]:
        return {m for alarm in self.metric_alarms.values() for m in alarm.metrics}


@dataclass(frozen=True)
class Transition:
    """One state change of one alarm at evaluation time `time` (epoch seconds)."""

    time: int
    alarm: str
    old: str
    new: str
    reason: str = ""


@dataclass(frozen=True)
class Notification:
    """One action fired by a transition: an SNS publish, another alarm action, or an EventBridge target."""

    time: int
    alarm: str
    state: str
    kind: str  # "sns" | "action" | "automation"
    target: str  # topic name, action ARN, or "<rule name> -> <target ARN>"
