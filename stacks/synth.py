"""The one in-process synthesis of the app: `build` (stack + cdk-nag) and `template_of`.

app.py (under the CDK CLI) and the infra tests call `build`. Layers below the stack never import
this module: tools that need a template (the alarm tests, the sandbox) run
`python -m stacks.synth <stage> <alert-mode>` in a child process and read the JSON it prints
(monitoring/evaluator/templates.py), as the CDK CLI itself runs app.py.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from contract.config import Config, ConfigError
from stacks.byoip_stack import ByoIpStack

CDK_JSON = Path(__file__).resolve().parent.parent / "cdk.json"


def app_context(*, bundling: bool) -> dict[str, Any]:
    """cdk.json's context (the feature flags the CDK CLI passes to app.py); no bundling if asked."""
    context: dict[str, Any] = dict(json.loads(CDK_JSON.read_text()).get("context", {}))
    if not bundling:
        context["aws:cdk:bundling-stacks"] = []
    return context


def build(app: cdk.App, config: Config, *, nag: bool = True) -> ByoIpStack:
    """Add the stage's stack to `app`; with `nag`, cdk-nag's AwsSolutions pack checks it at synth."""
    stack = ByoIpStack(
        app,
        config.stack_name,
        config=config,
        description=f"BYO-IP backend ({config.stage})",
        # prod cannot be deleted by `cdk destroy` or a console click; other stages come and go.
        termination_protection=config.stage == "prod",
    )
    if nag:
        cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return stack


def template_of(config: Config) -> dict[str, Any]:
    """The stage's CloudFormation template, synthesized here without bundling or nag."""
    with tempfile.TemporaryDirectory(prefix="byoip-synth-") as outdir:
        app = cdk.App(outdir=outdir, context=app_context(bundling=False))
        build(app, config, nag=False)
        return app.synth().get_stack_by_name(config.stack_name).template


# The local tools' operator (moto's default account): the sandbox deploys the template with it as
# the one principal TokenIssuer and PatchRelease trust. A real deploy names its own (app.py).
LOCAL_OPERATOR = "arn:aws:iam::123456789012:role/byoip-local-operator"


def main(argv: list[str]) -> int:
    """`python -m stacks.synth STAGE ALERT_MODE`: the template as JSON on stdout (local tools: the
    sandbox and the alarm tests; TokenIssuer and PatchRelease trust LOCAL_OPERATOR)."""
    if len(argv) != 2:
        print("usage: python -m stacks.synth STAGE ALERT_MODE", file=sys.stderr)
        return 2
    try:
        config = Config(stage=argv[0], alert_mode=argv[1], trusted_principals=(LOCAL_OPERATOR,))
    except ConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    json.dump(template_of(config), sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
