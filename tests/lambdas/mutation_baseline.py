"""The mutation score each module of lambdas/common must keep (mutation_baseline.toml beside this file).

A module is compared only when this run measured it in full (no unchecked mutant left: mutmut ran
every one of its mutants). A module without a baseline entry has not been measured yet: it is
reported, never failed. Recording (`make mutation RECORD=1`) writes the fully measured modules'
scores and keeps every other entry as it was.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

BASELINE = Path(__file__).with_name("mutation_baseline.toml")
HEADER = """\
# The mutation score of each module of lambdas/common when last measured in full: percent of its
# mutants killed, survivors judged equivalent (mutation_equivalents.toml) left out. `make mutation`
# fails when a fully measured module scores below its entry; a module without an entry has not been
# measured yet and is only reported. Written by `make mutation RECORD=1` (never by hand), which
# replaces the entries of the modules that run measured in full and keeps the others.
"""


class Scored(Protocol):
    killed: int
    survived: int
    equivalent: int
    unchecked: int

    @property
    def score(self) -> float: ...


@dataclass(frozen=True)
class Entry:
    score: float  # percent, one decimal
    killed: int
    survived: int
    equivalent: int
    measured: str  # the day it was recorded, YYYY-MM-DD


def load(path: Path = BASELINE) -> dict[str, Entry]:
    """module -> its recorded entry; no file is no baseline yet."""
    if not path.exists():
        return {}
    return {name: Entry(**fields) for name, fields in tomllib.loads(path.read_text()).items()}


def fully_measured(per_module: Mapping[str, Scored]) -> dict[str, Scored]:
    """The modules whose every mutant ran (nothing unchecked) and that have any mutant."""
    return {
        name: t
        for name, t in per_module.items()
        if t.unchecked == 0 and (t.killed or t.survived or t.equivalent)
    }


def compare(per_module: Mapping[str, Scored], baseline: dict[str, Entry]) -> tuple[list[str], list[str]]:
    """(drops, notes): one line per module below its baseline, and one per module worth a word."""
    drops, notes = [], []
    measured = fully_measured(per_module)
    for name, t in per_module.items():
        entry, score = baseline.get(name), round(t.score, 1)
        if name not in measured:
            if t.killed or t.survived or t.equivalent:
                notes.append(f"{name}: partly measured ({t.unchecked} unchecked), not compared")
        elif entry is None:
            notes.append(f"{name}: {score:.1f}%, no baseline yet (record it: make mutation RECORD=1)")
        elif score < entry.score:
            drops.append(
                f"mutation score dropped: {name} {score:.1f}% < baseline {entry.score:.1f}%"
                f" ({t.survived} survivors, {entry.survived} at the baseline of {entry.measured})"
            )
        elif score > entry.score:
            notes.append(
                f"{name}: {score:.1f}% > baseline {entry.score:.1f}% (raise it: make mutation RECORD=1)"
            )
    return drops, notes


def record(per_module: Mapping[str, Scored], baseline: dict[str, Entry], day: str) -> dict[str, Entry]:
    """The baseline with the fully measured modules' entries replaced (the others kept)."""
    updated = dict(baseline)
    for name, t in fully_measured(per_module).items():
        updated[name] = Entry(round(t.score, 1), t.killed, t.survived, t.equivalent, day)
    return dict(sorted(updated.items()))


def render(baseline: dict[str, Entry]) -> str:
    """The baseline file's text: the header, then one inline table per module."""
    lines = [
        f"{name} = {{ score = {e.score:.1f}, killed = {e.killed}, survived = {e.survived},"
        f' equivalent = {e.equivalent}, measured = "{e.measured}" }}'
        for name, e in baseline.items()
    ]
    return HEADER + "\n" + "\n".join(lines) + ("\n" if lines else "")
