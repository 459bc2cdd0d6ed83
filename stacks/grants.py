"""Narrow IAM statements the stack grants: named actions on named resources, no wildcards."""

from __future__ import annotations

from collections.abc import Iterable

from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3


def allow_table(
    grantee: iam.IGrantable, table: dynamodb.ITable, actions: Iterable[str], *, indexes: Iterable[str] = ()
) -> None:
    """`dynamodb:<action>` on the table itself and, for queries, on the named indexes only."""
    resources = [table.table_arn, *(f"{table.table_arn}/index/{name}" for name in indexes)]
    iam.Grant.add_to_principal(
        grantee=grantee,
        actions=[f"dynamodb:{action}" for action in actions],
        resource_arns=resources,
    )


def allow_objects(
    grantee: iam.IGrantable, bucket: s3.IBucket, actions: Iterable[str], *, prefix: str
) -> None:
    """`s3:<action>` on the objects under one key prefix of one bucket."""
    iam.Grant.add_to_principal(
        grantee=grantee,
        actions=[f"s3:{action}" for action in actions],
        resource_arns=[bucket.arn_for_objects(f"{prefix}*")],
    )


def allow_key(grantee: iam.IGrantable, key: kms.IKey, actions: Iterable[str]) -> None:
    """`kms:<action>` on one key (SSE-KMS reads need Decrypt, writes GenerateDataKey)."""
    iam.Grant.add_to_principal(
        grantee=grantee, actions=[f"kms:{action}" for action in actions], resource_arns=[key.key_arn]
    )


def allow_post_to_connection(grantee: iam.IGrantable, api: apigwv2.IWebSocketApi, stage: str) -> None:
    """PostToConnection on one stage of one WebSocket API (any connection id: they are per agent)."""
    iam.Grant.add_to_principal(
        grantee=grantee,
        actions=["execute-api:ManageConnections"],
        resource_arns=[api.arn_for_execute_api_v2("POST/@connections/*", stage)],
    )
