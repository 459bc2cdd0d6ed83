"""A runner given a reference replays the metric alarms both templates define alike instead of
evaluating them (test_mutations.py relies on it): every outcome is the same as evaluating all."""

from __future__ import annotations

import copy

import pytest

from monitoring.evaluator.runner import Runner
from tests.alarms.mutations import STAGE
from tests.alarms.test_alarm_files import ALL_TESTS
from tests.alarms.test_mutations import GENERATED

# Tests of up to 2 hours (most of them): the long ones only cost time here.
SHORT = [t for t in ALL_TESTS if t.end <= 2 * 3600]


def _outcome(runner: Runner, test):
    result = runner.run(test)
    ev = result.evaluator
    assert ev is not None, result.failures
    return result.failures, result.detection, ev.transitions, ev.notifications, ev.states


@pytest.mark.parametrize(
    "label",
    [
        "Backlog threshold +1",
        "DispatcherErrors missing data -> breaching",
        "Incident rule: OR -> AND in (DLQNotEmpty OR (DispatcherErrors AND Backlog))",
        "TimeToAssignFastBurn1h threshold -1",
    ],
)
def test_replaying_unchanged_alarms_gives_the_outcomes_of_evaluating_them(synthesized, runner, label):
    mutated = {}
    for mode in ("composite", "all"):
        mutated[mode] = copy.deepcopy(synthesized[(STAGE, mode)])
        GENERATED[label](mutated[mode])
    evaluating = Runner(lambda stage, mode: mutated[mode])
    replaying = Runner(lambda stage, mode: mutated[mode], reference=runner)
    changed = 0
    for test in SHORT:
        outcome = _outcome(evaluating, test)
        assert _outcome(replaying, test) == outcome, test.name
        changed += outcome[2] != _outcome(runner, test)[2]
    assert changed > 0  # the mutation shows: what is replayed is not everything
