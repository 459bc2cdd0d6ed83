"""Every game day at one speed, one after another: pass/fail, recovery and wall time each.

    .venv/bin/python benchmarks/gameday_speed.py [--speed 60] [SCENARIO ...]

The check behind GAMEDAY_SPEED (sandbox/clock.py): the default speed is the fastest at which
every scenario passes on the 2-core machine. Reports go to reports/gameday-speed/.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from sandbox.clock import GAMEDAY_SPEED
from sandbox.gameday.report import write_report
from sandbox.gameday.runner import GameDay, GameDayOptions
from sandbox.gameday.scenarios import SCENARIOS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--speed", type=float, default=GAMEDAY_SPEED)
    parser.add_argument("scenarios", nargs="*", default=list(SCENARIOS))
    args = parser.parse_args()
    unknown = [s for s in args.scenarios if s not in SCENARIOS]
    if unknown:
        print(f"error: unknown scenario {unknown[0]!r}: choose from {', '.join(SCENARIOS)}", file=sys.stderr)
        raise SystemExit(2)
    if not 1 <= args.speed <= 600:
        print(f"error: invalid --speed {args.speed:g}: allowed 1-600", file=sys.stderr)
        raise SystemExit(2)
    reports = Path("reports/gameday-speed")
    failed = []
    for name in args.scenarios:
        started = time.monotonic()
        options = GameDayOptions(name, speed=args.speed, reports_dir=reports)
        result = GameDay(options).run(SCENARIOS[name])
        write_report(result, reports)
        acc = result.accounting
        print(
            f"{name:18} {result.outcome:7} at {args.speed:g}x: recovery {result.recovery_min} min, "
            f"lost {acc.lost}, stuck {acc.pending}, re-deliveries {result.redeliveries}, "
            f"duplicates {result.duplicate_completions}, {time.monotonic() - started:.0f} s wall"
            + (f"  problems: {result.problems}" if result.problems else ""),
            flush=True,
        )
        if result.outcome != "passed":
            failed.append(name)
    if failed:
        raise SystemExit(f"failed at {args.speed:g}x: {', '.join(failed)}")


if __name__ == "__main__":
    main()
