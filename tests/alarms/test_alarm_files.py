"""Every YAML alarm test in monitoring/alarm_tests, run against the synthesized template.

Plus the coverage rules of the issue: every alarm of the template has tests on both sides of
its boundary, every runbook section A-E has a detection-time scenario in both modes.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from monitoring.evaluator.testfile import AlarmTest, load_test_file
from monitoring.slo_catalog import SLO_ALARMS

TEST_DIR = Path(__file__).resolve().parents[2] / "monitoring" / "alarm_tests"
ALL_TESTS: list[AlarmTest] = [t for path in sorted(TEST_DIR.glob("*.yaml")) for t in load_test_file(path)]


@pytest.mark.parametrize("test", ALL_TESTS, ids=[f"{Path(t.file).stem}::{t.name}" for t in ALL_TESTS])
def test_yaml_alarm_test(runner, test):
    result = runner.run(test)
    assert result.failures == [], "\n".join(result.failures)


def test_every_alarm_has_boundary_tests_on_both_sides(runner):
    """Named `<Id> boundary - ...`: one with a value at the threshold, one that fires.

    That they really sit on the boundary is proved by test_mutations.py."""
    alarms = runner.alarm_set("test", "composite")
    prefix = "BYOIP-test-"
    unit_ids = [name.removeprefix(prefix) for name in alarms.metric_alarms]
    assert len(unit_ids) == 11 + len(SLO_ALARMS)  # the alarm catalog's and the SLO burn windows
    for alarm_id in unit_ids:
        boundary = [t.name for t in ALL_TESTS if t.name.startswith(f"{alarm_id} boundary - ")]
        assert len(boundary) >= 2, f"{alarm_id}: {boundary}"
        assert any("(the threshold)" in n for n in boundary), alarm_id
    for composite in alarms.composites:
        short = composite.removeprefix(prefix)
        modes = {t.alert_mode for t in ALL_TESTS if t.name.startswith(f"{short} - ")}
        assert modes == {"composite", "all"}, short


@pytest.mark.parametrize("section", ["A", "B", "C", "D", "E", "G", "P"])
def test_every_runbook_section_has_a_scenario_in_both_modes(section):
    scenarios = [t for t in ALL_TESTS if t.name.startswith(f"Runbook {section} scenario:")]
    assert {t.alert_mode for t in scenarios} == {"composite", "all"}
    assert any(t.detection is not None for t in scenarios)
