"""The per-creator views in CloudFormation: one AWS::CloudWatch::InsightRule per entry of
monitoring/insights.py, and one Contributor Insights graph each on the primary dashboard.

CDK has no Contributor Insights widget class, so `InsightWidget` emits the dashboard body's
own form (a `metric` widget whose properties name an `insightRule`).
"""

from __future__ import annotations

from typing import Any

from aws_cdk import aws_cloudwatch as cw
from constructs import Construct

from contract.config import Config
from monitoring.insights import RULES, TOP_CONTRIBUTORS, InsightRule
from monitoring.resources import MonitoringResources

WIDGET_WIDTH, WIDGET_HEIGHT = 12, 6  # two a row


class InsightWidget(cw.ConcreteWidget):
    """A Contributor Insights graph: the top creators of one rule, a line each over time."""

    def __init__(self, *, rule_name: str, title: str, region: str) -> None:
        super().__init__(WIDGET_WIDTH, WIDGET_HEIGHT)
        self._properties = {
            "insightRule": {"maxContributorCount": TOP_CONTRIBUTORS, "orderBy": "Sum", "ruleName": rule_name},
            "title": title,
            "region": region,
            "view": "timeSeries",
            "legend": {"position": "bottom"},
        }
        self._at = (0, 0)

    def position(self, x: int, y: int) -> None:
        self._at = (x, y)

    def to_json(self) -> list[Any]:
        x, y = self._at
        return [
            {
                "type": "metric",
                "width": self.width,
                "height": self.height,
                "x": x,
                "y": y,
                "properties": self._properties,
            }
        ]


def insight_rules(
    scope: Construct, *, config: Config, resources: MonitoringResources
) -> dict[str, cw.CfnInsightRule]:
    """One enabled rule per catalog entry, created after the log group it reads (when the stack made it)."""
    made: dict[str, cw.CfnInsightRule] = {}
    for rule in RULES:
        made[rule.id] = cfn = cw.CfnInsightRule(
            scope,
            f"TopCreators{rule.id}",
            rule_name=config.names.insight_rule(rule.id),
            rule_state="ENABLED",
            rule_body=rule.body_json(config.names),
        )
        log_group = resources.function_log_groups.get(rule.function)
        if log_group is not None:
            cfn.node.add_dependency(log_group)
    return made


def insight_widgets(config: Config, region: str) -> list[list[InsightWidget]]:
    """The dashboard rows: the catalog's rules in order, two a row."""
    widgets = [_widget(rule, config, region) for rule in RULES]
    return [widgets[i : i + 2] for i in range(0, len(widgets), 2)]


def _widget(rule: InsightRule, config: Config, region: str) -> InsightWidget:
    return InsightWidget(rule_name=config.names.insight_rule(rule.id), title=rule.title, region=region)
