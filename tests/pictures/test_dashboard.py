"""Dashboard previews: the widget grid, Markdown, graphs of recorded metrics, alarm states, placeholders."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

from monitoring.evaluator.model import MetricKey
from monitoring.evaluator.store import MetricStore
from monitoring.pictures.dashboard import COLUMN_PX, ROW_PX, dynamic_label, render_dashboard, render_widget
from monitoring.pictures.recorded import load_recording

T0 = 1_767_225_600
Q = MetricKey.of("AWS/SQS", "ApproximateNumberOfMessagesVisible", {"QueueName": "byoip-prod-jobs"})
FAILURES = MetricKey.of("Huntaze/Dispatcher", "BatchItemFailures", {"Stage": "prod"})
ITEMS = MetricKey.of("Huntaze/Dispatcher", "BatchItems", {"Stage": "prod"})


def store() -> MetricStore:
    s = MetricStore()
    for minute, depth in enumerate([1, 4, 2, 0]):
        s.put(Q, T0 + minute * 60 + 5, depth)
    s.put(FAILURES, T0 + 10, 1)
    s.put(ITEMS, T0 + 10, 4)
    s.put(FAILURES, T0 + 70, 3)
    s.put(ITEMS, T0 + 70, 6)
    return s


def svg_of(html: str) -> ET.Element:
    (svg,) = re.findall(r"<svg .*?</svg>", html, re.S)
    return ET.fromstring(svg)


def widget(kind: str, x: int, y: int, w: int, h: int, **props) -> dict:
    return {"type": kind, "x": x, "y": y, "width": w, "height": h, "properties": props}


def test_widgets_keep_their_grid_place_and_size():
    html = render_widget(widget("text", 6, 2, 12, 3, markdown="hi"), MetricStore(), T0, T0 + 60, {})
    style = f"left:{6 * COLUMN_PX}px;top:{2 * ROW_PX}px;width:{12 * COLUMN_PX}px;height:{3 * ROW_PX}px"
    assert f'style="{style}"' in html


def test_text_widgets_are_markdown_and_raw_html_stays_text():
    text = "# Triage\n[Open the runbook](https://example.com/r#a)\n- one\n\n<script>x</script>"
    html = render_widget(widget("text", 0, 0, 24, 4, markdown=text), MetricStore(), T0, T0, {})
    assert "<h1>Triage</h1>" in html and '<a href="https://example.com/r#a">Open the runbook</a>' in html
    assert "<li>one</li>" in html
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_metric_widget_draws_each_metric_and_metric_math_per_period():
    props = {
        "title": "Depth and partial fail",
        "period": 60,
        "metrics": [
            [
                "AWS/SQS",
                "ApproximateNumberOfMessagesVisible",
                "QueueName",
                "byoip-prod-jobs",
                {"stat": "Maximum"},
            ],
            [
                "Huntaze/Dispatcher",
                "BatchItemFailures",
                "Stage",
                "prod",
                {"id": "f", "stat": "Sum", "visible": False},
            ],
            [".", "BatchItems", ".", ".", {"id": "i", "stat": "Sum", "visible": False}],
            [{"expression": "100 * f / IF(i > 1, i, 1)", "label": "pct (max ${MAX})", "id": "e"}],
        ],
    }
    html = render_widget(widget("metric", 0, 0, 12, 6, **props), store(), T0, T0 + 240, {})
    svg = svg_of(html)
    ns = {"s": "http://www.w3.org/2000/svg"}
    depth, pct = svg.findall("s:polyline[@class='series']", ns)
    assert len(depth.get("points").split()) == 4  # minutes 0..3
    assert len(pct.get("points").split()) == 2  # only minutes 0 and 1 have items
    labels = [t.text for t in svg.findall("s:text", ns)]
    assert "ApproximateNumberOfMessagesVisible" in labels and "pct (max 50)" in labels


def test_dynamic_labels_are_filled_in_or_dashed_without_data():
    assert (
        dynamic_label("x (avg: ${AVG}, max: ${MAX}, last ${LAST})", [1, 2, 6]) == "x (avg: 3, max: 6, last 6)"
    )
    assert dynamic_label("x ${SUM} ${MIN}", []) == "x – –"


def test_alarm_widget_shows_each_alarms_state_and_unknown_widgets_are_labelled_placeholders():
    alarms = widget(
        "alarm",
        0,
        0,
        24,
        2,
        title="Alarms",
        alarms=["arn:aws:cloudwatch:r:1:alarm:BYOIP-prod-A", "arn:aws:cloudwatch:r:1:alarm:BYOIP-prod-B"],
    )
    html = render_widget(alarms, MetricStore(), T0, T0, {"BYOIP-prod-A": "ALARM"})
    assert re.findall(r'class="state s-(\w+)">\w+</span> ([\w-]+)', html) == [
        ("ALARM", "BYOIP-prod-A"),
        ("INSUFFICIENT_DATA", "BYOIP-prod-B"),
    ]
    body = {
        "widgets": [
            widget("log", 0, 0, 8, 6, title="Errors <query>"),
            widget("text", 0, 6, 8, 2, markdown="x"),
        ]
    }
    page = render_dashboard(body, MetricStore(), T0, T0, {})
    assert page.count('class="widget') == 2
    assert "placeholder" in page and "Widget type “log” is not drawn by the preview" in page
    assert "Errors &lt;query&gt;" in page
    assert f'style="height:{8 * ROW_PX}px"' in page


def test_recorded_metrics_are_renamed_for_the_previewed_stage(tmp_path):
    path = tmp_path / "m.json"
    series = [
        {
            "namespace": "AWS/SQS",
            "name": "ApproximateNumberOfMessagesVisible",
            "dimensions": {"QueueName": "byoip-local-jobs"},
            "samples": [[T0, 3.0]],
        },
        {
            "namespace": "Huntaze/ByoIP/local",
            "name": "StaleConnections",
            "dimensions": {},
            "samples": [[T0 + 60, 1.0]],
        },
        {
            "namespace": "Huntaze/ByoIP",
            "name": "JobsHeld",
            "dimensions": {"Stage": "local"},
            "samples": [[T0 + 120, 2.0]],
        },
    ]
    path.write_text(json.dumps({"stage": "local", "series": series}))
    loaded, start, end = load_recording(path, "prod")
    assert (start, end) == (T0, T0 + 120)
    assert loaded.metrics() == {
        MetricKey.of("AWS/SQS", "ApproximateNumberOfMessagesVisible", {"QueueName": "byoip-prod-jobs"}),
        MetricKey.of("Huntaze/ByoIP/prod", "StaleConnections"),
        MetricKey.of("Huntaze/ByoIP", "JobsHeld", {"Stage": "prod"}),
    }


def test_a_contributor_insights_graph_is_a_labelled_placeholder_in_its_place():
    insight = widget(
        "metric",
        12,
        4,
        12,
        6,
        title="Top creators by held jobs",
        region="eu-west-3",
        view="timeSeries",
        insightRule={
            "maxContributorCount": 10,
            "orderBy": "Sum",
            "ruleName": "BYOIP-prod-TopCreators-HeldJobs",
        },
    )
    html = render_widget(insight, MetricStore(), T0, T0 + 600, {})
    assert 'class="widget w-metric placeholder"' in html
    assert f"left:{12 * COLUMN_PX}px;top:{4 * ROW_PX}px;width:{12 * COLUMN_PX}px" in html
    assert "<h3>Top creators by held jobs</h3>" in html
    assert "Contributor Insights: top creators by held jobs, drawn in the console." in html
    assert "rule BYOIP-prod-TopCreators-HeldJobs · top 10 by Sum" in html
    assert "<svg" not in html  # no empty chart pretending to be data
