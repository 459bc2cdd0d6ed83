"""Alarms, live: the sandbox's metrics fed to the offline evaluator against the template's alarms.

Every production minute the loop feeds the new samples to `monitoring.evaluator` and
evaluates; each notification it reports is acted on as AWS would: an SNS action becomes an
email in the outbox (subject and body like CloudWatch's, with the alarm description and its
runbook link), an EventBridge target that is an SSM automation definition starts the
document, and every transition is mirrored into moto's CloudWatch (SetAlarmState), so the
automation scripts' DescribeAlarms guard sees the real state.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from monitoring.evaluator.engine import Evaluator
from monitoring.evaluator.loader import load_alarms
from monitoring.evaluator.model import MetricKey, Notification, Transition
from sandbox.clock import SimClock
from sandbox.metrics import MetricStore
from sandbox.outbox import Email, Outbox
from sandbox.service_events import rule_targets, start_target
from sandbox.ssm import Automation
from sandbox.template import Resolver
from sandbox.ticker import Ticker

_URL = re.compile(r"https://\S+")
STEP_S = 60  # CloudWatch evaluates standard alarms every minute


@dataclass(frozen=True)
class AlarmEvent:
    """Something the timeline shows: a transition, an email, an automation start."""

    time: float
    kind: str  # "transition" | "email" | "automation"
    alarm: str
    state: str
    detail: str


class AlarmLoop:
    """Evaluates the template's alarms against live sandbox metrics and fires their actions."""

    def __init__(
        self,
        template: dict[str, Any],
        resolver: Resolver,
        metrics: MetricStore,
        clock: SimClock,
        outbox: Outbox,
        automation: Automation,
        cloudwatch: Any,
    ) -> None:
        self.alarms = load_alarms(template, resolver)
        # A deployed stack has settled alarms: start from OK so only real changes notify.
        self.evaluator = Evaluator(self.alarms, initial_state="OK")
        self.metrics = metrics
        self.clock = clock
        self.outbox = outbox
        self.automation = automation
        self.cloudwatch = cloudwatch
        self.events: list[AlarmEvent] = []
        self.listeners: list[Callable[[AlarmEvent], None]] = []
        self.descriptions = {
            str(resolver.resolve(p.get("AlarmName")) or lid): str(
                resolver.resolve(p.get("AlarmDescription", ""))
            )
            for t in ("AWS::CloudWatch::Alarm", "AWS::CloudWatch::CompositeAlarm")
            for lid, p in resolver.of_type(t)
        }
        self.targets = rule_targets(resolver)
        self._fed: dict[Any, int] = {}
        self._seen_notifications = 0
        self._next_t = (int(clock.now()) // STEP_S + 1) * STEP_S
        self._lock = threading.Lock()
        self._ticker = Ticker("alarm-loop", self.tick, lambda: clock.real(STEP_S) / 4)
        self._mirror_setup()

    def state(self, alarm_suffix: str) -> str:
        """Current state of the alarm whose name ends with `alarm_suffix` (e.g. 'DLQNotEmpty')."""
        return self.evaluator.states[self.name(alarm_suffix)]

    def name(self, alarm_suffix: str) -> str:
        for name in self.alarms.names:
            if name.endswith(f"-{alarm_suffix}"):
                return name
        raise KeyError(f"the template has no alarm named *-{alarm_suffix}")

    def start(self) -> AlarmLoop:
        self._ticker.start()
        return self

    def stop(self) -> None:
        self._ticker.stop()

    def tick(self) -> None:
        """Feed new samples and evaluate every complete minute up to now."""
        with self._lock:
            self._feed()
            now = self.clock.now()
            while self._next_t <= now:
                for transition in self.evaluator.evaluate_at(self._next_t):
                    self._on_transition(transition)
                self._next_t += STEP_S
            fresh = self.evaluator.notifications[self._seen_notifications :]
            self._seen_notifications += len(fresh)
        for notification in fresh:
            self._act(notification)

    def _feed(self) -> None:
        for key, samples in self.metrics.snapshot().items():
            done = self._fed.get(key, 0)
            if len(samples) <= done:
                continue
            namespace, name, dims = key
            metric = MetricKey(namespace, name, dims)
            # Samples arrive in time order per series, so the first `done` were fed already.
            for sample in samples[done:]:
                self.evaluator.put(metric, sample.timestamp, sample.value)
            self._fed[key] = len(samples)

    def _emit(self, event: AlarmEvent) -> None:
        self.events.append(event)
        for listener in self.listeners:
            listener(event)

    def _on_transition(self, tr: Transition) -> None:
        self._emit(AlarmEvent(tr.time, "transition", tr.alarm, tr.new, f"{tr.old} -> {tr.new}: {tr.reason}"))
        if tr.alarm in self.alarms.metric_alarms:
            self.cloudwatch.set_alarm_state(
                AlarmName=tr.alarm, StateValue=tr.new, StateReason=tr.reason[:1000]
            )

    def _act(self, n: Notification) -> None:
        if n.kind == "sns":
            description = self.descriptions.get(n.alarm, "")
            link = _URL.search(description)
            self.outbox.deliver(
                Email(
                    time=n.time,
                    topic=n.target,
                    alarm=n.alarm,
                    state=n.state,
                    subject=f'{n.state}: "{n.alarm}" in US East (N. Virginia)',
                    body=description,
                    runbook=link.group(0).rstrip(".,)") if link else "",
                )
            )
            self._emit(AlarmEvent(n.time, "email", n.alarm, n.state, link.group(0) if link else ""))
        elif n.kind == "automation":
            rule, _, arn = n.target.partition(" -> ")
            found = self.targets.get((rule, arn))
            if found:
                document, params = found
                if start_target(self.automation, self.metrics, rule, document, params) is not None:
                    self._emit(AlarmEvent(n.time, "automation", n.alarm, n.state, document))

    def _mirror_setup(self) -> None:
        """Create each metric alarm in moto so DescribeAlarms/SetAlarmState work on its name."""
        for name in self.alarms.metric_alarms:
            self.cloudwatch.put_metric_alarm(
                AlarmName=name,
                Namespace="Sandbox/Mirror",
                MetricName=name,
                Statistic="Maximum",
                Period=60,
                EvaluationPeriods=1,
                Threshold=0,
                ComparisonOperator="GreaterThanThreshold",
                ActionsEnabled=False,
            )
            self.cloudwatch.set_alarm_state(AlarmName=name, StateValue="OK", StateReason="sandbox start")
