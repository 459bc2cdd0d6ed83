"""ByoIpStack: the whole BYO-IP backend of one stage, composed from small constructs.

Read it as a table of contents: each part is one line, every grant is made here where the
pieces meet, and each construct acknowledges its own cdk-nag findings where it makes them.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Aspects, CfnOutput, Duration, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from constructs import Construct

from automation.layer import AutomationLayer
from contract.config import Config
from contract.names import (
    DISPATCHER,
    EMERGENCY_KEY_ROTATION,
    LEASE_REAPER,
    PROBE,
    REVOKE_TOKENS,
    ROTATION_FAILED_RULE,
    SECRET_ROTATION,
    WS_CONNECT,
    WS_DISCONNECT,
    WS_MESSAGE,
)
from contract.sizes import BATCHING_WINDOW_S
from lambdas.common.metrics import BYOIP
from lambdas.common.settings import DEFAULT_LEASE_SECONDS, DEFAULT_MAX_ATTEMPTS, budget_environment
from lambdas.common.tables import BY_BREAKER, BY_HELD_AGENT, BY_LEASE, BY_WATCH
from monitoring.layer import MonitoringLayer
from monitoring.resources import MonitoringResources
from stacks.agent_keys import AgentKeys
from stacks.chat import ChatChannels
from stacks.functions import ByoIpFunction, byoip_functions
from stacks.grants import (
    acknowledge_connections,
    allow,
    allow_key,
    allow_objects,
    allow_post_to_connection,
    allow_secret_value,
    allow_send,
    allow_table,
)
from stacks.jobs import JobQueues
from stacks.lambda_asset import lambdas_code
from stacks.limits import DISPATCHER_MAX_CONCURRENCY
from stacks.patch_release import (
    PatchRelease,
    allow_release,
    only_release_role_signs,
    only_release_role_writes,
)
from stacks.realtime import Realtime
from stacks.storage import Storage
from stacks.trust import SourceAccountOnPermissions, operators

REAPER_SCHEDULE = events.Schedule.rate(Duration.minutes(1))
REAPER_RULE = "Re-queue or fail jobs whose lease ran out"
# The black-box probe's alarm reads one run a minute (monitoring/catalog.py, ProbeFailed).
PROBE_SCHEDULE = events.Schedule.rate(Duration.minutes(1))
PROBE_RULE = "Black-box probe: a synthetic agent walks an agent's whole path"
LOGS_PREFIX_REASON = (
    "logs.upload presigns a POST under <creatorId>/<agentId>/ taken from the verified token; those ids "
    "are runtime data, so the grant is PutObject (nothing else) on the logs bucket's objects."
)
PATCHES_REASON = (
    "patch.check presigns a GET for the current build named by latest.json; build keys are runtime "
    "data, so the grant is GetObject on the patches bucket's objects only."
)


class ByoIpStack(Stack):
    """WebSocket API, job queues, dispatcher, lease reaper, tables, buckets and the JWT secret.

    The parts are attributes (docs/contracts.md, "Python seams"): `storage`, `queues`,
    `realtime`, `functions` (short name → ByoIpFunction), `patch_release`, `monitoring`, `automation`.
    """

    def __init__(self, scope: Construct, cid: str, *, config: Config, **stack_kwargs: Any) -> None:
        super().__init__(scope, cid, **stack_kwargs)
        self.config = config
        names = config.names
        config.check_deployable()  # one clear line (app.py) rather than a role that trusts nobody
        Aspects.of(self).add(SourceAccountOnPermissions())
        trusted = operators(config.trusted_principals)
        self.storage = Storage(self, "Storage", names=names)
        self.queues = JobQueues(self, "Jobs", names=names)
        self.patch_release = PatchRelease(
            self, "PatchRelease", names=names, bucket=self.storage.patches_bucket, trusted=trusted
        )
        self.realtime = Realtime(self, "Realtime", names=names)
        self.functions = byoip_functions(
            self, names=names, code=lambdas_code(), environment=self._environment()
        )
        fn = {name: f.function for name, f in self.functions.items()}
        self.realtime.add_routes(connect=fn[WS_CONNECT], message=fn[WS_MESSAGE], disconnect=fn[WS_DISCONNECT])
        # The mapping polls with the dispatcher's role, which needs ReceiveMessage, DeleteMessage and
        # GetQueueAttributes on the queue and no more (SqsEventSource also granted
        # ChangeMessageVisibility and GetQueueUrl, which Lambda never calls: docs/architecture.md, IAM).
        jobs_queue = self.queues.jobs_queue
        fn[DISPATCHER].add_event_source_mapping(
            "JobsQueueSource",
            event_source_arn=jobs_queue.queue_arn,
            batch_size=10,
            max_batching_window=Duration.seconds(BATCHING_WINDOW_S),
            report_batch_item_failures=True,
            max_concurrency=DISPATCHER_MAX_CONCURRENCY,
        )
        allow(
            fn[DISPATCHER],
            "sqs",
            ["ReceiveMessage", "DeleteMessage", "GetQueueAttributes"],
            [jobs_queue.queue_arn],
        )
        for cid, rule_name, description, schedule, target in (
            ("LeaseReaperSchedule", names.lease_reaper_rule, REAPER_RULE, REAPER_SCHEDULE, fn[LEASE_REAPER]),
            ("ProbeSchedule", names.probe_rule, PROBE_RULE, PROBE_SCHEDULE, fn[PROBE]),
        ):
            events.Rule(
                self,
                cid,
                rule_name=rule_name,
                description=description,
                schedule=schedule,
                targets=[targets.LambdaFunction(target)],
            )
        self._grant(self.functions)
        self.agent_keys = AgentKeys(
            self,
            "AgentKeys",
            secret=self.storage.jwt_secret,
            rotation=fn[SECRET_ROTATION],
            verifier=self.functions[WS_CONNECT].role,
            rotation_failed_rule=names.rule(ROTATION_FAILED_RULE),
            probe=self.functions[PROBE].role,
            trusted=trusted,
        )
        self._grant_patch_release()
        CfnOutput(self, "WebSocketUrl", value=self.realtime.ws_stage.url, description="Agents connect here")
        CfnOutput(
            self,
            "JobsQueueUrl",
            value=self.queues.jobs_queue.queue_url,
            description="Producers send jobs here",
        )
        CfnOutput(
            self,
            "PatchSigningKeyArn",
            value=self.patch_release.signing_key.key_arn,
            description="Agents verify patches with this key's public half (byoip patch public-key)",
        )
        CfnOutput(
            self,
            "PatchReleaseRoleArn",
            value=self.patch_release.release_role.role_arn,
            description="byoip patch publish runs as this role",
        )
        self.monitoring = MonitoringLayer(self, "Monitoring", config=config, resources=self._watched())
        if config.slack or config.teams:
            self.chat = ChatChannels(self, "Chat", config=config, topics=self.monitoring.topics)
        self.automation = AutomationLayer(
            self,
            "Automation",
            config=config,
            jobs_queue=self.queues.jobs_queue,
            dlq=self.queues.dlq,
            quarantine_queue=self.queues.quarantine_queue,
            jobs_table=self.storage.jobs_table,
            creator_limits_table=self.storage.creator_limits_table,
            agents_table=self.storage.agents_table,
            ws_endpoint=self.realtime.ws_stage.callback_url,
            ws_connections_arn=self.realtime.connections_arn("DELETE"),
            jwt_secret_arn=self.storage.jwt_secret.secret_arn,
        )
        self.agent_keys.restrict(
            emergency=self.automation.roles[EMERGENCY_KEY_ROTATION], break_glass_role=config.break_glass_role
        )
        for closer in (REVOKE_TOKENS, EMERGENCY_KEY_ROTATION):
            acknowledge_connections(
                self.automation.roles[closer],
                self.realtime.ws_api,
                self.realtime.ws_stage.stage_name,
                "DELETE",
            )

    def _environment(self) -> dict[str, str]:
        """The Lambda environment of docs/contracts.md."""
        storage, queues = self.storage, self.queues
        return {
            "STAGE": self.config.stage,
            "JOBS_TABLE": storage.jobs_table.table_name,
            "AGENTS_TABLE": storage.agents_table.table_name,
            "CREATOR_LIMITS_TABLE": storage.creator_limits_table.table_name,
            "JOBS_QUEUE_URL": queues.jobs_queue.queue_url,
            "DLQ_URL": queues.dlq.queue_url,
            "WS_ENDPOINT": self.realtime.ws_stage.callback_url,
            # The public wss:// URL agents connect to: the black-box probe connects there too.
            "WS_PUBLIC_URL": self.realtime.ws_stage.url,
            "PATCHES_BUCKET": storage.patches_bucket.bucket_name,
            "LOGS_BUCKET": storage.logs_bucket.bucket_name,
            "LOGS_KMS_KEY_ARN": storage.key.key_arn,
            "WS_JWT_SECRET_ARN": storage.jwt_secret.secret_arn,
            "LEASE_SECONDS": str(DEFAULT_LEASE_SECONDS),
            "MAX_ATTEMPTS": str(DEFAULT_MAX_ATTEMPTS),
            **budget_environment(),
            "NOTIFY_OFFLINE_SECONDS": str(self.config.notify_offline_seconds),
            "POWERTOOLS_METRICS_NAMESPACE": BYOIP,
        }

    def _default_event_bus(self) -> str:
        """The account's default event bus: creator events go there (docs/contracts.md)."""
        return self.format_arn(service="events", resource="event-bus", resource_name="default")

    def _watched(self) -> MonitoringResources:
        dispatcher = self.functions[DISPATCHER]
        return MonitoringResources(
            jobs_queue=self.queues.jobs_queue,
            dlq=self.queues.dlq,
            dispatcher=dispatcher.function,
            dispatcher_log_group=dispatcher.log_group,
            ws_api=self.realtime.ws_api,
            ws_stage=self.realtime.ws_stage,
            quarantine_queue=self.queues.quarantine_queue,
            function_log_groups={short: function.log_group for short, function in self.functions.items()},
        )

    def _grant_patch_release(self) -> None:
        """Only the release role writes the patches bucket and signs; ws-message keeps GetObject only."""
        bucket, role = self.storage.patches_bucket, self.patch_release.release_role
        only_release_role_writes(bucket, role)
        only_release_role_signs(self.patch_release.signing_key, role)
        allow_release(self.patch_release, bucket=bucket, data_key=self.storage.key)
        # ws-message reads patches/latest.json; S3 answers a missing one with 403 unless the reader may
        # list the bucket, and "nothing published yet" must read as 404 (NoSuchKey), not as an outage.
        allow(self.functions[WS_MESSAGE].role, "s3", ["ListBucket"], [bucket.bucket_arn])

    def _grant(self, functions: dict[str, ByoIpFunction]) -> None:
        """Each function gets exactly what its handler calls (traced through lambdas/common/)."""
        s, q, api, stage = self.storage, self.queues, self.realtime.ws_api, self.realtime.ws_stage.stage_name
        # ws-connect: verify token; record connection; read the pause flag; release held jobs;
        # close the agent's previous connection (one live connection per agent: DeleteItem, the
        # `superseded` frame and DeleteConnection). GetItem: the revocation marks.
        role = functions[WS_CONNECT].role
        allow_secret_value(role, s.jwt_secret)
        allow_table(role, s.agents_table, ["GetItem", "PutItem", "UpdateItem", "DeleteItem"])
        allow_table(role, s.creator_limits_table, ["GetItem"])
        allow_table(role, s.jobs_table, ["UpdateItem"], query_indexes=[BY_HELD_AGENT.name])
        allow_send(role, q.jobs_queue)
        allow_post_to_connection(role, api, stage, methods=("POST", "DELETE"))
        # ws-message: resolve the connection; heartbeat/ack/result/pause; re-queue retryable
        # failures; presign log PUTs and patch GETs (SSE-KMS); reply over the connection
        role = functions[WS_MESSAGE].role
        allow_table(role, s.agents_table, ["GetItem", "UpdateItem", "DeleteItem"])  # DeleteItem: closing
        # BatchGetItem: a heartbeat reads its listed jobs' leases, to write only the due ones
        allow_table(role, s.jobs_table, ["GetItem", "UpdateItem", "BatchGetItem"])
        allow_table(role, s.creator_limits_table, ["GetItem", "UpdateItem"])  # GetItem: revocation mark
        allow_send(role, q.jobs_queue)
        allow_objects(role, s.logs_bucket, ["PutObject"], why_any_key=LOGS_PREFIX_REASON)
        allow_objects(role, s.patches_bucket, ["GetObject"], why_any_key=PATCHES_REASON)
        allow_key(role, s.key, ["GenerateDataKey", "Decrypt"])
        allow_post_to_connection(role, api, stage, methods=("POST", "DELETE"))  # DELETE: closing
        # ws-disconnect
        allow_table(functions[WS_DISCONNECT].role, s.agents_table, ["GetItem", "DeleteItem", "UpdateItem"])
        # dispatcher: the event source grants the queue consumption; each job reads the agent and
        # the creator's limits in one BatchGetItem (lambdas/common/lookups.py: IAM checks
        # dynamodb:BatchGetItem on each table, never GetItem); assign/hold/undo are transactions
        # over jobs + creator-limits with a ConditionCheck on the agent item
        role = functions[DISPATCHER].role
        allow_table(role, s.agents_table, ["BatchGetItem", "DeleteItem", "UpdateItem", "ConditionCheckItem"])
        allow_table(role, s.jobs_table, ["UpdateItem"])
        allow_table(role, s.creator_limits_table, ["BatchGetItem", "UpdateItem"])
        allow_send(role, q.dlq)
        allow_post_to_connection(role, api, stage)
        # lease-reaper: leases; then the creator watch (lambdas/common/watch.py) reads the sparse
        # held-jobs index, the keys-only ByWatch/ByBreaker indexes and the items they name
        # (BatchGetItem) once a minute, steps breakers (limits, the outcome windows in agents, the
        # probe job), releases held jobs and sends creator events. No Scan of a table: its reads
        # never grow with the fleet.
        role = functions[LEASE_REAPER].role
        allow_table(role, s.jobs_table, ["UpdateItem", "GetItem"], query_indexes=[BY_LEASE.name])
        allow_table(
            role, s.creator_limits_table, ["UpdateItem", "BatchGetItem"], query_indexes=[BY_BREAKER.name]
        )
        # DeleteItem: a breaker that healed forgets its outcome window (breaker.forget)
        allow_table(
            role, s.agents_table, ["UpdateItem", "DeleteItem", "BatchGetItem"], query_indexes=[BY_WATCH.name]
        )
        allow(role, "dynamodb", ["Scan"], [f"{s.jobs_table.table_arn}/index/{BY_HELD_AGENT.name}"])
        allow_send(role, q.jobs_queue)
        allow(role, "events", ["PutEvents"], [self._default_event_bus()])
        # probe: mint its token with the current key; send its job to JobsQueue. The rest of its path
        # (connect, frames) goes through the public WebSocket URL, where IAM has no part.
        role = functions[PROBE].role
        allow_secret_value(role, s.jwt_secret)
        allow_send(role, q.jobs_queue)
