"""cdk-nag AwsSolutions findings this design accepts, each acknowledged on the one resource it concerns.

cdk-nag 3 matches an acknowledgement by rule id (plus, for IAM5, the exact finding such as
`Resource::<Bucket.Arn>/agents/*`), so every finding is spelled out here with its reason.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import Acknowledgment, CfnElement, Stack, Validations
from constructs import IConstruct

if TYPE_CHECKING:
    from stacks.byoip_stack import ByoIpStack

PACK = "AwsSolutions"

CONNECT_AUTH_REASON = (
    "Agents authenticate on $connect with a short-lived HS256 JWT (?token=) that ws-connect verifies "
    "and rejects with 401; API Gateway WebSocket APIs authorize only at $connect, so $default and "
    "$disconnect run on an already authenticated connection and ws-message resolves its agent by key."
)
SECRET_REASON = (
    "The HS256 key signs agent tokens that live at most 15 minutes; it is rotated by operators "
    "(new version, then agents refresh tokens), not by a rotation Lambda that would cut every agent off."
)
QUARANTINE_REASON = (
    "Quarantine is the terminal store for poison pills moved out of the DLQ by the guarded redrive; "
    "nothing consumes it automatically, so it has no DLQ of its own and denies being one."
)
CONNECTIONS_REASON = (
    "PostToConnection is authorized per connection id, and connection ids are created at runtime "
    "per agent: the resource is limited to POST on this API's prod stage @connections."
)
LOGS_PREFIX_REASON = (
    "logs.upload presigns a PUT under <creatorId>/<agentId>/ taken from the verified token; those ids "
    "are runtime data, so the grant is PutObject (nothing else) on the logs bucket's objects."
)
PATCHES_REASON = (
    "patch.check presigns a GET for the current build named by latest.json; build keys are runtime "
    "data, so the grant is GetObject on the patches bucket's objects only."
)


def acknowledge_findings(stack: ByoIpStack) -> None:
    """Acknowledge the accepted AwsSolutions findings of ByoIpStack, each with its reason."""
    for route in stack.ws_api.node.children:
        if route.node.id.endswith("-Route"):
            _ack(route, "APIG4", CONNECT_AUTH_REASON)
    _ack(stack.jwt_secret, "SMG4", SECRET_REASON)
    _ack(stack.quarantine_queue, "SQS3", QUARANTINE_REASON)

    connections = (
        "arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:"
        f"<{_logical_id(stack.ws_api)}>/prod/POST/@connections/*"
    )
    for fn in (stack.ws_message_fn, stack.dispatcher):
        _ack(fn.role, f"IAM5[Resource::{connections}]", CONNECTIONS_REASON)
    _ack(
        stack.ws_message_fn.role,
        f"IAM5[Resource::<{_logical_id(stack.logs_bucket)}.Arn>/*]",
        LOGS_PREFIX_REASON,
    )
    _ack(
        stack.ws_message_fn.role,
        f"IAM5[Resource::<{_logical_id(stack.patches_bucket)}.Arn>/*]",
        PATCHES_REASON,
    )


def _ack(scope: IConstruct | None, finding: str, reason: str) -> None:
    assert scope is not None
    Validations.of(scope).acknowledge(Acknowledgment(id=f"{PACK}::{PACK}-{finding}", reason=reason))


def _logical_id(construct: IConstruct) -> str:
    element = construct.node.default_child
    assert isinstance(element, CfnElement)
    return str(Stack.of(construct).resolve(Stack.of(construct).get_logical_id(element)))
