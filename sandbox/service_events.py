"""EventBridge's default bus, for the AWS service events the sandbox produces.

SSM sends every Automation execution's status change ("EC2 Automation Execution Status-change
Notification"), Secrets Manager a failed rotation ("AWS Service Event via CloudTrail",
eventName RotationFailed). Each rule of the template with an event pattern that matches counts a
`MatchedEvents` datapoint (AWS/Events, RuleName) and starts its SSM Automation targets; a
target that cannot be started counts `FailedInvocations`. Patterns are matched by the offline
evaluator's EventBridge matcher (monitoring/evaluator/patterns.py).
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from monitoring.evaluator.patterns import matches
from sandbox.metrics import MetricStore
from sandbox.ssm import Automation, Execution
from sandbox.template import ACCOUNT, REGION, Resolver

NAMESPACE = "AWS/Events"
SSM_STATUS_CHANGE = "EC2 Automation Execution Status-change Notification"
SERVICE_EVENT = "AWS Service Event via CloudTrail"


def rule_targets(resolver: Resolver) -> dict[tuple[str, str], tuple[str, dict[str, Any]]]:
    """(rule name, target ARN) -> (document name, start parameters) for SSM automation targets."""
    out = {}
    for logical_id, props in resolver.of_type("AWS::Events::Rule"):
        name = resolver.resolve(props.get("Name")) or logical_id
        for target in props.get("Targets", []):
            arn = str(resolver.resolve(target.get("Arn", "")))
            if ":automation-definition/" not in arn:
                continue
            document = arn.split(":automation-definition/", 1)[1].split(":", 1)[0]
            params = resolver.resolve(target.get("Input", "{}"))
            out[(name, arn)] = (document, json.loads(params) if isinstance(params, str) else params)
    return out


def start_target(
    automation: Automation, metrics: MetricStore, rule: str, document: str, params: dict[str, Any]
) -> Execution | None:
    """Start one SSM target of `rule`; a start SSM refuses is a FailedInvocations of the rule."""
    try:
        return automation.start(document, params)
    except (KeyError, ValueError):  # no such document, a parameter it refuses
        metrics.put(NAMESPACE, "FailedInvocations", 1, {"RuleName": rule})
        return None


class ServiceEvents:
    """The default bus: rules with an event pattern, their SSM targets, their metrics."""

    def __init__(self, resolver: Resolver, metrics: MetricStore, automation: Automation) -> None:
        self.metrics = metrics
        self.automation = automation
        self.rules: list[tuple[str, dict[str, Any]]] = []
        for logical_id, props in resolver.of_type("AWS::Events::Rule"):
            pattern = props.get("EventPattern")
            if pattern is not None and props.get("State", "ENABLED") == "ENABLED":
                self.rules.append(
                    (str(resolver.resolve(props.get("Name")) or logical_id), resolver.resolve(pattern))
                )
        self.targets = rule_targets(resolver)
        self.events: list[dict[str, Any]] = []
        automation.listeners.append(self._on_execution)

    def put(
        self, source: str, detail_type: str, detail: dict[str, Any], resources: list[str] | None = None
    ) -> list[str]:
        """PutEvents of one service event; the names of the rules it matched."""
        event = {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": detail_type,
            "source": source,
            "account": ACCOUNT,
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "region": REGION,
            "resources": resources or [],
            "detail": detail,
        }
        self.events.append(event)
        matched = [name for name, pattern in self.rules if matches(pattern, event)]
        for rule in matched:
            self.metrics.put(NAMESPACE, "MatchedEvents", 1, {"RuleName": rule})
            for (target_rule, _), (document, params) in self.targets.items():
                if target_rule == rule:
                    self.metrics.put(NAMESPACE, "Invocations", 1, {"RuleName": rule})
                    start_target(self.automation, self.metrics, rule, document, params)
        return matched

    def rotation_failed(self, secret_arn: str) -> list[str]:
        """Secrets Manager's RotationFailed service event for `secret_arn`."""
        return self.put(
            "aws.secretsmanager",
            SERVICE_EVENT,
            {
                "eventSource": "secretsmanager.amazonaws.com",
                "eventName": "RotationFailed",
                "additionalEventData": {"SecretId": secret_arn},
            },
        )

    def _on_execution(self, execution: Execution) -> None:
        """SSM's status-change event of every execution (started, then finished)."""
        arn = f"arn:aws:ssm:{REGION}:{ACCOUNT}:automation-definition/{execution.document}:$DEFAULT"
        self.put(
            "aws.ssm",
            SSM_STATUS_CHANGE,
            {
                "ExecutionId": execution.id,
                "Definition": execution.document,
                "DefinitionVersion": 1.0,
                "Status": execution.status,
                "StartTime": execution.started,
                "EndTime": execution.finished,
            },
            [arn],
        )
