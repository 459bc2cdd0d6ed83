"""Read metric alarms, composite alarms, alarm-driven EventBridge rules and SNS topics from a template.

Property names and defaults follow the CloudFormation reference for AWS::CloudWatch::Alarm,
AWS::CloudWatch::CompositeAlarm and AWS::Events::Rule. Anything the evaluator cannot evaluate
faithfully (anomaly-detection thresholds, unknown statistics, unsupported operators) is an
`EvaluatorError` naming the alarm, never an alarm silently left OK.
"""

from __future__ import annotations

from typing import Any, Protocol

from monitoring.evaluator.intrinsics import TemplateResolver
from monitoring.evaluator.mathparse import parse, references
from monitoring.evaluator.model import (
    OPERATORS,
    TREATMENTS,
    AlarmSet,
    CompositeAlarm,
    EvaluatorError,
    EventRule,
    MetricAlarm,
    MetricKey,
    MetricQuery,
)
from monitoring.evaluator.rules import alarm_name, parse_rule
from monitoring.evaluator.store import check_stat


class Resolver(Protocol):
    def resolve(self, value: Any) -> Any: ...


def load_alarms(template: dict[str, Any], resolver: Resolver | None = None) -> AlarmSet:
    """Every alarm, composite, alarm-state EventBridge rule and topic of `template`, resolved."""
    if not isinstance(template, dict) or not isinstance(template.get("Resources"), dict):
        raise EvaluatorError("malformed template: no Resources object")
    tr = resolver or TemplateResolver(template)
    account = str(tr.resolve({"Ref": "AWS::AccountId"}))
    region = str(tr.resolve({"Ref": "AWS::Region"}))
    out = AlarmSet(account=account, region=region)
    resources = template["Resources"]
    composites: list[tuple[str, dict[str, Any]]] = []
    for logical_id, res in resources.items():
        rtype = res.get("Type") if isinstance(res, dict) else None
        props = tr.resolve(res.get("Properties") or {}) if rtype else {}
        if rtype == "AWS::CloudWatch::Alarm":
            alarm = _metric_alarm(logical_id, props, account, region)
            out.metric_alarms[alarm.name] = alarm
        elif rtype == "AWS::CloudWatch::CompositeAlarm":
            composites.append((logical_id, props))
        elif rtype == "AWS::SNS::Topic":
            arn = str(tr.resolve({"Ref": logical_id}))
            out.topics[arn] = arn.rsplit(":", 1)[-1]
        elif rtype == "AWS::Events::Rule":
            rule = _event_rule(logical_id, props)
            if rule is not None:
                out.rules.append(rule)
    names = [*out.metric_alarms, *(str(p.get("AlarmName") or lid) for lid, p in composites)]
    for logical_id, props in composites:
        composite = _composite(logical_id, props, names, account, region)
        out.composites[composite.name] = composite
    return out


def _arn(name: str, account: str, region: str) -> str:
    return f"arn:aws:cloudwatch:{region}:{account}:alarm:{name}"


def _actions(props: dict[str, Any], key: str) -> tuple[str, ...]:
    value = props.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise EvaluatorError(f"malformed {key} {value!r}: expected a list of ARNs")
    return tuple(value)


def _number(props: dict[str, Any], key: str, where: str, default: Any = None) -> float:
    value = props.get(key, default)
    if value is None:
        raise EvaluatorError(f"{where}: {key} is required")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise EvaluatorError(f"{where}: {key} must be a number, got {value!r}") from None


def _metric(spec: dict[str, Any], where: str) -> MetricKey:
    if not spec.get("Namespace") or not spec.get("MetricName"):
        raise EvaluatorError(f"{where}: a metric needs Namespace and MetricName")
    dims = {str(d["Name"]): str(d["Value"]) for d in spec.get("Dimensions") or []}
    return MetricKey.of(str(spec["Namespace"]), str(spec["MetricName"]), dims)


def _queries(props: dict[str, Any], where: str) -> tuple[tuple[MetricQuery, ...], str, int]:
    if "Metrics" not in props:
        stat = props.get("ExtendedStatistic") or props.get("Statistic")
        if not stat:
            raise EvaluatorError(f"{where}: Statistic or ExtendedStatistic is required")
        period = int(_number(props, "Period", where))
        query = MetricQuery("m1", _metric(props, where), check_stat(str(stat)), period)
        return (query,), "m1", period
    queries, periods = [], set()
    for raw in props["Metrics"]:
        qid = raw.get("Id")
        if not qid:
            raise EvaluatorError(f"{where}: every entry of Metrics needs an Id")
        returns = raw.get("ReturnData")
        if "MetricStat" in raw:
            stat = raw["MetricStat"]
            period = int(_number(stat, "Period", f"{where} {qid}"))
            periods.add(period)
            metric = _metric(stat.get("Metric") or {}, f"{where} {qid}")
            queries.append(MetricQuery(qid, metric, check_stat(str(stat.get("Stat"))), period, None, returns))
        elif "Expression" in raw:
            parse(str(raw["Expression"]))  # syntax errors surface at load time
            queries.append(MetricQuery(qid, expression=str(raw["Expression"]), return_data=returns))
        else:
            raise EvaluatorError(f"{where}: query {qid} needs MetricStat or Expression")
    result = [q.id for q in queries if q.return_data is True] or [
        q.id for q in queries if q.return_data is None
    ]
    if len(result) != 1:
        raise EvaluatorError(f"{where}: exactly one query must return data, found {result or 'none'}")
    ids = {q.id for q in queries}
    for q in queries:
        missing = references(parse(q.expression)) - ids if q.expression else set()
        if missing:
            raise EvaluatorError(f"{where}: expression {q.id} refers to unknown id(s) {sorted(missing)}")
    if not periods:  # expressions only (e.g. TIME_SERIES): the expression's own Period
        periods = {
            int(_number(r, "Period", where, props.get("Period")))
            for r in props["Metrics"]
            if "Expression" in r
        }
    if len(periods) != 1:
        raise EvaluatorError(
            f"{where}: the metrics of one alarm must share one period, got {sorted(periods)}"
        )
    fixed = tuple(
        MetricQuery(q.id, q.metric, q.stat, q.period, q.expression, q.id in result) for q in queries
    )
    return fixed, result[0], periods.pop()


