"""The evaluator: alarm states over time, their transitions and the actions they fire.

Timing (chosen, see https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html):
every alarm is evaluated at each step (60 s by default, CloudWatch's cadence for standard
alarms); at time t a period counts only once it is complete (its end <= t), so a breaching
one-minute datapoint stamped 10:00 is first seen by the evaluation at 10:01. Publishing delay is
not modelled. Composite alarms are evaluated right after the metric alarms of the same step.
For a metric-math alarm the expression is evaluated over the periods of the evaluation range
and its result is judged like a metric (TreatMissingData applies to missing results).

Periods up to 5 minutes are clock-aligned (a 5-minute period is seen once complete, at :05,
:10, ...). Longer periods slide: CloudWatch's default `EvaluationWindow` is a sliding window
that "advances each time the alarm is evaluated"
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarm-evaluation-window.html),
so a 1-hour period evaluated at 10:17 is 09:17-10:17, not the last clock hour; with burn-rate
windows of hours or days, aligning would delay detection by up to a whole window. The short
periods keep the aligned reading the existing alarm tests were written against (for them the
two differ by less than one period).

Actions fire on state changes only (an alarm that stays in ALARM notifies once), and only if
ActionsEnabled and no ActionsSuppressor holds them (suppress.py): AlarmActions on entering
ALARM, OKActions on entering OK, InsufficientDataActions on entering INSUFFICIENT_DATA. Every
state change is also an EventBridge event ("CloudWatch Alarm
State Change"), published whatever ActionsEnabled says; enabled rules whose pattern matches it
start their targets (recorded as "automation" notifications).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from functools import partial
from typing import Any

from monitoring.evaluator.decide import COMPARATORS, EXTRA_PERIODS, decide_state
from monitoring.evaluator.mathexpr import MathContext
from monitoring.evaluator.model import (
    ALARM,
    INSUFFICIENT_DATA,
    OK,
    STATES,
    AlarmSet,
    CompositeAlarm,
    EvaluatorError,
    MetricAlarm,
    MetricKey,
    Notification,
    Transition,
)
from monitoring.evaluator.order import composite_order, expression_plan
from monitoring.evaluator.patterns import matches
from monitoring.evaluator.rules import evaluate_rule
from monitoring.evaluator.store import MetricStore, percentile_of
from monitoring.evaluator.suppress import Suppression


class Evaluator:
    """Evaluates one AlarmSet against one MetricStore, step by step."""

    def __init__(
        self,
        alarms: AlarmSet,
        store: MetricStore | None = None,
        *,
        initial_state: str | dict[str, str] = INSUFFICIENT_DATA,
        replay: Mapping[str, Iterable[Transition]] | None = None,
    ) -> None:
        """`replay`: per metric alarm, the transitions a run of the same alarm on the same samples
        from the same initial state recorded; the alarm takes them instead of being evaluated."""
        self.alarms = alarms
        self.store = store or MetricStore()
        default = initial_state if isinstance(initial_state, str) else INSUFFICIENT_DATA
        overrides = initial_state if isinstance(initial_state, dict) else {}
        self.states: dict[str, str] = {name: overrides.get(name, default) for name in alarms.names}
        for name, state in self.states.items():
            if state not in STATES:
                raise EvaluatorError(f"initial state {state!r} of {name} is not one of {', '.join(STATES)}")
        self.transitions: list[Transition] = []
        self.notifications: list[Notification] = []
        self.last_time: int | None = None
        self._composite_order = composite_order(alarms.composites)
        self._plans = {name: expression_plan(alarm) for name, alarm in alarms.metric_alarms.items()}
        self._seen: dict[str, tuple[int, int]] = {}
        self._replay = {name: {tr.time: tr for tr in trs} for name, trs in (replay or {}).items()}
        self.suppression = Suppression(alarms, self.states)

    def put(self, metric: MetricKey, timestamp: float, value: float, count: int = 1) -> None:
        """Feed one sample (same as `store.put`)."""
        self.store.put(metric, timestamp, value, count)

    def run(self, start: int, end: int, step: int = 60) -> list[Transition]:
        """Evaluate at start, start + step, ... up to end inclusive; returns the new transitions."""
        if step <= 0:
            raise EvaluatorError(f"step must be positive, got {step}")
        found: list[Transition] = []
        for t in range(int(start), int(end) + 1, step):
            found.extend(self.evaluate_at(t))
        return found

    def evaluate_at(self, t: int) -> list[Transition]:
        """Evaluate every alarm at time t (epoch seconds); returns the transitions it caused."""
        if self.last_time is not None and t < self.last_time:
            raise EvaluatorError(f"time goes backwards: {t} after {self.last_time}")
        self.last_time = t
        self.release(t)
        changes = []
        for name, alarm in self.alarms.metric_alarms.items():
            if name in self._replay:
                recorded = self._replay[name].get(t)
                if recorded is not None:
                    changes.extend(self._set(name, recorded.new, recorded.reason, t))
                continue
            # Same samples in the same periods as at the last evaluation: same outcome.
            seen = self._window_key(alarm, t)
            if self._seen.get(name) == seen:
                continue
            self._seen[name] = seen
            values = self.range_values(name, t)
            if values is None:
                continue
            state, reason = decide_state(
                [v for _, v in values],
                partial(_breaches, COMPARATORS[alarm.comparison], alarm.threshold),
                evaluation_periods=alarm.evaluation_periods,
                datapoints_to_alarm=alarm.datapoints_to_alarm,
                treat_missing_data=alarm.treat_missing_data,
                current=self.states[name],
            )
            changes.extend(self._set(name, state, reason, t))
        return changes + self._composites(t)

    def _composites(self, t: int) -> list[Transition]:
        changes = []
        for name in self._composite_order:
            composite = self.alarms.composites[name]
            state = ALARM if evaluate_rule(composite.rule, self.states.__getitem__) else OK
            changes.extend(self._set(name, state, f"rule {composite.rule_text} is {state == ALARM}", t))
        return changes

    def set_state(self, name: str, state: str, t: int, reason: str = "SetAlarmState") -> list[Transition]:
        """SetAlarmState: the alarm takes `state` at t, with its actions, until it is evaluated again;
        the composites reading it are evaluated at once."""
        if name not in self.states:
            raise EvaluatorError(f"SetAlarmState: no alarm named {name!r}")
        if state not in STATES:
            raise EvaluatorError(f"SetAlarmState: state {state!r} is not one of {', '.join(STATES)}")
        if self.last_time is not None and t < self.last_time:
            raise EvaluatorError(f"time goes backwards: {t} after {self.last_time}")
        self.release(t)
        self.last_time = t
        return self._set(name, state, reason, t) + self._composites(t)

    def release(self, t: int) -> None:
        """Run the actions of every composite whose wait or extension period ended by t."""
        for name, at in list(self.suppression.due(t, self.states)):
            self._actions(self.alarms.composites[name], name, self.states[name], at)

    def range_values(self, name: str, t: int) -> list[tuple[int, float | None]] | None:
        """(period start, value) over the evaluation range at t; None to skip (low-sample percentile)."""
        alarm = self.alarms.metric_alarms[name]
        p = alarm.period
        grid = _grid(alarm, t)
        last = grid[-1]
        plan = self._plans[name]
        if plan is None:
            (query,) = alarm.queries
            assert query.metric is not None and query.stat is not None
            if self._low_samples(alarm, query.metric, query.stat, last):
                return None
            return [(s, self.store.value(query.metric, query.stat, s, p)) for s in grid]
        series = self._math(alarm, plan, grid)
        return [(s, series.get(s)) for s in grid]

    def series(self, name: str, start: int, end: int) -> list[tuple[int, float | None]]:
        """(period start, value) of a metric alarm's metric or expression for every period in [start, end)."""
        alarm = self.alarms.metric_alarms[name]
        p = alarm.period
        grid = list(range((int(start) // p) * p, int(end), p))
        plan = self._plans[name]
        if plan is None:
            (query,) = alarm.queries
            assert query.metric is not None and query.stat is not None
            return [(s, self.store.value(query.metric, query.stat, s, p)) for s in grid]
        values = self._math(alarm, plan, grid)
        return [(s, values.get(s)) for s in grid]

    def _window_key(self, alarm: MetricAlarm, t: int) -> tuple[Any, ...]:
        """What the evaluation at t depends on: the period starts and the samples inside them."""
        grid = _grid(alarm, t)
        if alarm.period <= SLIDING_ABOVE_S:
            return (grid[-1], self.store.version)
        bounds = [*grid, grid[-1] + alarm.period]
        # A sliding window moves every minute; it only changes its outcome when a sample
        # enters or leaves one of its periods, so compare sample positions, not times.
        return (
            self.store.version,
            *(self.store.positions(q.metric, bounds) for q in alarm.queries if q.metric is not None),
        )

    def _math(self, alarm: MetricAlarm, plan: list[tuple[str, Any]], grid: list[int]) -> dict[int, float]:
        values: dict[str, Any] = {}
        metric_ids = []
        for query in alarm.queries:
            if query.metric is not None:
                assert query.stat is not None
                metric_ids.append(query.id)
                raw = {s: self.store.value(query.metric, query.stat, s, alarm.period) for s in grid}
                values[query.id] = {s: v for s, v in raw.items() if v is not None}
        ctx = MathContext(grid, alarm.period, values, metric_ids)
        for qid, node in plan:
            values[qid] = ctx.eval(node)
        result = values[alarm.result_id]
        if not isinstance(result, dict):
            kind = "a number" if isinstance(result, float) else "an array of series"
            raise EvaluatorError(
                f"alarm {alarm.name}: expression {alarm.result_id} gives {kind}, not one time series"
            )
        return result

    def _low_samples(self, alarm: MetricAlarm, metric: MetricKey, stat: str, start: int) -> bool:
        pct = percentile_of(stat)
        if pct is None or alarm.low_sample_percentile != "ignore":
            return False
        # User Guide "Percentile-based alarms and low data samples": fewer than 10/(1-p) samples.
        p = pct / 100.0
        needed = 10 / (1 - p) if 0.5 <= p < 1 else 10 / max(p, 1e-9)
        needed = round(needed, 6)  # 10 / (1 - 0.9) is 100.00000000000001 in floating point
        return self.store.sample_count(metric, start, alarm.period) < needed

    def _set(self, name: str, state: str, reason: str, t: int) -> list[Transition]:
        old = self.states[name]
        if state == old:
            return []
        self.states[name] = state
        transition = Transition(t, name, old, state, reason)
        self.transitions.append(transition)
        self._fire(transition)
        return [transition]

    def _fire(self, tr: Transition) -> None:
        alarm: MetricAlarm | CompositeAlarm = (
            self.alarms.metric_alarms.get(tr.alarm) or self.alarms.composites[tr.alarm]
        )
        if self.suppression.allows(tr, self.states):
            self._actions(alarm, tr.alarm, tr.new, tr.time)
        event = state_change_event(self.alarms, alarm.arn, tr)
        for rule in self.alarms.rules:
            if matches(rule.pattern, event):
                for target in rule.targets:
                    self.notifications.append(
                        Notification(tr.time, tr.alarm, tr.new, "automation", f"{rule.name} -> {target}")
                    )

    def _actions(self, alarm: MetricAlarm | CompositeAlarm, name: str, state: str, t: int) -> None:
        if not alarm.actions_enabled:
            return
        actions = {
            ALARM: alarm.alarm_actions,
            OK: alarm.ok_actions,
            INSUFFICIENT_DATA: alarm.insufficient_data_actions,
        }
        for arn in actions[state]:
            topic = self.alarms.topics.get(arn)
            kind, target = ("sns", topic) if topic else ("action", arn)
            self.notifications.append(Notification(t, name, state, kind, target))


SLIDING_ABOVE_S = 300  # periods longer than this slide minute by minute (see the module docstring)


def _grid(alarm: MetricAlarm, t: int) -> list[int]:
    """Start times of the periods of the evaluation range at t, oldest first."""
    p = alarm.period
    end = (t // 60) * 60 if p > SLIDING_ABOVE_S else (t // p) * p
    k = alarm.evaluation_periods + EXTRA_PERIODS
    return [end - (k - i) * p for i in range(k)]


def _breaches(compare: Callable[[float, float], bool], threshold: float, value: float) -> bool:
    return compare(value, threshold)


def state_change_event(alarms: AlarmSet, arn: str, tr: Transition) -> dict[str, Any]:
    """The EventBridge event CloudWatch publishes for a transition (fields rules match on)."""
    return {
        "version": "0",
        "source": "aws.cloudwatch",
        "detail-type": "CloudWatch Alarm State Change",
        "account": alarms.account,
        "region": alarms.region,
        "resources": [arn],
        "detail": {
            "alarmName": tr.alarm,
            "state": {"value": tr.new, "reason": tr.reason},
            "previousState": {"value": tr.old},
        },
    }
