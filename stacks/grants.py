"""Narrow IAM statements the stack grants: named actions on named resources.

The CDK `grant_*` helpers add actions a handler never calls (DescribeSecret, GetQueueUrl,
`s3:GetObject*`, `kms:ReEncrypt*`...); these list exactly what lambdas/ calls.
"""

from __future__ import annotations

from collections.abc import Iterable

from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sqs as sqs

from stacks.nag import acknowledge, logical_id

CONNECTIONS_REASON = (
    "PostToConnection is authorized per connection id, and connection ids are created at runtime "
    "per agent: the resource is limited to POST on this API's prod stage @connections."
)


def allow(grantee: iam.IGrantable, service: str, actions: Iterable[str], resources: Iterable[str]) -> None:
    """Allow `<service>:<action>` for each action on each resource ARN."""
    iam.Grant.add_to_principal(
        grantee=grantee,
        actions=[f"{service}:{action}" for action in actions],
        resource_arns=list(resources),
    )


def allow_table(
    grantee: iam.IGrantable,
    table: dynamodb.ITable,
    actions: Iterable[str],
    *,
    query_indexes: Iterable[str] = (),
) -> None:
    """Item actions on the table (transactions need the per-item actions), Query on named indexes."""
    allow(grantee, "dynamodb", actions, [table.table_arn])
    indexes = [f"{table.table_arn}/index/{name}" for name in query_indexes]
    if indexes:
        allow(grantee, "dynamodb", ["Query"], indexes)


def allow_send(grantee: iam.IGrantable, queue: sqs.IQueue) -> None:
    """SendMessage (and SendMessageBatch, which IAM authorizes as SendMessage) to one queue."""
    allow(grantee, "sqs", ["SendMessage"], [queue.queue_arn])


def allow_secret_value(grantee: iam.IGrantable, secret: secretsmanager.ISecret) -> None:
    """GetSecretValue on one secret (encrypted with the AWS managed key: no KMS grant needed)."""
    allow(grantee, "secretsmanager", ["GetSecretValue"], [secret.secret_arn])


def allow_objects(grantee: iam.Role, bucket: s3.IBucket, actions: Iterable[str], *, why_any_key: str) -> None:
    """`s3:<action>` on the bucket's objects; keys are runtime data, and `why_any_key` says which."""
    allow(grantee, "s3", actions, [bucket.arn_for_objects("*")])
    acknowledge(grantee, f"IAM5[Resource::<{logical_id(bucket)}.Arn>/*]", why_any_key)


def allow_key(grantee: iam.IGrantable, key: kms.IKey, actions: Iterable[str]) -> None:
    """`kms:<action>` on one key (SSE-KMS reads need Decrypt, writes GenerateDataKey)."""
    allow(grantee, "kms", actions, [key.key_arn])


def allow_post_to_connection(grantee: iam.Role, api: apigwv2.WebSocketApi, stage: str) -> None:
    """PostToConnection on one stage of one WebSocket API (any connection id: they are per agent)."""
    allow(
        grantee,
        "execute-api",
        ["ManageConnections"],
        [api.arn_for_execute_api_v2("POST/@connections/*", stage)],
    )
    connections = (
        "arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:"
        f"<{logical_id(api)}>/{stage}/POST/@connections/*"
    )
    acknowledge(grantee, f"IAM5[Resource::{connections}]", CONNECTIONS_REASON)
