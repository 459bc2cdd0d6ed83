"""Every physical name of one stage, derived in this one place (docs/contracts.md lists them).

The stack names its resources with these, the monitoring layer its alarms, dashboards and
queries, the runbooks and the CLI find them with these, and the sandbox looks them up with these.
"""

from __future__ import annotations

from dataclasses import dataclass

from lambdas.common.tables import TABLE_NAMES

# The TypeScript original's stack. This app never deploys over it (every logical id differs, so
# CloudFormation would replace its queue, API and tables): docs/migration.md moves prod over.
ORIGINAL_STACK_NAME = "HuntazeByoIpStack"
# Alert topics after the stage prefix, by route (monitoring/routing.py decides the route).
ALERT_TOPIC_SUFFIXES = {"page": "ops-alerts", "ticket": "ops-tickets"}


def alert_route(topic_name: str) -> str | None:
    """page | ticket for one of a stage's alert topics (by name), None for any other topic."""
    for route, suffix in ALERT_TOPIC_SUFFIXES.items():
        if topic_name.startswith("byoip-") and topic_name.endswith(f"-{suffix}"):
            return route
    return None


# Queue suffixes after the stage prefix: byoip-<stage>-<suffix>.
JOBS = "jobs"
DLQ = "jobs-dlq"
QUARANTINE = "jobs-quarantine"
QUEUES = (JOBS, DLQ, QUARANTINE)
# Short names of the functions; handlers live at lambdas/<name with _>/handler.py.
WS_CONNECT = "ws-connect"
WS_MESSAGE = "ws-message"
WS_DISCONNECT = "ws-disconnect"
DISPATCHER = "dispatcher-sqs"
LEASE_REAPER = "lease-reaper"
SECRET_ROTATION = "secret-rotation"
PROBE = "probe"  # the black-box probe: a synthetic agent walking an agent's whole path every minute
FUNCTIONS = (WS_CONNECT, WS_MESSAGE, WS_DISCONNECT, DISPATCHER, LEASE_REAPER, SECRET_ROTATION, PROBE)
RUNBOOK_DOCUMENT = "Runbook"
# SSM Automation documents the stack deploys, as BYOIP-<stage>-<name>.
REDRIVE_DLQ = "RedriveDlq"
GUARDED_REDRIVE = "GuardedRedrive"
PAUSE_CREATOR = "PauseCreator"
RESUME_CREATOR = "ResumeCreator"
REVOKE_TOKENS = "RevokeTokens"
EMERGENCY_KEY_ROTATION = "EmergencyKeyRotation"
AUTOMATIONS = (
    REDRIVE_DLQ,
    GUARDED_REDRIVE,
    PAUSE_CREATOR,
    RESUME_CREATOR,
    REVOKE_TOKENS,
    EMERGENCY_KEY_ROTATION,
)
# EventBridge rules on service events, as byoip-<stage>-<name>: a GuardedRedrive execution that
# failed, timed out or was cancelled (starts it again); a failed rotation of the agents' key.
REDRIVE_FAILED_RULE = "redrive-failed"
ROTATION_FAILED_RULE = "rotation-failed"
# Contributor Insights rules (top creators by ...), as BYOIP-<stage>-TopCreators-<id>;
# monitoring/insights.py defines each one.
FAILED_RESULTS = "FailedResults"
HELD_JOBS = "HeldJobs"
RATE_LIMITED_FRAMES = "RateLimitedFrames"
REJECTED_CONNECTS = "RejectedConnects"
INSIGHT_RULES = (FAILED_RESULTS, HELD_JOBS, RATE_LIMITED_FRAMES, REJECTED_CONNECTS)


