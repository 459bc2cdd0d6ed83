"""The two alert topics, page and ticket, and their subscriptions (email, pager HTTPS endpoint).

Which alarm publishes to which is decided by monitoring/routing.py from the severity. AWS
Chatbot (Slack, Teams) subscribes to both in stacks/chat.py.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subs
from constructs import Construct

from contract.config import Config
from contract.principals import source_conditions
from monitoring.routing import Route


@dataclass(frozen=True)
class AlertTopics:
    """The page topic (OpsAlerts, CRITICAL and HIGH) and the ticket topic (OpsTickets, WARNING)."""

    page: sns.Topic
    ticket: sns.Topic

    def of(self, route: Route) -> sns.Topic:
        return self.page if route is Route.PAGE else self.ticket


def alert_topics(scope: Construct, config: Config) -> AlertTopics:
    """SSL-only topics `byoip-<s>-ops-alerts` and `byoip-<s>-ops-tickets`, one KMS key, subscriptions."""
    # cdk-nag wants SSE; the AWS-managed SNS key cannot be used by CloudWatch alarms, so
    # the topics get their own key that lets CloudWatch encrypt the messages it publishes.
    stack = Stack.of(scope)
    key = kms.Key(
        scope,
        "OpsAlertsKey",
        alias=config.names.ops_alerts_key_alias,
        description=f"Encrypts the {config.names.ops_alerts_topic} (page) and ticket topics",
        enable_key_rotation=True,
    )
    key.add_to_resource_policy(
        iam.PolicyStatement(
            sid="AllowCloudWatchAlarmsToPublish",
            principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
            actions=["kms:Decrypt", "kms:GenerateDataKey*"],
            resources=["*"],
            # Only for this account's alarms (confused-deputy guard).
            conditions=source_conditions(
                stack.account,
                stack.format_arn(
                    service="cloudwatch",
                    resource="alarm",
                    resource_name="*",
                    arn_format=ArnFormat.COLON_RESOURCE_NAME,
                ),
            ),
        )
    )
    page = _topic(scope, "OpsAlerts", config.names.ops_alerts_topic, f"BYO-IP {config.stage} ops alerts", key)
    ticket = _topic(
        scope, "OpsTickets", config.names.ops_tickets_topic, f"BYO-IP {config.stage} ops tickets", key
    )
    if config.ops_alerts_email:
        page.add_subscription(subs.EmailSubscription(config.ops_alerts_email))
    if config.pager_https_url:
        # The pager service confirms the subscription itself (SNS posts a SubscriptionConfirmation).
        page.add_subscription(
            subs.UrlSubscription(config.pager_https_url, protocol=sns.SubscriptionProtocol.HTTPS)
        )
    if config.ops_tickets_email:
        ticket.add_subscription(subs.EmailSubscription(config.ops_tickets_email))
    return AlertTopics(page=page, ticket=ticket)


def _topic(scope: Construct, logical_id: str, name: str, display: str, key: kms.IKey) -> sns.Topic:
    return sns.Topic(
        scope, logical_id, topic_name=name, display_name=display, enforce_ssl=True, master_key=key
    )
