"""The alarm test format: series notation, validation, the runner's diff and the CLI."""

import re
import textwrap

import pytest
import yaml
from typer.testing import CliRunner

from monitoring.evaluator import cli
from monitoring.evaluator.model import EvaluatorError
from monitoring.evaluator.runner import Runner
from monitoring.evaluator.series import expand_series, format_duration, parse_duration, parse_metric
from monitoring.evaluator.testfile import parse_test_doc
from tests.alarms.small_template import template


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0x3 1", [0, 0, 0, 0, 1]),
        ("1+2x2 _ 5-1x1", [1, 3, 5, None, 5, 4]),
        ("_x2 -1.5 1e3", [None, None, -1.5, 1000]),
        ("", []),
        (7, [7]),
    ],
)
def test_expanding_notation_is_promtools(text, expected):
    assert expand_series(text) == expected


@pytest.mark.parametrize("bad", ["1x", "x3", "1*2", "one", "1+x3"])
def test_bad_series_items(bad):
    with pytest.raises(EvaluatorError, match=re.escape(f"bad series item '{bad}'")):
        expand_series(bad)


def test_durations_and_metrics():
    assert [parse_duration(d) for d in ("90s", "15m", "2h", "1h30m", "1d", 0)] == [
        90,
        900,
        7200,
        5400,
        86400,
        0,
    ]
    assert [format_duration(s) for s in (0, 90, 5400, -60)] == ["0m", "1m30s", "1h30m", "-1m"]
    metric = parse_metric("AWS/SQS:ApproximateAgeOfOldestMessage{QueueName=q1, X=y}")
    assert str(metric) == "AWS/SQS:ApproximateAgeOfOldestMessage{QueueName=q1,X=y}"
    assert parse_metric("Huntaze/ByoIP/prod:StaleConnections").dimensions == ()
    for bad, message in (("15", "bad duration"), ("1m1h", "bad duration")):
        with pytest.raises(EvaluatorError, match=message):
            parse_duration(bad)
    with pytest.raises(EvaluatorError, match="bad metric"):
        parse_metric("NoColon{a=b}")
    with pytest.raises(EvaluatorError, match="bad dimension 'oops'"):
        parse_metric("NS:M{oops}")


DLQ = "AWS/SQS:ApproximateNumberOfMessagesVisible{QueueName=t-jobs-dlq}"
DOC = f"""
stage: t
alert_mode: composite
tests:
  - name: dlq fires once and recovers
    onset: 2m
    detection: 1m
    series:
      - metric: '{DLQ}'
        values: '0x1 3 1 0x2'
    expect:
      - at: 2m
        alarms: {{T-us-east-1-DLQ: OK}}
        emails: []
      - at: 6m
        alarms: {{T-us-east-1-DLQ: OK, T-Incident: OK}}
        emails:
          - {{at: 3m, alarm: T-us-east-1-DLQ, state: ALARM}}
          - {{at: 3m, alarm: T-Incident, state: ALARM}}
          - {{at: 5m, alarm: T-us-east-1-DLQ, state: OK, topic: t-ops-alerts}}
        automations:
          - {{at: 3m, alarm: T-us-east-1-DLQ, state: ALARM, target: T-Redrive}}
"""


def _run(doc):
    return [Runner(lambda stage, mode: template()).run(t) for t in parse_test_doc(yaml.safe_load(doc), "doc")]


def test_runner_passes_a_correct_file_and_measures_detection():
    (result,) = _run(DOC)
    assert result.failures == []
    assert (result.detection, result.emails) == (60, 3)


def test_runner_reports_expected_versus_actual():
    doc = DOC.replace("at: 3m, alarm: T-Incident", "at: 4m, alarm: T-Incident").replace(
        "detection: 1m", "detection: 2m"
    )
    doc = doc.replace("{T-us-east-1-DLQ: OK, T-Incident: OK}", "{T-us-east-1-DLQ: ALARM}")
    (result,) = _run(doc)
    assert result.failures == [
        "at 6m: T-us-east-1-DLQ is OK, expected ALARM",
        "at 6m: emails so far differ",
        "    - expected, not sent: 4m T-Incident ALARM -> t-ops-alerts",
        "    + sent, not expected: 3m T-Incident ALARM -> t-ops-alerts",
        "detection: first email 1m after onset 2m, expected 2m",
    ]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ((DLQ, "NS:Nope{a=b}"), "series NS:Nope{a=b} is read by no alarm of the template"),
        ("alarms: {T-us-east-1-DLQ: OK}", "unknown alarm 'Ghost'"),
        ("at: 2m\n", "times must be whole minutes"),
    ],
)
def test_runner_input_errors_are_one_line(change, message):
    if change == "alarms: {T-us-east-1-DLQ: OK}":
        doc = DOC.replace(change, "alarms: {Ghost: OK}")
    elif change == "at: 2m\n":
        doc = DOC.replace("      - at: 2m\n", "      - at: 90s\n")
    else:
        doc = DOC.replace(*change)
    (result,) = _run(doc)
    assert len(result.failures) == 1 and result.failures[0].startswith("error: ")
    assert message in result.failures[0]


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ("[]", "expected a mapping"),
        ("tests: []", "'tests' must be a non-empty list"),
        ("tests: [{name: a, expect: [{at: 1m}], colour: red}]", "unknown key(s) ['colour'] in test"),
        ("tests: [{name: a, alert_mode: loud, expect: [{at: 1m}]}]", "alert_mode 'loud'"),
        ("tests: [{name: a, expect: [{at: 1m, alarms: {X: FIRING}}]}]", "state 'FIRING'"),
        ("tests: [{name: a, onset: 1m, expect: [{at: 1m}]}]", "'onset' and 'detection' go together"),
        (
            "tests: [{name: a, series: [{metric: 'N:M'}], expect: [{at: 1m}]}]",
            "needs 'metric' and 'values'",
        ),
        ("tests: [{name: a, expect: [{at: 1m, emails: [{at: 1m}]}]}]", "needs at, alarm and state"),
        ("tests: [{expect: [{at: 1m}]}]", "test 1: needs a name"),
        (
            "tests: [{name: a, series: [{metric: 'N:M', values: '1', count: 0}], expect: [{at: 1m}]}]",
            "series count must be a positive integer, got 0",
        ),
        ("tests: [{name: a, interval: 0, expect: [{at: 1m}]}]", "test 'a': interval must be positive"),
    ],
)
def test_file_validation_names_the_problem(doc, message):
    with pytest.raises(EvaluatorError, match=re.escape(message)):
        parse_test_doc(yaml.safe_load(doc), "f.yaml")


