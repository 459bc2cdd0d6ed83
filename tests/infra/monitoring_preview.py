"""Test fixture: the monitoring layer over the real queue and WebSocket constructs and a stand-in
dispatcher (same name, runtime and timeout as the stack's), without Lambda assets or tables.

Synthesizing it takes a few seconds, so the monitoring template tests use it; the real stack
composes the same MonitoringLayer.
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_

from contract.config import Config
from contract.names import DISPATCHER
from monitoring.layer import MonitoringLayer
from monitoring.resources import MonitoringResources
from stacks.functions import DISPATCHER_TIMEOUT
from stacks.jobs import JobQueues
from stacks.lambda_asset import RUNTIME
from stacks.log_groups import retained_log_group
from stacks.realtime import Realtime


def preview_stack(app: cdk.App, config: Config, *, region: str | None = None) -> cdk.Stack:
    """The real queues and WebSocket API constructs, a stand-in dispatcher, and the layer."""
    env = cdk.Environment(account="111111111111", region=region) if region else None
    stack = cdk.Stack(app, f"MonitoringPreview-{config.stage}-{config.alert_mode}", env=env)
    names = config.names
    queues = JobQueues(stack, "Jobs", names=names)
    realtime = Realtime(stack, "Realtime", names=names)
    log_group = retained_log_group(stack, "DispatcherLogs", names.function_log_group(DISPATCHER))
    dispatcher = lambda_.Function(
        stack,
        "Dispatcher",
        function_name=names.function(DISPATCHER),
        runtime=RUNTIME,
        handler="index.handler",
        code=lambda_.Code.from_inline("def handler(event, context):\n    return {}\n"),
        timeout=DISPATCHER_TIMEOUT,
        log_group=log_group,
    )
    resources = MonitoringResources(
        queues.jobs_queue,
        queues.dlq,
        dispatcher,
        log_group,
        realtime.ws_api,
        realtime.ws_stage,
        quarantine_queue=queues.quarantine_queue,
    )
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
