"""Who may assume the operators' roles, and the source conditions every AWS service principal carries.

TokenIssuer and PatchRelease trust the configured principals (Config.trusted_principals), each
only while it carries the principal tag OPERATOR_TAG, never the account root. Lambda permissions
name this account as their source (SourceAccountOnPermissions); other service principals carry
contract/principals.py's conditions where they are declared.
"""

from __future__ import annotations

from typing import Any

import jsii
from aws_cdk import DefaultStackSynthesizer, IAspect, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import IConstruct

from contract.config import OPERATOR_TAG


def operators(principals: tuple[str, ...]) -> iam.IPrincipal:
    """The configured principals, each only with the operator tag (config is checked at synth)."""
    tag, value = OPERATOR_TAG
    return iam.PrincipalWithConditions(
        iam.CompositePrincipal(*(iam.ArnPrincipal(arn) for arn in principals)),
        {"StringEquals": {f"aws:PrincipalTag/{tag}": value}},
    )


@jsii.implements(IAspect)
class SourceAccountOnPermissions:
    """Every Lambda permission names this account as its SourceAccount (its SourceArn, where CDK
    sets one, is the API or rule that invokes it); tests/infra/test_source_conditions.py checks both."""

    def visit(self, node: IConstruct) -> None:
        if isinstance(node, lambda_.CfnPermission) and node.source_account is None:
            node.source_account = Stack.of(node).account


def deploy_role_arn(scope: Any) -> str:
    """The CDK bootstrap's CloudFormation execution role, which deploys the stack (default qualifier)."""
    stack = Stack.of(scope)
    qualifier = DefaultStackSynthesizer.DEFAULT_QUALIFIER
    return (
        f"arn:{stack.partition}:iam::{stack.account}:role/"
        f"cdk-{qualifier}-cfn-exec-role-{stack.account}-{stack.region}"
    )
