"""`make soak`'s runner: bad input is one error line; a batch from a seed prints its figures."""

from __future__ import annotations

import pytest

from tests.simulation import soak


@pytest.mark.parametrize(
    ("argv", "line"),
    [
        (["--minutes", "abc"], "error: argument --minutes: invalid float value: 'abc'"),
        (["--minutes", "0"], "error: --minutes must be > 0, --examples and --steps >= 1, --batches >= 0"),
        (["--steps", "0"], "error: --minutes must be > 0, --examples and --steps >= 1, --batches >= 0"),
    ],
)
def test_bad_input_is_one_error_line_and_exit_2(argv, line, capsys):
    with pytest.raises(SystemExit) as exited:
        code = soak.main(argv)
        raise SystemExit(code)
    assert exited.value.code == 2
    assert capsys.readouterr().err.strip() == line


def test_one_batch_from_a_seed_prints_its_figures(capsys):
    assert soak.main(["--seed", "7", "--batches", "1", "--examples", "2", "--steps", "5"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("batch 1 seed 7: ok")
    assert "\nsoak: 1 batches in " in out and ", first seed 7\n" in out
    assert "\nviolating batches: 0\n" in out
