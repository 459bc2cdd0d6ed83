"""One Lambda function of the shared asset, with its own log group and its own minimal role."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from stacks.lambda_asset import ARCHITECTURE, RUNTIME
from stacks.log_groups import retained_log_group


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
        prefix: str,
        name: str,
        code: lambda_.Code,
        environment: Mapping[str, str],
        timeout: Duration,
        memory_mb: int = 256,
    ) -> None:
        super().__init__(scope, cid)
        function_name = f"{prefix}-{name}"
        self.log_group = retained_log_group(self, "LogGroup", f"/aws/lambda/{function_name}")
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
        )
