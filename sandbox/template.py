"""The synthesized CloudFormation template: synthesis for a stage and intrinsic resolution.

The sandbox mirrors what deploys, so every name, attribute and environment variable it
uses is read from the template CDK synthesizes, and `Ref` / `Fn::GetAtt` / `Fn::Join` /
`Fn::Sub` / `Fn::Select` / `Fn::Split` are resolved against the resources the sandbox
created in moto.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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
    """Synthesize the stack in-process (no bundling) and return its template."""
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
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


@dataclass
class Resolver:
    """Resolves intrinsic functions against physical ids and attributes of created resources."""

    template: dict[str, Any]
    refs: dict[str, Any] = field(default_factory=dict)
    attrs: dict[tuple[str, str], Any] = field(default_factory=dict)

    def resources(self, cfn_type: str) -> Iterator[tuple[str, dict[str, Any]]]:
        """(logical id, Properties) of every resource of a type, in template order."""
        for logical_id, res in self.template.get("Resources", {}).items():
            if res.get("Type") == cfn_type:
                yield logical_id, res.get("Properties", {})

    def logical_type(self, logical_id: str) -> str:
        return self.template.get("Resources", {}).get(logical_id, {}).get("Type", "")

    def set(self, logical_id: str, ref: Any, **attrs: Any) -> None:
        """Record what `Ref` and `Fn::GetAtt` return for a created resource."""
        self.refs[logical_id] = ref
        for name, value in attrs.items():
            self.attrs[(logical_id, name)] = value

    def resolve(self, value: Any) -> Any:
        """Resolve intrinsics recursively; raise TemplateError on anything unresolvable."""
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref":
                return self._ref(arg)
            if key == "Fn::GetAtt":
                logical_id, attr = arg if isinstance(arg, list) else arg.split(".", 1)
                return self._getatt(logical_id, attr)
            if key == "Fn::Join":
                sep, parts = arg
                return sep.join(str(self.resolve(p)) for p in self.resolve(parts))
            if key == "Fn::Sub":
                return self._sub(arg)
            if key == "Fn::Select":
                index, items = arg
                return self.resolve(items)[int(self.resolve(index))]
            if key == "Fn::Split":
                sep, text = arg
                return str(self.resolve(text)).split(sep)
        return {k: self.resolve(v) for k, v in value.items()}

    def _ref(self, name: str) -> Any:
        if name in PSEUDO:
            return PSEUDO[name]
        if name in self.refs:
            return self.refs[name]
        if name in self.template.get("Parameters", {}):
            return self.template["Parameters"][name].get("Default")
        if name in self.template.get("Resources", {}):
            # Resources the sandbox does not emulate still get a stable physical id.
            return f"local-{name}"
        raise TemplateError(f"template refers to unknown resource {name!r}")

    def _getatt(self, logical_id: str, attr: str) -> Any:
        if (logical_id, attr) in self.attrs:
            return self.attrs[(logical_id, attr)]
        if logical_id not in self.template.get("Resources", {}):
            raise TemplateError(f"template refers to unknown resource {logical_id!r}")
        if attr == "Arn":
            service = self.logical_type(logical_id).split("::")[1].lower()
            return f"arn:aws:{service}:{REGION}:{ACCOUNT}:{self._ref(logical_id)}"
        return f"local-{logical_id}-{attr}"

    def _sub(self, arg: Any) -> str:
        text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], self.resolve(arg[1]))

        def repl(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in variables:
                return str(variables[name])
            if "." in name:
                logical_id, attr = name.split(".", 1)
                return str(self._getatt(logical_id, attr))
            return str(self._ref(name))

        return re.sub(r"\$\{([^}!]+)\}", repl, text)
