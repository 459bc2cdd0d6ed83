"""`byoip alarms` bad input through the real entry point: one line, exit 2 (1 means tests failed)."""

import pytest
from click.testing import CliRunner

from tests.automation.conftest import EntryPoint


def _run(*args):
    return CliRunner().invoke(EntryPoint(), ["alarms", *map(str, args)])


@pytest.fixture
def test_file(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text("tests: []\n")
    return path


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["test", "{file}", "--template", "/nonexistent.json"],
            "error: cannot read template /nonexistent.json: "
            "[Errno 2] No such file or directory: '/nonexistent.json'",
        ),
        (["test", "missing.yaml"], "error: no such alarm test file: missing.yaml"),
        (
            ["test", "{file}", "missing.yaml", "gone.yaml"],
            "error: no such alarm test file: missing.yaml, gone.yaml",
        ),
        (
            ["list", "--stage", "Bad_Stage"],
            "error: invalid STAGE 'Bad_Stage': use 1-20 lowercase letters, digits or '-', "
            "starting with a letter (e.g. prod, staging, local)",
        ),
        (
            ["list", "--alert-mode", "bogus"],
            "error: invalid ALERT_MODE 'bogus': allowed values are composite | all",
        ),
    ],
    ids=["template", "missing-file", "missing-files", "stage", "alert-mode"],
)
def test_bad_input_is_one_line_exit_2(test_file, args, message):
    result = _run(*(str(test_file) if a == "{file}" else a for a in args))
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [message]
    assert result.stdout == ""
