"""The mutation score of lambdas/common from mutmut's results (`make mutation` prints it).

mutmut leaves, next to each mutated copy under mutants/, a `.meta` file with every mutant's
exit code. A mutant is *killed* when a test failed (or timed out) under it; *survived* or
*no tests* means no test noticed it. Survivors judged equivalent (no test can tell them from
the original) are listed in mutation_equivalents.toml beside this file, each with its reason,
keyed by function and the changed line rather than mutmut's numbering (which shifts whenever
the source changes), and are left out of the score. An entry that matches no mutant any more
(its line changed) or that a test now kills is reported, so the file does not excuse too much.

Each fully measured module's score is held to mutation_baseline.toml (mutation_baseline.py): a
drop below it is one line and exit status 1; `--record-baseline` writes the measured scores.

    python -m tests.lambdas.mutation_score [--mutants mutants] [--survivors] [--min 90] [--record-baseline]
"""

from __future__ import annotations

import argparse
import ast
import difflib
import json
import sys
import tomllib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from tests.lambdas import mutation_baseline

EQUIVALENTS = Path(__file__).with_name("mutation_equivalents.toml")
PACKAGE = "lambdas/common"
KILLED = {1, 3, 24, -24, 36, 152, 255}  # a failing test, pytest's internal error, or a timeout
UNDETECTED = {0, 5, 33}  # survived, or no test reached it
UNCHECKED = {None, 2}  # not run, or its run interrupted (mutmut stopped): neither killed nor survived


@dataclass(frozen=True)
class Mutant:
    module: str  # lambdas.common.dispatch
    function: str  # dispatch, or ItemFailure.__init__
    before: str  # the original line(s), stripped, joined by " / "
    after: str  # the mutated line(s)

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.module, self.function, self.before, self.after)


def _function_sources(path: Path) -> dict[str, str]:
    """name -> source of every trampolined function in a mutated file (x_f__mutmut_N, x_f__mutmut_orig).

    Whole lines by line numbers: ast.get_source_segment splits the file again for every function,
    minutes for the larger modules' thousands of mutants.
    """
    source = path.read_text()
    lines = source.splitlines()
    return {
        node.name: "\n".join(lines[node.lineno - 1 : node.end_lineno])
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and "__mutmut_" in node.name
    }


def _plain_name(mangled: str) -> str:
    """x_dispatch -> dispatch; xǁItemFailureǁ__init__ -> ItemFailure.__init__."""
    name = mangled[2:] if mangled.startswith("x_") else mangled[1:]
    return name.replace("ǁ", ".").strip(".")


def describe(key: str, sources: dict[str, str]) -> Mutant:
    """The module, function and changed lines of mutant `key` (e.g. lambdas.common.ddb.x_key__mutmut_3)."""
    module, _, local = key.rpartition(".")
    mangled, _, number = local.rpartition("__mutmut_")
    orig = sources.get(f"{mangled}__mutmut_orig", "").splitlines()[1:]
    mutated = sources.get(f"{mangled}__mutmut_{number}", "").splitlines()[1:]
    removed, added = [], []
    for line in difflib.ndiff(orig, mutated):
        if line.startswith("- "):
            removed.append(line[2:].strip())
        elif line.startswith("+ "):
            added.append(line[2:].strip())
    return Mutant(module, _plain_name(mangled), " / ".join(removed), " / ".join(added))


def load_equivalents(path: Path = EQUIVALENTS) -> dict[tuple[str, str, str, str], str]:
    """(module, function, before, after) -> reason."""
    entries = tomllib.loads(path.read_text()).get("equivalent", [])
    return {(e["module"], e["function"], e["before"], e["after"]): e["reason"] for e in entries}


@dataclass
class Tally:
    killed: int = 0
    survived: int = 0
    equivalent: int = 0
    unchecked: int = 0

    @property
    def score(self) -> float:
        judged = self.killed + self.survived
        return 100.0 * self.killed / judged if judged else 100.0


@dataclass
class Results:
    per_module: dict[str, Tally] = field(default_factory=dict)  # keys, ddb, ...
    survivors: list[Mutant] = field(default_factory=list)  # not judged equivalent
    modules: set[str] = field(default_factory=set)  # lambdas.common.keys, ... (every module mutated)
    outcomes: dict[tuple[str, str, str, str], set[str]] = field(default_factory=dict)  # killed, ...


