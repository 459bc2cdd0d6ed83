"""Synthesized ByoIpStack templates, built once per (stage, alert mode) per test session.

The app is built exactly as app.py builds it (same feature flags from cdk.json, cdk-nag
plugin included), with Lambda bundling skipped so no pip install runs in the tests.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

import aws_cdk as cdk  # noqa: E402
from aws_cdk.assertions import Template  # noqa: E402

from contract.config import Config  # noqa: E402
from stacks.byoip_stack import ByoIpStack  # noqa: E402
from stacks.synth import LOCAL_OPERATOR, app_context, build  # noqa: E402


def deployable(**settings: Any) -> Config:
    """A config synth accepts: the local operator is the one principal the operators' roles trust."""
    return Config(trusted_principals=(LOCAL_OPERATOR,), **settings)


@dataclass(frozen=True)
class Synth:
    """One synthesized stage: its template (dict and assertions view) and the cdk-nag report."""

    config: Config
    stack: ByoIpStack
    template_dict: dict[str, Any]
    template: Template
    validation_report: dict[str, Any]
    template_path: Path


def synthesize(config: Config, outdir: Path) -> Synth:
    """Synthesize the app for `config` into `outdir`, keeping the template even if nag objects."""
    context = {**app_context(bundling=False), "aws:cdk:enable-path-metadata": True}
    app = cdk.App(outdir=str(outdir), context=context)
    stack = build(app, config)
    try:
        app.synth()
    except RuntimeError as err:  # policy validation failure; the report says why
        if "ValidationFailed" not in str(err):
            raise
    template_path = outdir / f"{config.stack_name}.template.json"
    template_dict = json.loads(template_path.read_text())
    report = json.loads((outdir / "validation-report.json").read_text())
    return Synth(config, stack, template_dict, Template.from_json(template_dict), report, template_path)


@pytest.fixture(scope="session")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Synth]:
    """`synth(stage="prod", alert_mode="composite")`: cached per session (xdist: per worker)."""
    cache: dict[tuple[str, str], Synth] = {}

    def get(stage: str = "prod", alert_mode: str = "composite") -> Synth:
        key = (stage, alert_mode)
        if key not in cache:
            outdir = tmp_path_factory.mktemp(f"cdk-{stage}-{alert_mode}")
            cache[key] = synthesize(deployable(stage=stage, alert_mode=alert_mode), outdir)
        return cache[key]

    return get


STAGES = ["prod", "staging"]


@pytest.fixture(scope="module", params=STAGES)
def stage_synth(request: pytest.FixtureRequest, synth: Callable[..., Synth]) -> Synth:
    """The default (composite) synthesis of each stage in turn."""
    return synth(stage=request.param)
