"""Offline CloudWatch alarm evaluator: alarms from a synthesized template, states from metric data.

Typical use (the sandbox feeds live samples the same way)::

    alarms = load_alarms(template, TemplateResolver(template, stack_name=...))
    ev = Evaluator(alarms)
    ev.put(MetricKey.of("AWS/SQS", "ApproximateNumberOfMessagesVisible", {"QueueName": q}), ts, 3)
    ev.run(start, end)            # or ev.evaluate_at(t)
    ev.states, ev.transitions, ev.notifications
"""

from monitoring.evaluator.engine import Evaluator
from monitoring.evaluator.intrinsics import TemplateResolver
from monitoring.evaluator.loader import load_alarms
from monitoring.evaluator.model import (
    ALARM,
    INSUFFICIENT_DATA,
    OK,
    AlarmSet,
    EvaluatorError,
    MetricKey,
    Notification,
    Transition,
)
from monitoring.evaluator.store import MetricStore

__all__ = [
    "ALARM",
    "INSUFFICIENT_DATA",
    "OK",
    "AlarmSet",
    "Evaluator",
    "EvaluatorError",
    "MetricKey",
    "MetricStore",
    "Notification",
    "TemplateResolver",
    "Transition",
    "load_alarms",
]
