"""The chaos game day: random AWS faults in the handlers under live traffic; nothing is lost."""

from __future__ import annotations

import re

import pytest

from sandbox.gameday.chaos import CHAOS_KINDS, Chaos, chaos_run
from sandbox.gameday.runner import GameDay, GameDayOptions
from sandbox.gameday.scenarios import SCENARIOS, Scenario
from tests.sandbox.conftest import TEST_SPEED

pytestmark = pytest.mark.slow


def test_chaos_loses_no_job_and_reports_what_the_alarms_said(local_template):
    # 6 production minutes with one handler AWS call in ten failing (fixed seed: the same draw of
    # faults, though live threads interleave differently from run to run).
    scenario = Scenario("chaos", "-", "chaos (short)", (), chaos_run(6, 0.10, seed=7), False)

    result = GameDay(GameDayOptions("chaos", speed=TEST_SPEED, template=local_template)).run(scenario)

    assert result.problems == [] and result.outcome == "passed"
    acc = result.accounting
    assert (acc.lost, acc.pending, result.duplicate_completions) == (0, 0, 0)
    assert acc.completed + acc.held + acc.parked + acc.failed == acc.submitted > 0
    (over,) = [e["text"] for e in result.timeline if e["text"].startswith("chaos over:")]
    injected = int(re.match(r"chaos over: (\d+) faults", over).group(1))
    assert injected > 0
    # The alarms are reported (whatever fired), never judged: the report lists them.
    assert result.expected_alarms == [] and isinstance(result.fired_alarms, list)
    assert result.recovery_min is None or result.recovery_min >= 6


def test_chaos_draws_only_listed_faults_and_only_inside_invocations(monkeypatch):
    chaos = Chaos(rate=1.0, seed=3)
    chaos.active = True
    monkeypatch.setattr("sandbox.gameday.chaos.current_function", lambda: None)
    assert chaos._draw("UpdateItem") is None  # outside an invocation: the sandbox's own calls

    monkeypatch.setattr("sandbox.gameday.chaos.current_function", lambda: "byoip-local-ws-message")
    drawn = {chaos._draw("PostToConnection") for _ in range(200)}
    assert drawn == set(CHAOS_KINDS)  # every kind, "interleave" (simulation only) never
    assert chaos._draw("UpdateItem") in {None, *CHAOS_KINDS} - {"gone_410", "gateway_500"}

    chaos.active = False
    assert chaos._draw("UpdateItem") is None


def test_the_chaos_scenario_is_registered_with_alarms_reported_not_judged():
    chaos = SCENARIOS["chaos"]
    assert (chaos.section, chaos.expected, chaos.judge_alarms) == ("-", (), False)
    assert all(s.judge_alarms for name, s in SCENARIOS.items() if name != "chaos")
