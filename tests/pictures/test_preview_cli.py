"""`byoip dashboard preview`: one HTML page per dashboard of the template; bad input is one line, exit 2."""

from __future__ import annotations

import json
import os

import pytest
from click.testing import CliRunner

from tests.automation.conftest import EntryPoint

T0 = 1_767_225_600
BODY = {
    "widgets": [
        {"type": "text", "x": 0, "y": 0, "width": 24, "height": 2, "properties": {"markdown": "# Ops qa"}},
        {
            "type": "metric",
            "x": 0,
            "y": 2,
            "width": 12,
            "height": 6,
            "properties": {
                "title": "Depth",
                "period": 60,
                "metrics": [
                    [
                        "AWS/SQS",
                        "ApproximateNumberOfMessagesVisible",
                        "QueueName",
                        "QUEUE",
                        {"stat": "Maximum"},
                    ]
                ],
            },
        },
        {"type": "alarm", "x": 12, "y": 2, "width": 12, "height": 6, "properties": {"alarms": ["ALARM_ARN"]}},
        {"type": "explorer", "x": 0, "y": 8, "width": 24, "height": 3, "properties": {"title": "Explore"}},
    ]
}


def template() -> dict:
    body = json.dumps(BODY)
    head, rest = body.split("QUEUE", 1)
    middle, tail = rest.split("ALARM_ARN", 1)
    return {
        "Resources": {
            "Jobs": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "byoip-qa-jobs"}},
            "Depth": {
                "Type": "AWS::CloudWatch::Alarm",
                "Properties": {
                    "AlarmName": "BYOIP-qa-Depth",
                    "Namespace": "AWS/SQS",
                    "MetricName": "ApproximateNumberOfMessagesVisible",
                    "Dimensions": [{"Name": "QueueName", "Value": {"Fn::GetAtt": ["Jobs", "QueueName"]}}],
                    "Statistic": "Maximum",
                    "Period": 60,
                    "EvaluationPeriods": 1,
                    "Threshold": 5,
                    "ComparisonOperator": "GreaterThanThreshold",
                },
            },
            "Board": {
                "Type": "AWS::CloudWatch::Dashboard",
                "Properties": {
                    "DashboardName": "BYOIP-Ops-qa",
                    "DashboardBody": {
                        "Fn::Join": [
                            "",
                            [
                                head,
                                {"Fn::GetAtt": ["Jobs", "QueueName"]},
                                middle,
                                {"Fn::GetAtt": ["Depth", "Arn"]},
                                tail,
                            ],
                        ]
                    },
                },
            },
        }
    }


@pytest.fixture
def files(tmp_path):
    tpl = tmp_path / "t.json"
    tpl.write_text(json.dumps(template()))
    metrics = tmp_path / "gameday-x-metrics.json"
    samples = [[T0 + 60 * m + 1, v] for m, v in enumerate([0, 3, 9, 9, 2])]
    series = [
        {
            "namespace": "AWS/SQS",
            "name": "ApproximateNumberOfMessagesVisible",
            "dimensions": {"QueueName": "byoip-local-jobs"},
            "samples": samples,
        }
    ]
    metrics.write_text(json.dumps({"stage": "local", "series": series}))
    return tpl, metrics, tmp_path


def run(*args):
    return CliRunner().invoke(EntryPoint(), ["dashboard", "preview", *map(str, args)])


def test_preview_writes_each_dashboard_with_recorded_metrics_renamed_for_the_stage(files):
    tpl, metrics, tmp = files
    out = tmp / "out"
    result = run("--stage", "qa", "--template", tpl, "--metrics", metrics, "--out", out)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [f"wrote {out / 'BYOIP-Ops-qa.html'}"]
    html = (out / "BYOIP-Ops-qa.html").read_text()
    assert html.startswith("<!DOCTYPE html>") and "<h1>Ops qa</h1>" in html
    assert html.count("<svg") == 1 and 'class="series"' in html  # the local queue's samples, as qa's
    # the alarm evaluated over the recording: 9 > 5 fired, then 2 cleared it
    assert (
        '<span class="state s-OK">OK</span> BYOIP-qa-Depth <span class="muted">(ALARM 3–5 min)</span>' in html
    )
    assert "Widget type “explorer” is not drawn by the preview" in html
    # self-contained: no script, stylesheet or image to fetch (the SVG namespace is only a name)
    assert html.replace('xmlns="http://www.w3.org/2000/svg"', "").count("http") == 0
    assert "<script" not in html and "<link" not in html and "src=" not in html


def test_preview_takes_the_newest_recording_under_reports_by_default(files, monkeypatch):
    tpl, metrics, tmp = files
    (tmp / "reports").mkdir()
    older = tmp / "reports" / "gameday-a-metrics.json"
    older.write_text("not json")
    os.utime(older, (1, 1))
    metrics.rename(tmp / "reports" / "gameday-b-metrics.json")
    monkeypatch.chdir(tmp)
    result = run("--stage", "qa", "--template", tpl)
    assert result.exit_code == 0, result.output
    assert "with gameday-b-metrics.json" in (tmp / "reports" / "dashboards" / "BYOIP-Ops-qa.html").read_text()


@pytest.mark.parametrize(
    "args, message",
    [
        (["--stage", "Bad_Stage"], "error: invalid STAGE 'Bad_Stage'"),
        (
            ["--stage", "qa", "--alert-mode", "x"],
            "error: invalid ALERT_MODE 'x': allowed values are composite | all",
        ),
        (["--stage", "qa", "--metrics", "{tmp}/none.json"], "error: no such --metrics file: {tmp}/none.json"),
        (["--stage", "qa", "--metrics", "{tpl}"], "error: {tpl} is not a recorded metrics file ("),
        (
            ["--stage", "qa"],
            "error: no recorded metrics in reports/: run `make run` (or `byoip gameday …`) "
            "or give --metrics FILE",
        ),
    ],
    ids=["stage", "alert-mode", "missing-metrics", "not-metrics", "no-recording"],
)
def test_bad_input_is_one_line_exit_2(files, monkeypatch, args, message):
    tpl, _, tmp = files
    monkeypatch.chdir(tmp)  # no reports/ here
    fill = {"{tmp}": str(tmp), "{tpl}": str(tpl)}
    for key, value in fill.items():
        message = message.replace(key, value)
        args = [a.replace(key, value) for a in args]
    result = run(*args)
    assert result.exit_code == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith(message)
    assert result.stdout == ""
