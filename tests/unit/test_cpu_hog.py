"""The CPU hog `make test` runs the sandbox tests beside: it passes the exit code on and leaves nothing."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from tests.cpu_hog import main, run_loaded

# The command counts its siblings (the hogs) from /proc: processes whose parent is its parent.
COUNT_SIBLINGS = """
import os, sys
from pathlib import Path
def ppid(stat): return int(stat.rsplit(")", 1)[1].split()[1])
siblings = []
for p in Path("/proc").iterdir():
    try:
        if p.name.isdigit() and int(p.name) != os.getpid() and ppid((p / "stat").read_text()) == os.getppid():
            siblings.append(p.name)
    except OSError:
        pass
sys.exit(len(siblings))
"""


def children(pid: int) -> list[int]:
    found = []
    for p in Path("/proc").iterdir():
        try:
            if p.name.isdigit() and int((p / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(p.name))
        except OSError:
            pass
    return found


def test_the_command_runs_beside_busy_loops_and_its_exit_code_is_kept():
    before = set(children(os.getpid()))  # a test worker may have children of its own
    assert run_loaded([sys.executable, "-c", COUNT_SIBLINGS], hogs=2, max_minutes=1) == 2 + len(before)
    assert set(children(os.getpid())) <= before  # every hog is gone once the command ended


def test_arguments_are_checked_with_one_line(capsys):
    with pytest.raises(SystemExit) as no_command:
        main(["--hogs", "1"])
    assert no_command.value.code == 2
    assert "give a command after --" in capsys.readouterr().err
    assert main(["--hogs", "1", "--", sys.executable, "-c", "raise SystemExit(7)"]) == 7
