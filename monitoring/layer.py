"""MonitoringLayer: the topic, alarms, composite, dashboards and saved queries, derived from the catalogs."""

from __future__ import annotations

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from constructs import Construct

from contract.config import Config
from monitoring.alarms import incident_composite, unit_alarms
from monitoring.alerting import ops_alerts_topic
from monitoring.dashboards import deprecated_dashboard, primary_dashboard
from monitoring.queries import QUERIES
from monitoring.resources import MonitoringResources
from monitoring.slo_alarms import slo_alarms, slo_widgets
from monitoring.slo_native import native_slos


class MonitoringLayer(Construct):
    """OpsAlerts topic, catalog alarms + Incident composite, SLO burn-rate alerts, dashboards, saved queries.

    `config.alert_mode` only changes which alarms carry SNS actions, never which exist.
    """

    def __init__(self, scope: Construct, id: str, *, config: Config, resources: MonitoringResources) -> None:
        super().__init__(scope, id)
        region = Stack.of(self).region
        self.topic: sns.Topic = ops_alerts_topic(self, config)
        # The stack output keeps the spec's name, so it is created at stack level.
        CfnOutput(
            Stack.of(self),
            "OpsAlertsTopicArn",
            value=self.topic.topic_arn,
            description="SNS topic for BYO-IP ops alerts (subscribe here if no email was set)",
        )
        self.alarms: dict[str, cw.Alarm] = unit_alarms(
            self, config=config, resources=resources, topic=self.topic, region=region
        )
        self.composite: cw.CompositeAlarm = incident_composite(
            self, config=config, alarms=dict(self.alarms), topic=self.topic, region=region
        )
        every_alarm: list[cw.IAlarm] = [*self.alarms.values(), self.composite]
        self.primary_dashboard: cw.Dashboard = primary_dashboard(
            self, config=config, resources=resources, alarms=every_alarm, region=region
        )
        self.slo_alarms, self.slo_composites = slo_alarms(
            self, config=config, resources=resources, topic=self.topic, region=region
        )
        self.native_slos = native_slos(self, config=config, resources=resources)
        for row in slo_widgets(
            config=config, resources=resources, composites=list(self.slo_composites.values())
        ):
            self.primary_dashboard.add_widgets(*row)
        self.deprecated_dashboard: cw.Dashboard = deprecated_dashboard(
            self, config=config, alarms=every_alarm, region=region
        )
        self.queries: list[logs.CfnQueryDefinition] = saved_queries(
            self, config=config, log_group=resources.dispatcher_log_group
        )


def saved_queries(
    scope: Construct, *, config: Config, log_group: logs.ILogGroup
) -> list[logs.CfnQueryDefinition]:
    """One AWS::Logs::QueryDefinition per query (L1: the L2 QueryString reorders clauses)."""
    return [
        logs.CfnQueryDefinition(
            scope,
            f"Query{index}",
            name=config.names.query(query.slug),
            query_string=query.query,
            log_group_names=[log_group.log_group_name],
        )
        for index, query in enumerate(QUERIES, start=1)
    ]
