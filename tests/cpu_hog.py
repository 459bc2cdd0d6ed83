"""Run a command while a CPU hog competes on every core: `python -m tests.cpu_hog -- CMD ...`.

`make test` runs the sandbox tests a second time this way, so a test that holds only on an idle or
fast machine fails here instead of on somebody else's. The hog is one busy loop per core, at the
same priority as the tests (a niced hog would yield the cores and prove nothing). It stops by
itself: when the command ends, when this process dies (a hog whose parent is gone exits), and at
the latest after --max-minutes.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import subprocess
import sys
import time


def _burn(parent: int, until: float) -> None:
    """Spin until `until` (monotonic) or until `parent` is gone."""
    while time.monotonic() < until and os.getppid() == parent:
        for _ in range(200_000):
            pass


def run_loaded(cmd: list[str], *, hogs: int, max_minutes: float) -> int:
    """Run `cmd` with `hogs` busy loops beside it; its exit code."""
    until = time.monotonic() + max_minutes * 60
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_burn, args=(os.getpid(), until), daemon=True) for _ in range(hogs)]
    for proc in procs:
        proc.start()
    line = f"cpu hog: {hogs} busy loop(s) on {os.cpu_count()} core(s) while running: {' '.join(cmd)}"
    print(line, flush=True)
    try:
        return subprocess.call(cmd)
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.join(5)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.cpu_hog", description=__doc__.splitlines()[0])
    cores = os.cpu_count() or 1
    parser.add_argument("--hogs", type=int, default=cores, help="busy loops (default: one a core)")
    parser.add_argument("--max-minutes", type=float, default=45.0, help="the hog stops by itself after this")
    parser.add_argument("cmd", nargs=argparse.REMAINDER, help="the command, after --")
    args = parser.parse_args(argv)
    cmd = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
    if not cmd or args.hogs < 1 or args.max_minutes <= 0:
        parser.error("give a command after --, at least one hog and a positive --max-minutes")
    return run_loaded(cmd, hogs=args.hogs, max_minutes=args.max_minutes)


if __name__ == "__main__":
    sys.exit(main())
