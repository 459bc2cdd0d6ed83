"""Alarm test files (YAML, close to promtool's rule tests): loading and validation.

stage: test                 # the stack's stage (alarm names BYOIP-<stage>-<Id>)
alert_mode: composite       # composite | all (each test may override it)
interval: 1m                # time between two values of a series (default 1m)
background:                 # optional: a constant series every test gets, unless it lists the metric
  - metric: 'Huntaze/Probe:ProbeSuccess{Stage=${stage}}'
    value: 1                #   one value every minute from t=0 to the test's last expectation
tests:
  - name: one message in the DLQ
    interval: 1m            # optional: this test's own interval
    initial_state: OK       # every alarm's state at t=0 (default OK), or {AlarmId: STATE}
    onset: 10m              # optional: when the fault starts ...
    detection: 1m           # ... and the first email must come exactly this long after it
    set_states:             # optional: SetAlarmState calls, e.g. a maintenance window opened
      - {at: 5m, alarm: MaintenanceWindow, state: ALARM}   # before that minute's evaluation
    series:                 # one value per interval from t=0; `${stage}` is replaced
      - metric: 'AWS/SQS:ApproximateNumberOfMessagesVisible{QueueName=byoip-${stage}-jobs-dlq}'
        values: '0x9 1x4'
    expect:
      - at: 11m
        alarms: {DLQNotEmpty: ALARM, Incident: ALARM}
        emails:             # every email sent so far (exact list; [] = none)
          - {at: 11m, alarm: Incident, state: ALARM}   # topic: defaults to the alarm's own topic
        automations:        # every EventBridge target started so far (exact list)
          - {at: 11m, alarm: DLQNotEmpty, state: ALARM, target: 'BYOIP-${stage}-GuardedRedrive'}
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from monitoring.evaluator.model import STATES, EvaluatorError, MetricKey
from monitoring.evaluator.series import expand_series, parse_duration, parse_metric

ALERT_MODES = ("composite", "all")
_FILE_KEYS = {"stage", "alert_mode", "interval", "background", "tests"}
_TEST_KEYS = {
    "name",
    "alert_mode",
    "interval",
    "initial_state",
    "onset",
    "detection",
    "set_states",
    "series",
    "expect",
}
_SERIES_KEYS = {"metric", "values", "count"}
_EXPECT_KEYS = {"at", "alarms", "emails", "automations"}
_NOTE_KEYS = {"emails": {"at", "alarm", "state", "topic"}, "automations": {"at", "alarm", "state", "target"}}


@dataclass(frozen=True)
class ExpectedNote:
    at: int
    alarm: str
    state: str
    target: str | None  # topic name (emails) or target name (automations); None = the alarm's topic


@dataclass(frozen=True)
class SetState:
    """A SetAlarmState call at `at` (seconds from t=0), made before that time's evaluation."""

    at: int
    alarm: str
    state: str


@dataclass(frozen=True)
class Expectation:
    at: int
    alarms: dict[str, str]
    emails: tuple[ExpectedNote, ...] | None
    automations: tuple[ExpectedNote, ...] | None


@dataclass(frozen=True)
class AlarmTest:
    file: str
    name: str
    stage: str
    alert_mode: str
    interval: int
    initial_state: str | dict[str, str]
    onset: int | None
    detection: int | None
    series: tuple[tuple[MetricKey, tuple[float | None, ...], int], ...]
    expect: tuple[Expectation, ...]
    set_states: tuple[SetState, ...] = ()
    # The file's `background`: (metric, value) fed once a minute from 0 to `end`, unless a series
    # of the test names the metric (healthy dead-man's switches every test would otherwise miss).
    background: tuple[tuple[MetricKey, float], ...] = ()

    @property
    def end(self) -> int:
        return max(e.at for e in self.expect)


def load_test_file(path: str | Path) -> list[AlarmTest]:
    """Every test of one file; any problem is one EvaluatorError line naming file and test."""
    path = Path(path)
    try:
        doc = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise EvaluatorError(f"{path}: cannot read alarm tests: {str(exc).splitlines()[0]}") from None
    return parse_test_doc(doc, str(path))


def parse_test_doc(doc: Any, origin: str) -> list[AlarmTest]:
    """Validate a loaded YAML document; `origin` names it in errors."""
    if not isinstance(doc, dict):
        raise EvaluatorError(f"{origin}: expected a mapping with stage, alert_mode and tests")
    _keys(doc, _FILE_KEYS, origin)
    stage = str(doc.get("stage", "test"))
    tests = doc.get("tests")
    if not isinstance(tests, list) or not tests:
        raise EvaluatorError(f"{origin}: 'tests' must be a non-empty list")
    interval = parse_duration(doc.get("interval", "1m"))
    if interval <= 0:
        raise EvaluatorError(f"{origin}: interval must be positive")
    try:
        background = _background(_substitute(doc.get("background") or [], stage))
    except EvaluatorError as exc:
        raise EvaluatorError(f"{origin}: background: {exc}") from None
    out = []
    for index, raw in enumerate(tests):
        where = f"{origin}: test {index + 1}"
        try:
            raw = _substitute(raw, stage)
            if not isinstance(raw, dict) or not raw.get("name"):
                raise EvaluatorError("needs a name")
            where = f"{origin}: test {raw['name']!r}"
            test = _test(raw, origin, stage, str(doc.get("alert_mode", "composite")), interval)
            named = {metric for metric, _, _ in test.series}
            out.append(replace(test, background=tuple(b for b in background if b[0] not in named)))
        except EvaluatorError as exc:
            raise EvaluatorError(f"{where}: {exc}") from None
    names = [t.name for t in out]
    if len(set(names)) != len(names):
        raise EvaluatorError(f"{origin}: test names must be unique")
    return out


