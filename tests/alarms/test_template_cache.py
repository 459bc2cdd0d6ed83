"""The template cache key covers every input of the synth (monitoring/evaluator/templates.py).

Keys are computed over a small git checkout in a temporary directory, never the real repo.
"""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
from pathlib import Path

import pytest

from monitoring.evaluator import templates
from monitoring.evaluator.model import EvaluatorError

FILES = {
    "app.py": "build(app)\n",
    "cdk.json": '{"app": "python app.py"}\n',
    "pyproject.toml": "[project]\nname = 'x'\n",
    "requirements.lock": "aws-cdk-lib==2.200.0 --hash=sha256:aa\n",
    "package.json": '{"devDependencies": {"aws-cdk": "2.1"}}\n',
    "package-lock.json": '{"lockfileVersion": 3}\n',
    "contract/names.py": "PREFIX = 'byoip'\n",
    "lambdas/common/metrics.py": "BATCH_ITEMS = 'BatchItems'\n",
    "lambdas/common/settings.py": "DEFAULT_ASSIGN_DEADLINE_SECONDS = 60\n",
    "stacks/byoip_stack.py": "class ByoIpStack: ...\n",
    "monitoring/catalog.py": "ALARMS = ()\n",
    "runbooks/templates/a.md.j2": "# A\n",
    "automation/documents.py": "DOCS = ()\n",
    "tests/alarms/test_x.py": "def test(): ...\n",
    "monitoring/alarm_tests/a.yaml": "tests: []\n",
    "monitoring/evaluator/engine.py": "class Evaluator: ...\n",
    "docs/alarms.md": "# Alarms\n",
}
INPUTS = [name for name in FILES if not name.startswith(templates.NOT_SYNTH_INPUTS)]
NOT_INPUTS = [name for name in FILES if name.startswith(templates.NOT_SYNTH_INPUTS)]


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git checkout with one file of each kind, committed, plus an ignored venv file."""
    for name, text in {**FILES, ".gitignore": ".venv/\n", ".venv/lib/site.py": "x\n"}.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    for cmd in (
        ["init", "-q"],
        ["add", "-A"],
        ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "x"],
    ):
        subprocess.run(["git", *cmd], cwd=tmp_path, check=True, capture_output=True)
    return tmp_path


def test_the_inputs_are_every_file_but_tests_docs_and_the_evaluator(repo):
    assert templates.synth_inputs(repo) == sorted([".gitignore", *INPUTS])
    assert {"contract/names.py", "lambdas/common/metrics.py", "requirements.lock", "app.py"} <= set(INPUTS)


@pytest.mark.parametrize("name", INPUTS)
def test_changing_any_synth_input_changes_the_key(repo, name):
    before = templates.source_digest(repo)
    (repo / name).write_text((repo / name).read_text() + "# changed\n")
    assert templates.source_digest(repo) != before


@pytest.mark.parametrize("name", NOT_INPUTS)
def test_editing_a_test_or_a_doc_keeps_the_key(repo, name):
    before = templates.source_digest(repo)
    (repo / name).write_text((repo / name).read_text() + "# changed\n")
    assert templates.source_digest(repo) == before


def test_a_new_untracked_source_changes_the_key_an_ignored_file_does_not(repo):
    before = templates.source_digest(repo)
    (repo / ".venv" / "lib" / "other.py").write_text("y\n")
    assert templates.source_digest(repo) == before
    (repo / "stacks" / "new_construct.py").write_text("class New: ...\n")
    assert templates.source_digest(repo) != before


def test_a_renamed_file_changes_the_key(repo):
    before = templates.source_digest(repo)
    (repo / "contract" / "names.py").rename(repo / "contract" / "names2.py")
    assert templates.source_digest(repo) != before


def test_the_toolchain_is_part_of_the_key(repo, monkeypatch):
    chain = templates.toolchain()
    assert chain.startswith(sys.version + "\n")
    assert f"aws-cdk-lib=={importlib.metadata.version('aws-cdk-lib')}" in chain.splitlines()
    before = templates.source_digest(repo)
    monkeypatch.setattr(templates, "toolchain", lambda: chain.replace(sys.version, "3.99.0"))
    assert templates.source_digest(repo) != before


def test_a_read_outside_the_key_is_an_error_not_a_cached_template(tmp_path, monkeypatch):
    monkeypatch.setattr(templates, "_synthesize_reading", lambda s, m: ({}, {"tests/conftest.py", "app.py"}))
    with pytest.raises(EvaluatorError, match=r"the synth read tests/conftest\.py, which the template cache"):
        templates.cached_template("test", "all", cache_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_the_cache_synthesizes_once_per_key(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(
        templates, "_synthesize_reading", lambda s, m: (calls.append(s) or {"n": len(calls)}, set())
    )
    monkeypatch.setattr(templates, "source_digest", lambda: "k1")
    assert templates.cached_template("test", "all", cache_dir=tmp_path) == {"n": 1}
    assert templates.cached_template("test", "all", cache_dir=tmp_path) == {"n": 1}
    monkeypatch.setattr(templates, "source_digest", lambda: "k2")
    assert templates.cached_template("test", "all", cache_dir=tmp_path) == {"n": 2}


def test_the_real_synth_reads_only_covered_files():
    """One real synthesis: what its Python side opened or imported is all inside the key."""
    template, reads = templates._synthesize_reading("test", "composite")
    assert "Resources" in template
    assert {"cdk.json", "contract/config.py", "lambdas/common/metrics.py", "monitoring/catalog.py"} <= reads
    assert reads <= set(templates.synth_inputs())
