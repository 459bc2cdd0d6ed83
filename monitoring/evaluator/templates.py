"""Synthesized templates for alarm tests: the stack as it will deploy, cached on disk.

Synthesis runs in-process (Config + ByoIpStack, Lambda bundling skipped) and costs 10-20 s,
so each (stage, alert mode) template is cached in a temporary directory under a key that
changes whenever a source file that shapes the template changes.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from monitoring.evaluator.model import EvaluatorError

REPO = Path(__file__).resolve().parents[2]
_SOURCES = ("stacks", "monitoring", "automation", "runbooks")
CACHE_DIR = Path(tempfile.gettempdir()) / "byoip-alarm-templates"


def synthesize(stage: str, alert_mode: str) -> dict[str, Any]:
    """The CloudFormation template of ByoIpStack for one stage and alert mode."""
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    import aws_cdk as cdk

    from stacks.byoip_stack import ByoIpStack
    from stacks.config import Config, ConfigError

    try:
        config = Config(stage=stage, alert_mode=alert_mode)
    except ConfigError as exc:
        raise EvaluatorError(str(exc)) from None
    # The CDK CLI passes cdk.json's context (feature flags) to app.py; an in-process App needs it too.
    context = json.loads((REPO / "cdk.json").read_text()).get("context", {})
    context.update({"aws:cdk:bundling-stacks": [], "stage": stage, "alertMode": alert_mode})
    with tempfile.TemporaryDirectory(prefix="byoip-alarm-synth-") as outdir:
        try:
            app = cdk.App(outdir=outdir, context=context)
            ByoIpStack(app, config.stack_name, config=config)
            return app.synth().get_stack_by_name(config.stack_name).template
        except Exception as exc:  # jsii surfaces every CDK failure as a bare RuntimeError
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise EvaluatorError(f"cannot synthesize stage {stage!r} ({alert_mode}): {first}") from None


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