def test_a_test_may_have_its_own_interval():
    doc = "interval: 5m\ntests: [{name: a, expect: [{at: 1m}]}, {name: b, interval: 1h, expect: [{at: 1m}]}]"
    assert [t.interval for t in parse_test_doc(yaml.safe_load(doc), "f.yaml")] == [300, 3600]


def test_cli_exit_codes_and_diff(tmp_path):
    tpl = tmp_path / "t.template.json"
    tpl.write_text(__import__("json").dumps(template()))
    good, bad = tmp_path / "good.yaml", tmp_path / "bad.yaml"
    good.write_text(textwrap.dedent(DOC))
    bad.write_text(textwrap.dedent(DOC.replace("{T-us-east-1-DLQ: OK}", "{T-us-east-1-DLQ: ALARM}")))
    runner = CliRunner()
    ok = runner.invoke(cli.app, ["test", str(good), "--template", str(tpl)])
    assert ok.exit_code == 0, ok.output
    assert ok.output.splitlines() == [
        "PASS good.yaml :: dlq fires once and recovers (composite, 3 emails, detection 1m)",
        "1 passed, 0 failed (1 files)",
    ]
    failed = runner.invoke(cli.app, ["test", str(good), str(bad), "--template", str(tpl), "-q"])
    assert failed.exit_code == 1
    assert failed.output.splitlines() == [
        "FAIL bad.yaml :: dlq fires once and recovers (composite, 3 emails, detection 1m)",
        "    at 2m: T-us-east-1-DLQ is OK, expected ALARM",
        "1 passed, 1 failed (2 files)",
    ]
    broken = tmp_path / "broken.yaml"
    broken.write_text("tests: [")
    out = runner.invoke(cli.app, ["test", str(broken), "--template", str(tpl)])
    assert out.exit_code == 1
    assert out.output.startswith(f"error: {broken}: cannot read alarm tests:")


BACKGROUND_DOC = f"""
stage: t
alert_mode: composite
background:
  - metric: '{DLQ}'
    value: 3
tests:
  - name: background only, on a 5-minute interval
    interval: 5m
    expect:
      - at: 6m
        alarms: {{T-us-east-1-DLQ: ALARM}}
        emails:
          - {{at: 1m, alarm: T-us-east-1-DLQ, state: ALARM}}
          - {{at: 1m, alarm: T-Incident, state: ALARM}}
  - name: own series wins
    series:
      - metric: '{DLQ}'
        values: '0x9'
    expect:
      - at: 6m
        alarms: {{T-us-east-1-DLQ: OK}}
        emails: []
"""


def test_a_background_series_is_fed_every_minute_unless_the_test_lists_its_metric():
    # GIVEN a file whose background keeps one message in the DLQ
    background, own = parse_test_doc(yaml.safe_load(BACKGROUND_DOC), "f.yaml")
    assert [(str(m), v) for m, v in background.background] == [(DLQ, 3.0)]
    assert own.background == ()
    # WHEN they run THEN the background is there every minute (never a 5-minute gap: ALARM holds),
    # and a test that lists the metric itself keeps only its own series
    assert [result.failures for result in _run(BACKGROUND_DOC)] == [[], []]


@pytest.mark.parametrize(
    "background",
    ["7", "[{metric: 'N:M'}]", "[{metric: 'N:M', value: 'one'}]", "[{metric: 'N:M', value: true}]"],
)
def test_a_bad_background_is_one_error(background):
    doc = f"background: {background}\ntests: [{{name: a, expect: [{{at: 1m}}]}}]"
    with pytest.raises(EvaluatorError, match="background"):
        parse_test_doc(yaml.safe_load(doc), "f.yaml")
