#!/usr/bin/env python3
"""CDK entry point: the only place that reads environment variables and CDK context."""

from __future__ import annotations

import os
import sys

import aws_cdk as cdk

from contract.config import Config, ConfigError
from stacks.synth import build


def main() -> int:
    """Read the configuration, build and synthesize; a bad setting is one line on stderr, exit 2."""
    app = cdk.App()
    try:
        config = Config.from_sources(app.node.try_get_context, os.environ)
        build(app, config)
    except ConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
