"""The evaluator end to end on a small hand-written template."""

import pytest

from monitoring.evaluator import (
    ALARM,
    INSUFFICIENT_DATA,
    OK,
    Evaluator,
    EvaluatorError,
    MetricKey,
    load_alarms,
)
from tests.alarms.small_template import template

DLQ = MetricKey.of("AWS/SQS", "ApproximateNumberOfMessagesVisible", {"QueueName": "t-jobs-dlq"})
ERRORS = MetricKey.of("AWS/Lambda", "Errors", {"FunctionName": "t-dispatcher"})
FAIL, ITEMS = MetricKey.of("D", "BatchItemFailures"), MetricKey.of("D", "BatchItems")
DLQ_ALARM, ERR_ALARM, PCT_ALARM = "T-us-east-1-DLQ", "T-us-east-1-Errors", "T-us-east-1-Pct"


def _ev(tpl=None, **kwargs):
    return Evaluator(load_alarms(tpl or template()), **kwargs)


def _feed(ev, metric, values, step=60):
    for i, v in enumerate(values):
        if v is not None:
            ev.put(metric, i * step, v)


def test_intrinsics_resolve_names_dimensions_arns_and_rules():
    alarms = load_alarms(template())
    assert sorted(alarms.metric_alarms) == [DLQ_ALARM, ERR_ALARM, PCT_ALARM]
    assert alarms.metric_alarms[DLQ_ALARM].metrics == (DLQ,)
    assert alarms.metric_alarms[DLQ_ALARM].alarm_actions == (
        "arn:aws:sns:us-east-1:123456789012:t-ops-alerts",
    )
    assert alarms.topics == {"arn:aws:sns:us-east-1:123456789012:t-ops-alerts": "t-ops-alerts"}
    assert alarms.composites["T-Incident"].rule == (
        "or",
        ("state", ALARM, DLQ_ALARM),
        ("and", ("state", ALARM, ERR_ALARM), ("state", ALARM, PCT_ALARM)),
    )
    assert [r.name for r in alarms.rules] == ["t-redrive-on-dlq"]


def test_user_guide_figure_three_of_three_above_three():
    """Evaluating an alarm: threshold 3, N = M = 3; ALARM at periods 3-5, OK at 6, one breach at 9 stays OK.

    https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html#alarm-evaluation
    """
    tpl = template(
        Errors={
            "Threshold": 3,
            "EvaluationPeriods": 3,
            "DatapointsToAlarm": 3,
            "ComparisonOperator": "GreaterThanThreshold",
        }
    )
    ev = _ev(tpl, initial_state=OK)
    _feed(ev, ERRORS, [1, 2, 4, 5, 6, 2, 1, 2, 4, 1])
    seen = []
    for minute in range(1, 11):
        ev.evaluate_at(minute * 60)
        seen.append(ev.states[ERR_ALARM])
    assert seen == [OK, OK, OK, OK, ALARM, OK, OK, OK, OK, OK]


