"""MonitoringLayer: the topic, alarms, composite, dashboards and saved queries, derived from the catalogs."""

from __future__ import annotations

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_logs as logs
from constructs import Construct

from contract.config import Config
from contract.names import FUNCTIONS
from monitoring.alarms import Routing, incident_composite, metric_alarm, unit_alarms, unit_page_composites
from monitoring.alerting import AlertTopics, alert_topics
from monitoring.catalog import ALARMS
from monitoring.dashboards import deprecated_dashboard, primary_dashboard
from monitoring.insight_rules import insight_rules, insight_widgets
from monitoring.queries import JOB_STORY, QUERIES
from monitoring.resources import MonitoringResources
from monitoring.routing import MAINTENANCE
from monitoring.slo_alarms import slo_alarms, slo_widgets
from monitoring.slo_native import native_slos


class MonitoringLayer(Construct):
    """Page and ticket topics, the maintenance window, catalog alarms + Incident composite, SLO
    burn-rate alerts, dashboards, Contributor Insights rules (per-creator views), saved queries.

    `config.alert_mode` only changes which alarms carry SNS actions, never which exist.
    """

    def __init__(self, scope: Construct, id: str, *, config: Config, resources: MonitoringResources) -> None:
        super().__init__(scope, id)
        region = Stack.of(self).region
        self.topics: AlertTopics = alert_topics(self, config)
        # The stack outputs keep the spec's name, so they are created at stack level.
        CfnOutput(
            Stack.of(self),
            "OpsAlertsTopicArn",
            value=self.topics.page.topic_arn,
            description="SNS topic for BYO-IP pages, CRITICAL and HIGH (subscribe here if no email was set)",
        )
        CfnOutput(
            Stack.of(self),
            "OpsTicketsTopicArn",
            value=self.topics.ticket.topic_arn,
            description="SNS topic for BYO-IP tickets, WARNING (subscribe here if no ticket email was set)",
        )
        # The suppressor first: every paging composite below refers to it.
        self.maintenance: cw.Alarm = metric_alarm(
            self, MAINTENANCE, config=config, resources=resources, routing=Routing(self.topics), region=region
        )
        routing = Routing(self.topics, suppressor=self.maintenance)
        self.alarms: dict[str, cw.Alarm] = unit_alarms(
            self, config=config, resources=resources, routing=routing, region=region
        )
        self.composite: cw.CompositeAlarm = incident_composite(
            self, config=config, alarms=dict(self.alarms), routing=routing, region=region
        )
        self.page_composites: dict[str, cw.CompositeAlarm] = unit_page_composites(
            self, ALARMS, config=config, alarms=dict(self.alarms), routing=routing, region=region
        )
        every_alarm: list[cw.IAlarm] = [*self.alarms.values(), self.composite, *self.page_composites.values()]
        self.primary_dashboard: cw.Dashboard = primary_dashboard(
            self, config=config, resources=resources, alarms=every_alarm, region=region
        )
        self.slo_alarms, self.slo_composites = slo_alarms(
            self, config=config, resources=resources, routing=routing, region=region
        )
        self.native_slos = native_slos(self, config=config, resources=resources)
        for row in slo_widgets(
            config=config, resources=resources, composites=list(self.slo_composites.values())
        ):
            self.primary_dashboard.add_widgets(*row)
        # Per-creator views (monitoring/insights.py): the rules, and their graphs at the bottom.
        self.insight_rules: dict[str, cw.CfnInsightRule] = insight_rules(
            self, config=config, resources=resources
        )
        for row in insight_widgets(config, region):
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
    """One AWS::Logs::QueryDefinition per query (L1: the L2 QueryString reorders clauses): the
    spec's three on the dispatcher's log group, one job's story on every function's."""
    return [
        logs.CfnQueryDefinition(
            scope,
            f"Query{index}",
            name=config.names.query(query.slug),
            query_string=query.query,
            log_group_names=[log_group.log_group_name],
        )
        for index, query in enumerate(QUERIES, start=1)
    ] + [
        logs.CfnQueryDefinition(
            scope,
            "QueryJobStory",
            name=config.names.query(JOB_STORY.slug),
            query_string=JOB_STORY.query,
            # Physical names (contract.names): the functions' groups are the functions' stack's.
            log_group_names=[config.names.function_log_group(short) for short in FUNCTIONS],
        )
    ]
