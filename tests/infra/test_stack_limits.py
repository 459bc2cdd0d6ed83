"""Limits at the edge in the template: stage throttling, reserved concurrency, the logs bucket's bounds."""

from __future__ import annotations

from lambdas.common.settings import DEFAULT_CREATOR_FRAMES_PER_MINUTE, DEFAULT_FRAMES_PER_MINUTE
from stacks.limits import (
    CREATOR_FRAMES_PER_MINUTE,
    FLEET_AGENTS,
    FLEET_RECONNECT_SECONDS,
    HONEST_FRAMES_PER_AGENT_MINUTE,
    RESERVED_CONCURRENCY,
    STAGE_THROTTLES,
)
from tests.infra.cfn import function, label, one, resources
from tests.infra.test_stack_storage import _bucket

# Lambda keeps at least this much of the account's concurrency unreserved.
ACCOUNT_CONCURRENCY, UNRESERVED_MINIMUM = 1000, 100


def test_stage_throttles_connect_default_and_everything_else(stage_synth):
    _lid, stage = one(stage_synth.template_dict, "AWS::ApiGatewayV2::Stage", StageName="prod")
    props = stage["Properties"]
    assert props["DefaultRouteSettings"] == {"ThrottlingBurstLimit": 200, "ThrottlingRateLimit": 100}
    assert props["RouteSettings"] == {
        "$connect": {"ThrottlingBurstLimit": 100, "ThrottlingRateLimit": 50},
        "$default": {"ThrottlingBurstLimit": 400, "ThrottlingRateLimit": 200},
    }


def test_stage_is_created_after_the_routes_its_settings_name(stage_synth):
    tpl = stage_synth.template_dict
    _lid, stage = one(tpl, "AWS::ApiGatewayV2::Stage", StageName="prod")
    routes = resources(tpl, "AWS::ApiGatewayV2::Route")
    assert sorted(r["Properties"]["RouteKey"] for r in routes.values()) == [
        "$connect",
        "$default",
        "$disconnect",
    ]
    assert set(routes) <= set(stage["DependsOn"])


def test_throttles_stay_under_the_account_quotas():
    # 500 new WebSocket connections a second per account and region; 10,000 requests a second.
    assert STAGE_THROTTLES["$connect"].rate <= 500 // 10
    assert sum(t.rate for t in STAGE_THROTTLES.values()) <= 10_000
    for limit in STAGE_THROTTLES.values():
        assert limit.burst >= limit.rate and limit.reason


def test_throttles_are_sized_from_the_stated_fleet():
    # GIVEN 1,000 agents, each a heartbeat a minute and ~5 results: 100 frames a second in all
    fleet_frames_per_second = FLEET_AGENTS * HONEST_FRAMES_PER_AGENT_MINUTE / 60
    assert (FLEET_AGENTS, fleet_frames_per_second) == (1_000, 100)
    # THEN `$default` carries twice the fleet, `$connect` the whole fleet back within 20 s
    assert STAGE_THROTTLES["$default"].rate == 2 * fleet_frames_per_second
    assert STAGE_THROTTLES["$connect"].rate * FLEET_RECONNECT_SECONDS == FLEET_AGENTS
    # AND no creator may take more than a quarter of `$default`; one agent is well under that
    assert CREATOR_FRAMES_PER_MINUTE == DEFAULT_CREATOR_FRAMES_PER_MINUTE == 200 * 60 // 4
    assert DEFAULT_FRAMES_PER_MINUTE / 60 <= STAGE_THROTTLES["$default"].rate / 20


def test_reserved_concurrency_caps_the_ws_functions_and_reserves_the_dispatcher(stage_synth):
    tpl = stage_synth.template_dict
    s = stage_synth.config.stage
    reserved = {
        name: function(tpl, f"byoip-{s}-{name}")[1]["Properties"].get("ReservedConcurrentExecutions")
        for name in ("dispatcher-sqs", "ws-connect", "ws-message", "ws-disconnect", "lease-reaper")
    }
    assert reserved == {
        "dispatcher-sqs": 20,
        "ws-connect": 50,
        "ws-message": 50,
        "ws-disconnect": 20,
        "lease-reaper": None,
    }
    assert sum(r for r in reserved.values() if r) <= ACCOUNT_CONCURRENCY - UNRESERVED_MINIMUM
    assert all(limit.reason for limit in RESERVED_CONCURRENCY.values())


def test_the_sqs_poller_never_outruns_the_dispatchers_reserved_concurrency(stage_synth):
    tpl = stage_synth.template_dict
    (mapping,) = resources(tpl, "AWS::Lambda::EventSourceMapping").values()
    assert mapping["Properties"]["ScalingConfig"] == {"MaximumConcurrency": 20}
    assert RESERVED_CONCURRENCY["dispatcher-sqs"].reserved == 20


def test_logs_expire_and_incomplete_uploads_are_aborted(stage_synth):
    _lid, bucket = _bucket(stage_synth.template_dict, "AgentLogsBucket")
    assert bucket["Properties"]["LifecycleConfiguration"]["Rules"] == [
        {
            "Id": "ExpireAgentLogs",
            "ExpirationInDays": 30,
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
            "Status": "Enabled",
        }
    ]


def test_logs_bucket_refuses_any_put_not_encrypted_with_the_stack_key(stage_synth):
    tpl = stage_synth.template_dict
    (policy,) = [
        p
        for p in resources(tpl, "AWS::S3::BucketPolicy").values()
        if label(tpl, p["Properties"]["Bucket"]) == "AgentLogsBucket"
    ]
    (statement,) = [
        st
        for st in policy["Properties"]["PolicyDocument"]["Statement"]
        if st.get("Sid") == "LogsOnlyWithTheStackKey"
    ]
    assert (statement["Effect"], statement["Action"], statement["Principal"]) == (
        "Deny",
        "s3:PutObject",
        {"AWS": "*"},
    )
    (condition,) = statement["Condition"]["StringNotEquals"].values()
    assert label(tpl, condition) == "DataKey"
    assert list(statement["Condition"]["StringNotEquals"]) == [
        "s3:x-amz-server-side-encryption-aws-kms-key-id"
    ]
