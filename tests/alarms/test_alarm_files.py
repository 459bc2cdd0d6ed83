"""Every YAML alarm test in monitoring/alarm_tests, run against the synthesized template.

Plus the coverage rules of the issue: every alarm of the template has tests on both sides of
its boundary, every runbook section A-E has a detection-time scenario in both modes.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from monitoring.catalog import ALARMS
from monitoring.evaluator.testfile import AlarmTest, load_test_file
from monitoring.routing import MAINTENANCE_ID, page_wrappers
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
    # the alarm catalog's, the SLO burn windows and the maintenance window
    assert len(unit_ids) == len(ALARMS) + len(SLO_ALARMS) + 1
    # The maintenance window has no threshold to sit on: its metric is never published, only
    # SetAlarmState moves it (monitoring/routing.py); r_maintenance.yaml tests what it holds.
    unit_ids.remove(MAINTENANCE_ID)
    for alarm_id in unit_ids:
        boundary = [t.name for t in ALL_TESTS if t.name.startswith(f"{alarm_id} boundary - ")]
        assert len(boundary) >= 2, f"{alarm_id}: {boundary}"
        assert any("(the threshold)" in n for n in boundary), alarm_id
    wrappers = {w.id for w in page_wrappers(ALARMS)}
    for composite in alarms.composites:
        short = composite.removeprefix(prefix)
        if short in wrappers:
            # A paging unit alarm's `<Id>Page` (monitoring/routing.py) pages for it in composite mode:
            # its unit alarm's composite-mode tests expect the wrapper's email.
            paged = any(
                e.alarm in (short, composite) and t.alert_mode == "composite"
                for t in ALL_TESTS
                for x in t.expect
                for e in (x.emails or ())
            )
            assert paged, f"{short}: no composite-mode test expects its email"
            continue
        modes = {t.alert_mode for t in ALL_TESTS if t.name.startswith(f"{short} - ")}
        assert modes == {"composite", "all"}, short


@pytest.mark.parametrize("section", ["A", "B", "C", "D", "E", "G", "P"])
def test_every_runbook_section_has_a_scenario_in_both_modes(section):
    scenarios = [t for t in ALL_TESTS if t.name.startswith(f"Runbook {section} scenario:")]
    assert {t.alert_mode for t in scenarios} == {"composite", "all"}
    assert any(t.detection is not None for t in scenarios)
