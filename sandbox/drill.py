"""`make run`: synthesize stage local, start the sandbox, run the default drill, print its summary.

The drill is the poison-pill incident end to end — fault, alarm, email, automation,
recovery — with every job accounted for. It binds only 127.0.0.1 and stops by itself.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from contract.names import Names
from sandbox.console import make_console
from sandbox.gameday.report import html_path, print_result, write_report
from sandbox.gameday.runner import GameDay, GameDayOptions
from sandbox.gameday.scenarios import SCENARIOS
from sandbox.template import synthesize

DRILL = "poison-pill"
STAGE = "local"  # SandboxOptions' default stage


def main() -> int:
    """Run the drill; exit status 0 when it passed."""
    console = make_console()
    started = time.monotonic()
    console.print("[bold]BYO-IP local drill[/] (no AWS account, no Docker)")
    console.print(f"synthesizing {Names(STAGE).stack} …")
    template = synthesize(STAGE, "composite")
    kinds = {r["Type"] for r in template["Resources"].values()}
    console.print(f"  {len(template['Resources'])} resources, {len(kinds)} types")
    options = GameDayOptions(DRILL, template=template)
    speed = f"{options.speed:g}x"
    console.print(f"running game day [bold]{DRILL}[/] at {speed} (times below are production minutes)…")
    result = GameDay(options).run(SCENARIOS[DRILL])
    print_result(result, console)
    path = write_report(result, Path("reports"))
    console.print(f"report: {path}  pictures: {html_path(path)}", soft_wrap=True, highlight=False)
    console.print(f"emails: {Path('.sandbox') / DRILL / 'outbox.jsonl'}", soft_wrap=True, highlight=False)
    console.print(f"drill finished in {time.monotonic() - started:.0f} s: [bold]{result.outcome}[/]")
    return 0 if result.outcome == "passed" else 1


if __name__ == "__main__":
    sys.exit(main())
