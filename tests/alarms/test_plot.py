"""`byoip alarms test --plot DIR`: each failing test drawn: series, threshold, expected and actual states."""

from __future__ import annotations

import json
import re
import textwrap
import xml.etree.ElementTree as ET

from typer.testing import CliRunner

from monitoring.evaluator import cli
from tests.alarms.small_template import template
from tests.alarms.test_testfiles import DOC

NS = {"s": "http://www.w3.org/2000/svg"}


def files(tmp_path):
    tpl = tmp_path / "t.template.json"
    tpl.write_text(json.dumps(template()))
    good, bad = tmp_path / "good.yaml", tmp_path / "bad.yaml"
    good.write_text(textwrap.dedent(DOC))
    bad.write_text(textwrap.dedent(DOC.replace("{T-us-east-1-DLQ: OK}", "{T-us-east-1-DLQ: ALARM}")))
    return tpl, good, bad


def test_plot_draws_only_failing_tests_with_threshold_actual_alarm_periods_and_expectations(tmp_path):
    tpl, good, bad = files(tmp_path)
    plots = tmp_path / "plots"
    out = CliRunner().invoke(
        cli.app, ["test", str(good), str(bad), "--template", str(tpl), "--plot", str(plots)]
    )
    assert out.exit_code == 1
    page = plots / "bad--dlq-fires-once-and-recovers.html"
    assert f"plot: {page}" in out.output.splitlines()
    assert [p.name for p in plots.iterdir()] == [page.name]  # the passing test is not drawn
    html = page.read_text()
    svgs = [ET.fromstring(s) for s in re.findall(r"<svg .*?</svg>", html, re.S)]
    titles = [svg.find("s:title", NS).text for svg in svgs]
    assert titles == [
        "Input series (one value per interval)",
        "T-us-east-1-DLQ: expected vs actual",
        "T-Incident: expected vs actual (composite: ALARM periods only)",
    ]
    dlq = svgs[1]
    assert len(dlq.findall("s:line[@class='threshold']", NS)) == 1
    (band,) = dlq.findall("s:rect[@class='band']", NS)  # ALARM from 3m to 5m
    assert [t.text for t in dlq.findall("s:text[@class='marker-label']", NS)] == ["expect ALARM", "expect OK"]
    assert len(svgs[0].findall("s:polyline[@class='series']", NS)) == 1
    rows = re.findall(
        r"<tr><td>(\w+)</td><td>([\w-]+)</td><td>(\w+)</td><td>(\w+)</td><td>(\w*)</td></tr>", html
    )
    assert rows == [
        ("2m", "T-us-east-1-DLQ", "ALARM", "OK", "differs"),
        ("6m", "T-us-east-1-DLQ", "OK", "OK", ""),
        ("6m", "T-Incident", "OK", "OK", ""),
    ]
    assert "at 2m: T-us-east-1-DLQ is OK, expected ALARM" in html


def test_plot_into_a_file_is_one_line_exit_2_before_any_test_runs(tmp_path):
    tpl, good, _ = files(tmp_path)
    out = CliRunner().invoke(cli.app, ["test", str(good), "--template", str(tpl), "--plot", str(good)])
    assert out.exit_code == 2
    assert out.output.splitlines() == [f"error: invalid --plot {good}: it exists and is not a directory"]


def test_plot_that_cannot_be_written_is_one_line_exit_2(tmp_path):
    tpl, _, bad = files(tmp_path)
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where a folder should be")
    out = CliRunner().invoke(
        cli.app, ["test", str(bad), "--template", str(tpl), "--plot", str(blocked / "plots")]
    )
    assert out.exit_code == 2
    assert out.output.splitlines()[-1] == f"error: cannot write --plot {blocked / 'plots'}: Not a directory"
