#!/usr/bin/env python3
"""CDK entry point: the only place that reads environment variables and CDK context."""

from __future__ import annotations

import os
import sys

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from stacks.byoip_stack import ByoIpStack
from stacks.config import Config, ConfigError


def build(app: cdk.App, config: Config) -> ByoIpStack:
    """Add the stage's stack to `app` and check the app with cdk-nag's AwsSolutions pack at synth."""
    stack = ByoIpStack(
        app,
        config.stack_name,
        config=config,
        description=f"BYO-IP backend ({config.stage})",
        # prod cannot be deleted by `cdk destroy` or a console click; other stages come and go.
        termination_protection=config.stage == "prod",
    )
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return stack


def main() -> int:
    """Read the configuration, build and synthesize; a bad setting is one line on stderr, exit 2."""
    app = cdk.App()
    try:
        config = Config.from_sources(app.node.try_get_context, os.environ)
    except ConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    build(app, config)
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
