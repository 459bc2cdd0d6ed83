"""Synthesized templates for alarm tests: the stack as it will deploy, cached on disk.

Synthesis runs in a child process (`python -m stacks.synth`, bundling skipped) and costs 10-20 s,
so each (stage, alert mode) template is cached in a temporary directory under a key that
changes whenever a source file that shapes the template changes.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from monitoring.evaluator.model import EvaluatorError

REPO = Path(__file__).resolve().parents[2]
_SOURCES = ("stacks", "monitoring", "automation", "runbooks")
CACHE_DIR = Path(tempfile.gettempdir()) / "byoip-alarm-templates"


def synthesize(stage: str, alert_mode: str) -> dict[str, Any]:
    """The CloudFormation template of ByoIpStack for one stage and alert mode (bundling skipped).

    Synthesized by `python -m stacks.synth` in a child process in its own session, as the CDK
    CLI runs app.py: this layer never imports the stack, the jsii kernel (a node process) lives
    and dies there, and Ctrl-C in a CLI never reaches it.
    """
    cmd = [sys.executable, "-m", "stacks.synth", stage, alert_mode]
    env = {**os.environ, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"}
    done = subprocess.run(
        cmd, cwd=REPO, env=env, capture_output=True, text=True, start_new_session=True, check=False
    )
    if done.returncode != 0:
        lines = [line for line in done.stderr.strip().splitlines() if line.strip()] or ["no output"]
        error = next((line for line in lines if line.startswith("error: ")), lines[-1])
        raise EvaluatorError(
            f"cannot synthesize stage {stage!r} ({alert_mode}): {error.removeprefix('error: ')}"
        )
    return json.loads(done.stdout)


def source_digest() -> str:
    """A hash of every source file that shapes the template (the evaluator excluded)."""
    digest = hashlib.sha256()
    for top in _SOURCES:
        for path in sorted((REPO / top).rglob("*")):
            if (
                path.is_file()
                and "evaluator" not in path.parts
                and path.suffix in (".py", ".j2", ".md", ".json", ".yaml")
            ):
                digest.update(str(path.relative_to(REPO)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def cached_template(stage: str, alert_mode: str, cache_dir: Path = CACHE_DIR) -> dict[str, Any]:
    """The template, synthesized once per source state and cached as JSON."""
    path = cache_dir / f"{stage}-{alert_mode}-{source_digest()}.json"
    if path.exists():
        return json.loads(path.read_text())
    template = synthesize(stage, alert_mode)
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
