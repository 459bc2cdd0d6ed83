"""Periods over 5 minutes slide minute by minute (CloudWatch's default SlidingWindow); up to 5
minutes they stay clock-aligned. Sums over long windows come from running totals."""

import math

import pytest

from monitoring.evaluator import ALARM, OK, Evaluator, MetricKey, load_alarms
from monitoring.evaluator.store import MetricStore
from tests.alarms.small_template import template

ERRORS = MetricKey.of("AWS/Lambda", "Errors", {"FunctionName": "t-dispatcher"})
ERR_ALARM = "T-us-east-1-Errors"
H = 3_600


def _sum_alarm(period: int) -> Evaluator:
    # Sum(Errors) over one period > 0, 1 of 1, missing data not breaching.
    props = {
        "Period": period,
        "Threshold": 0,
        "ComparisonOperator": "GreaterThanThreshold",
        "EvaluationPeriods": 1,
        "DatapointsToAlarm": 1,
        "TreatMissingData": "notBreaching",
    }
    return Evaluator(load_alarms(template(Errors=props)), initial_state=OK)


def test_a_one_hour_period_is_the_last_60_minutes_at_every_evaluation():
    ev = _sum_alarm(H)
    ev.put(ERRORS, 10 * H + 17 * 60, 1)  # one error at 10:17
    ev.put(ERRORS, 11 * H, 0)  # and a quiet datapoint at 11:00
    ev.run(10 * H + 17 * 60, 10 * H + 17 * 60)
    assert ev.states[ERR_ALARM] == OK  # 09:17-10:17 does not hold it yet
    ev.run(10 * H + 18 * 60, 10 * H + 18 * 60)
    assert ev.states[ERR_ALARM] == ALARM  # 09:18-10:18 does: no wait for 11:00
    ev.run(10 * H + 19 * 60, 11 * H + 17 * 60)
    assert ev.states[ERR_ALARM] == ALARM  # 10:17-11:17 still holds it
    ev.run(11 * H + 18 * 60, 11 * H + 18 * 60)
    assert ev.states[ERR_ALARM] == OK  # 10:18-11:18: the error left, the 11:00 zero decides
    assert [(t.time - 10 * H, t.new) for t in ev.transitions if t.alarm == ERR_ALARM] == [
        (18 * 60, ALARM),
        (H + 18 * 60, OK),
    ]


@pytest.mark.parametrize(("period", "first_seen"), [(300, 20 * 60), (360, 18 * 60)])
def test_five_minutes_stay_clock_aligned_longer_periods_slide(period, first_seen):
    ev = _sum_alarm(period)
    ev.put(ERRORS, 17 * 60, 1)  # 00:17
    ev.run(60, 30 * 60)
    assert [t.time for t in ev.transitions if t.alarm == ERR_ALARM] == [first_seen]


def test_long_sums_from_running_totals_equal_the_exact_sum():
    store = MetricStore()
    key = MetricKey.of("N", "M", {})
    values = [0.1 * (i % 7) + i for i in range(500)]
    for i, v in enumerate(values):
        store.put(key, i * 60, v)
    assert store.value(key, "Sum", 0, 500 * 60) == pytest.approx(sum(values), rel=1e-12)  # running totals
    assert store.value(key, "Sum", 60, 10 * 60) == math.fsum(values[1:11])  # short windows: exact fsum
    assert store.value(key, "Sum", 600 * 60, 60) is None
    store.put(key, 499 * 60, 1000)  # a new sample invalidates the running totals
    assert store.value(key, "Sum", 0, 500 * 60) == pytest.approx(sum(values) + 1000, rel=1e-12)
    assert store.positions(key, [0, 60, 500 * 60]) == (0, 1, 500)