def _test(raw: dict[str, Any], origin: str, stage: str, mode: str, interval: int) -> AlarmTest:
    _keys(raw, _TEST_KEYS, "test")
    mode = str(raw.get("alert_mode", mode))
    interval = parse_duration(raw["interval"]) if "interval" in raw else interval
    if interval <= 0:
        raise EvaluatorError("interval must be positive")
    if mode not in ALERT_MODES:
        raise EvaluatorError(f"alert_mode {mode!r} is not one of {', '.join(ALERT_MODES)}")
    initial = raw.get("initial_state", "OK")
    for state in initial.values() if isinstance(initial, dict) else [initial]:
        _state(state)
    series = []
    for item in raw.get("series") or []:
        if not isinstance(item, dict) or not {"metric", "values"} <= set(item) <= {
            "metric",
            "values",
            "count",
        }:
            raise EvaluatorError("each series needs 'metric' and 'values' (and optionally 'count')")
        count = item.get("count", 1)
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            raise EvaluatorError(f"series count must be a positive integer, got {count!r}")
        series.append((parse_metric(item["metric"]), tuple(expand_series(item["values"])), count))
    expects = raw.get("expect")
    if not isinstance(expects, list) or not expects:
        raise EvaluatorError("'expect' must be a non-empty list")
    onset = parse_duration(raw["onset"]) if "onset" in raw else None
    detection = parse_duration(raw["detection"]) if "detection" in raw else None
    if (onset is None) != (detection is None):
        raise EvaluatorError("'onset' and 'detection' go together")
    return AlarmTest(
        file=origin,
        name=str(raw["name"]),
        stage=stage,
        alert_mode=mode,
        interval=interval,
        initial_state=initial if isinstance(initial, dict) else str(initial),
        onset=onset,
        detection=detection,
        series=tuple(series),
        expect=tuple(_expectation(e) for e in expects),
        set_states=_set_states(raw.get("set_states")),
    )


def _set_states(raw: Any) -> tuple[SetState, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise EvaluatorError("'set_states' must be a list")
    out = []
    for item in raw:
        if not isinstance(item, dict) or set(item) != {"at", "alarm", "state"}:
            raise EvaluatorError("each of 'set_states' needs exactly at, alarm and state")
        out.append(SetState(parse_duration(item["at"]), str(item["alarm"]), _state(item["state"])))
    return tuple(sorted(out, key=lambda s: s.at))


def _expectation(raw: Any) -> Expectation:
    if not isinstance(raw, dict) or "at" not in raw:
        raise EvaluatorError("each expect entry needs 'at'")
    _keys(raw, _EXPECT_KEYS, "expect")
    alarms = raw.get("alarms") or {}
    if not isinstance(alarms, dict):
        raise EvaluatorError("'alarms' must map alarm ids to states")
    return Expectation(
        at=parse_duration(raw["at"]),
        alarms={str(k): _state(v) for k, v in alarms.items()},
        emails=_notes(raw, "emails"),
        automations=_notes(raw, "automations"),
    )


def _notes(raw: dict[str, Any], key: str) -> tuple[ExpectedNote, ...] | None:
    if key not in raw:
        return None
    items = raw[key] or []
    if not isinstance(items, list):
        raise EvaluatorError(f"'{key}' must be a list")
    notes = []
    for item in items:
        if not isinstance(item, dict) or not {"at", "alarm", "state"} <= set(item):
            raise EvaluatorError(f"each of '{key}' needs at, alarm and state")
        _keys(item, _NOTE_KEYS[key], key)
        target = item.get("topic", item.get("target"))
        at = parse_duration(item["at"])
        notes.append(ExpectedNote(at, str(item["alarm"]), _state(item["state"]), target and str(target)))
    return tuple(notes)


def _state(value: Any) -> str:
    if value not in STATES:
        raise EvaluatorError(f"state {value!r} is not one of {', '.join(STATES)}")
    return str(value)


def _keys(raw: dict[str, Any], allowed: set[str], what: str) -> None:
    unknown = set(raw) - allowed
    if unknown:
        raise EvaluatorError(
            f"unknown key(s) {sorted(unknown)} in {what} (allowed: {', '.join(sorted(allowed))})"
        )


def _background(raw: Any) -> tuple[tuple[MetricKey, float], ...]:
    """The file's background series: a list of {metric, value}."""
    if not isinstance(raw, list):
        raise EvaluatorError("expected a list of {metric, value}")
    out = []
    for item in raw:
        if not isinstance(item, dict) or set(item) != {"metric", "value"}:
            raise EvaluatorError("each entry needs exactly 'metric' and 'value'")
        value = item["value"]
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise EvaluatorError(f"value must be a number, got {value!r}")
        out.append((parse_metric(item["metric"]), float(value)))
    return tuple(out)


def _substitute(value: Any, stage: str) -> Any:
    if isinstance(value, str):
        return value.replace("${stage}", stage)
    if isinstance(value, list):
        return [_substitute(v, stage) for v in value]
    if isinstance(value, dict):
        return {k: _substitute(v, stage) for k, v in value.items()}
    return value