def tally(mutants_dir: Path, equivalents: dict[tuple[str, str, str, str], str]) -> Results:
    """Per-module tallies, the survivors not listed as equivalent, and what became of each mutant."""
    results = Results()
    for meta in sorted((mutants_dir / PACKAGE).glob("*.py.meta")):
        codes = json.loads(meta.read_text())["exit_code_by_key"]
        if not codes:
            continue
        sources = _function_sources(meta.with_suffix(""))
        t = results.per_module.setdefault(meta.name.removesuffix(".py.meta"), Tally())
        for key, code in codes.items():
            mutant = describe(key, sources)
            results.modules.add(mutant.module)
            if code in UNCHECKED:
                t.unchecked += 1
                outcome = "unchecked"
            elif code in KILLED:
                t.killed += 1
                outcome = "killed"
            elif mutant.key in equivalents:
                t.equivalent += 1
                outcome = "survived"
            else:
                t.survived += 1
                results.survivors.append(mutant)
                outcome = "survived"
            results.outcomes.setdefault(mutant.key, set()).add(outcome)
    return results


def equivalents_to_review(equivalents: dict[tuple[str, str, str, str], str], results: Results) -> list[str]:
    """Entries that match no mutant of a module that was mutated, or only mutants a test kills."""
    lines = []
    for key in equivalents:
        module, function, before, _ = key
        found = results.outcomes.get(key)
        if module not in results.modules:
            continue  # not mutated in this run: nothing to say
        if not found:
            lines.append(f"stale equivalent (matches no mutant): {module}.{function}: {before!r}")
        elif found == {"killed"}:
            lines.append(f"equivalent entry killed by a test (remove it): {module}.{function}: {before!r}")
    return lines


def report(per_module: dict[str, Tally]) -> tuple[list[str], Tally]:
    total = Tally()
    lines = [f"{'module':<16}{'killed':>8}{'survived':>10}{'equiv.':>8}{'unchecked':>11}{'score':>9}"]
    for name, t in per_module.items():
        if not (t.killed or t.survived or t.equivalent):
            lines.append(f"{name:<16}{'':>8}{'':>10}{'':>8}{t.unchecked:>11}{'-':>9}")
            continue
        for attr in ("killed", "survived", "equivalent", "unchecked"):
            setattr(total, attr, getattr(total, attr) + getattr(t, attr))
        lines.append(
            f"{name:<16}{t.killed:>8}{t.survived:>10}{t.equivalent:>8}{t.unchecked:>11}{t.score:>8.1f}%"
        )
    lines.append(
        f"{'lambdas/common':<16}{total.killed:>8}{total.survived:>10}{total.equivalent:>8}"
        f"{total.unchecked:>11}{total.score:>8.1f}%"
    )
    return lines, total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mutants", type=Path, default=Path("mutants"))
    parser.add_argument("--survivors", action="store_true", help="list the survivors not judged equivalent")
    parser.add_argument("--min", type=float, default=0.0, help="exit 1 below this score (percent)")
    parser.add_argument("--baseline", type=Path, default=mutation_baseline.BASELINE)
    parser.add_argument("--equivalents", type=Path, default=EQUIVALENTS)
    parser.add_argument(
        "--record-baseline", action="store_true", help="write the fully measured modules' scores there"
    )
    args = parser.parse_args(argv)
    if not (args.mutants / PACKAGE).is_dir():
        print(
            f"error: no mutmut results under {args.mutants / PACKAGE}: run `make mutation` first",
            file=sys.stderr,
        )
        return 2
    equivalents = load_equivalents(args.equivalents)
    results = tally(args.mutants, equivalents)
    lines, total = report(results.per_module)
    if args.survivors:
        for m in results.survivors:
            print(f"{m.module}.{m.function}: {m.before!r} -> {m.after!r}")
    print("\n".join(lines))
    print(
        f"mutation score: {total.score:.1f}% of {total.killed + total.survived} non-equivalent mutants killed"
    )
    for line in equivalents_to_review(equivalents, results):
        print(line)
    baseline = mutation_baseline.load(args.baseline)
    drops, notes = mutation_baseline.compare(results.per_module, baseline)
    for line in notes + drops:
        print(line)
    if args.record_baseline:
        recorded = mutation_baseline.record(results.per_module, baseline, date.today().isoformat())
        args.baseline.write_text(mutation_baseline.render(recorded))
        measured = ", ".join(mutation_baseline.fully_measured(results.per_module)) or "no module"
        print(f"baseline recorded in {args.baseline} for {measured}")
        return 0
    return 1 if drops or total.score < args.min else 0


if __name__ == "__main__":
    sys.exit(main())
