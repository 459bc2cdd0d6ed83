"""Run alarm test files against a template: feed the series, evaluate each minute, compare.

Time 0 of every test is T0 (2026-01-01T00:00:00Z, aligned to every CloudWatch period); the
value i of a series is stamped T0 + i * interval; alarms are evaluated every minute from
T0 + 1m. Expected times must be whole minutes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from contract.names import Names
from monitoring.evaluator.engine import Evaluator
from monitoring.evaluator.intrinsics import TemplateResolver
from monitoring.evaluator.loader import load_alarms
from monitoring.evaluator.model import AlarmSet, EvaluatorError, Notification, Transition
from monitoring.evaluator.series import format_duration
from monitoring.evaluator.testfile import AlarmTest, Expectation, ExpectedNote, load_test_file

T0 = 1_767_225_600
STEP = 60
TemplateProvider = Callable[[str, str], dict[str, Any]]


@dataclass
class TestResult:
    """Outcome of one test: the differences found (empty = pass) and the measured detection time."""

    test: AlarmTest
    failures: list[str] = field(default_factory=list)
    detection: int | None = None
    emails: int = 0
    evaluator: Evaluator | None = field(default=None, repr=False, compare=False)  # for --plot

    @property
    def ok(self) -> bool:
        return not self.failures


def stack_name(stage: str) -> str:
    """The rule of contract.names.Names.stack (the CDK-free contract)."""
    return Names(stage).stack


class Runner:
    """Runs tests; loads each (stage, alert mode) template once through `provider`.

    With a `reference` runner (the same tests against another template, e.g. a mutant's
    original), a metric alarm defined exactly as in the reference is not evaluated again: it
    replays the transitions it had in the reference's run of the same test (recorded once per
    test); only the alarms that differ, and the composites, are evaluated.
    """

    def __init__(self, provider: TemplateProvider, *, reference: Runner | None = None) -> None:
        self.provider = provider
        self.reference = reference
        self._alarm_sets: dict[tuple[str, str], AlarmSet] = {}
        self._recorded: dict[tuple[str, str], list[Transition] | None] = {}

    def alarm_set(self, stage: str, alert_mode: str) -> AlarmSet:
        key = (stage, alert_mode)
        if key not in self._alarm_sets:
            template = self.provider(stage, alert_mode)
            self._alarm_sets[key] = load_alarms(
                template, TemplateResolver(template, stack_name=stack_name(stage))
            )
        return self._alarm_sets[key]

    def run_files(self, paths: Iterable[str | Path]) -> list[TestResult]:
        return [self.run(test) for path in paths for test in load_test_file(path)]

    def run(self, test: AlarmTest) -> TestResult:
        """Run one test; template or input problems become one `error:` failure line."""
        result = TestResult(test)
        try:
            self._run(test, result)
        except EvaluatorError as exc:
            result.failures.append(f"error: {exc}")
        return result

    def transitions(self, test: AlarmTest) -> list[Transition] | None:
        """The metric alarms' transitions in this runner's run of `test` (None if it errs); cached."""
        key = (test.file, test.name)
        if key not in self._recorded:
            result = self.run(test)
            errs = any(f.startswith("error:") for f in result.failures) or result.evaluator is None
            self._recorded[key] = None if errs else list(result.evaluator.transitions)  # type: ignore[union-attr]
        return self._recorded[key]

    def _replay(self, test: AlarmTest, alarms: AlarmSet) -> dict[str, list[Transition]]:
        """The reference's transitions of every metric alarm it defines exactly as `alarms` does."""
        if self.reference is None:
            return {}
        theirs = self.reference.alarm_set(test.stage, test.alert_mode).metric_alarms
        same = [name for name, alarm in alarms.metric_alarms.items() if theirs.get(name) == alarm]
        recorded = self.reference.transitions(test) if same else None
        if recorded is None:
            return {}
        return {name: [tr for tr in recorded if tr.alarm == name] for name in same}

    def _run(self, test: AlarmTest, result: TestResult) -> None:
        alarms = self.alarm_set(test.stage, test.alert_mode)
        names = _Names(alarms, test.stage)
        initial = (
            {names.full(k): v for k, v in test.initial_state.items()}
            if isinstance(test.initial_state, dict)
            else test.initial_state
        )
        ev = result.evaluator = Evaluator(alarms, initial_state=initial, replay=self._replay(test, alarms))
        known = alarms.metrics()
        for metric in [m for m, _, _ in test.series] + [m for m, _ in test.background]:
            if metric not in known:
                listing = ", ".join(sorted(str(m) for m in known))
                raise EvaluatorError(
                    f"series {metric} is read by no alarm of the template (alarms read: {listing})"
                )
        for metric, values, count in test.series:
            for i, value in enumerate(values):
                if value is not None:
                    ev.put(metric, T0 + i * test.interval, value, count)
        for metric, value in test.background:
            if metric not in known:
                raise EvaluatorError(f"background {metric} is read by no alarm of the template")
            for t in range(T0, T0 + test.end + STEP, STEP):
                ev.put(metric, t, value)
        checks = sorted(test.expect, key=lambda e: e.at)
        for e in checks:
            if e.at % STEP:
                raise EvaluatorError(f"expect at {format_duration(e.at)}: times must be whole minutes")
        pending = list(test.set_states)
        t = T0
        for expectation in checks:
            while t < T0 + expectation.at:
                t += STEP
                while pending and T0 + pending[0].at <= t:
                    call = pending.pop(0)
                    ev.set_state(names.full(call.alarm), call.state, T0 + call.at)
                ev.evaluate_at(t)
            result.failures.extend(_compare(expectation, ev, names))
        emails = [n for n in ev.notifications if n.kind == "sns"]
        result.emails = len(emails)
        if test.onset is not None:
            after = [n.time - T0 - test.onset for n in emails if n.time >= T0 + test.onset]
            result.detection = after[0] if after else None
            if result.detection != test.detection:
                got = (
                    "no email"
                    if result.detection is None
                    else f"first email {format_duration(result.detection)}"
                )
                result.failures.append(
                    f"detection: {got} after onset {format_duration(test.onset)}, "
                    f"expected {format_duration(test.detection or 0)}"
                )


