"""One Lambda function of the shared asset, with its own log group and its own minimal role."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from contract.names import (
    DISPATCHER,
    LEASE_REAPER,
    PROBE,
    SECRET_ROTATION,
    WS_CONNECT,
    WS_DISCONNECT,
    WS_MESSAGE,
    Names,
)
from contract.sizes import DISPATCHER_TIMEOUT_S
from stacks.lambda_asset import ARCHITECTURE, RUNTIME
from stacks.limits import RESERVED_CONCURRENCY
from stacks.log_groups import retained_log_group
from stacks.nag import acknowledge

XRAY_REASON = (
    "xray:PutTraceSegments and xray:PutTelemetryRecords are not resource-level actions: IAM only accepts"
    " `*` for them; Lambda's active tracing adds them so the runtime can send the function's trace segments."
)
MEMORY_MB = 256  # every function's memory (benchmarks/dispatcher_calls.py prices its GB-s with it)


class ByoIpFunction(Construct):
    """`byoip-<s>-<name>` running `lambdas.<module>.handler.handler`.

    The log group is created here (so its retention is set and the role can be scoped to it)
    and the role starts with nothing but writing to that log group: the stack adds the rest.
    """

    def __init__(
        self,
        scope: Construct,
        cid: str,
        *,
        names: Names,
        name: str,
        code: lambda_.Code,
        environment: Mapping[str, str],
        timeout: Duration,
        memory_mb: int = MEMORY_MB,
        reserved_concurrency: int | None = None,
    ) -> None:
        super().__init__(scope, cid)
        function_name = names.function(name)
        self.log_group = retained_log_group(self, "LogGroup", names.function_log_group(name))
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Execution role of {function_name}",
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[self.log_group.log_group_arn],
            )
        )
        self.function = lambda_.Function(
            self,
            "Function",
            function_name=function_name,
            code=code,
            handler=f"lambdas.{name.replace('-', '_')}.handler.handler",
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            memory_size=memory_mb,
            timeout=timeout,
            environment={**environment, "POWERTOOLS_SERVICE_NAME": name},
            role=self.role,
            log_group=self.log_group,
            reserved_concurrent_executions=reserved_concurrency,
            # X-Ray active tracing: Lambda samples and records each invocation's segment (and
            # grants the role xray:PutTraceSegments/PutTelemetryRecords); every handler runs inside
            # Powertools Tracer (lambdas/common/tracing.py), so each AWS call is a subsegment.
            tracing=lambda_.Tracing.ACTIVE,
        )
        acknowledge(self.role, "IAM5[Resource::*]", XRAY_REASON)


@dataclass(frozen=True)
class FunctionSpec:
    cid: str  # construct id under the stack (it shapes the logical ids: never rename)
    name: str
    timeout: Duration


WS_TIMEOUT = Duration.seconds(10)
# $connect may release many held jobs; API Gateway stops waiting at 29 s anyway.
WS_CONNECT_TIMEOUT = Duration.seconds(29)
DISPATCHER_TIMEOUT = Duration.seconds(DISPATCHER_TIMEOUT_S)
ROTATION_TIMEOUT = Duration.seconds(30)  # four Secrets Manager calls at most per step
# Under the probe's one-minute schedule, so two runs of its one agent never overlap; room for its
# waits (connect 10 s + deliver 30 s + complete 5 s: lambdas/common/probe.py) and a cold start.
PROBE_TIMEOUT = Duration.seconds(50)
FUNCTION_SPECS = (
    FunctionSpec("WsConnect", WS_CONNECT, WS_CONNECT_TIMEOUT),
    FunctionSpec("WsMessage", WS_MESSAGE, WS_TIMEOUT),
    FunctionSpec("WsDisconnect", WS_DISCONNECT, WS_TIMEOUT),
    FunctionSpec("Dispatcher", DISPATCHER, DISPATCHER_TIMEOUT),
    FunctionSpec("LeaseReaper", LEASE_REAPER, DISPATCHER_TIMEOUT),
    FunctionSpec("SecretRotation", SECRET_ROTATION, ROTATION_TIMEOUT),
    FunctionSpec("Probe", PROBE, PROBE_TIMEOUT),
)


def _reserved(name: str) -> int | None:
    limit = RESERVED_CONCURRENCY.get(name)
    return limit.reserved if limit else None


def byoip_functions(
    scope: Construct, *, names: Names, code: lambda_.Code, environment: Mapping[str, str]
) -> dict[str, ByoIpFunction]:
    """The functions of the shared asset, by short name (`ws-connect`, ...)."""
    return {
        spec.name: ByoIpFunction(
            scope,
            spec.cid,
            names=names,
            name=spec.name,
            code=code,
            environment=environment,
            timeout=spec.timeout,
            reserved_concurrency=_reserved(spec.name),
        )
        for spec in FUNCTION_SPECS
    }
