"""AutomationLayer: the SSM Automation documents, their roles, and the DLQ alarm's EventBridge rule."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aws_cdk import ArnFormat, Stack, Stage, Token
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from automation import documents as docs
from automation.rule_target import SsmAutomationTarget, automation_definition_arn
from automation.scripts.guarded_redrive import GUARD_ALARM_ID
from contract.config import Config
from contract.names import (
    AUTOMATIONS,
    EMERGENCY_KEY_ROTATION,
    GUARDED_REDRIVE,
    PAUSE_CREATOR,
    REDRIVE_DLQ,
    REDRIVE_FAILED_RULE,
    RESUME_CREATOR,
    REVOKE_TOKENS,
)
from contract.principals import source_conditions
from lambdas.common.tables import BY_HELD_AGENT
from monitoring.catalog import ALARMS
from runbooks.render import render_runbook_parts, write_runbook

# The guarded redrive only moves messages while this alarm is OK.
HELD_INDEX = BY_HELD_AGENT.name
# What EmergencyKeyRotation calls on the agents' key; the secret's resource policy names its role
# among the few principals allowed RotateSecret, UpdateSecretVersionStage and GetSecretValue.
EMERGENCY_SECRET_ACTIONS = ("DescribeSecret", "RotateSecret", "UpdateSecretVersionStage", "GetSecretValue")


class AutomationLayer(Construct):
    """Deploys BYOIP-<s>-{RedriveDlq,GuardedRedrive,PauseCreator,ResumeCreator,Runbook}.

    `documents` maps automation name → CfnDocument, `roles` automation name → its role,
    `rules` alarm id → the EventBridge rule that starts the alarm's catalog automation.
    """

    def __init__(
        self,
        scope: Construct,
        cid: str,
        *,
        config: Config,
        jobs_queue: sqs.IQueue,
        dlq: sqs.IQueue,
        quarantine_queue: sqs.IQueue,
        jobs_table: dynamodb.ITable,
        creator_limits_table: dynamodb.ITable,
        agents_table: dynamodb.ITable,
        ws_endpoint: str,
        ws_connections_arn: str,
        jwt_secret_arn: str,
    ) -> None:
        super().__init__(scope, cid)
        self._config = config
        stack = Stack.of(self)
        self.roles = {name: self._automation_role(name) for name in AUTOMATIONS}
        errors_alarm = config.names.alarm(GUARD_ALARM_ID)

        # Exactly the calls each script makes (CDK's grant_* helpers add actions they never call).
        redrive = self.roles[REDRIVE_DLQ]
        _allow(redrive, MOVE_SOURCE_ACTIONS, dlq.queue_arn)
        _allow(redrive, ["sqs:SendMessage"], jobs_queue.queue_arn)

        guarded = self.roles[GUARDED_REDRIVE]
        _allow(
            guarded, ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"], dlq.queue_arn
        )
        _allow(guarded, ["sqs:SendMessage"], jobs_queue.queue_arn, quarantine_queue.queue_arn)
        _allow(guarded, ["cloudwatch:DescribeAlarms"], _alarm_arn(stack, errors_alarm))

        _allow(self.roles[PAUSE_CREATOR], ["dynamodb:UpdateItem"], creator_limits_table.table_arn)
        resume = self.roles[RESUME_CREATOR]
        _allow(resume, ["dynamodb:UpdateItem"], creator_limits_table.table_arn, jobs_table.table_arn)
        _allow(resume, ["dynamodb:Scan"], f"{jobs_table.table_arn}/index/{HELD_INDEX}")
        _allow(resume, ["sqs:SendMessage"], jobs_queue.queue_arn)
        revoke = self.roles[REVOKE_TOKENS]
        _allow(revoke, ["dynamodb:UpdateItem", "dynamodb:Scan"], agents_table.table_arn)
        _allow(revoke, ["dynamodb:UpdateItem"], creator_limits_table.table_arn)
        _allow(revoke, ["execute-api:ManageConnections"], ws_connections_arn)
        emergency = self.roles[EMERGENCY_KEY_ROTATION]
        _allow(
            emergency,
            [f"secretsmanager:{a}" for a in EMERGENCY_SECRET_ACTIONS],
            jwt_secret_arn,
        )
        _allow(emergency, ["dynamodb:Scan", "dynamodb:UpdateItem"], agents_table.table_arn)
        _allow(emergency, ["execute-api:ManageConnections"], ws_connections_arn)

        contents = {
            REDRIVE_DLQ: docs.redrive_dlq_document(
                dlq_arn=dlq.queue_arn,
                jobs_queue_arn=jobs_queue.queue_arn,
                role_arn=self._role_arn(REDRIVE_DLQ),
            ),
            GUARDED_REDRIVE: docs.guarded_redrive_document(
                dlq_url=dlq.queue_url,
                jobs_queue_url=jobs_queue.queue_url,
                quarantine_url=quarantine_queue.queue_url,
                errors_alarm_name=errors_alarm,
                role_arn=self._role_arn(GUARDED_REDRIVE),
            ),
            PAUSE_CREATOR: docs.pause_creator_document(
                limits_table=creator_limits_table.table_name, role_arn=self._role_arn(PAUSE_CREATOR)
            ),
            RESUME_CREATOR: docs.resume_creator_document(
                limits_table=creator_limits_table.table_name,
                jobs_table=jobs_table.table_name,
                jobs_queue_url=jobs_queue.queue_url,
                role_arn=self._role_arn(RESUME_CREATOR),
            ),
            REVOKE_TOKENS: docs.revoke_tokens_document(
                agents_table=agents_table.table_name,
                limits_table=creator_limits_table.table_name,
                ws_endpoint=ws_endpoint,
                role_arn=self._role_arn(REVOKE_TOKENS),
            ),
            EMERGENCY_KEY_ROTATION: docs.emergency_key_rotation_document(
                secret_arn=jwt_secret_arn,
                agents_table=agents_table.table_name,
                ws_endpoint=ws_endpoint,
                role_arn=self._role_arn(EMERGENCY_KEY_ROTATION),
            ),
        }
        self.documents = {
            name: self._document(name, config.names.document(name), content)
            for name, content in contents.items()
        }
        # One SSM document per part of the runbook (64 KB each at most): the main one keeps its id.
        parts = render_runbook_parts(config, region=stack.region, account=stack.account)
        self.runbook_documents = {
            part: self._document(
                f"Runbook{part}", config.names.runbook_part(part), docs.runbook_document(markdown)
            )
            for part, markdown in parts.items()
        }
        self.runbook_document = self.runbook_documents[""]
        self.rules = {
            spec.id: self._alarm_rule(spec.id, spec.automation) for spec in ALARMS if spec.automation
        }
        self.redrive_failed_rule = self._redrive_failed_rule()
        self._write_runbook_file(stack)

    def _write_runbook_file(self, stack: Stack) -> None:
        """`make synth` leaves the readable runbook next to the templates, ready to publish.

        cdk.out/runbooks/<stage>/runbook.md is the layout RUNBOOK_BASE_URL links expect, so it is
        written only when the stack's region and account are concrete (an env-agnostic stack
        would give a file full of placeholders); `byoip runbook render` covers that case. A file
        left by an earlier synth is removed rather than published stale.
        """
        stage = Stage.of(self)
        if stage is None:
            return
        out_dir = Path(stage.outdir) / "runbooks"
        if Token.is_unresolved(stack.region) or Token.is_unresolved(stack.account):
            (out_dir / self._config.names.runbook_path).unlink(missing_ok=True)
            return
        write_runbook(self._config, out_dir, region=stack.region, account=stack.account)

    def _automation_role(self, name: str) -> iam.Role:
        stack = Stack.of(self)
        return iam.Role(
            self,
            f"{name}Role",
            # SSM assumes it for this account's automation executions only (confused-deputy guard).
            assumed_by=iam.ServicePrincipal(
                "ssm.amazonaws.com",
                conditions=source_conditions(stack.account, _arn(stack, "ssm", "automation-execution/*")),
            ),
            description=f"Runs {self._config.names.document(name)} and nothing else",
        )

    def _role_arn(self, name: str) -> str:
        return self.roles[name].role_arn

    def _document(self, cid: str, name: str, content: dict[str, Any]) -> ssm.CfnDocument:
        return ssm.CfnDocument(
            self,
            cid,
            name=name,
            document_type="Automation",
            document_format="JSON",
            content=content,
            # Named documents cannot be replaced in place; a new version keeps the name stable.
            update_method="NewVersion",
        )

    def _events_role(self, cid: str, automation: str, when: str) -> iam.Role:
        """The role EventBridge starts `automation` with: that document only, passing its role."""
        document = self._config.names.document(automation)
        stack = Stack.of(self)
        events_role = iam.Role(
            self,
            cid,
            # EventBridge assumes it for this account's rules only.
            assumed_by=iam.ServicePrincipal(
                "events.amazonaws.com",
                conditions=source_conditions(stack.account, _arn(stack, "events", "rule/*")),
            ),
            description=f"Lets EventBridge start {document} when {when}",
        )
        _allow(
            events_role, ["ssm:StartAutomationExecution"], automation_definition_arn(Stack.of(self), document)
        )
        self.roles[automation].grant_pass_role(events_role)
        return events_role

    def _redrive_failed_rule(self) -> events.Rule:
        """A GuardedRedrive run that failed, timed out or was cancelled starts it again, after a delay.

        SSM sends every Automation execution's status change to EventBridge; the rule matches the
        final failures of this stage's GuardedRedrive and starts it again with a start delay
        (documents.GUARDED_REDRIVE_RESTART), so a redrive that keeps failing runs at most every 4
        minutes. A run that finds the DLQ empty succeeds and ends the chain. The RedriveFailed
        alarm reads the rule's MatchedEvents (monitoring/watched.py).
        """
        document = self._config.names.document(GUARDED_REDRIVE)
        rule = events.Rule(
            self,
            "RedriveFailed",
            rule_name=self._config.names.rule(REDRIVE_FAILED_RULE),
            description=f"A failed, timed-out or cancelled {document} starts it again after a delay",
            event_pattern=events.EventPattern(
                source=["aws.ssm"],
                detail_type=["EC2 Automation Execution Status-change Notification"],
                detail={"Definition": [document], "Status": list(REDRIVE_FAILED_STATUSES)},
            ),
        )
        rule.add_target(
            SsmAutomationTarget(
                document_name=document,
                events_role=self._events_role("RedriveFailedEventsRole", GUARDED_REDRIVE, "a run failed"),
                parameters={
                    "AutomationAssumeRole": self._role_arn(GUARDED_REDRIVE),
                    **docs.GUARDED_REDRIVE_RESTART,
                },
            )
        )
        rule.node.add_dependency(self.documents[GUARDED_REDRIVE])
        return rule

    def _alarm_rule(self, alarm_id: str, automation: str) -> events.Rule:
        """EventBridge rule: this alarm's state change to ALARM starts its automation."""
        stack = Stack.of(self)
        name = self._config.names.alarm(alarm_id)
        document = self._config.names.document(automation)
        events_role = self._events_role(f"{alarm_id}EventsRole", automation, f"{name} fires")
        rule = events.Rule(
            self,
            f"{alarm_id}To{automation}",
            rule_name=self._config.names.automation_rule(alarm_id, automation),
            description=f"{name} in ALARM starts {document}",
            event_pattern=events.EventPattern(
                source=["aws.cloudwatch"],
                detail_type=["CloudWatch Alarm State Change"],
                resources=[_alarm_arn(stack, name)],
                detail={"alarmName": [name], "state": {"value": ["ALARM"]}},
            ),
        )
        rule.add_target(
            SsmAutomationTarget(
                document_name=document,
                events_role=events_role,
                parameters={"AutomationAssumeRole": self._role_arn(automation)},
            )
        )
        rule.node.add_dependency(self.documents[automation])
        return rule


def _arn(stack: Stack, service: str, resource: str) -> str:
    return stack.format_arn(service=service, resource=resource, arn_format=ArnFormat.NO_RESOURCE_NAME)


def _allow(grantee: iam.IGrantable, actions: list[str] | tuple[str, ...], *resources: str) -> None:
    iam.Grant.add_to_principal(grantee=grantee, actions=list(actions), resource_arns=list(resources))


# SSM Automation's final failure statuses (Success, InProgress, Waiting, ... never restart it).
REDRIVE_FAILED_STATUSES = ("Failed", "TimedOut", "Cancelled")

# What SQS checks on the caller of StartMessageMoveTask for the source queue.
MOVE_SOURCE_ACTIONS = (
    "sqs:StartMessageMoveTask",
    "sqs:ListMessageMoveTasks",
    "sqs:ReceiveMessage",
    "sqs:DeleteMessage",
    "sqs:GetQueueAttributes",
)


def _alarm_arn(stack: Stack, name: str) -> str:
    return stack.format_arn(
        service="cloudwatch", resource="alarm", resource_name=name, arn_format=ArnFormat.COLON_RESOURCE_NAME
    )
