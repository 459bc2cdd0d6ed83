"""Synthesized templates for alarm tests: the stack as it will deploy, cached on disk.

Synthesis runs in a child process (`python -m stacks.synth`, bundling skipped) and costs 10-20 s,
so each (stage, alert mode) template is cached in a temporary directory under a key that covers
every input of the synth: every file of the repo (tracked, or untracked and not ignored) except
the few the synth never reads (`NOT_SYNTH_INPUTS`), so contract/, lambdas/, app.py, cdk.json,
pyproject.toml and the lock files all count; plus the toolchain (Python, Node, every installed
distribution's version, CDK_* and JSII_* variables). The exclusions are checked, not trusted:
each synthesis records the repo files its Python side opened or imported, and a read outside
the key is an error rather than a cache that could serve a stale template.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from monitoring.evaluator.model import EvaluatorError

REPO = Path(__file__).resolve().parents[2]
CACHE_DIR = Path(tempfile.gettempdir()) / "byoip-alarm-templates"
# Read by the tests, the CLI or people, never by `python -m stacks.synth` (checked at each synth).
NOT_SYNTH_INPUTS = (
    ".ci/",
    "benchmarks/",
    "docs/",
    "monitoring/alarm_tests/",
    "monitoring/evaluator/",
    "sandbox/",
    "scripts/",
    "tests/",
    "Makefile",
    "README.md",
)
# Runs stacks.synth as `python -m` would, and writes every file it opened or imported to argv[-1].
_PROBE = """
import os, runpy, sys
out = sys.argv.pop()
read = set()
def hook(event, args):
    if event == "open" and isinstance(args[0], (str, bytes, os.PathLike)):
        read.add(os.fsdecode(args[0]))
sys.addaudithook(hook)
try:
    runpy.run_module("stacks.synth", run_name="__main__", alter_sys=True)
finally:
    read.update(str(getattr(m, "__file__", None) or "") for m in list(sys.modules.values()))
    with open(out, "w") as f:
        f.write("\\n".join(sorted(read)))
"""


def synthesize(stage: str, alert_mode: str) -> dict[str, Any]:
    """The CloudFormation template of ByoIpStack for one stage and alert mode (bundling skipped).

    Synthesized by `python -m stacks.synth` in a child process in its own session, as the CDK
    CLI runs app.py: this layer never imports the stack, the jsii kernel (a node process) lives
    and dies there, and Ctrl-C in a CLI never reaches it.
    """
    return _synthesize_reading(stage, alert_mode)[0]


def _synthesize_reading(stage: str, alert_mode: str) -> tuple[dict[str, Any], set[str]]:
    """The template and the repo files (relative paths) the synth opened or imported."""
    env = {**os.environ, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"}
    with tempfile.TemporaryDirectory(prefix="byoip-synth-reads-") as tmp:
        reads_file = Path(tmp) / "reads"
        cmd = [sys.executable, "-c", _PROBE, stage, alert_mode, str(reads_file)]
        done = subprocess.run(
            cmd, cwd=REPO, env=env, capture_output=True, text=True, start_new_session=True, check=False
        )
        reads = reads_file.read_text().splitlines() if reads_file.exists() else []
    if done.returncode != 0:
        lines = [line for line in done.stderr.strip().splitlines() if line.strip()] or ["no output"]
        error = next((line for line in lines if line.startswith("error: ")), lines[-1])
        raise EvaluatorError(
            f"cannot synthesize stage {stage!r} ({alert_mode}): {error.removeprefix('error: ')}"
        )
    return json.loads(done.stdout), _repo_files(reads, REPO)


def _repo_files(paths: list[str], repo: Path) -> set[str]:
    """Paths inside `repo` as repo-relative posix strings; the venv, node_modules and bytecode left out."""
    out = set()
    for raw in paths:
        path = Path(raw) if os.path.isabs(raw) else repo / raw
        try:
            rel = path.resolve().relative_to(repo.resolve()).as_posix()
        except ValueError:
            continue
        if not rel.startswith((".venv/", "node_modules/")) and "__pycache__" not in rel and path.is_file():
            out.add(rel)
    return out


def synth_inputs(repo: Path = REPO) -> list[str]:
    """Every repo file the cache key covers: tracked or untracked-not-ignored, minus NOT_SYNTH_INPUTS."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=repo,
        capture_output=True,
        check=False,
    )
    if listed.returncode != 0:
        raise EvaluatorError(f"cannot list the sources in {repo}: {listed.stderr.decode().strip()}")
    files = {name for name in listed.stdout.decode().split("\0") if name}
    return sorted(f for f in files if not f.startswith(NOT_SYNTH_INPUTS) and (repo / f).is_file())


@functools.cache
def toolchain() -> str:
    """What the synth runs on besides the repo: Python, Node, installed packages, CDK/JSII settings."""
    try:
        node = subprocess.run(["node", "--version"], capture_output=True, text=True, check=False).stdout
    except OSError:
        node = "no node"
    packages = sorted(f"{d.metadata['Name']}=={d.version}" for d in importlib.metadata.distributions())
    settings = sorted(f"{k}={v}" for k, v in os.environ.items() if k.startswith(("CDK_", "JSII_")))
    return "\n".join([sys.version, node.strip(), *packages, *settings])


def source_digest(repo: Path = REPO) -> str:
    """The cache key: a hash of every synth input file (path and bytes) and of the toolchain."""
    digest = hashlib.sha256(toolchain().encode())
    for name in synth_inputs(repo):
        digest.update(b"\0" + name.encode() + b"\0")
        digest.update((repo / name).read_bytes())
    return digest.hexdigest()[:16]


def cached_template(stage: str, alert_mode: str, cache_dir: Path = CACHE_DIR) -> dict[str, Any]:
    """The template, synthesized once per source state and cached as JSON."""
    path = cache_dir / f"{stage}-{alert_mode}-{source_digest()}.json"
    if path.exists():
        return json.loads(path.read_text())
    template, reads = _synthesize_reading(stage, alert_mode)
    uncovered = sorted(reads - set(synth_inputs()))
    if uncovered:
        raise EvaluatorError(
            f"the synth read {', '.join(uncovered)}, which the template cache key does not cover "
            "(monitoring/evaluator/templates.py, NOT_SYNTH_INPUTS)"
        )
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(template))
    tmp.replace(path)  # atomic: parallel test workers never read a half-written file
    return template


def file_template(path: Path) -> dict[str, Any]:
    """A template written by `make synth` (cdk.out/<StackName>.template.json)."""
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise EvaluatorError(f"cannot read template {path}: {exc}") from None
