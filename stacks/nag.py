"""Acknowledging an accepted cdk-nag AwsSolutions finding on the one resource it concerns.

cdk-nag 3 matches an acknowledgement by rule id (plus, for IAM5, the exact finding such as
`Resource::<Bucket.Arn>/*`). Each construct acknowledges its own findings, with its reason, where
it makes the resource; nothing here knows the stack.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, CfnElement, Stack, Validations
from constructs import IConstruct

PACK = "AwsSolutions"


def acknowledge(scope: IConstruct | None, finding: str, reason: str) -> None:
    """Accept `finding` (e.g. "SQS3", "IAM5[Resource::…]") on `scope`, with the reason why."""
    assert scope is not None
    Validations.of(scope).acknowledge(Acknowledgment(id=f"{PACK}::{PACK}-{finding}", reason=reason))


def logical_id(construct: IConstruct) -> str:
    """The logical id of a construct's CloudFormation resource, as IAM5 findings name it."""
    element = construct.node.default_child
    assert isinstance(element, CfnElement)
    return str(Stack.of(construct).resolve(Stack.of(construct).get_logical_id(element)))
