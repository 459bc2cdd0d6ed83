"""What a game day's pictures need, as plain data: metric samples, alarm series and transitions.

Collected once at the end of the run from what the sandbox already recorded (the MetricStore,
the alarm loop's evaluator), with times in production minutes since the fault, so the HTML
report (and `byoip dashboard preview`, from the metrics file) can be drawn from files alone.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from contract.names import DLQ, JOBS, Names
from lambdas.common import metrics as m
from monitoring.evaluator.engine import Evaluator
from monitoring.pictures.svg import alarm_bands
from sandbox.metrics import MetricStore

_ALARM_ARN = re.compile(r"arn:aws:cloudwatch:[^:]*:[^:]*:alarm:")
JOB_METRICS = (m.JOBS_ASSIGNED, m.JOBS_COMPLETED, m.JOBS_FAILED, m.JOBS_HELD)
QUEUE_METRICS = {
    "ApproximateNumberOfMessagesVisible": "visible",
    "ApproximateNumberOfMessagesNotVisible": "in flight",
}
AGE = "ApproximateAgeOfOldestMessage"


def per_minute(samples: Iterable[tuple[float, float]], stat: str, origin: float) -> list[list[float]]:
    """[minute since origin, Sum or Maximum of the samples in that minute], oldest first."""
    buckets: dict[int, list[float]] = defaultdict(list)
    for t, value in samples:
        buckets[int((t - origin) // 60)].append(value)
    combine = sum if stat == "Sum" else max
    return [[float(minute), float(combine(values))] for minute, values in sorted(buckets.items())]


def _minutes(t: float, origin: float) -> float:
    return round((t - origin) / 60, 2)


def alarm_pictures(evaluator: Evaluator, origin: float, start: float, end: float) -> list[dict[str, Any]]:
    """Every metric alarm that was in ALARM: its metric per period, threshold and ALARM periods."""
    transitions: dict[str, list[tuple[float, str]]] = defaultdict(list)
    for tr in evaluator.transitions:
        transitions[tr.alarm].append((_minutes(tr.time, origin), tr.new))
    out = []
    for name, changes in sorted(transitions.items()):
        if not any(state == "ALARM" for _, state in changes):
            continue
        entry: dict[str, Any] = {
            "name": name,
            "id": name.rsplit("-", 1)[-1],
            "bands": alarm_bands(changes, _minutes(end, origin)),
        }
        alarm = evaluator.alarms.metric_alarms.get(name)
        if alarm is not None:
            series = evaluator.series(name, int(start), int(end))
            entry |= {
                "threshold": alarm.threshold,
                "comparison": alarm.comparison,
                "period_s": alarm.period,
                # a value per period, drawn at the period's end: when the evaluator could see it
                "points": [[_minutes(t + alarm.period, origin), v] for t, v in series],
            }
        else:
            entry["rule"] = _ALARM_ARN.sub("", evaluator.alarms.composites[name].rule_text)
        out.append(entry)
    return out


def record(
    store: MetricStore,
    evaluator: Evaluator,
    stage: str,
    fault: float | None,
    end: float,
    *,
    run_start: float | None = None,
) -> dict:
    """The recording of one game day (plain JSON data).

    `run_start`: when the run began; samples before it (the SLO history seeded behind a game day,
    sandbox/gameday/history.py) are not drawn, or three days would squeeze the run into the
    charts' last pixels. Without it, the first sample is the start.
    """
    snapshot = store.snapshot()
    starts = [samples[0].timestamp for samples in snapshot.values() if samples]
    start = run_start if run_start is not None else (min(starts) if starts else end)
    origin = fault if fault is not None else start
    names = Names(stage)
    queues = {"JobsQueue": names.queue(JOBS), "DLQ": names.queue(DLQ)}

    def series(namespace: str, name: str, dims: dict[str, str], stat: str) -> list[list[float]]:
        samples = store.samples(namespace, name, dims)
        return per_minute(((s.timestamp, s.value) for s in samples if s.timestamp >= start), stat, origin)

    return {
        "origin": origin,
        "time_unit": "production minutes since the fault",
        "start_min": _minutes(start, origin),
        "end_min": _minutes(end, origin),
        "alarms": alarm_pictures(evaluator, origin, start, end),
        "queue_depth": {
            f"{label} {QUEUE_METRICS[metric]}": series("AWS/SQS", metric, {"QueueName": queue}, "Maximum")
            for label, queue in queues.items()
            for metric in QUEUE_METRICS
        },
        "queue_age": {
            label: series("AWS/SQS", AGE, {"QueueName": queue}, "Maximum") for label, queue in queues.items()
        },
        "jobs": {name: series(m.BYOIP, name, {"Stage": stage}, "Sum") for name in JOB_METRICS},
        "metrics": {"stage": stage, "series": store.to_json(since=start)},  # its own file (report.py)
    }
