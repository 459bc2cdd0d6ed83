"""Composite rule parsing/evaluation and EventBridge pattern matching."""

import pytest

from monitoring.evaluator.model import ALARM, INSUFFICIENT_DATA, OK, EvaluatorError
from monitoring.evaluator.patterns import matches
from monitoring.evaluator.rules import evaluate_rule, parse_rule, referenced

KNOWN = ["a", "b", "c", "BYOIP-prod-DLQNotEmpty"]


def _truth(rule: str, **states: str) -> bool:
    return evaluate_rule(parse_rule(rule, KNOWN), lambda n: states.get(n, OK))


@pytest.mark.parametrize(
    ("rule", "states", "expected"),
    [
        ("ALARM(a) OR (ALARM(b) AND ALARM(c))", {"b": ALARM}, False),
        ("ALARM(a) OR (ALARM(b) AND ALARM(c))", {"b": ALARM, "c": ALARM}, True),
        ("ALARM(a) OR ALARM(b) AND ALARM(c)", {"a": ALARM}, True),  # AND binds tighter
        ("(ALARM(a) OR ALARM(b)) AND ALARM(c)", {"a": ALARM}, False),
        ("NOT ALARM(a) AND OK(b)", {}, True),
        ("NOT (ALARM(a) OR OK(b))", {}, False),
        ('INSUFFICIENT_DATA("c")', {"c": INSUFFICIENT_DATA}, True),
        ("TRUE AND NOT FALSE", {}, True),
        (
            "ALARM(arn:aws:cloudwatch:us-east-1:123456789012:alarm:BYOIP-prod-DLQNotEmpty)",
            {"BYOIP-prod-DLQNotEmpty": ALARM},
            True,
        ),
        ('ALARM("arn:aws:cloudwatch:eu-west-1:1:alarm:a")', {"a": OK}, False),
    ],
)
def test_rule_truth_table(rule, states, expected):
    assert _truth(rule, **states) is expected


def test_referenced_names():
    assert referenced(parse_rule("ALARM(a) OR (OK(b) AND NOT TRUE)", KNOWN)) == {"a", "b"}


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ("ALARM(a) OR", "ends too early"),
        ("ALARM(a) XOR ALARM(b)", "unexpected text"),
        ("ALARMS(a)", "unknown function 'ALARMS'"),
        ("ALARM(zzz)", "unknown alarm 'zzz'"),
        ("(ALARM(a)", "ends too early"),
        ("ALARM(a", "missing '\\)'"),
        ("", "non-empty string"),
    ],
)
def test_bad_rules_are_one_clear_error(rule, message):
    with pytest.raises(EvaluatorError, match=message):
        parse_rule(rule, KNOWN)


EVENT = {
    "source": "aws.cloudwatch",
    "detail-type": "CloudWatch Alarm State Change",
    "resources": ["arn:aws:cloudwatch:us-east-1:1:alarm:BYOIP-prod-DLQNotEmpty"],
    "detail": {
        "alarmName": "BYOIP-prod-DLQNotEmpty",
        "state": {"value": "ALARM"},
        "previousState": {"value": "OK"},
    },
}


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ({"source": ["aws.cloudwatch"], "detail": {"state": {"value": ["ALARM"]}}}, True),
        ({"source": ["aws.cloudwatch"], "detail": {"state": {"value": ["OK"]}}}, False),
        ({"detail": {"alarmName": [{"prefix": "BYOIP-prod-"}]}}, True),
        ({"detail": {"alarmName": [{"suffix": "Backlog"}]}}, False),
        ({"detail": {"alarmName": [{"wildcard": "BYOIP-*-DLQ*"}]}}, True),
        ({"detail": {"previousState": {"value": [{"anything-but": ["ALARM"]}]}}}, True),
        ({"detail": {"previousState": {"value": [{"anything-but": {"prefix": "O"}}]}}}, False),
        ({"detail": {"reason": [{"exists": False}]}}, True),
        ({"detail": {"alarmName": [{"exists": True}]}}, True),
        ({"detail-type": [{"equals-ignore-case": "cloudwatch alarm state change"}]}, True),
        ({"resources": ["arn:aws:cloudwatch:us-east-1:1:alarm:BYOIP-prod-DLQNotEmpty"]}, True),
        ({"detail": {"state": ["ALARM"]}}, False),  # a list does not match an object
    ],
)
def test_event_patterns(pattern, expected):
    assert matches(pattern, EVENT) is expected


def test_numeric_and_unknown_operators():
    assert matches({"n": [{"numeric": [">", 0, "<=", 5]}]}, {"n": 5})
    assert not matches({"n": [{"numeric": [">", 5]}]}, {"n": 5})
    with pytest.raises(EvaluatorError, match="unsupported event pattern operator 'cidr'"):
        matches({"ip": [{"cidr": "10.0.0.0/8"}]}, {"ip": "10.1.1.1"})
