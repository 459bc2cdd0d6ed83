"""`make mutation`'s arithmetic over fabricated mutmut results (mutmut itself never runs here).

Each test writes what mutmut leaves under mutants/: a mutated copy of a module (the original of
each function and one copy per mutant, with one line changed) and its `.meta` of exit codes.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from tests.lambdas import mutation_baseline as baseline
from tests.lambdas import mutation_score as ms

BODY = ['found = err.get("Error", {})', 'return found.get("Code") == "Gone"']
GUARD, NONE_DEFAULT, NO_DEFAULT = BODY[0], 'found = err.get("Error", None)', 'found = err.get("Error", )'
NEGATED = 'return found.get("Code") != "Gone"'


def write_results(root: Path, module: str, mutants: list[tuple[str, str, int | None]]) -> None:
    """mutants/lambdas/common/<module>.py(.meta): each mutant is (function, its changed line, exit code)."""
    source = []
    for function in dict.fromkeys(function for function, _, _ in mutants):
        source += [f"def x_{function}__mutmut_orig(err):", *(f"    {line}" for line in BODY)]
    codes = {}
    for n, (function, after, code) in enumerate(mutants, 1):
        # the changed line replaces the line of BODY that starts with the same word
        body = [after if after.split(" ")[0] == line.split(" ")[0] else line for line in BODY]
        source += [f"def x_{function}__mutmut_{n}(err):", *(f"    {line}" for line in body)]
        codes[f"lambdas.common.{module}.x_{function}__mutmut_{n}"] = code
    path = root / ms.PACKAGE / f"{module}.py"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(source) + "\n")
    path.with_name(f"{module}.py.meta").write_text(json.dumps({"exit_code_by_key": codes}))


def equivalent(module: str, after: str, function: str = "gone", before: str = GUARD) -> tuple[str, ...]:
    return (f"lambdas.common.{module}", function, before, after)


def test_a_mutant_is_described_by_its_function_and_changed_line(tmp_path):
    write_results(tmp_path, "keys", [("_value", NONE_DEFAULT, 0)])
    sources = ms._function_sources(tmp_path / ms.PACKAGE / "keys.py")
    mutant = ms.describe("lambdas.common.keys.x__value__mutmut_1", sources)
    assert mutant == ms.Mutant("lambdas.common.keys", "_value", GUARD, NONE_DEFAULT)


def test_the_score_counts_killed_among_killed_and_surviving_leaving_out_equivalents_and_unchecked(tmp_path):
    # GIVEN two killed (a failing test, a timeout), three survivors (one judged equivalent, one no
    # test reached), one not run and one whose run was interrupted
    write_results(
        tmp_path,
        "keys",
        [("gone", NEGATED, 1), ("gone", NONE_DEFAULT, 36), ("gone", NO_DEFAULT, 0), ("other", NEGATED, 0)]
        + [("other", NONE_DEFAULT, 33), ("other", NO_DEFAULT, None), ("other", NO_DEFAULT, 2)],
    )
    # WHEN it is tallied with the first survivor judged equivalent
    results = ms.tally(tmp_path, {equivalent("keys", NO_DEFAULT): "why"})
    # THEN 2 killed of 4 non-equivalent mutants: 50 %, and the two others are listed
    t = results.per_module["keys"]
    assert (t.killed, t.survived, t.equivalent, t.unchecked, t.score) == (2, 2, 1, 2, 50.0)
    assert [(m.function, m.after) for m in results.survivors] == [("other", NEGATED), ("other", NONE_DEFAULT)]


def test_an_equivalent_entry_that_matches_no_mutant_or_only_killed_ones_is_reported(tmp_path):
    write_results(
        tmp_path, "keys", [("gone", NONE_DEFAULT, 1), ("gone", NO_DEFAULT, 0), ("gone", NEGATED, None)]
    )
    entries = {
        equivalent("keys", NONE_DEFAULT): "killed by a test now",
        equivalent("keys", NO_DEFAULT): "still survives: fine",
        equivalent("keys", NEGATED, before=BODY[1]): "not run this time: nothing to say",
        equivalent("keys", NO_DEFAULT, before="found = err.get('Error')"): "its line changed",
        equivalent("ddb", NO_DEFAULT): "a module this run did not mutate",
    }
    results = ms.tally(tmp_path, entries)
    assert ms.equivalents_to_review(entries, results) == [
        f"equivalent entry killed by a test (remove it): lambdas.common.keys.gone: {GUARD!r}",
        "stale equivalent (matches no mutant): lambdas.common.keys.gone: \"found = err.get('Error')\"",
    ]


def tallies(**scores: tuple[int, int, int]) -> dict[str, ms.Tally]:
    """module=(killed, survived, unchecked)."""
    return {name: ms.Tally(killed=k, survived=s, unchecked=u) for name, (k, s, u) in scores.items()}


BASE = {
    "keys": baseline.Entry(90.0, 9, 1, 0, "2024-01-01"),
    "ddb": baseline.Entry(50.0, 1, 1, 0, "2024-01-01"),
    "clock": baseline.Entry(100.0, 4, 0, 0, "2024-01-01"),
}


def test_a_fully_measured_module_below_its_baseline_is_one_line_each():
    # keys dropped (8 of 10), ddb dropped but ran only in part, clock held, claims was never recorded,
    # lookups neither, and it ran only in part
    measured = tallies(keys=(8, 2, 0), ddb=(0, 1, 1), clock=(4, 0, 0), claims=(3, 1, 0), lookups=(1, 0, 2))
    drops, notes = baseline.compare(measured, BASE)
    assert drops == [
        "mutation score dropped: keys 80.0% < baseline 90.0% (2 survivors, 1 at the baseline of 2024-01-01)"
    ]
    assert notes == [
        "ddb: partly measured (1 unchecked), not compared",
        "claims: 75.0%, no baseline yet (record it: make mutation RECORD=1)",
        "lookups: partly measured (2 unchecked), not compared",
    ]


def test_a_score_at_its_baseline_after_rounding_holds_and_above_it_says_so():
    # 899 of 999 is 89.99 %, shown and compared as 90.0 %
    assert baseline.compare(tallies(keys=(899, 100, 0)), BASE) == ([], [])
    assert baseline.compare(tallies(keys=(10, 0, 0)), BASE) == (
        [],
        ["keys: 100.0% > baseline 90.0% (raise it: make mutation RECORD=1)"],
    )


def test_a_module_not_run_at_all_is_neither_compared_nor_mentioned():
    assert baseline.compare(tallies(keys=(0, 0, 7)), BASE) == ([], [])


def test_recording_replaces_only_the_fully_measured_modules_and_the_file_reads_back(tmp_path):
    recorded = baseline.record(tallies(keys=(8, 2, 0), ddb=(1, 0, 3), lookups=(5, 0, 0)), BASE, "2030-02-03")
    assert recorded == {
        "clock": BASE["clock"],
        "ddb": BASE["ddb"],
        "keys": baseline.Entry(80.0, 8, 2, 0, "2030-02-03"),
        "lookups": baseline.Entry(100.0, 5, 0, 0, "2030-02-03"),
    }
    path = tmp_path / "baseline.toml"
    path.write_text(baseline.render(recorded))
    assert baseline.load(path) == recorded
    assert tomllib.loads(path.read_text())["keys"]["score"] == 80.0
    assert baseline.load(tmp_path / "absent.toml") == {}


def run_main(tmp_path: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, list[str]]:
    args = ["--mutants", str(tmp_path), "--baseline", str(tmp_path / "baseline.toml")]
    args += ["--equivalents", str(tmp_path / "equivalents.toml"), *extra]
    code = ms.main(args)
    return code, capsys.readouterr().out.splitlines()


def test_make_mutation_fails_on_a_drop_and_records_a_baseline_on_request(tmp_path, capsys):
    (tmp_path / "equivalents.toml").write_text("")
    write_results(tmp_path, "keys", [("gone", NEGATED, 1), ("gone", NONE_DEFAULT, 0)])
    # GIVEN no baseline: the module is reported, nothing fails; then it is recorded at 50 %
    assert run_main(tmp_path, capsys)[0] == 0
    code, out = run_main(tmp_path, capsys, "--record-baseline")
    assert (code, out[-1]) == (0, f"baseline recorded in {tmp_path / 'baseline.toml'} for keys")
    assert baseline.load(tmp_path / "baseline.toml")["keys"].score == 50.0
    # WHEN a later run kills neither mutant
    write_results(tmp_path, "keys", [("gone", NEGATED, 0), ("gone", NONE_DEFAULT, 0)])
    code, out = run_main(tmp_path, capsys)
    # THEN it fails with the module's line
    assert code == 1
    assert out[-1].startswith("mutation score dropped: keys 0.0% < baseline 50.0% (2 survivors, 1 at the")
