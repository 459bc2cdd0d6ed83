"""tests/lambdas/mutation_score.py: mutmut's exit codes → killed / survived / equivalent / unchecked."""

from __future__ import annotations

import json
from pathlib import Path

from tests.lambdas import mutation_score as ms

MUTATED = """
def x_limit__mutmut_orig(n):
    return n < 10

def x_limit__mutmut_1(n):
    return n <= 10

def x_limit__mutmut_2(n):
    return n < 11

def x_limit__mutmut_3(n):
    return n > 10

def x_limit__mutmut_4(n):
    return n == 10

class Box:
    def xǁBoxǁget__mutmut_orig(self):
        return 1
    def xǁBoxǁget__mutmut_1(self):
        return 2
"""


def _results(tmp_path: Path, codes: dict[str, int | None]) -> Path:
    package = tmp_path / "lambdas" / "common"
    package.mkdir(parents=True)
    (package / "thing.py").write_text(MUTATED)
    (package / "thing.py.meta").write_text(json.dumps({"exit_code_by_key": codes}))
    (package / "empty.py.meta").write_text(json.dumps({"exit_code_by_key": {}}))
    return tmp_path


def test_a_mutant_is_described_by_its_function_and_changed_line(tmp_path):
    sources = ms._function_sources(_results(tmp_path, {}) / "lambdas/common/thing.py")
    assert ms.describe("lambdas.common.thing.x_limit__mutmut_2", sources) == ms.Mutant(
        "lambdas.common.thing", "limit", "return n < 10", "return n < 11"
    )
    assert ms.describe("lambdas.common.thing.xǁBoxǁget__mutmut_1", sources) == ms.Mutant(
        "lambdas.common.thing", "Box.get", "return 1", "return 2"
    )


def test_killed_timeouts_survivors_equivalents_and_unchecked_are_counted_apart(tmp_path):
    mutants = _results(
        tmp_path,
        {
            "lambdas.common.thing.x_limit__mutmut_1": 0,  # survived, judged equivalent below
            "lambdas.common.thing.x_limit__mutmut_2": 0,  # survived
            "lambdas.common.thing.x_limit__mutmut_3": 1,  # killed
            "lambdas.common.thing.x_limit__mutmut_4": 36,  # timed out: killed
            "lambdas.common.thing.xǁBoxǁget__mutmut_1": None,  # not run yet
        },
    )
    equivalents = {("lambdas.common.thing", "limit", "return n < 10", "return n <= 10"): "why"}
    results = ms.tally(mutants, equivalents)
    per_module, survivors = results.per_module, results.survivors
    assert per_module == {"thing": ms.Tally(killed=2, survived=1, equivalent=1, unchecked=1)}
    assert survivors == [ms.Mutant("lambdas.common.thing", "limit", "return n < 10", "return n < 11")]
    assert per_module["thing"].score == 100 * 2 / 3
    lines, total = ms.report(per_module)
    assert total == ms.Tally(killed=2, survived=1, equivalent=1, unchecked=1)
    assert lines[-1].split() == ["lambdas/common", "2", "1", "1", "1", "66.7%"]


def test_no_tests_counts_as_survived(tmp_path):
    per_module = ms.tally(_results(tmp_path, {"lambdas.common.thing.x_limit__mutmut_3": 33}), {}).per_module
    assert per_module["thing"] == ms.Tally(survived=1)


def test_main_prints_the_score_and_fails_below_the_minimum(tmp_path, capsys):
    mutants = _results(
        tmp_path, {"lambdas.common.thing.x_limit__mutmut_3": 1, "lambdas.common.thing.x_limit__mutmut_2": 0}
    )
    assert ms.main(["--mutants", str(mutants), "--min", "50"]) == 0
    assert ms.main(["--mutants", str(mutants), "--min", "50.1"]) == 1
    assert "mutation score: 50.0% of 2 non-equivalent mutants killed" in capsys.readouterr().out
    assert ms.main(["--mutants", str(tmp_path / "nothing")]) == 2
    assert capsys.readouterr().err.startswith("error: no mutmut results under ")


def test_every_listed_equivalent_has_a_reason():
    for key, reason in ms.load_equivalents().items():
        assert len(key) == 4 and all(key) and len(reason) > 20, key
