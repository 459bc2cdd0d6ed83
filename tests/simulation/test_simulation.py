"""The bounded simulation run of `make test`: fixed schedules (derandomized), every invariant.

`make soak` runs the same state machine for a chosen time from random seeds (tests/simulation/soak.py).
SIM_EXAMPLES / SIM_STEPS widen this run locally without editing it. A failure prints the shrunk
schedule (`state.…` lines) and a `@reproduce_failure` blob.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings
from hypothesis.stateful import run_state_machine_as_test

from tests.simulation.faults import KINDS
from tests.simulation.machine import JobSimulation
from tests.simulation.stats import STATS

settings.register_profile(
    "simulation-ci",
    max_examples=int(os.environ.get("SIM_EXAMPLES", "50")),
    stateful_step_count=int(os.environ.get("SIM_STEPS", "50")),
    derandomize=True,  # the same schedules on every run: CI is reproducible
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    print_blob=True,
)


def test_no_schedule_violates_an_invariant():
    STATS.reset()
    run_state_machine_as_test(JobSimulation, settings=settings.get_profile("simulation-ci"))
    print(STATS.report())
    # The run reached the code it is about: jobs pushed and completed (as stored), and every kind of
    # fault changed something somewhere (a fault that hit and changed nothing is not counted).
    fired = {key.split(":")[0] for key in STATS.faults}
    assert STATS.violations == 0 and STATS.pushes > 0 and STATS.completed > 0
    assert fired == set(KINDS), f"fault kinds that never changed anything: {set(KINDS) - fired}"
