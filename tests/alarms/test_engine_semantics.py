"""Evaluator semantics beyond the basic flow: ignore, insufficient-data actions, percentiles with
low samples, composites of composites, and intrinsics the loader must resolve."""

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
from monitoring.evaluator.intrinsics import TemplateResolver
from tests.alarms.small_template import template

ERRORS = MetricKey.of("AWS/Lambda", "Errors", {"FunctionName": "t-dispatcher"})
ERR_ALARM = "T-us-east-1-Errors"


def _errors_alarm(**props):
    tpl = template(Errors=props)
    return Evaluator(load_alarms(tpl), initial_state=OK)


def test_ignore_keeps_the_current_state_through_a_gap():
    ev = _errors_alarm(TreatMissingData="ignore", EvaluationPeriods=1, DatapointsToAlarm=1)
    ev.put(ERRORS, 0, 5)
    ev.run(60, 600)  # one breach, then nothing for nine minutes
    assert ev.states[ERR_ALARM] == ALARM
    assert [(t.time, t.new) for t in ev.transitions if t.alarm == ERR_ALARM] == [(60, ALARM)]


def test_missing_goes_insufficient_and_fires_insufficient_data_actions():
    topic = {"Ref": "OpsAlerts"}
    ev = _errors_alarm(TreatMissingData="missing", InsufficientDataActions=[topic])
    ev.put(ERRORS, 0, 0)
    ev.run(60, 600)
    assert [(t.time, t.new) for t in ev.transitions if t.alarm == ERR_ALARM] == [(360, INSUFFICIENT_DATA)]
    assert [(n.time, n.state, n.target) for n in ev.notifications] == [
        (360, INSUFFICIENT_DATA, "t-ops-alerts")
    ]


def test_breaching_treats_silence_as_failure_after_the_range_empties():
    ev = _errors_alarm(TreatMissingData="breaching", DatapointsToAlarm=3)
    ev.put(ERRORS, 0, 0)
    ev.run(60, 600)
    # 3 of 3 need 2 filled breaching points + the real 0: OK until 0 leaves the 5-period range.
    assert [(t.time, t.new) for t in ev.transitions if t.alarm == ERR_ALARM] == [(360, ALARM)]


def test_low_sample_percentile_ignore_skips_evaluation():
    tpl = template(
        Errors={"ExtendedStatistic": "p90", "Statistic": None, "EvaluationPeriods": 1, "DatapointsToAlarm": 1}
    )
    tpl["Resources"]["Errors"]["Properties"].pop("Statistic")
    tpl["Resources"]["Errors"]["Properties"]["EvaluateLowSampleCountPercentile"] = "ignore"
    ev = Evaluator(load_alarms(tpl), initial_state=OK)
    for _ in range(99):  # p90 needs 10 / (1 - 0.9) = 100 samples
        ev.put(ERRORS, 0, 10)
    ev.evaluate_at(60)
    assert ev.states[ERR_ALARM] == OK
    ev.put(ERRORS, 60, 10)
    for _ in range(99):
        ev.put(ERRORS, 61, 10)
    ev.evaluate_at(120)
    assert ev.states[ERR_ALARM] == ALARM


def test_composite_of_composite_is_evaluated_after_its_child():
    tpl = template()
    tpl["Resources"]["Outer"] = {
        "Type": "AWS::CloudWatch::CompositeAlarm",
        "Properties": {"AlarmName": "T-Outer", "AlarmRule": "NOT OK(T-Incident) AND TRUE"},
    }
    ev = Evaluator(load_alarms(tpl), initial_state=OK)
    ev.put(MetricKey.of("AWS/SQS", "ApproximateNumberOfMessagesVisible", {"QueueName": "t-jobs-dlq"}), 0, 1)
    ev.evaluate_at(60)
    assert (ev.states["T-Incident"], ev.states["T-Outer"]) == (ALARM, ALARM)


def test_initial_state_per_alarm_and_bad_state():
    alarms = load_alarms(template())
    ev = Evaluator(alarms, initial_state={ERR_ALARM: ALARM})
    assert ev.states[ERR_ALARM] == ALARM and ev.states["T-Incident"] == INSUFFICIENT_DATA
    with pytest.raises(EvaluatorError, match="initial state 'RED'"):
        Evaluator(alarms, initial_state="RED")


def test_resolver_sub_select_split_pseudo_and_overrides():
    tpl = template()
    r = TemplateResolver(
        tpl, region="eu-west-3", refs={"Dlq": "https://local/q"}, attrs={("Dlq", "Arn"): "arn:x"}
    )
    assert r.resolve({"Fn::Sub": "${AWS::Region}/${OpsAlerts}/${Dlq.QueueName}/${!Literal}"}) == (
        "eu-west-3/arn:aws:sns:eu-west-3:123456789012:t-ops-alerts/t-jobs-dlq/${Literal}"
    )
    assert r.resolve({"Fn::Sub": ["${A}-${B}", {"A": "a", "B": {"Ref": "Dlq"}}]}) == "a-https://local/q"
    assert r.resolve({"Fn::Select": [1, {"Fn::Split": [",", "x,y,z"]}]}) == "y"
    assert r.resolve({"Fn::GetAtt": "Dlq.Arn"}) == "arn:x"
    assert r.resolve({"Fn::GetAtt": ["Errors", "Arn"]}) == (
        "arn:aws:cloudwatch:eu-west-3:123456789012:alarm:T-eu-west-3-Errors"
    )
    with pytest.raises(EvaluatorError, match="unsupported attribute Fn::GetAtt Dlq.Bogus"):
        r.resolve({"Fn::GetAtt": ["Dlq", "Bogus"]})


def test_resolver_subclass_overrides_are_used_by_resolve():
    class Local(TemplateResolver):
        def _get_att(self, arg):
            return "local"

    assert Local(template()).resolve({"Fn::Join": ["/", [{"Fn::GetAtt": ["Dlq", "Arn"]}, "x"]]}) == "local/x"
