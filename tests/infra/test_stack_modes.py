"""ALERT_MODE changes alert routing only: the core backend is the same in both modes, per stage."""

from __future__ import annotations

import pytest

from tests.infra.cfn import path_of, resources

# The layers built on the core; the monitoring layer routes alerts differently per mode.
LAYERS = ("Monitoring", "Automation")


def _core(template):
    """Resources outside the layers, by logical id."""
    return {
        lid: res
        for lid, res in template["Resources"].items()
        if path_of(template, lid).split("/")[1] not in LAYERS
    }


@pytest.mark.parametrize("stage", ["prod", "staging"])
def test_core_backend_is_identical_in_both_alert_modes(synth, stage):
    composite = synth(stage=stage, alert_mode="composite")
    all_mode = synth(stage=stage, alert_mode="all")
    assert composite.config.stack_name == all_mode.config.stack_name
    assert _core(composite.template_dict) == _core(all_mode.template_dict)
    assert (
        composite.template_dict["Outputs"]["WebSocketUrl"]
        == all_mode.template_dict["Outputs"]["WebSocketUrl"]
    )


@pytest.mark.parametrize("alert_mode", ["composite", "all"])
def test_each_mode_synthesizes_every_core_resource_nag_clean(synth, alert_mode):
    result = synth(stage="staging", alert_mode=alert_mode)
    tpl = result.template_dict
    assert len(resources(tpl, "AWS::Lambda::Function")) == 7  # six of the system, the probe
    assert len(resources(tpl, "AWS::SQS::Queue")) == 3
    assert len(resources(tpl, "AWS::DynamoDB::Table")) == 3
    assert [r["violations"] for r in result.validation_report["pluginReports"]] == [[]]


def test_stack_names_per_stage(synth):
    assert synth(stage="prod").stack.stack_name == "HuntazeByoIpStack-prod"
    assert synth(stage="staging").stack.stack_name == "HuntazeByoIpStack-staging"
