"""The failure-mode catalog: every mode pages in both ALERT_MODEs, has alarm tests and a game day
that judges its page, and the runbook shows it (monitoring/failure_modes.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from contract.config import ALERT_MODES, Config
from monitoring.catalog import ALARMS, COMPOSITE, notifies
from monitoring.failure_modes import FAILURE_MODES, FAILURE_MODES_BY_ID
from monitoring.routing import Route, route
from monitoring.sections import SECTIONS_BY_ID
from monitoring.slo_catalog import SLO_ALARMS, SLO_COMPOSITES
from runbooks.render import render_runbook
from sandbox.gameday.runner import judge_page, mode_of
from sandbox.gameday.scenarios import SCENARIOS

SPECS = {s.id: s for s in (*ALARMS, COMPOSITE, *SLO_ALARMS, *SLO_COMPOSITES)}
ALARM_TESTS = Path(__file__).resolve().parents[2] / "monitoring" / "alarm_tests"


def _alarms_tested_in_alarm() -> set[str]:
    """Alarm ids some alarm test expects in ALARM."""
    found: set[str] = set()
    for path in ALARM_TESTS.glob("*.yaml"):
        for test in yaml.safe_load(path.read_text()).get("tests", []):
            for expect in test.get("expect", []):
                found |= {a for a, state in (expect.get("alarms") or {}).items() if state == "ALARM"}
    return found


def test_ids_and_game_days_are_unique():
    assert len(FAILURE_MODES_BY_ID) == len(FAILURE_MODES)
    game_days = [m.game_day for m in FAILURE_MODES]
    assert len(set(game_days)) == len(game_days)


@pytest.mark.parametrize("mode", FAILURE_MODES, ids=lambda m: m.id)
def test_every_mode_has_a_paging_signal_in_both_alert_modes(mode):
    unknown = [i for i in mode.pages if i not in SPECS]
    assert mode.pages and not unknown, f"{mode.id}: unknown paging alarms {unknown}"
    for alert_mode in ALERT_MODES:
        # emails in that mode (itself, or through its <Id>Page wrapper in composite mode), to the page topic
        paging = [i for i in mode.pages if notifies(SPECS[i], alert_mode) and route(SPECS[i]) is Route.PAGE]
        assert paging, f"{mode.id}: none of {mode.pages} pages in ALERT_MODE={alert_mode}"
    assert SPECS[mode.pages[0]].section in SECTIONS_BY_ID


@pytest.mark.parametrize("mode", FAILURE_MODES, ids=lambda m: m.id)
def test_every_mode_has_a_game_day_that_judges_its_page(mode):
    assert mode.game_day in SCENARIOS, f"{mode.id}: no game day {mode.game_day!r}"
    assert mode_of(mode.game_day) is mode
    assert 0 < mode.page_within_min <= 5


@pytest.mark.parametrize("mode", FAILURE_MODES, ids=lambda m: m.id)
def test_every_paging_alarm_of_a_mode_has_an_alarm_test_that_fires_it(mode):
    tested = _alarms_tested_in_alarm()
    missing = [i for i in mode.pages if i not in tested]
    assert not missing, f"{mode.id}: no alarm test drives {missing} to ALARM"


def test_the_page_is_judged_against_the_bound_and_the_end_of_the_outage():
    mode = FAILURE_MODES[0]
    assert judge_page(mode, 2.0, 10.0) == []
    assert judge_page(mode, 5.0, 10.0) == []  # the bound itself is in time
    (late,) = judge_page(mode, 5.1, 10.0)
    assert "later than 5 min" in late
    (after,) = judge_page(mode, 3.0, 2.5)
    assert "after the outage ended (2.5 min)" in after
    (none,) = judge_page(mode, None, 10.0)
    assert f"no page from {', '.join(mode.pages)}" in none


def test_a_scenario_without_a_mode_is_not_judged_on_a_page():
    assert mode_of("healthy") is None


def test_the_runbook_shows_what_breaks_and_how_you_would_know():
    text = render_runbook(Config(stage="prod"), region="eu-west-1", account="123456789012")
    part = text.split('<a id="what-breaks"></a>', 1)[1].split("\n---", 1)[0]
    rows = [line for line in part.splitlines() if line.startswith("| ") and "---" not in line][1:]
    assert len(rows) == len(FAILURE_MODES)
    for mode, row in zip(FAILURE_MODES, rows, strict=True):
        assert mode.title in row and f"`{mode.game_day}`" in row
        for alarm_id in mode.pages:
            assert f"[`{alarm_id}`](#alarm-{alarm_id.lower()})" in row
        section = SECTIONS_BY_ID[SPECS[mode.pages[0]].section]
        assert f"(#{section.anchor})" in row
