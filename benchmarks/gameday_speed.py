"""Every game day at one speed, one after another: pass/fail, recovery and wall time each, and the total.

    .venv/bin/python benchmarks/gameday_speed.py [--speed 60] [--alert-mode composite|all|both] [SCENARIO ...]

The check behind GAMEDAY_SPEED (sandbox/clock.py): the default speed is the fastest at which
every scenario passes on the 2-core machine. Each game day runs in the alert mode given
(`byoip gameday --alert-mode`; `both` runs every scenario in composite then in all mode).
benchmarks/sandbox_bench.py times the whole suite (every scenario, both modes) with `run_suite`.
Reports go to reports/gameday-speed/.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sandbox.clock import GAMEDAY_SPEED  # noqa: E402
from sandbox.gameday.report import write_report  # noqa: E402
from sandbox.gameday.runner import GameDay, GameDayOptions  # noqa: E402
from sandbox.gameday.scenarios import SCENARIOS  # noqa: E402

MODES = ("composite", "all")  # `byoip gameday --alert-mode`
REPORTS = Path("reports/gameday-speed")


def run_suite(
    scenarios: list[str], modes: list[str], speed: float, say: Callable[[str], None] = print
) -> tuple[float, list[str]]:
    """Run each scenario in each mode (mode by mode); returns the total wall seconds and the
    game days that did not pass ("scenario/mode")."""
    failed = []
    suite_started = time.monotonic()
    for mode in modes:
        for name in scenarios:
            started = time.monotonic()
            options = GameDayOptions(name, alert_mode=mode, speed=speed, reports_dir=REPORTS)
            try:
                result = GameDay(options).run(SCENARIOS[name])
            except Exception as exc:  # a game day that crashes is a failed one: the suite goes on
                say(f"{name:19} {mode:9} crashed: {type(exc).__name__}: {exc}")
                failed.append(f"{name}/{mode}")
                continue
            write_report(result, REPORTS)
            acc = result.accounting
            say(
                f"{name:19} {mode:9} {result.outcome:7} at {speed:g}x: recovery {result.recovery_min} min, "
                f"lost {acc.lost}, stuck {acc.pending}, re-deliveries {result.redeliveries}, "
                f"duplicates {result.duplicate_completions}, {time.monotonic() - started:.0f} s wall"
                + (f"  problems: {result.problems}" if result.problems else "")
            )
            if result.outcome != "passed":
                failed.append(f"{name}/{mode}")
    return time.monotonic() - suite_started, failed


def check_scenarios(names: list[str]) -> None:
    unknown = [s for s in names if s not in SCENARIOS]
    if unknown:
        print(f"error: unknown scenario {unknown[0]!r}: choose from {', '.join(SCENARIOS)}", file=sys.stderr)
        raise SystemExit(2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--speed", type=float, default=GAMEDAY_SPEED)
    parser.add_argument("--alert-mode", choices=[*MODES, "both"], default="composite")
    parser.add_argument("scenarios", nargs="*", default=list(SCENARIOS))
    args = parser.parse_args()
    check_scenarios(args.scenarios)
    if not 1 <= args.speed <= 600:
        print(f"error: invalid --speed {args.speed:g}: allowed 1-600", file=sys.stderr)
        raise SystemExit(2)
    modes = list(MODES) if args.alert_mode == "both" else [args.alert_mode]
    wall, failed = run_suite(args.scenarios, modes, args.speed, lambda line: print(line, flush=True))
    print(f"{len(args.scenarios) * len(modes)} game days ({', '.join(modes)}): {wall:.0f} s wall")
    if failed:
        raise SystemExit(f"failed at {args.speed:g}x: {', '.join(failed)}")


if __name__ == "__main__":
    main()