def _metric_alarm(logical_id: str, props: dict[str, Any], account: str, region: str) -> MetricAlarm:
    name = str(props.get("AlarmName") or logical_id)
    where = f"alarm {name}"
    if props.get("ThresholdMetricId"):
        raise EvaluatorError(f"{where}: anomaly-detection thresholds (ThresholdMetricId) are not supported")
    comparison = props.get("ComparisonOperator")
    if comparison not in OPERATORS:
        raise EvaluatorError(
            f"{where}: unsupported ComparisonOperator {comparison!r} (supported: {', '.join(OPERATORS)})"
        )
    treatment = props.get("TreatMissingData", "missing")
    if treatment not in TREATMENTS:
        raise EvaluatorError(f"{where}: TreatMissingData {treatment!r} is not one of {', '.join(TREATMENTS)}")
    queries, result_id, period = _queries(props, where)
    if period <= 0 or (period % 60 and period not in (10, 20, 30)):
        raise EvaluatorError(f"{where}: Period {period} must be 10, 20, 30 or a multiple of 60 seconds")
    n = int(_number(props, "EvaluationPeriods", where))
    m = int(_number(props, "DatapointsToAlarm", where, n))
    if not 1 <= m <= n:
        raise EvaluatorError(f"{where}: DatapointsToAlarm {m} must be between 1 and EvaluationPeriods {n}")
    return MetricAlarm(
        logical_id=logical_id,
        name=name,
        arn=_arn(name, account, region),
        queries=queries,
        result_id=result_id,
        period=period,
        threshold=_number(props, "Threshold", where),
        comparison=comparison,
        evaluation_periods=n,
        datapoints_to_alarm=m,
        treat_missing_data=treatment,
        actions_enabled=bool(props.get("ActionsEnabled", True)),
        alarm_actions=_actions(props, "AlarmActions"),
        ok_actions=_actions(props, "OKActions"),
        insufficient_data_actions=_actions(props, "InsufficientDataActions"),
        low_sample_percentile=str(props.get("EvaluateLowSampleCountPercentile") or "evaluate"),
    )


def _composite(
    logical_id: str, props: dict[str, Any], names: list[str], account: str, region: str
) -> CompositeAlarm:
    name = str(props.get("AlarmName") or logical_id)
    suppressor = _suppressor(name, props, names)
    text = props.get("AlarmRule")
    return CompositeAlarm(
        logical_id=logical_id,
        name=name,
        arn=_arn(name, account, region),
        rule_text=str(text),
        rule=parse_rule(str(text) if text is not None else "", names),
        actions_enabled=bool(props.get("ActionsEnabled", True)),
        alarm_actions=_actions(props, "AlarmActions"),
        ok_actions=_actions(props, "OKActions"),
        insufficient_data_actions=_actions(props, "InsufficientDataActions"),
        actions_suppressor=suppressor,
        suppressor_wait=_seconds(props, "ActionsSuppressorWaitPeriod", name, suppressor),
        suppressor_extension=_seconds(props, "ActionsSuppressorExtensionPeriod", name, suppressor),
    )


def _suppressor(name: str, props: dict[str, Any], names: list[str]) -> str | None:
    """The ActionsSuppressor's alarm name (given as a name or an ARN); it must be in the template."""
    raw = props.get("ActionsSuppressor")
    if not raw:
        return None
    suppressor = alarm_name(str(raw))
    if suppressor not in names or suppressor == name:
        raise EvaluatorError(
            f"composite alarm {name}: ActionsSuppressor {raw!r} is no other alarm of the template"
        )
    return suppressor


def _seconds(props: dict[str, Any], key: str, name: str, suppressor: str | None) -> int:
    """ActionsSuppressorWaitPeriod / ExtensionPeriod: required with a suppressor, whole seconds >= 0."""
    if suppressor is None:
        return 60
    value = props.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0 or value != int(value):
        raise EvaluatorError(
            f"composite alarm {name}: {key} must be whole seconds >= 0 with ActionsSuppressor, got {value!r}"
        )
    return int(value)


def _event_rule(logical_id: str, props: dict[str, Any]) -> EventRule | None:
    pattern = props.get("EventPattern")
    if not isinstance(pattern, dict) or props.get("State", "ENABLED") != "ENABLED":
        return None
    sources = pattern.get("source")
    if not (isinstance(sources, list) and "aws.cloudwatch" in sources):
        return None
    targets = tuple(str(t.get("Arn")) for t in props.get("Targets") or [])
    return EventRule(logical_id, str(props.get("Name") or logical_id), pattern, targets)