def test_m_of_n_boundary_and_actions_only_on_state_change():
    ev = _ev(initial_state=OK)
    # >= 3 for 2 of 3: one breach (minute 4) never fires, the second within 3 periods (minute 9) does.
    _feed(ev, ERRORS, [0, 0, 0, 2.999, 3, 0, 0, 3, 0, 3, 3, 3, 0, 0, 0])
    ev.run(60, 900)
    assert [(t.time // 60, t.new) for t in ev.transitions if t.alarm == ERR_ALARM] == [(10, ALARM), (14, OK)]
    emails = [(n.time // 60, n.alarm, n.state) for n in ev.notifications if n.kind == "sns"]
    assert emails == [(10, ERR_ALARM, ALARM)]


def test_ok_actions_composite_and_automation_rule():
    ev = _ev(initial_state=OK)
    _feed(ev, DLQ, [0, 0, 2, 1, 0, None, None])
    ev.run(60, 420)
    got = [(n.time // 60, n.alarm, n.state, n.kind, n.target) for n in ev.notifications]
    assert got == [
        (3, DLQ_ALARM, ALARM, "sns", "t-ops-alerts"),
        (
            3,
            DLQ_ALARM,
            ALARM,
            "automation",
            "t-redrive-on-dlq -> arn:aws:ssm:us-east-1:123456789012:automation-definition/T-Redrive:$DEFAULT",
        ),
        (3, "T-Incident", ALARM, "sns", "t-ops-alerts"),
        (5, DLQ_ALARM, OK, "sns", "t-ops-alerts"),
    ]
    assert ev.states["T-Incident"] == OK


def test_actions_disabled_still_publish_the_state_change_event():
    ev = _ev(template(DlqAlarm={"ActionsEnabled": False}), initial_state=OK)
    _feed(ev, DLQ, [1])
    ev.run(60, 60)
    assert [(n.alarm, n.kind) for n in ev.notifications] == [(DLQ_ALARM, "automation"), ("T-Incident", "sns")]


def test_math_alarm_two_of_three_five_minute_periods():
    ev = _ev(initial_state=OK)
    # per 5-minute period (items, failures): (100, 10) = 10 % not > 10; then 11 %, 5 %, 11 %.
    for period, (items, fails) in enumerate([(100, 10), (100, 11), (100, 5), (100, 11)]):
        ev.put(ITEMS, period * 300, items)
        ev.put(FAIL, period * 300 + 30, fails)
    ev.run(60, 1200)
    assert [(t.time, t.new) for t in ev.transitions if t.alarm == PCT_ALARM] == [(1200, ALARM)]
    assert ev.range_values(PCT_ALARM, 1200) == [
        (-300, 0.0),
        (0, 10.0),
        (300, 11.0),
        (600, 5.0),
        (900, 11.0),  # FILL: no traffic = 0 %
    ]


def test_fresh_alarm_starts_insufficient_and_missing_data_keeps_it_there():
    ev = _ev()
    ev.run(60, 600)
    assert ev.states[ERR_ALARM] == INSUFFICIENT_DATA
    assert ev.states[DLQ_ALARM] == OK  # notBreaching
    assert ev.states["T-Incident"] == OK


def test_time_cannot_go_backwards():
    ev = _ev()
    ev.evaluate_at(600)
    with pytest.raises(EvaluatorError, match="time goes backwards"):
        ev.evaluate_at(540)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"Errors": {"Statistic": "tm90"}}, "unsupported statistic 'tm90'"),
        (
            {"Errors": {"ComparisonOperator": "LessThanLowerOrGreaterThanUpperThreshold"}},
            "unsupported ComparisonOperator",
        ),
        ({"Errors": {"TreatMissingData": "zero"}}, "TreatMissingData 'zero'"),
        (
            {"Errors": {"DatapointsToAlarm": 4}},
            "DatapointsToAlarm 4 must be between 1 and EvaluationPeriods 3",
        ),
        ({"Errors": {"Period": 45}}, "Period 45"),
        ({"Errors": {"Threshold": None}}, "Threshold is required"),
        ({"Errors": {"ThresholdMetricId": "ad1"}}, "anomaly-detection"),
        ({"Incident": {"AlarmRule": "ALARM(nope)"}}, "unknown alarm 'nope'"),
        ({"Incident": {"ActionsSuppressor": "x"}}, "ActionsSuppressor 'x' is no other alarm"),
        (
            {"Incident": {"ActionsSuppressor": "T-us-east-1-DLQ", "ActionsSuppressorWaitPeriod": -1}},
            "ActionsSuppressorWaitPeriod must be whole seconds >= 0",
        ),
        ({"Incident": {"AlarmRule": "ALARM(T-us-east-1-DLQ) XOR TRUE"}}, "unexpected text"),
        ({"Pct": {"Metrics": [{"Id": "e", "Expression": "RATE(x)"}]}}, "unknown id"),
        (
            {"DlqAlarm": {"Dimensions": [{"Name": "QueueName", "Value": {"Ref": "Nope"}}]}},
            "unknown resource 'Nope'",
        ),
        (
            {"DlqAlarm": {"Dimensions": [{"Name": "Q", "Value": {"Fn::ImportValue": "x"}}]}},
            "unsupported intrinsic",
        ),
    ],
)
def test_malformed_template_is_one_clear_error(changes, message):
    with pytest.raises(EvaluatorError, match=message):
        load_alarms(template(**changes))


def test_unsupported_function_fails_at_evaluation_naming_it():
    tpl = template()
    tpl["Resources"]["Pct"]["Properties"]["Metrics"][2]["Expression"] = "RATE(f)"
    ev = _ev(tpl)
    with pytest.raises(EvaluatorError, match="unsupported metric math function RATE"):
        ev.evaluate_at(600)


def test_template_without_resources_is_rejected():
    with pytest.raises(EvaluatorError, match="no Resources"):
        load_alarms({"Outputs": {}})
