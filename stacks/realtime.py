"""The agents' WebSocket API: `<prefix>-ws`, stage `prod`, with access logging."""

from __future__ import annotations

import jsii
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from stacks.log_groups import retained_log_group

STAGE_NAME = "prod"
ROUTE_SELECTION = "$request.body.action"
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

    def __init__(self, scope: Construct, cid: str, *, prefix: str) -> None:
        super().__init__(scope, cid)
        self.ws_api = apigwv2.WebSocketApi(
            self, "WsApi", api_name=f"{prefix}-ws", route_selection_expression=ROUTE_SELECTION
        )
        self.access_log_group = retained_log_group(self, "AccessLogs", f"/aws/apigateway/{prefix}-ws-access")
        self.ws_stage = apigwv2.WebSocketStage(
            self,
            "ProdStage",
            web_socket_api=self.ws_api,
            stage_name=STAGE_NAME,
            auto_deploy=True,
            access_log_settings=_AccessLogSettings(self.access_log_group),
        )

    def add_routes(
        self, *, connect: lambda_.IFunction, message: lambda_.IFunction, disconnect: lambda_.IFunction
    ) -> None:
        """$connect / $default / $disconnect.

        No route response: ws-message answers with PostToConnection, so the integration's
        own return value is never sent to the agent as a second, empty frame.
        """
        for route_key, fn in (("$connect", connect), ("$default", message), ("$disconnect", disconnect)):
            cid = route_key.strip("$").capitalize()
            self.ws_api.add_route(
                route_key, integration=integrations.WebSocketLambdaIntegration(f"{cid}Integration", fn)
            )


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
