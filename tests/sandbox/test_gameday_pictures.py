"""Game-day pictures without a sandbox: the recording, the HTML report and the console timeline."""

from __future__ import annotations

import io
import json
import re
import xml.etree.ElementTree as ET

from rich.console import Console

from monitoring.evaluator.engine import Evaluator
from monitoring.evaluator.loader import load_alarms
from monitoring.evaluator.model import MetricKey
from sandbox.gameday.html_report import render_html
from sandbox.gameday.ledger import Accounting
from sandbox.gameday.recording import alarm_pictures, per_minute
from sandbox.gameday.report import print_timeline, write_report
from sandbox.gameday.runner import Result
from tests.alarms.small_template import template

T0 = 1_767_225_600
DLQ = MetricKey.of("AWS/SQS", "ApproximateNumberOfMessagesVisible", {"QueueName": "t-jobs-dlq"})
BASE = "https://runbooks.example.com/ops/local/runbook.md"


def result(**overrides) -> Result:
    timeline = [
        {"time": T0 - 60, "kind": "note", "text": "setup <seeded>", "link": ""},
        {"time": T0, "kind": "fault", "text": "poison pills", "link": ""},
        {"time": T0 + 120, "kind": "alarm", "text": "DLQNotEmpty → ALARM", "link": ""},
        {
            "time": T0 + 120,
            "kind": "email",
            "text": "email: ALARM Incident",
            "link": f"{BASE}#alarm-incident",
        },
        {
            "time": T0 + 240,
            "kind": "email",
            "text": "email: OK DLQNotEmpty",
            "link": f"{BASE}#alarm-dlqnotempty",
        },
        {"time": T0 + 240, "kind": "email", "text": "email: OK Incident", "link": f"{BASE}#alarm-incident"},
        {"time": T0 + 300, "kind": "recovered", "text": "recovered", "link": ""},
    ]
    email = {
        "time": T0 + 120,
        "state": "ALARM",
        "subject": 'ALARM: "T-Incident"',
        "body": "Jobs <lost>\nFirst steps: 1) look",
    }
    fields = dict(
        scenario="poison-pill",
        section="A",
        alert_mode="composite",
        speed=30.0,
        expected_alarms=["DLQNotEmpty"],
        fired_alarms=["DLQNotEmpty", "Incident"],
        detection_min=2.0,
        first_email_min=2.0,
        recovery_min=5.0,
        emails=[email],
        automations=[
            {
                "document": "BYOIP-local-GuardedRedrive",
                "status": "Success",
                "started_min": 2.1,
                "finished_min": 3.0,
                "outputs": [],
                "error": None,
            }
        ],
        accounting=Accounting(submitted=5, completed=5),
        timeline=timeline,
        redeliveries=0,
        duplicate_completions=0,
        wall_seconds=20.0,
    )
    return Result(**(fields | overrides))


def recording() -> dict:
    ev = Evaluator(load_alarms(template()), initial_state="OK")
    for minute, value in enumerate([0, 0, 3, 3, 0, 0]):
        ev.put(DLQ, T0 - 60 + minute * 60 + 1, value)
    ev.run(T0, T0 + 300, 60)
    return {
        "origin": T0,
        "start_min": -1.0,
        "end_min": 5.0,
        "alarms": alarm_pictures(ev, T0, T0 - 60, T0 + 300),
        "queue_depth": {"JobsQueue visible": [[-1.0, 2.0], [0.0, 5.0]], "DLQ visible": []},
        "queue_age": {"JobsQueue": [[-1.0, 30.0]]},
        "jobs": {"JobsCompleted": [[0.0, 4.0], [1.0, 1.0]]},
    }


def test_per_minute_buckets_samples_by_minute_since_the_origin():
    samples = [(T0 - 1, 2.0), (T0, 1.0), (T0 + 59, 4.0), (T0 + 60, 3.0)]
    assert per_minute(samples, "Sum", T0) == [[-1.0, 2.0], [0.0, 5.0], [1.0, 3.0]]
    assert per_minute(samples, "Maximum", T0) == [[-1.0, 2.0], [0.0, 4.0], [1.0, 3.0]]


