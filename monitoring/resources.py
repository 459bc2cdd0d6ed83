"""What the monitoring layer watches, handed over by the stack."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs


@dataclass(frozen=True)
class MonitoringResources:
    """The stack's resources the alarms, dashboards and saved queries point at."""

    jobs_queue: sqs.IQueue
    dlq: sqs.IQueue
    dispatcher: lambda_.IFunction
    dispatcher_log_group: logs.ILogGroup
    ws_api: apigwv2.IWebSocketApi | None = None
    ws_stage: apigwv2.IWebSocketStage | None = None
    quarantine_queue: sqs.IQueue | None = None
    # Function short name (contract.names) -> its log group: the Contributor Insights rules read them.
    function_log_groups: Mapping[str, logs.ILogGroup] = field(default_factory=dict)