class _Names:
    """Short ids (DLQNotEmpty) <-> alarm names (BYOIP-<stage>-DLQNotEmpty), and each alarm's topic."""

    def __init__(self, alarms: AlarmSet, stage: str) -> None:
        self.prefix = Names(stage).alarm_prefix
        self.all = set(alarms.names)
        self.alarms = alarms

    def topic(self, name: str) -> str | None:
        """The one topic the alarm's actions publish to (None when it has none or several)."""
        alarm = self.alarms.metric_alarms.get(name) or self.alarms.composites.get(name)
        assert alarm is not None
        arns = {*alarm.alarm_actions, *alarm.ok_actions, *alarm.insufficient_data_actions}
        topics = {self.alarms.topics[a] for a in arns if a in self.alarms.topics}
        return topics.pop() if len(topics) == 1 else None

    def full(self, name: str) -> str:
        for candidate in (name, self.prefix + name):
            if candidate in self.all:
                return candidate
        short = sorted(self.short(n) for n in self.all)
        raise EvaluatorError(f"unknown alarm {name!r} (alarms: {', '.join(short)})")

    def short(self, name: str) -> str:
        return name.removeprefix(self.prefix)

    def note(self, n: ExpectedNote, kind: str) -> str:
        target = n.target
        if target is None:
            target = None if kind == "automation" else self.topic(self.full(n.alarm))
            if target is None:
                what = "target" if kind == "automation" else "topic (the alarm has none or several)"
                raise EvaluatorError(f"{format_duration(n.at)} {n.alarm} {n.state}: name the {what}")
        return f"{format_duration(n.at)} {self.short(self.full(n.alarm))} {n.state} -> {target}"

    def actual(self, n: Notification) -> str:
        target = n.target
        if n.kind == "automation":
            arn = target.split(" -> ", 1)[1]
            target = arn.rsplit("/", 1)[-1] if "/" in arn else arn.rsplit(":", 1)[-1]
            target = target.split(":", 1)[0]
        return f"{format_duration(n.time - T0)} {self.short(n.alarm)} {n.state} -> {target}"


def _compare(e: Expectation, ev: Evaluator, names: _Names) -> list[str]:
    at = format_duration(e.at)
    out = []
    for alarm, expected in e.alarms.items():
        actual = ev.states[names.full(alarm)]
        if actual != expected:
            out.append(f"at {at}: {names.short(names.full(alarm))} is {actual}, expected {expected}")
    for kind, sns_kind, wanted in (("emails", "sns", e.emails), ("automations", "automation", e.automations)):
        if wanted is None:
            continue
        got = sorted(names.actual(n) for n in ev.notifications if n.kind == sns_kind)
        exp = sorted(names.note(n, sns_kind) for n in wanted)
        if got != exp:
            missing = list((Counter(exp) - Counter(got)).elements())
            extra = list((Counter(got) - Counter(exp)).elements())
            out.append(f"at {at}: {kind} so far differ")
            out.extend(f"    - expected, not sent: {x}" for x in missing)
            out.extend(f"    + sent, not expected: {x}" for x in extra)
    return out
