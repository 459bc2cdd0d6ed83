"""The Python seams of docs/contracts.md: ByoIpStack exposes its resources as attributes."""

from __future__ import annotations

from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sqs as sqs


def _physical(resource, prop):
    return getattr(resource.node.default_child, prop)


def test_stack_exposes_every_contract_seam_with_its_physical_name(synth):
    stack = synth(stage="staging").stack
    queues = {
        "jobs_queue": "byoip-staging-jobs",
        "dlq": "byoip-staging-jobs-dlq",
        "quarantine_queue": "byoip-staging-jobs-quarantine",
    }
    for attr, name in queues.items():
        assert isinstance(getattr(stack, attr), sqs.Queue)
        assert _physical(getattr(stack, attr), "queue_name") == name
    functions = {
        "ws_connect_fn": "ws-connect",
        "ws_message_fn": "ws-message",
        "ws_disconnect_fn": "ws-disconnect",
        "dispatcher": "dispatcher-sqs",
        "lease_reaper": "lease-reaper",
    }
    for attr, name in functions.items():
        assert isinstance(getattr(stack, attr), lambda_.Function)
        assert _physical(getattr(stack, attr), "function_name") == f"byoip-staging-{name}"
    tables = {"jobs_table": "jobs", "agents_table": "agents", "creator_limits_table": "creator-limits"}
    for attr, name in tables.items():
        assert isinstance(getattr(stack, attr), dynamodb.Table)
        assert _physical(getattr(stack, attr), "table_name") == f"byoip-staging-{name}"
    assert isinstance(stack.patches_bucket, s3.Bucket) and isinstance(stack.logs_bucket, s3.Bucket)
    assert isinstance(stack.jwt_secret, secretsmanager.Secret)
    assert _physical(stack.jwt_secret, "name") == "byoip/staging/ws-jwt"
    assert isinstance(stack.ws_api, apigwv2.WebSocketApi)
    assert isinstance(stack.ws_stage, apigwv2.WebSocketStage) and stack.ws_stage.stage_name == "prod"
    assert isinstance(stack.dispatcher_log_group, logs.LogGroup)
    assert (
        _physical(stack.dispatcher_log_group, "log_group_name") == "/aws/lambda/byoip-staging-dispatcher-sqs"
    )
    assert {
        name: _physical(group, "log_group_name") for name, group in stack.function_log_groups.items()
    } == {name: f"/aws/lambda/byoip-staging-{name}" for name in functions.values()}
    assert stack.config.stage == "staging"
