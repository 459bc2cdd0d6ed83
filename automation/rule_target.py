"""EventBridge → SSM Automation target (CDK has no target class for it)."""

from __future__ import annotations

import jsii
from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk.interfaces.aws_events import IRuleRef


def automation_definition_arn(stack: Stack, document_name: str) -> str:
    """ARN EventBridge targets and IAM names: the document's $DEFAULT version."""
    return stack.format_arn(
        service="ssm",
        resource="automation-definition",
        resource_name=f"{document_name}:$DEFAULT",
        arn_format=ArnFormat.SLASH_RESOURCE_NAME,
    )


@jsii.implements(events.IRuleTarget)
class SsmAutomationTarget:
    """Start `document_name` with `parameters`, as `events_role` (which must be allowed to)."""

    def __init__(self, *, document_name: str, events_role: iam.IRole, parameters: dict[str, str]) -> None:
        self.document_name = document_name
        self.events_role = events_role
        self.parameters = parameters

    def bind(self, rule: IRuleRef, id: str | None = None) -> events.RuleTargetConfig:  # noqa: A002
        """Called by Rule.add_target; SSM wants every parameter value as a list."""
        return events.RuleTargetConfig(
            arn=automation_definition_arn(Stack.of(rule), self.document_name),
            role=self.events_role,
            input=events.RuleTargetInput.from_object({k: [v] for k, v in self.parameters.items()}),
        )
