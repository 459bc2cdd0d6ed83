"""The functions: one shared asset, runtime, handlers, timeouts, log groups and environment."""

from __future__ import annotations

import pytest

from contract.names import FUNCTIONS
from tests.infra.cfn import function, label, resources

HANDLERS = {
    "ws-connect": ("lambdas.ws_connect.handler.handler", 29),
    "ws-message": ("lambdas.ws_message.handler.handler", 10),
    "ws-disconnect": ("lambdas.ws_disconnect.handler.handler", 10),
    "dispatcher-sqs": ("lambdas.dispatcher_sqs.handler.handler", 60),
    "lease-reaper": ("lambdas.lease_reaper.handler.handler", 60),
    "probe": ("lambdas.probe.handler.handler", 50),
}


@pytest.mark.parametrize("name", sorted(HANDLERS))
def test_function_runtime_handler_and_timeout(stage_synth, name):
    s = stage_synth.config.stage
    _lid, fn = function(stage_synth.template_dict, f"byoip-{s}-{name}")
    props = fn["Properties"]
    handler, timeout = HANDLERS[name]
    assert props["Handler"] == handler
    assert props["Runtime"] == "python3.14"
    assert props["Architectures"] == ["arm64"]
    assert props["Timeout"] == timeout
    assert props["MemorySize"] == 256


@pytest.mark.parametrize("name", sorted(HANDLERS))
def test_function_logs_to_its_own_retained_log_group(stage_synth, name):
    tpl = stage_synth.template_dict
    s = stage_synth.config.stage
    _lid, fn = function(tpl, f"byoip-{s}-{name}")
    group = f"/aws/lambda/byoip-{s}-{name}"
    assert label(tpl, fn["Properties"]["LoggingConfig"]["LogGroup"]) == group
    (res,) = [
        r for r in resources(tpl, "AWS::Logs::LogGroup").values() if r["Properties"]["LogGroupName"] == group
    ]
    assert res["Properties"]["RetentionInDays"] == 30
    assert res["DeletionPolicy"] == "Retain"


def test_all_functions_share_one_asset(stage_synth):
    codes = {
        json_key(fn["Properties"]["Code"])
        for fn in resources(stage_synth.template_dict, "AWS::Lambda::Function").values()
    }
    assert len(codes) == 1
    assert len(resources(stage_synth.template_dict, "AWS::Lambda::Function")) == len(FUNCTIONS) == 7


def json_key(code):
    return (str(code["S3Bucket"]), code["S3Key"])


@pytest.mark.parametrize("name", sorted(HANDLERS))
def test_function_environment_follows_the_contract(stage_synth, name):
    tpl = stage_synth.template_dict
    s = stage_synth.config.stage
    _lid, fn = function(tpl, f"byoip-{s}-{name}")
    env = fn["Properties"]["Environment"]["Variables"]
    urls = ("WS_ENDPOINT", "WS_PUBLIC_URL")  # test_stack_realtime.py checks them
    named = {key: label(tpl, value) for key, value in env.items() if key not in urls}
    assert named == {
        "STAGE": s,
        "JOBS_TABLE": f"byoip-{s}-jobs",
        "AGENTS_TABLE": f"byoip-{s}-agents",
        "CREATOR_LIMITS_TABLE": f"byoip-{s}-creator-limits",
        "JOBS_QUEUE_URL": f"byoip-{s}-jobs",
        "DLQ_URL": f"byoip-{s}-jobs-dlq",
        "PATCHES_BUCKET": "AgentPatchesBucket",
        "LOGS_BUCKET": "AgentLogsBucket",
        "LOGS_KMS_KEY_ARN": "DataKey",
        "WS_JWT_SECRET_ARN": f"byoip/{s}/ws-jwt",
        "LEASE_SECONDS": "300",
        "MAX_ATTEMPTS": "3",
        # ws-message's budgets (stacks/limits.py: the creator's frames are a quarter of `$default`)
        "FRAMES_PER_MINUTE": "600",
        "CREATOR_FRAMES_PER_MINUTE": "3000",
        "LOG_UPLOADS_PER_DAY": "24",
        "CREATOR_LOG_UPLOADS_PER_DAY": "2400",
        "PATCH_CHECKS_PER_MINUTE": "2",
        "CREATOR_PATCH_CHECKS_PER_MINUTE": "600",
        "NOTIFY_OFFLINE_SECONDS": "600",  # Config.notify_offline_seconds (the creator watch)
        "POWERTOOLS_SERVICE_NAME": name,
        "POWERTOOLS_METRICS_NAMESPACE": "Huntaze/ByoIP",
    }
    assert "WS_JWT_SECRET" not in env, "the raw key is for local runs only"
    # Refs, not literals: a queue URL or bucket name is never typed into the template.
    assert env["JOBS_QUEUE_URL"] != f"byoip-{s}-jobs" and env["PATCHES_BUCKET"] != "AgentPatchesBucket"
