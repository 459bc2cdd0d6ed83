"""The synthesized CloudFormation template and intrinsic resolution against the sandbox's resources.

The sandbox mirrors what deploys, so every name, attribute and environment variable it
uses is read from the template CDK synthesizes, and `Ref` / `Fn::GetAtt` / `Fn::Join` /
`Fn::Sub` / `Fn::Select` / `Fn::Split` are resolved against the resources the sandbox
created in moto.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from contract.names import Names
from monitoring.evaluator.intrinsics import TemplateResolver
from monitoring.evaluator.model import EvaluatorError
from monitoring.evaluator.templates import synthesize

__all__ = ["ACCOUNT", "PSEUDO", "REGION", "Resolver", "TemplateError", "load_template", "synthesize"]

REPO_ROOT = Path(__file__).resolve().parent.parent
ACCOUNT = "123456789012"
REGION = "us-east-1"
PSEUDO = {
    "AWS::AccountId": ACCOUNT,
    "AWS::Region": REGION,
    "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::StackName": Names("local").stack,
    "AWS::NoValue": None,
}


class TemplateError(ValueError):
    """The template lacks something the sandbox needs; the message names it."""


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
