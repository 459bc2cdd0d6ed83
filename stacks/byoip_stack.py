"""ByoIpStack: the whole BYO-IP backend of one stage, composed from small constructs."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Duration, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from constructs import Construct

from automation.layer import AutomationLayer
from monitoring.layer import MonitoringLayer
from monitoring.resources import MonitoringResources
from stacks.config import Config
from stacks.functions import ByoIpFunction
from stacks.grants import (
    allow_key,
    allow_objects,
    allow_post_to_connection,
    allow_secret_value,
    allow_send,
    allow_table,
)
from stacks.jobs import JobQueues
from stacks.lambda_asset import lambdas_code
from stacks.nag import acknowledge_findings
from stacks.realtime import Realtime
from stacks.storage import Storage

LEASE_SECONDS = 300
MAX_ATTEMPTS = 3
METRICS_NAMESPACE = "Huntaze/ByoIP"
DISPATCHER_TIMEOUT = Duration.seconds(60)
WS_TIMEOUT = Duration.seconds(10)
# $connect may release many held jobs; API Gateway stops waiting at 29 s anyway.
WS_CONNECT_TIMEOUT = Duration.seconds(29)
REAPER_SCHEDULE = events.Schedule.rate(Duration.minutes(1))


class ByoIpStack(Stack):
    """WebSocket API, job queues, dispatcher, lease reaper, tables, buckets and the JWT secret.

    Resources are attributes named as in docs/contracts.md ("Python seams"); the monitoring
    and automation layers read them. Every grant is made here, where the pieces meet.
    """

    def __init__(self, scope: Construct, cid: str, *, config: Config, **stack_kwargs: Any) -> None:
        super().__init__(scope, cid, **stack_kwargs)
        self.config = config
        prefix = config.prefix

        storage = Storage(self, "Storage", prefix=prefix, stage=config.stage)
        self.jobs_table = storage.jobs_table
        self.agents_table = storage.agents_table
        self.creator_limits_table = storage.creator_limits_table
        self.patches_bucket = storage.patches_bucket
        self.logs_bucket = storage.logs_bucket
        self.access_logs_bucket = storage.access_logs_bucket
        self.data_key = storage.key
        self.jwt_secret = storage.jwt_secret

        queues = JobQueues(self, "Jobs", prefix=prefix)
        self.jobs_queue = queues.jobs_queue
        self.dlq = queues.dlq
        self.quarantine_queue = queues.quarantine_queue

        realtime = Realtime(self, "Realtime", prefix=prefix)
        self.ws_api = realtime.ws_api
        self.ws_stage = realtime.ws_stage
        self.ws_access_log_group = realtime.access_log_group

        code = lambdas_code()
        env = self._lambda_environment()

        def function(cid: str, name: str, timeout: Duration) -> ByoIpFunction:
            return ByoIpFunction(
                self, cid, prefix=prefix, name=name, code=code, environment=env, timeout=timeout
            )

        ws_connect = function("WsConnect", "ws-connect", WS_CONNECT_TIMEOUT)
        ws_message = function("WsMessage", "ws-message", WS_TIMEOUT)
        ws_disconnect = function("WsDisconnect", "ws-disconnect", WS_TIMEOUT)
        dispatcher = function("Dispatcher", "dispatcher-sqs", DISPATCHER_TIMEOUT)
        reaper = function("LeaseReaper", "lease-reaper", DISPATCHER_TIMEOUT)
        self.ws_connect_fn = ws_connect.function
        self.ws_message_fn = ws_message.function
        self.ws_disconnect_fn = ws_disconnect.function
        self.dispatcher = dispatcher.function
        self.dispatcher_log_group = dispatcher.log_group
        self.lease_reaper = reaper.function
        # Short function name -> its log group (dashboards and Logs Insights queries).
        self.function_log_groups = {
            name: fn.log_group
            for name, fn in (
                ("ws-connect", ws_connect),
                ("ws-message", ws_message),
                ("ws-disconnect", ws_disconnect),
                ("dispatcher-sqs", dispatcher),
                ("lease-reaper", reaper),
            )
        }

        realtime.add_routes(
            connect=self.ws_connect_fn, message=self.ws_message_fn, disconnect=self.ws_disconnect_fn
        )
        self.dispatcher.add_event_source(
            event_sources.SqsEventSource(
                self.jobs_queue,
                batch_size=10,
                max_batching_window=Duration.seconds(10),
                report_batch_item_failures=True,
            )
        )
        events.Rule(
            self,
            "LeaseReaperSchedule",
            rule_name=f"{prefix}-lease-reaper",
            description="Re-queue or fail jobs whose lease ran out",
            schedule=REAPER_SCHEDULE,
            targets=[targets.LambdaFunction(self.lease_reaper)],
        )

        self._grant_ws_connect(self.ws_connect_fn)
        self._grant_ws_message(self.ws_message_fn)
        self._grant_ws_disconnect(self.ws_disconnect_fn)
        self._grant_dispatcher(self.dispatcher)
        self._grant_lease_reaper(self.lease_reaper)

        CfnOutput(self, "WebSocketUrl", value=self.ws_stage.url, description="Agents connect here")
        CfnOutput(
            self, "JobsQueueUrl", value=self.jobs_queue.queue_url, description="Producers send jobs here"
        )

        acknowledge_findings(self)

        # ---- Layers built on the resources above (issues 3 and 4 edit these lines) ----
        self.monitoring = MonitoringLayer(
            self,
            "Monitoring",
            config=config,
            resources=MonitoringResources(
                jobs_queue=self.jobs_queue,
                dlq=self.dlq,
                dispatcher=self.dispatcher,
                dispatcher_log_group=self.dispatcher_log_group,
                ws_api=self.ws_api,
                ws_stage=self.ws_stage,
            ),
        )
        self.automation = AutomationLayer(
            self,
            "Automation",
            config=config,
            jobs_queue=self.jobs_queue,
            dlq=self.dlq,
            quarantine_queue=self.quarantine_queue,
            jobs_table=self.jobs_table,
            creator_limits_table=self.creator_limits_table,
        )

    def _lambda_environment(self) -> dict[str, str]:
        return {
            "STAGE": self.config.stage,
            "JOBS_TABLE": self.jobs_table.table_name,
            "AGENTS_TABLE": self.agents_table.table_name,
            "CREATOR_LIMITS_TABLE": self.creator_limits_table.table_name,
            "JOBS_QUEUE_URL": self.jobs_queue.queue_url,
            "DLQ_URL": self.dlq.queue_url,
            "WS_ENDPOINT": self.ws_stage.callback_url,
            "PATCHES_BUCKET": self.patches_bucket.bucket_name,
            "LOGS_BUCKET": self.logs_bucket.bucket_name,
            "WS_JWT_SECRET_ARN": self.jwt_secret.secret_arn,
            "LEASE_SECONDS": str(LEASE_SECONDS),
            "MAX_ATTEMPTS": str(MAX_ATTEMPTS),
            "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
        }

    # Each function gets exactly what its handler calls (traced through lambdas/common/).
    def _grant_ws_connect(self, fn: lambda_.IFunction) -> None:
        # verify token; record connection; read the pause flag; release held jobs to the queue
        allow_secret_value(fn, self.jwt_secret)
        allow_table(fn, self.agents_table, ["PutItem", "UpdateItem"])
        allow_table(fn, self.creator_limits_table, ["GetItem"])
        allow_table(fn, self.jobs_table, ["UpdateItem"], query_indexes=["ByHeldAgent"])
        allow_send(fn, self.jobs_queue)

    def _grant_ws_message(self, fn: lambda_.IFunction) -> None:
        # resolve the connection; heartbeat/ack/result/pause; re-queue retryable failures;
        # presign log PUTs and patch GETs (SSE-KMS); reply over the connection
        allow_table(fn, self.agents_table, ["GetItem", "UpdateItem"])
        allow_table(fn, self.jobs_table, ["GetItem", "UpdateItem"])
        allow_table(fn, self.creator_limits_table, ["UpdateItem"])
        allow_send(fn, self.jobs_queue)
        allow_objects(fn, self.logs_bucket, ["PutObject"])
        allow_objects(fn, self.patches_bucket, ["GetObject"])
        allow_key(fn, self.data_key, ["GenerateDataKey", "Decrypt"])
        allow_post_to_connection(fn, self.ws_api, self.ws_stage.stage_name)

    def _grant_ws_disconnect(self, fn: lambda_.IFunction) -> None:
        allow_table(fn, self.agents_table, ["GetItem", "DeleteItem", "UpdateItem"])

    def _grant_dispatcher(self, fn: lambda_.IFunction) -> None:
        # the event source grants the queue consumption; assign/hold/undo are transactions
        # over jobs + creator-limits with a ConditionCheck on the agent item
        allow_table(fn, self.agents_table, ["GetItem", "DeleteItem", "UpdateItem", "ConditionCheckItem"])
        allow_table(fn, self.jobs_table, ["UpdateItem"])
        allow_table(fn, self.creator_limits_table, ["UpdateItem"])
        allow_send(fn, self.dlq)
        allow_post_to_connection(fn, self.ws_api, self.ws_stage.stage_name)

    def _grant_lease_reaper(self, fn: lambda_.IFunction) -> None:
        allow_table(fn, self.jobs_table, ["UpdateItem"], query_indexes=["ByLease"])
        allow_table(fn, self.creator_limits_table, ["UpdateItem"])
        allow_send(fn, self.jobs_queue)
