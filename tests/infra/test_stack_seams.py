"""The Python seams of docs/contracts.md: ByoIpStack exposes its parts, named by contract.names."""

from __future__ import annotations

from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sqs as sqs

from contract.names import FUNCTIONS


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
        assert isinstance(getattr(stack.queues, attr), sqs.Queue)
        assert _physical(getattr(stack.queues, attr), "queue_name") == name
    assert sorted(stack.functions) == sorted(FUNCTIONS)
    for short, fn in stack.functions.items():
        assert isinstance(fn.function, lambda_.Function)
        assert _physical(fn.function, "function_name") == f"byoip-staging-{short}"
        assert isinstance(fn.log_group, logs.LogGroup)
        assert _physical(fn.log_group, "log_group_name") == f"/aws/lambda/byoip-staging-{short}"
    storage = stack.storage
    tables = {"jobs_table": "jobs", "agents_table": "agents", "creator_limits_table": "creator-limits"}
    for attr, name in tables.items():
        assert isinstance(getattr(storage, attr), dynamodb.Table)
        assert _physical(getattr(storage, attr), "table_name") == f"byoip-staging-{name}"
    assert isinstance(storage.patches_bucket, s3.Bucket) and isinstance(storage.logs_bucket, s3.Bucket)
    assert isinstance(storage.jwt_secret, secretsmanager.Secret)
    assert _physical(storage.jwt_secret, "name") == "byoip/staging/ws-jwt"
    realtime = stack.realtime
    assert isinstance(realtime.ws_api, apigwv2.WebSocketApi)
    assert _physical(realtime.ws_api, "name") == "byoip-staging-ws"
    assert isinstance(realtime.ws_stage, apigwv2.WebSocketStage) and realtime.ws_stage.stage_name == "prod"
    assert _physical(realtime.access_log_group, "log_group_name") == "/aws/apigateway/byoip-staging-ws-access"
    assert stack.config.stage == "staging"