def test_alarm_pictures_hold_each_fired_alarms_values_threshold_and_alarm_periods():
    incident, dlq = recording()["alarms"]  # sorted by name
    assert (dlq["name"], dlq["id"], incident["name"], incident["id"]) == (
        "T-us-east-1-DLQ",
        "DLQ",
        "T-Incident",
        "Incident",
    )
    assert (dlq["threshold"], dlq["comparison"], dlq["period_s"]) == (0, "GreaterThanThreshold", 60)
    # a value per minute drawn at the minute's end: 3 visible in the 2nd and 3rd minute since the fault
    assert dlq["points"] == [[0.0, 0.0], [1.0, 0.0], [2.0, 3.0], [3.0, 3.0], [4.0, 0.0], [5.0, 0.0]]
    assert dlq["bands"] == incident["bands"] == [(2.0, 4.0)]  # evaluated at 2 min: ALARM; at 4: OK
    assert "points" not in incident
    assert (
        incident["rule"]
        == 'ALARM("T-us-east-1-DLQ") OR (ALARM("T-us-east-1-Errors") AND ALARM(T-us-east-1-Pct))'
    )


def test_html_report_is_one_self_contained_page_with_a_chart_per_fired_metric_alarm():
    html = render_html(json.loads(json.dumps(result().as_dict())), json.loads(json.dumps(recording())))
    svgs = re.findall(r"<svg .*?</svg>", html, re.S)
    assert len(svgs) == 1 + 2 + 1  # DLQ alarm, queue depth and age, jobs by state
    ns = {"s": "http://www.w3.org/2000/svg"}
    alarm_svg = ET.fromstring(svgs[0])
    assert len(alarm_svg.findall("s:rect[@class='band']", ns)) == 1
    assert len(alarm_svg.findall("s:line[@class='threshold']", ns)) == 1
    assert [t.text for t in alarm_svg.findall("s:text[@class='marker-label']", ns)] == ["fault", "recovered"]
    for heading in (
        "Summary",
        "Alarms that fired",
        "Queue depth and age",
        "Jobs by state",
        "Timeline",
        "Emails",
        "Automations",
    ):
        assert f"<h2>{heading}</h2>" in html
    assert "Jobs &lt;lost&gt;" in html and "setup &lt;seeded&gt;" in html  # escaped, never markup
    assert html.count(f'href="{BASE}#alarm-incident"') == 2 and "BYOIP-local-GuardedRedrive" in html
    assert "<script" not in html and "src=" not in html


def test_write_report_writes_json_html_and_metrics_side_by_side(tmp_path):
    rec = recording() | {"metrics": {"stage": "local", "series": []}}
    path = write_report(result(recording=rec), tmp_path)
    stem = path.stem
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        f"{stem}-metrics.json",
        f"{stem}.html",
        f"{stem}.json",
    ]
    assert "recording" not in json.loads(path.read_text())
    assert json.loads((tmp_path / f"{stem}-metrics.json").read_text()) == {"stage": "local", "series": []}


def test_console_timeline_fits_80_columns_and_prints_each_link_once():
    out = io.StringIO()
    print_timeline(result(), Console(file=out, width=80, soft_wrap=True))
    lines = out.getvalue().splitlines()
    table = [line for line in lines if not line.startswith("[")]
    assert max(len(line) for line in table) <= 80
    assert [line for line in lines if line.startswith("[")] == [
        f"[1] runbook: {BASE}#alarm-incident",
        f"[2] runbook: {BASE}#alarm-dlqnotempty",
    ]
    assert sum("email: ALARM Incident [1]" in line for line in lines) == 1
    assert sum("email: OK DLQNotEmpty [2]" in line for line in lines) == 1
    assert sum("email: OK Incident [1]" in line for line in lines) == 1
    assert any("setup <seeded>" in line for line in lines)  # Rich markup in event text stays text
