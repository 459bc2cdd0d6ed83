"""The agents' WebSocket API: `<prefix>-ws`, stage `prod`, with access logging."""

from __future__ import annotations

from typing import cast

import jsii
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from contract.names import Names
from stacks.limits import STAGE_THROTTLES
from stacks.log_groups import retained_log_group
from stacks.nag import acknowledge

STAGE_NAME = "prod"
ROUTE_SELECTION = "$request.body.action"
CONNECT_AUTH_REASON = (
    "Agents authenticate on $connect with a short-lived HS256 JWT (?token=) that ws-connect verifies "
    "and rejects with 401; API Gateway WebSocket APIs authorize only at $connect, so $default and "
    "$disconnect run on an already authenticated connection and ws-message resolves its agent by key."
)
# One JSON line per request; the fields on-call needs to follow a connection.
ACCESS_LOG_FORMAT = (
    '{"requestId":"$context.requestId","ip":"$context.identity.sourceIp",'
    '"requestTime":"$context.requestTime","eventType":"$context.eventType",'
    '"routeKey":"$context.routeKey","status":"$context.status",'
    '"connectionId":"$context.connectionId","error":"$context.error.message",'
    '"integrationError":"$context.integration.error"}'
)


class Realtime(Construct):
    """API and stage; the stack attaches the route functions once they exist."""

    def __init__(self, scope: Construct, cid: str, *, names: Names) -> None:
        super().__init__(scope, cid)
        self.ws_api = apigwv2.WebSocketApi(
            self, "WsApi", api_name=names.ws_api, route_selection_expression=ROUTE_SELECTION
        )
        self.access_log_group = retained_log_group(self, "AccessLogs", names.ws_access_log_group)
        self.ws_stage = apigwv2.WebSocketStage(
            self,
            "ProdStage",
            web_socket_api=self.ws_api,
            stage_name=STAGE_NAME,
            auto_deploy=True,
            access_log_settings=_AccessLogSettings(self.access_log_group),
            throttle=apigwv2.ThrottleSettings(
                rate_limit=STAGE_THROTTLES["*"].rate, burst_limit=STAGE_THROTTLES["*"].burst
            ),
        )

    def connections_arn(self, method: str) -> str:
        """execute-api ARN of `<method> @connections/*` on the prod stage (PostToConnection: POST)."""
        return self.ws_api.arn_for_execute_api_v2(f"{method}/@connections/*", STAGE_NAME)

    def add_routes(
        self, *, connect: lambda_.IFunction, message: lambda_.IFunction, disconnect: lambda_.IFunction
    ) -> None:
        """$connect / $default / $disconnect.

        No route response: ws-message answers with PostToConnection, so the integration's
        own return value is never sent to the agent as a second, empty frame.
        """
        for route_key, fn in (("$connect", connect), ("$default", message), ("$disconnect", disconnect)):
            cid = route_key.strip("$").capitalize()
            route = self.ws_api.add_route(
                route_key, integration=integrations.WebSocketLambdaIntegration(f"{cid}Integration", fn)
            )
            acknowledge(route, "APIG4", CONNECT_AUTH_REASON)
            # Route settings name route keys that must exist before the stage is created or updated.
            self.ws_stage.node.add_dependency(route)
        self._throttle_routes()

    def _throttle_routes(self) -> None:
        """Per-route throttling (stacks/limits.py); the L2 stage only sets the stage default."""
        stage = cast(apigwv2.CfnStage, self.ws_stage.node.default_child)
        stage.route_settings = {
            key: {"ThrottlingRateLimit": limit.rate, "ThrottlingBurstLimit": limit.burst}
            for key, limit in STAGE_THROTTLES.items()
            if key != "*"
        }


@jsii.implements(apigwv2.IAccessLogSettings)
class _AccessLogSettings:
    """Access logs as JSON lines into the stage's log group."""

    def __init__(self, log_group: logs.ILogGroup) -> None:
        self._destination = apigwv2.LogGroupLogDestination(log_group)

    @property
    def destination(self) -> apigwv2.IAccessLogDestination:
        return self._destination

    @property
    def format(self) -> apigw.AccessLogFormat:
        return apigw.AccessLogFormat.custom(ACCESS_LOG_FORMAT)
