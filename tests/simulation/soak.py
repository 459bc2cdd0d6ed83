"""`make soak`: run the simulation for a chosen time, batch after batch, each batch from its own seed.

    python -m tests.simulation.soak --minutes 30            # random seeds, printed per batch
    python -m tests.simulation.soak --seed 1234 --batches 1  # rerun exactly one batch

A batch is one Hypothesis run of `--examples` schedules of up to `--steps` steps; the same seed
replays the same schedules (the database is off, so nothing else feeds the run). A failing batch
prints its shrunk schedule (the `state.…` lines) and the command that replays it; the soak goes
on with the next seed and exits 1 at the end if any batch failed.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import traceback
from typing import NoReturn

from hypothesis import HealthCheck, seed, settings
from hypothesis.stateful import get_state_machine_test

from tests.simulation.machine import JobSimulation
from tests.simulation.stats import STATS


def run_batch(batch_seed: int, examples: int, steps: int) -> BaseException | None:
    """One Hypothesis run from `batch_seed`; the exception (with its shrunk schedule) if it failed."""
    config = settings(
        max_examples=examples,
        stateful_step_count=steps,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        print_blob=True,
    )
    test = seed(batch_seed)(get_state_machine_test(JobSimulation, settings=config))
    try:
        test()
    except BaseException as exc:  # noqa: BLE001 (a KeyboardInterrupt still stops below)
        if isinstance(exc, KeyboardInterrupt):
            raise
        return exc
    return None


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        """Bad input: one `error: …` line and exit 2 (argparse would print its usage first)."""
        print(f"error: {message}", file=sys.stderr)
        sys.exit(2)


def main(argv: list[str] | None = None) -> int:
    parser = _Parser(prog="soak", description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=30.0, help="stop starting batches after this")
    parser.add_argument("--seed", type=int, default=None, help="first batch's seed (then seed+1, …)")
    parser.add_argument("--batches", type=int, default=0, help="stop after this many batches (0: by time)")
    parser.add_argument("--examples", type=int, default=20, help="schedules per batch")
    parser.add_argument("--steps", type=int, default=60, help="steps per schedule (at most)")
    args = parser.parse_args(argv)
    if args.minutes <= 0 or args.examples < 1 or args.steps < 1 or args.batches < 0:
        print("error: --minutes must be > 0, --examples and --steps >= 1, --batches >= 0", file=sys.stderr)
        return 2
    first = args.seed if args.seed is not None else random.SystemRandom().randrange(2**32)
    deadline = time.monotonic() + args.minutes * 60
    started, failed, batch = time.monotonic(), [], 0
    while time.monotonic() < deadline and (not args.batches or batch < args.batches):
        batch_seed = first + batch
        batch += 1
        error = run_batch(batch_seed, args.examples, args.steps)
        status = "ok" if error is None else "VIOLATION"
        print(f"batch {batch} seed {batch_seed}: {status}  ({STATS.schedules} schedules so far)", flush=True)
        if error is not None:
            failed.append(batch_seed)
            traceback.print_exception(error, limit=-3, file=sys.stdout)
            print(
                f"replay: python -m tests.simulation.soak --seed {batch_seed} --batches 1"
                f" --examples {args.examples} --steps {args.steps}",
                flush=True,
            )
    minutes = (time.monotonic() - started) / 60
    print(f"\nsoak: {batch} batches in {minutes:.1f} min, first seed {first}")
    print(STATS.report())
    print(f"violating batches: {len(failed)} {failed if failed else ''}".rstrip())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
