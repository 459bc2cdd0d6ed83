"""The monitoring layer alone, over stand-in resources named as the real stack names them.

Synthesizing it takes a few seconds (no Lambda assets, no tables), so template tests and
offline alarm experiments can use it; the real stack composes the same MonitoringLayer.
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import Duration
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs

from monitoring.layer import MonitoringLayer
from monitoring.resources import MonitoringResources
from stacks.config import Config


def preview_stack(app: cdk.App, config: Config, *, region: str | None = None) -> cdk.Stack:
    """A stack holding stand-in queue, DLQ, dispatcher, log group, WebSocket API and the layer."""
    env = cdk.Environment(account="111111111111", region=region) if region else None
    stack = cdk.Stack(app, f"MonitoringPreview-{config.stage}-{config.alert_mode}", env=env)
    prefix = config.prefix
    dlq = sqs.Queue(stack, "Dlq", queue_name=f"{prefix}-jobs-dlq", enforce_ssl=True)
    queue = sqs.Queue(
        stack,
        "JobsQueue",
        queue_name=f"{prefix}-jobs",
        visibility_timeout=Duration.seconds(360),
        enforce_ssl=True,
        dead_letter_queue=sqs.DeadLetterQueue(queue=dlq, max_receive_count=5),
    )
    log_group = logs.LogGroup(
        stack,
        "DispatcherLogs",
        log_group_name=f"/aws/lambda/{prefix}-dispatcher-sqs",
        retention=logs.RetentionDays.ONE_MONTH,
    )
    dispatcher = lambda_.Function(
        stack,
        "Dispatcher",
        function_name=f"{prefix}-dispatcher-sqs",
        runtime=lambda_.Runtime.PYTHON_3_12,
        handler="index.handler",
        code=lambda_.Code.from_inline("def handler(event, context):\n    return {}\n"),
        timeout=Duration.seconds(60),
        log_group=log_group,
    )
    ws_api = apigwv2.WebSocketApi(stack, "WsApi", api_name=f"{prefix}-ws")
    ws_stage = apigwv2.WebSocketStage(
        stack, "WsStage", web_socket_api=ws_api, stage_name="prod", auto_deploy=True
    )
    resources = MonitoringResources(queue, dlq, dispatcher, log_group, ws_api, ws_stage)
    MonitoringLayer(stack, "Monitoring", config=config, resources=resources)
    return stack


def preview_template(config: Config, *, region: str | None = None) -> dict[str, Any]:
    """The synthesized CloudFormation template of `preview_stack`."""
    app = cdk.App(context={"aws:cdk:bundling-stacks": []})
    stack = preview_stack(app, config, region=region)
    return app.synth().get_stack_by_name(stack.stack_name).template


def as_text(value: Any, template: dict[str, Any]) -> Any:
    """A template value as plain text, for reading a template back.

    `Fn::Join` is joined, `Ref AWS::Region` becomes `${AWS::Region}`, an alarm's
    `Fn::GetAtt [X, Arn]` becomes `arn:<AlarmName>`, any other Ref/GetAtt `ref:<Type>`.
    Lists are mapped element by element; other values come back unchanged.
    """
    resources = template["Resources"]
    if isinstance(value, list):
        return [as_text(item, template) for item in value]
    if not isinstance(value, dict):
        return value
    if "Fn::Join" in value:
        sep, parts = value["Fn::Join"]
        return sep.join(str(as_text(part, template)) for part in parts)
    if value.get("Ref") == "AWS::Region":
        return "${AWS::Region}"
    target = value.get("Ref") or (value.get("Fn::GetAtt") or [None])[0]
    if target in resources:
        props = resources[target].get("Properties", {})
        if "Fn::GetAtt" in value and "AlarmName" in props:
            return f"arn:{props['AlarmName']}"
        return f"ref:{resources[target]['Type']}"
    return value
