"""ActionsSuppressor in the evaluator: a maintenance-window alarm holds a composite's actions.

Semantics and sources: monitoring/evaluator/suppress.py. The suppressor here is set with
SetAlarmState and keeps its state (no metric, TreatMissingData=ignore), as MaintenanceWindow does.
"""

import pytest

from monitoring.evaluator import ALARM, OK, Evaluator, EvaluatorError, MetricKey, load_alarms
from tests.alarms.small_template import template

DLQ = MetricKey.of("AWS/SQS", "ApproximateNumberOfMessagesVisible", {"QueueName": "t-jobs-dlq"})
WINDOW, INCIDENT = "T-Maintenance", "T-Incident"
T0 = 6_000  # a whole minute, far from 0


def _template(wait: int = 0, extension: int = 120):
    tpl = template(
        Incident={
            "ActionsSuppressor": {"Fn::GetAtt": ["Maintenance", "Arn"]},
            "ActionsSuppressorWaitPeriod": wait,
            "ActionsSuppressorExtensionPeriod": extension,
            "OKActions": [{"Ref": "OpsAlerts"}],
        }
    )
    tpl["Resources"]["Maintenance"] = {
        "Type": "AWS::CloudWatch::Alarm",
        "Properties": {
            "AlarmName": WINDOW,
            "Namespace": "T/Maintenance",
            "MetricName": "MaintenanceWindow",
            "Statistic": "Maximum",
            "Period": 60,
            "EvaluationPeriods": 1,
            "Threshold": 0,
            "ComparisonOperator": "GreaterThanThreshold",
            "TreatMissingData": "ignore",
        },
    }
    return tpl


def _evaluator(**kwargs) -> Evaluator:
    return Evaluator(load_alarms(_template(**kwargs)), initial_state=OK)


def _pages(ev: Evaluator) -> list[tuple[int, str]]:
    return [(n.time - T0, n.state) for n in ev.notifications if n.kind == "sns" and n.alarm == INCIDENT]


def _dlq(ev: Evaluator, minutes: range, value: float = 1) -> None:
    for minute in minutes:
        ev.put(DLQ, T0 + minute * 60, value)


def test_loader_reads_the_suppressor_and_its_periods():
    composite = load_alarms(_template(wait=30, extension=90)).composites[INCIDENT]
    assert (composite.actions_suppressor, composite.suppressor_wait, composite.suppressor_extension) == (
        WINDOW,
        30,
        90,
    )


def test_without_a_window_the_page_is_not_delayed_by_a_zero_wait():
    ev = _evaluator()
    _dlq(ev, range(0, 1))
    ev.run(T0, T0 + 120)
    assert ev.states[INCIDENT] == ALARM
    assert _pages(ev) == [(60, ALARM)]


def test_a_page_inside_the_window_waits_and_comes_after_the_extension():
    # GIVEN the window open at 0, WHEN the DLQ fills at 2m and stays, THEN no page until the
    # window closes at 10m, and the page comes when the 120 s extension ends (12m).
    ev = _evaluator()
    ev.set_state(WINDOW, ALARM, T0)
    _dlq(ev, range(2, 20))
    ev.run(T0, T0 + 9 * 60)
    assert ev.states[INCIDENT] == ALARM
    assert _pages(ev) == []
    assert ev.suppression.suppressed_by(INCIDENT) == "Alarm"
    ev.set_state(WINDOW, OK, T0 + 10 * 60)
    ev.run(T0 + 10 * 60, T0 + 11 * 60)
    assert ev.suppression.suppressed_by(INCIDENT) == "ExtensionPeriod"
    assert _pages(ev) == []
    ev.run(T0 + 12 * 60, T0 + 13 * 60)
    assert _pages(ev) == [(12 * 60, ALARM)]


def test_an_alarm_that_clears_within_the_extension_pages_nobody():
    ev = _evaluator()
    ev.set_state(WINDOW, ALARM, T0)
    _dlq(ev, range(2, 10))
    _dlq(ev, range(10, 20), 0)
    ev.run(T0, T0 + 10 * 60)
    ev.set_state(WINDOW, OK, T0 + 10 * 60 + 30)  # closed at 10m30s; the DLQ was drained at 10m
    ev.run(T0 + 11 * 60, T0 + 20 * 60)
    assert ev.states[INCIDENT] == OK
    assert _pages(ev) == []


def test_a_window_opened_during_the_wait_period_suppresses_the_page():
    ev = _evaluator(wait=60)
    _dlq(ev, range(0, 10))
    ev.run(T0, T0 + 60)  # Incident ALARM at 1m: actions wait until 2m
    assert _pages(ev) == [] and ev.suppression.suppressed_by(INCIDENT) == "WaitPeriod"
    ev.set_state(WINDOW, ALARM, T0 + 90)
    ev.run(T0 + 120, T0 + 300)
    assert _pages(ev) == []


def test_a_wait_period_without_a_window_pages_when_it_ends():
    ev = _evaluator(wait=30)
    _dlq(ev, range(0, 10))
    ev.run(T0, T0 + 120)
    assert _pages(ev) == [(90, ALARM)]


def test_recovery_during_the_window_is_reported_after_it():
    # Paged at 1m, recovered inside the window: the OK comes when the extension ends.
    ev = _evaluator()
    _dlq(ev, range(0, 3))
    _dlq(ev, range(3, 20), 0)
    ev.run(T0, T0 + 120)
    ev.set_state(WINDOW, ALARM, T0 + 150)
    ev.run(T0 + 180, T0 + 600)
    assert _pages(ev) == [(60, ALARM)]
    ev.set_state(WINDOW, OK, T0 + 630)
    ev.run(T0 + 660, T0 + 900)
    assert _pages(ev) == [(60, ALARM), (750, OK)]


def test_the_suppressor_keeps_its_state_at_every_evaluation():
    ev = _evaluator()
    ev.set_state(WINDOW, ALARM, T0)
    ev.run(T0, T0 + 3_600)
    assert ev.states[WINDOW] == ALARM


@pytest.mark.parametrize("state", ["BAD", None])
def test_set_state_rejects_unknown_states(state):
    with pytest.raises(EvaluatorError, match="SetAlarmState"):
        _evaluator().set_state(WINDOW, state, T0)  # type: ignore[arg-type]
