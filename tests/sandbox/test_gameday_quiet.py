"""The quiet failure modes' game days (monitoring/failure_modes.py, sandbox/gameday/quiet.py), in both
ALERT_MODEs: the first page comes within 5 production minutes of the fault, while the outage lasts,
no job is lost and recovery means nothing pending and nothing held for a connected agent."""

from __future__ import annotations

import pytest

from contract.config import ALERT_MODES
from monitoring.failure_modes import FAILURE_MODES
from monitoring.routing import PAGE_WRAPPER_SUFFIX
from sandbox.gameday import quiet
from sandbox.gameday.runner import GameDay, GameDayOptions
from sandbox.gameday.scenarios import SCENARIOS
from tests.sandbox.conftest import TEST_SPEED

pytestmark = pytest.mark.slow

QUIET = [m for m in FAILURE_MODES if SCENARIOS[m.game_day].run.__module__ == quiet.__name__]


def test_every_quiet_scenario_is_the_game_day_of_a_mode():
    runs = {name: s for name, s in SCENARIOS.items() if s.run.__module__ == quiet.__name__}
    assert sorted(runs) == sorted(m.game_day for m in QUIET) and len(QUIET) >= 7


@pytest.mark.parametrize("alert_mode", ALERT_MODES)
@pytest.mark.parametrize("mode", QUIET, ids=lambda m: m.id)
def test_a_quiet_failure_pages_during_the_outage(mode, alert_mode, local_template):
    options = GameDayOptions(mode.game_day, alert_mode=alert_mode, speed=TEST_SPEED, template=local_template)
    result = GameDay(options).run(SCENARIOS[mode.game_day])

    assert result.problems == [] and result.outcome == "passed", result.problems
    assert result.failure_mode == mode.id
    # the mode's alarm, or in composite mode its <Id>Page wrapper (monitoring/routing.py)
    assert result.first_page_alarm.rsplit("-", 1)[-1].removesuffix(PAGE_WRAPPER_SUFFIX) in mode.pages
    assert 0 <= result.first_page_min <= mode.page_within_min
    assert result.first_page_min <= result.outage_end_min <= result.recovery_min
    acc = result.accounting
    # every agent is back at the end: nothing may stay held for one (the mode's jobs were delivered)
    assert (acc.lost, acc.pending, acc.held) == (0, 0, 0) and result.duplicate_completions == 0
