"""The OpsAlerts SNS topic every notifying alarm publishes to."""

from __future__ import annotations

from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subs
from constructs import Construct

from contract.config import Config


def ops_alerts_topic(scope: Construct, config: Config) -> sns.Topic:
    """SSL-only, KMS-encrypted topic `byoip-<s>-ops-alerts`, with the ops email if configured."""
    # cdk-nag wants SSE; the AWS-managed SNS key cannot be used by CloudWatch alarms, so
    # the topic gets its own key that lets CloudWatch encrypt the messages it publishes.
    key = kms.Key(
        scope,
        "OpsAlertsKey",
        alias=config.names.ops_alerts_key_alias,
        description=f"Encrypts the {config.names.ops_alerts_topic} topic",
        enable_key_rotation=True,
    )
    key.add_to_resource_policy(
        iam.PolicyStatement(
            sid="AllowCloudWatchAlarmsToPublish",
            principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
            actions=["kms:Decrypt", "kms:GenerateDataKey*"],
            resources=["*"],
        )
    )
    topic = sns.Topic(
        scope,
        "OpsAlerts",
        topic_name=config.names.ops_alerts_topic,
        display_name=f"BYO-IP {config.stage} ops alerts",
        enforce_ssl=True,
        master_key=key,
    )
    if config.ops_alerts_email:
        topic.add_subscription(subs.EmailSubscription(config.ops_alerts_email))
    return topic
