"""The import contracts in pyproject.toml hold, and break when a layer imports upwards."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("stacks", "sandbox", "automation", "runbooks", "monitoring", "contract", "lambdas")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(root / "pyproject.toml"), "--no-cache"],
        cwd=root,
        env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin", "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_tree_keeps_every_contract():
    done = _lint(REPO)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Contracts: 3 kept, 0 broken." in done.stdout


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of the packages (Python files only) and pyproject.toml, to break on purpose."""
    for package in PACKAGES:
        shutil.copytree(
            REPO / package,
            tmp_path / package,
            ignore=lambda _dir, names: [n for n in names if n == "__pycache__" or n.endswith(".pyc")],
        )
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


@pytest.mark.parametrize(
    ("module", "line", "broken"),
    [
        ("monitoring/upward.py", "from stacks.byoip_stack import ByoIpStack", "nothing imports upwards"),
        ("runbooks/upward.py", "from automation import documents", "nothing imports upwards"),
        ("automation/sideways.py", "from sandbox import cli", "nothing imports upwards"),
        ("lambdas/common/upward.py", "from contract.names import Names", "nothing imports upwards"),
        ("contract/cdk.py", "import aws_cdk", "CDK stays in the stack"),
        ("runbooks/cdk.py", "from monitoring.layer import MonitoringLayer", "CDK stays in the stack"),
        ("automation/commands/moto.py", "import moto", "runs without the sandbox extra"),
    ],
)
def test_an_upward_or_forbidden_import_breaks_a_contract(tree, module, line, broken):
    (tree / module).write_text(f"{line}\n")
    done = _lint(tree)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "0 broken" not in done.stdout
    # A contract with ignored imports reports them after its verdict: "BROKEN (1 ignored import)".
    verdict = re.compile(r"BROKEN( \(\d+ ignored imports?\))?$")
    assert any(broken in row and verdict.search(row.rstrip()) for row in done.stdout.splitlines())
