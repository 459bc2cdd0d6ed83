"""Beside the fixed schedules: one small batch from a random seed on every run, its seed printed.

A violation fails with the seed and the commands that replay the batch exactly (this test with
SIM_SEED, or the soak's --seed). SIM_SEED fixes the seed.
"""

from __future__ import annotations

import os
import random
import traceback

from tests.simulation import soak

EXAMPLES, STEPS = 4, 25


def replay_commands(seed: int) -> str:
    return (
        f"SIM_SEED={seed} .venv/bin/python -m pytest tests/simulation/test_random_batch.py -q\n"
        f"  or: PYTHONPATH=. .venv/bin/python -m tests.simulation.soak --seed {seed} --batches 1"
        f" --examples {EXAMPLES} --steps {STEPS}"
    )


def test_a_small_batch_from_a_random_seed():
    seed = int(os.environ.get("SIM_SEED") or random.SystemRandom().randrange(2**32))
    print(f"simulation batch seed {seed}; replay:\n  {replay_commands(seed)}")

    error = soak.run_batch(seed, EXAMPLES, STEPS)

    assert error is None, (
        f"the batch from seed {seed} failed; replay it with\n  {replay_commands(seed)}\n"
        + "".join(traceback.format_exception(error, limit=-3))
    )
