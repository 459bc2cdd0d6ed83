"""The synthesized CloudFormation template: synthesis for a stage and intrinsic resolution.

The sandbox mirrors what deploys, so every name, attribute and environment variable it
uses is read from the template CDK synthesizes, and `Ref` / `Fn::GetAtt` / `Fn::Join` /
`Fn::Sub` / `Fn::Select` / `Fn::Split` are resolved against the resources the sandbox
created in moto.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from monitoring.evaluator.intrinsics import TemplateResolver
from monitoring.evaluator.model import EvaluatorError

REPO_ROOT = Path(__file__).resolve().parent.parent
ACCOUNT = "123456789012"
REGION = "us-east-1"
PSEUDO = {
    "AWS::AccountId": ACCOUNT,
    "AWS::Region": REGION,
    "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::StackName": "HuntazeByoIpStack-local",
    "AWS::NoValue": None,
}


class TemplateError(ValueError):
    """The template lacks something the sandbox needs; the message names it."""


def synthesize(stage: str = "local", alert_mode: str = "composite") -> dict[str, Any]:
    """Synthesize the stack (no bundling) in a child process and return its template.

    A child process, in its own session: the jsii kernel (a node process) lives and dies
    there, so Ctrl-C in the CLI never reaches it and no jsii atexit hook runs in this process.
    """
    cmd = [sys.executable, "-m", "sandbox.template", stage, alert_mode]
    env = {**os.environ, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"}
    done = subprocess.run(
        cmd, cwd=REPO_ROOT, env=env, capture_output=True, text=True, start_new_session=True, check=False
    )
    if done.returncode != 0:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise TemplateError(f"synthesizing stage {stage} failed: {tail}")
    return json.loads(done.stdout)


def _synthesize_here(stage: str, alert_mode: str) -> dict[str, Any]:
    import aws_cdk as cdk

    from stacks.byoip_stack import ByoIpStack
    from stacks.config import Config

    config = Config(stage=stage, alert_mode=alert_mode)
    # The CDK CLI reads cdk.json's context (feature flags); an in-process App must be given it.
    context = json.loads((REPO_ROOT / "cdk.json").read_text()).get("context", {})
    context.update({"aws:cdk:bundling-stacks": [], "stage": stage, "alertMode": alert_mode})
    with tempfile.TemporaryDirectory(prefix="byoip-synth-") as outdir:
        app = cdk.App(outdir=outdir, context=context)
        ByoIpStack(app, config.stack_name, config=config)
        assembly = app.synth()
        return assembly.get_stack_by_name(config.stack_name).template


def load_template(path: Path) -> dict[str, Any]:
    """Read a template written by `make synth` (cdk.out/<StackName>.template.json)."""
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise TemplateError(f"cannot read template {path}: {exc}") from exc


class Resolver(TemplateResolver):
    """The evaluator's intrinsic resolver, plus the sandbox's physical ids and lookups by type."""

    def __init__(self, template: dict[str, Any]) -> None:
        super().__init__(template, stack_name=PSEUDO["AWS::StackName"])
        self.template = template

    def of_type(self, cfn_type: str) -> Iterator[tuple[str, dict[str, Any]]]:
        """(logical id, Properties) of every resource of a type, in template order."""
        for logical_id, res in self.template.get("Resources", {}).items():
            if res.get("Type") == cfn_type:
                yield logical_id, res.get("Properties", {})

    def set(self, logical_id: str, ref: Any, **attrs: Any) -> None:
        """Record what `Ref` and `Fn::GetAtt` return for a resource created in moto."""
        self.refs[logical_id] = ref
        for name, value in attrs.items():
            self.attrs[(logical_id, name)] = value

    def _get_att(self, arg: Any) -> Any:
        try:
            return super()._get_att(arg)
        except EvaluatorError:
            # Attributes of resources the sandbox does not emulate (endpoints, ids) only
            # appear in places it overrides; a stable placeholder keeps resolution going.
            logical_id, attr = arg.split(".", 1) if isinstance(arg, str) else arg
            return f"local-{logical_id}-{attr}"


if __name__ == "__main__":  # the child process of synthesize(): the template as JSON on stdout
    json.dump(_synthesize_here(sys.argv[1], sys.argv[2]), sys.stdout)
