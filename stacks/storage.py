"""State: the three DynamoDB tables, the agent buckets, their KMS key and the WebSocket JWT secret."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from contract.names import Names
from lambdas.common import tables

_TYPES = {tables.S: dynamodb.AttributeType.STRING, tables.N: dynamodb.AttributeType.NUMBER}
ACCESS_LOG_RETENTION = Duration.days(90)
# Agent logs are support bundles from creators' own devices (their IPs, their sites): kept long
# enough to debug an incident reported a few weeks late, then gone.
AGENT_LOG_RETENTION = Duration.days(30)


def _attribute(attr: tables.Attr) -> dynamodb.Attribute:
    return dynamodb.Attribute(name=attr.name, type=_TYPES[attr.type])


def _table(scope: Construct, cid: str, schema: tables.Table, names: Names) -> dynamodb.Table:
    """One table as lambdas/common/tables.py defines it (key, TTL, indexes)."""
    table = dynamodb.Table(
        scope,
        cid,
        table_name=names.table(schema.short),
        partition_key=_attribute(schema.key),
        billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
        time_to_live_attribute=schema.ttl,
        point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
            point_in_time_recovery_enabled=True
        ),
        removal_policy=RemovalPolicy.RETAIN,
        # A console click or a stray `delete-table` must not take the jobs with it either.
        deletion_protection=True,
    )
    for index in schema.indexes:
        table.add_global_secondary_index(
            index_name=index.name,
            partition_key=_attribute(index.partition),
            sort_key=_attribute(index.sort) if index.sort else None,
            projection_type=dynamodb.ProjectionType(index.projection),
        )
    return table


class Storage(Construct):
    """Tables keyed as in docs/contracts.md; buckets private, TLS-only, KMS-encrypted, access-logged."""

    def __init__(self, scope: Construct, cid: str, *, names: Names) -> None:
        super().__init__(scope, cid)
        # Server access logs are granted by bucket policy, not by a log-delivery ACL (ACLs stay
        # disabled); pinned here so the stack never depends on the app's feature flags.
        self.node.set_context("@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy", True)
        # Construct ids shape the logical ids: never rename them.
        self.jobs_table = _table(self, "JobsTable", tables.JOBS, names)
        self.agents_table = _table(self, "AgentsTable", tables.AGENTS, names)
        self.creator_limits_table = _table(self, "CreatorLimits", tables.CREATOR_LIMITS, names)

        self.key = kms.Key(
            self,
            "DataKey",
            enable_key_rotation=True,
            alias=names.data_key_alias,
            description=f"BYO-IP {names.stage}: agent patches and agent logs",
        )
        # S3 server access logs cannot be delivered to a KMS-CMK bucket, hence S3-managed here.
        self.access_logs_bucket = s3.Bucket(
            self,
            "AccessLogsBucket",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            lifecycle_rules=[s3.LifecycleRule(expiration=ACCESS_LOG_RETENTION)],
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.patches_bucket = self._private_bucket("AgentPatchesBucket", versioned=True)
        self.logs_bucket = self._private_bucket("AgentLogsBucket", versioned=False)
        self.logs_bucket.add_lifecycle_rule(
            id="ExpireAgentLogs",
            expiration=AGENT_LOG_RETENTION,
            abort_incomplete_multipart_upload_after=Duration.days(1),
        )
        # Every log object is SSE-KMS with our key: a PutObject (the logs.upload POST form included)
        # that does not name it is refused, so no upload can pick SSE-S3, aws/s3 or a foreign key.
        self.logs_bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="LogsOnlyWithTheStackKey",
                effect=iam.Effect.DENY,
                principals=[iam.AnyPrincipal()],
                actions=["s3:PutObject"],
                resources=[self.logs_bucket.arn_for_objects("*")],
                conditions={
                    "StringNotEquals": {"s3:x-amz-server-side-encryption-aws-kms-key-id": self.key.key_arn}
                },
            )
        )

        self.jwt_secret = secretsmanager.Secret(
            self,
            "WsJwtSecret",
            secret_name=names.jwt_secret,
            description="HS256 key that signs agent WebSocket tokens",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                password_length=64, exclude_punctuation=True
            ),
            removal_policy=RemovalPolicy.RETAIN,
        )

    def _private_bucket(self, cid: str, *, versioned: bool) -> s3.Bucket:
        return s3.Bucket(
            self,
            cid,
            versioned=versioned,
            encryption=s3.BucketEncryption.KMS,
            encryption_key=self.key,
            bucket_key_enabled=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            server_access_logs_bucket=self.access_logs_bucket,
            server_access_logs_prefix=f"{cid}/",
            removal_policy=RemovalPolicy.RETAIN,
        )
