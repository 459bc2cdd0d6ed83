"""Game days end to end in a fresh sandbox (the slowest sandbox tests: about a minute each)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from automation.cli import app as byoip
from sandbox.gameday.report import write_report
from sandbox.gameday.runner import WARMUP_MIN, GameDay, GameDayOptions
from sandbox.gameday.scenarios import SCENARIOS
from tests.sandbox.conftest import TEST_SPEED

pytestmark = pytest.mark.slow


def test_poison_pill_composite_mode(local_template, tmp_path):
    result = GameDay(GameDayOptions("poison-pill", speed=TEST_SPEED, template=local_template)).run(
        SCENARIOS["poison-pill"]
    )

    assert result.problems == [] and result.outcome == "passed"
    assert {"DLQNotEmpty", "Incident", "QuarantineNotEmpty"} <= set(result.fired_alarms)
    alarm_emails = [e for e in result.emails if e["state"] == "ALARM"]
    # composite mode: the incident emails once; unit alarms stay silent (DLQ keeps its OK action)
    assert [e["alarm"] for e in alarm_emails] == ["BYOIP-local-Incident"]
    assert alarm_emails[0]["runbook"].startswith("https://")
    assert {e["alarm"] for e in result.emails if e["state"] == "OK"} <= {
        "BYOIP-local-Incident",
        "BYOIP-local-DLQNotEmpty",
    }
    (redrive,) = result.automations
    assert redrive["document"] == "BYOIP-local-GuardedRedrive" and redrive["status"] == "Success"
    report = redrive["outputs"][-1]
    assert report["redriven"] == 3  # the critical jobs that burned their 5 receives
    assert report["quarantined"] == {"json_invalid": 1, "agent_missing": 1, "schema_invalid": 1}
    acc = result.accounting
    assert (acc.parked, acc.lost, acc.pending, acc.held, acc.failed) == (3, 0, 0, 0, 0)
    # Every job completed once (a push repeated after an expired lease on a loaded machine
    # is allowed: completion, not delivery, is exactly-once; test_system checks delivery).
    assert acc.completed == acc.submitted - 3
    assert 0 < result.detection_min <= 5 and result.first_email_min == result.detection_min
    assert result.recovery_min is not None and result.detection_min <= result.recovery_min <= 10
    assert result.duplicate_completions == 0
    # The setup (critical jobs already dead-lettered) raises nothing before the fault.
    assert (result.setup_alarms, result.setup_emails) == ([], [])
    fault = next(e["time"] for e in result.timeline if e["kind"] == "fault")
    assert all(e["time"] >= fault for e in result.emails)

    assert "\nFirst steps: 1) byoip triage --stage local" in alarm_emails[0]["body"]

    path = write_report(result, tmp_path)
    saved = json.loads(path.read_text())
    assert saved["time_unit"] == "production minutes since the fault"
    assert saved["accounting"]["lost"] == 0
    # the pictures: the fired metric alarm drawn with its ALARM period, from the run's own data
    (dlq,) = [a for a in result.recording["alarms"] if a["id"] == "DLQNotEmpty"]
    assert dlq["threshold"] == 0 and len(dlq["bands"]) == 1
    # the 3 dead-lettered jobs at least; at most those and the 3 poison pills at once
    assert 3 <= max(v for _, v in dlq["points"] if v is not None) <= 6
    # the charts span the run (warm-up, fault, recovery), not the 3 days of seeded SLO history:
    # they start before the warm-up, and no earlier than the game day itself (how long its setup took
    # is the machine's business, so the bound is the run's own duration in production minutes)
    recording = result.recording
    run_min = result.wall_seconds * result.speed / 60
    assert -run_min <= recording["start_min"] <= -WARMUP_MIN < 0 < recording["end_min"]
    drawn = [x for points in recording["jobs"].values() for x, _ in points]
    drawn += [x for x, _ in dlq["points"]]
    assert drawn and min(drawn) >= recording["start_min"] - 1
    # and so does the metrics file `byoip dashboard preview` draws from
    first = min(t for s in recording["metrics"]["series"] for t, _ in s["samples"])
    assert (first - recording["origin"]) / 60 >= recording["start_min"] - 1
    html = path.with_suffix(".html").read_text()
    # one chart per fired metric alarm (DLQNotEmpty, QuarantineNotEmpty), queue depth/age, jobs by state
    assert html.count("<svg") == 5 and "DLQNotEmpty: value per 1 min, ALARM &gt; 0" in html
    assert "QuarantineNotEmpty: value per 1 min, ALARM &gt; 0" in html
    metrics = json.loads(path.with_name(f"{path.stem}-metrics.json").read_text())
    assert metrics["stage"] == "local"
    assert {"ApproximateNumberOfMessagesVisible", "JobsCompleted"} <= {s["name"] for s in metrics["series"]}


def test_gameday_cli_rejects_unknown_scenarios_and_speeds():
    runner = CliRunner()
    unknown = runner.invoke(byoip, ["gameday", "flood"])
    assert unknown.exit_code == 2
    assert "unknown scenario 'flood': choose one of healthy, poison-pill" in unknown.output
    slow = runner.invoke(byoip, ["gameday", "healthy", "--speed", "0"])
    assert slow.exit_code == 2
    assert "invalid --speed 0: allowed 1-60" in slow.output
    fast = runner.invoke(byoip, ["gameday", "healthy", "--speed", "600"])
    assert fast.exit_code == 2
    assert "invalid --speed 600: allowed 1-60 (production seconds per real second)" in fast.output
    # One game-day command: `byoip gameday`; `byoip sandbox gameday` is gone.
    assert runner.invoke(byoip, ["sandbox", "gameday", "healthy"]).exit_code == 2


def test_gameday_cli_checks_the_reports_dir_before_starting(tmp_path):
    taken = tmp_path / "a-file"
    taken.write_text("x")
    result = CliRunner().invoke(byoip, ["gameday", "healthy", "--reports-dir", str(taken)])
    assert result.exit_code == 2
    assert result.output.strip() == f"invalid --reports-dir {taken}: it exists and is not a directory"