@dataclass(frozen=True)
class Names:
    """Physical names of stage `stage` (the stage is validated by contract.config.Config)."""

    stage: str

    @property
    def stack(self) -> str:
        """`HuntazeByoIpStack-<stage>`, prod included: it runs beside the original until the cut-over."""
        return f"{ORIGINAL_STACK_NAME}-{self.stage}"

    @property
    def prefix(self) -> str:
        """Prefix of resource names (queues, tables, functions, topics, rules)."""
        return f"byoip-{self.stage}"

    def queue(self, suffix: str) -> str:
        """byoip-<stage>-jobs | -jobs-dlq | -jobs-quarantine."""
        if suffix not in QUEUES:
            raise ValueError(f"unknown queue {suffix!r}: allowed {' | '.join(QUEUES)}")
        return f"{self.prefix}-{suffix}"

    def table(self, short: str) -> str:
        """byoip-<stage>-jobs | -agents | -creator-limits (lambdas/common/tables.py defines them)."""
        if short not in TABLE_NAMES:
            raise ValueError(f"unknown table {short!r}: allowed {' | '.join(TABLE_NAMES)}")
        return f"{self.prefix}-{short}"

    def function(self, short: str) -> str:
        """byoip-<stage>-<function>."""
        if short not in FUNCTIONS:
            raise ValueError(f"unknown function {short!r}: allowed {' | '.join(FUNCTIONS)}")
        return f"{self.prefix}-{short}"

    def function_log_group(self, short: str) -> str:
        return f"/aws/lambda/{self.function(short)}"

    @property
    def ws_api(self) -> str:
        return f"{self.prefix}-ws"

    @property
    def ws_access_log_group(self) -> str:
        return f"/aws/apigateway/{self.prefix}-ws-access"

    @property
    def lease_reaper_rule(self) -> str:
        return self.rule(LEASE_REAPER)

    def rule(self, short: str) -> str:
        """EventBridge rule byoip-<stage>-<short> (lease-reaper, redrive-failed, <AlarmId>-<Automation>)."""
        return f"{self.prefix}-{short}"

    @property
    def probe_rule(self) -> str:
        """The EventBridge rule that runs the black-box probe every minute."""
        return f"{self.prefix}-{PROBE}"

    @property
    def jwt_secret(self) -> str:
        return f"byoip/{self.stage}/ws-jwt"

    @property
    def data_key_alias(self) -> str:
        return f"alias/{self.prefix}-data"

    @property
    def patch_signing_key_alias(self) -> str:
        """The KMS key (ECC_NIST_P256, SIGN_VERIFY) that signs agent patch manifests."""
        return f"alias/{self.prefix}-patch-signing"

    @property
    def patch_release_role(self) -> str:
        """The only role that may write the patches bucket (byoip patch publish runs as it)."""
        return f"{self.prefix}-patch-release"

    @property
    def patches_bucket_parameter(self) -> str:
        """SSM parameter holding the patches bucket's name (the bucket's own name is generated)."""
        return f"/byoip/{self.stage}/patches-bucket"

    @property
    def ops_alerts_topic(self) -> str:
        """The page topic (CRITICAL and HIGH alarms)."""
        return f"{self.prefix}-{ALERT_TOPIC_SUFFIXES['page']}"

    @property
    def ops_tickets_topic(self) -> str:
        """The ticket topic (WARNING alarms)."""
        return f"{self.prefix}-{ALERT_TOPIC_SUFFIXES['ticket']}"

    @property
    def alert_topics(self) -> dict[str, str]:
        """Route (page | ticket, monitoring/routing.py) -> topic name."""
        return {route: f"{self.prefix}-{suffix}" for route, suffix in ALERT_TOPIC_SUFFIXES.items()}

    def chat_configuration(self, app: str) -> str:
        """AWS Chatbot channel configuration name for `app` (slack | teams)."""
        return f"{self.prefix}-ops-{app}"

    @property
    def chat_guardrail_policy(self) -> str:
        """The managed policy capping what anyone may do from the ops chat channel."""
        return f"{self.prefix}-ops-chat-guardrail"

    @property
    def ops_alerts_key_alias(self) -> str:
        return f"alias/{self.ops_alerts_topic}"

    @property
    def alarm_prefix(self) -> str:
        """What every alarm name of the stage starts with (triage lists alarms by it)."""
        return f"BYOIP-{self.stage}-"

    def alarm(self, alarm_id: str) -> str:
        """BYOIP-<stage>-<AlarmId>."""
        return f"{self.alarm_prefix}{alarm_id}"

    def slo(self, slo_id: str) -> str:
        """CloudWatch (Application Signals) service level objective BYOIP-<stage>-<SloId>."""
        return f"{self.alarm_prefix}{slo_id}"

    def insight_rule(self, rule_id: str) -> str:
        """Contributor Insights rule BYOIP-<stage>-TopCreators-<id> (FailedResults, HeldJobs, ...)."""
        if rule_id not in INSIGHT_RULES:
            raise ValueError(f"unknown insight rule {rule_id!r}: allowed {' | '.join(INSIGHT_RULES)}")
        return f"{self.alarm_prefix}TopCreators-{rule_id}"

    def metric_filter(self, alarm_id: str) -> str:
        return f"{self.prefix}-{alarm_id}"

    def document(self, automation: str) -> str:
        """SSM document BYOIP-<stage>-<Automation>."""
        return f"BYOIP-{self.stage}-{automation}"

    @property
    def runbook_document(self) -> str:
        """The SSM document that carries the rendered runbook."""
        return self.document(RUNBOOK_DOCUMENT)

    def runbook_part(self, part: str) -> str:
        """The SSM document that carries one part of the runbook ("" the main one)."""
        return f"{self.runbook_document}-{part}" if part else self.runbook_document

    def automation_rule(self, alarm_id: str, automation: str) -> str:
        """EventBridge rule that starts `automation` when `alarm_id` goes to ALARM."""
        return self.rule(f"{alarm_id}-{automation}")

    @property
    def primary_dashboard(self) -> str:
        return f"BYOIP-Ops-{self.stage}"

    @property
    def deprecated_dashboard(self) -> str:
        return f"ByoIpRunner-{self.stage}"

    def query(self, slug: str) -> str:
        """Saved Logs Insights query BYOIP-<stage>/<slug>."""
        return f"BYOIP-{self.stage}/{slug}"

    @property
    def runbook_path(self) -> str:
        """Where the rendered runbook sits under RUNBOOK_BASE_URL (and under `--out DIR`)."""
        return f"{self.stage}/runbook.md"

    @property
    def migration_runbook_path(self) -> str:
        """Where the migration runbook sits beside it (`byoip runbook render --runbook migration`)."""
        return f"{self.stage}/migration.md"
