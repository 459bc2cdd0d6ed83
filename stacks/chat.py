"""AWS Chatbot: the page and ticket topics posted to a Slack channel or a Teams channel, if configured.

Notifications only. The channel role may read alarms and their metrics (what Chatbot needs to
render a CloudWatch notification with its graph) and nothing else, and the guardrail policy caps
every member of the channel to the same, so no command typed in the channel can change anything.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import aws_chatbot as chatbot
from aws_cdk import aws_iam as iam
from constructs import Construct

from contract.config import Config
from monitoring.alerting import AlertTopics
from stacks.nag import acknowledge

# CloudWatch notifications in chat: the alarm (DescribeAlarms, its history) and the graph
# (GetMetricData). GetMetricData has no resource-level permission; DescribeAlarms is listed by
# AWS Chatbot's own "Notification permissions" template the same way.
CHAT_READ_ACTIONS = (
    "cloudwatch:DescribeAlarms",
    "cloudwatch:DescribeAlarmHistory",
    "cloudwatch:GetMetricData",
)
WILDCARD_REASON = (
    "Read-only CloudWatch calls AWS Chatbot makes to render an alarm notification; GetMetricData "
    "supports no resource-level permissions, and the guardrail caps the channel to these reads."
)


class ChatChannels(Construct):
    """A Slack and/or a Teams channel configuration subscribed to both alert topics."""

    def __init__(self, scope: Construct, id: str, *, config: Config, topics: AlertTopics) -> None:
        super().__init__(scope, id)
        names = config.names
        self.guardrail = iam.ManagedPolicy(
            self,
            "Guardrail",
            managed_policy_name=names.chat_guardrail_policy,
            description="Caps the ops chat channel to reading alarms and metrics",
            statements=[iam.PolicyStatement(actions=list(CHAT_READ_ACTIONS), resources=["*"])],
        )
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("chatbot.amazonaws.com"),
            description="AWS Chatbot channel role: reads alarms and metrics for notifications",
            managed_policies=[self.guardrail],
        )
        acknowledge(self.guardrail, "IAM5[Resource::*]", WILDCARD_REASON)
        topic_arns = [topics.page.topic_arn, topics.ticket.topic_arn]
        common: dict[str, Any] = {
            "iam_role_arn": self.role.role_arn,
            "sns_topic_arns": topic_arns,
            "guardrail_policies": [self.guardrail.managed_policy_arn],
            "logging_level": "ERROR",
            "user_role_required": False,
        }
        self.slack: chatbot.CfnSlackChannelConfiguration | None = None
        self.teams: chatbot.CfnMicrosoftTeamsChannelConfiguration | None = None
        if config.slack:
            self.slack = chatbot.CfnSlackChannelConfiguration(
                self,
                "Slack",
                configuration_name=names.chat_configuration("slack"),
                slack_workspace_id=str(config.slack_workspace_id),
                slack_channel_id=str(config.slack_channel_id),
                **common,
            )
        if config.teams:
            self.teams = chatbot.CfnMicrosoftTeamsChannelConfiguration(
                self,
                "Teams",
                configuration_name=names.chat_configuration("teams"),
                team_id=str(config.teams_team_id),
                teams_channel_id=str(config.teams_channel_encoded),
                teams_tenant_id=str(config.teams_tenant_id),
                **common,
            )
