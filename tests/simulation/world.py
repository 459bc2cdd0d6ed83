"""The simulated world: moto in-process, a frozen clock the schedule moves, the real handlers.

One `World` per schedule. It owns the environment the handlers read, the wall clock
(time-machine, so the handlers, PyJWT and moto's SQS visibility timeouts all see the same
simulated time), the SQS event source that feeds dispatcher-sqs (batches, partial batch
responses, redelivery after the visibility timeout), the simulated gateway and the fault
injector on the handlers' own clients. The simulation's own reads and the operators' tools
use separate clients that faults never touch.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import json
import os
from collections import Counter, defaultdict
from collections.abc import Callable
from typing import Any

import boto3
import time_machine
from moto import mock_aws
from moto.sqs.models import sqs_backends

from contract import callers
from lambdas.common import aws
from lambdas.common.ddb import from_item
from tests.lambdas.helpers import ACCOUNT, ENV, REGION
from tests.lambdas.resources import create_resources
from tests.simulation import excuses, process_state
from tests.simulation.faults import Fault, Injector, InvocationDied
from tests.simulation.gateway import Gateway
from tests.simulation.logsink import LogSink
from tests.simulation.stale import Versions

QUARANTINE_QUEUE = "byoip-test-jobs-quarantine"
QUEUES = {"jobs": "byoip-test-jobs", "dlq": "byoip-test-jobs-dlq", "quarantine": QUARANTINE_QUEUE}
VISIBILITY_SECONDS = 360  # the JobsQueue's (docs/contracts.md)
MAX_RECEIVES = 5
SIM_ENV = {**ENV, "RELEASE_DELAY_SECONDS": "2", "CONNECT_GRACE_SECONDS": "10"}
HANDLERS = ("ws_connect", "ws_message", "ws_disconnect", "dispatcher_sqs", "lease_reaper")
_SESSION = boto3.Session(region_name=REGION)


class World:
    def __init__(self, start: int) -> None:
        self.start_epoch = start
        names = (*SIM_ENV, "AWS_ENDPOINT_URL", "WS_JWT_SECRET_ARN", "JOBS_QUEUE_URL", "DLQ_URL")
        self._saved_env = {k: os.environ.get(k) for k in names}
        self._mock = mock_aws()
        self._travel = time_machine.travel(start, tick=False)

    # ---- lifecycle ---------------------------------------------------------------------------

    def __enter__(self) -> World:
        process_state.reset()  # a fresh container: whatever earlier tests or schedules left is gone
        if (
            leftovers := process_state.leftovers()
        ):  # (checked before anything starts: a refusal leaks nothing)
            raise AssertionError("state a fresh container would not have:\n  " + "\n  ".join(leftovers))
        os.environ.pop("AWS_ENDPOINT_URL", None)
        os.environ.pop("WS_JWT_SECRET_ARN", None)
        os.environ.update(SIM_ENV)
        self._clock = self._travel.start()
        self._mock.start()
        boto3.DEFAULT_SESSION = _SESSION
        urls = create_resources()
        os.environ.update(urls)
        self.sqs = boto3.client("sqs", region_name=REGION)  # the simulation's own: never faulted
        self.ddb = boto3.client("dynamodb", region_name=REGION)
        self.urls = {"jobs": urls["JOBS_QUEUE_URL"], "dlq": urls["DLQ_URL"]}
        self.urls["quarantine"] = self.sqs.create_queue(QueueName=QUARANTINE_QUEUE)["QueueUrl"]
        dlq_arn = self.sqs.get_queue_attributes(QueueUrl=self.urls["dlq"], AttributeNames=["QueueArn"])
        policy = {"deadLetterTargetArn": dlq_arn["Attributes"]["QueueArn"], "maxReceiveCount": MAX_RECEIVES}
        self.sqs.set_queue_attributes(
            QueueUrl=self.urls["jobs"],
            Attributes={"RedrivePolicy": json.dumps(policy), "VisibilityTimeout": str(VISIBILITY_SECONDS)},
        )
        self.gateway = Gateway(self.job)
        self.versions = Versions()
        self.versions.attach(self.ddb)  # the operators' writes make versions too
        self.injector = Injector(self.gateway, self.versions)
        for service in ("dynamodb", "sqs", "apigatewaymanagementapi"):
            self.injector.attach(aws.client(service))
        self.versions.attach(aws.client("dynamodb"))
        self.log: list[str] = []  # every invocation: handler, fault, its calls, its answer (the trace)
        self.excuses: dict[str, set[str]] = defaultdict(set)  # jobId -> why it may end other than completed
        self.on_delivery: Callable[[list[dict[str, Any]]], None] | None = None  # the schedule's hook
        self.sink = LogSink()
        self.function_errors: Counter[str] = Counter()
        self.handlers = {name: importlib.import_module(f"lambdas.{name}.handler") for name in HANDLERS}
        self._streams = []
        for module in self.handlers.values():
            self._streams.append((module, module.logger.registered_handler.setStream(self.sink)))
        self._second_dispatcher = _fresh_copy("lambdas.dispatcher_sqs.handler")
        return self

    def __exit__(self, *exc: object) -> None:
        for module, stream in self._streams:
            if stream is not None:
                module.logger.registered_handler.setStream(stream)
        process_state.reset()
        self._mock.stop()
        self._travel.stop()
        for name, value in self._saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value

    # ---- time --------------------------------------------------------------------------------

    def now(self) -> int:
        import time

        return int(time.time())

    def advance(self, seconds: float) -> None:
        self._clock.shift(seconds)
        self.excuse(excuses.lapsed(self.scan("JOBS_TABLE"), self.now()), excuses.LEASE_LAPSED)

    def excuse(self, job_ids: set[str], why: str) -> None:
        for job_id in job_ids:
            self.excuses[job_id].add(why)

    # ---- invoking the handlers ---------------------------------------------------------------

    def invoke(
        self, name: str, event: dict[str, Any], fault: Fault | None = None, interleave: Any = None
    ) -> Any:
        """Run one handler invocation; None when it died (InvocationDied)."""
        handler = self.handlers[name].handler
        return self._run(handler, event, fault, interleave, name)

    def _run(
        self, handler: Any, event: dict[str, Any], fault: Fault | None, interleave: Any, name: str
    ) -> Any:
        """Lambda's view: a died invocation or an unhandled exception is a failed invocation (None).

        The WebSocket routes promise never to let an exception escape (lambdas/common/session.py):
        one that does is a violation. The reaper and the dispatcher may fail an invocation (the
        schedule runs it again; SQS redelivers the batch).
        """
        fired = self.injector.fired.total()
        with self.injector.invocation(fault, interleave), contextlib.redirect_stdout(self.sink):
            answer: Any = None
            try:
                answer = response = handler(event, None)
                return response
            except InvocationDied:
                answer = "died"
                return None
            except Exception as exc:
                answer = f"raised {type(exc).__name__}"
                self.function_errors[name] += 1
                if name.startswith("ws_"):
                    trace = " ".join(self.injector.trace)
                    self.gateway.violations.append(f"{name} let {exc!r} escape (calls: {trace})")
                return None
            finally:
                calls = " ".join(self.injector.trace)
                self.log.append(f"{name} {fault or '-'}: {calls} -> {_summary(answer)}")
                if self.injector.fired.total() > fired:
                    hit = self.injector.touched | excuses.event_jobs(event)
                    self.excuse(hit, f"a fault changed {name} ({calls})")

    # ---- the SQS event source of dispatcher-sqs ----------------------------------------------

    def receive(self, queue: str, max_messages: int) -> list[dict[str, Any]]:
        resp = self.sqs.receive_message(
            QueueUrl=self.urls[queue],
            MaxNumberOfMessages=max_messages,
            VisibilityTimeout=VISIBILITY_SECONDS,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        return list(resp.get("Messages", []))

    def deliver(self, messages: list[dict[str, Any]], fault: Fault | None, interleave: Any = None) -> Any:
        """Invoke dispatcher-sqs with `messages` (in that order); delete what it reports done.

        Failed records and every record of an invocation that died stay in flight: they come
        back when their visibility timeout ends (or the schedule expires it).
        """
        if self.on_delivery is not None:
            self.on_delivery(messages)
        response = self.invoke("dispatcher_sqs", sqs_event(messages, self.now()), fault, interleave)
        if response is None:
            return None
        self._delete_done(messages, response)
        return response

    def deliver_concurrently(self, messages: list[dict[str, Any]]) -> None:
        """A second poller got the same messages (their visibility ran out mid-batch)."""
        if not messages:
            return
        if self.on_delivery is not None:
            self.on_delivery(messages)
        handler = self._second_dispatcher.handler
        response = self._run(handler, sqs_event(messages, self.now()), None, None, "dispatcher_sqs")
        if response is not None:
            self._delete_done(messages, response)

    def _delete_done(self, messages: list[dict[str, Any]], response: dict[str, Any]) -> None:
        failed = {f["itemIdentifier"] for f in response.get("batchItemFailures", [])}
        for m in messages:
            if m["MessageId"] not in failed:
                with contextlib.suppress(self.sqs.exceptions.ReceiptHandleIsInvalid):
                    self.sqs.delete_message(QueueUrl=self.urls["jobs"], ReceiptHandle=m["ReceiptHandle"])

    def expire_visibility(self) -> int:
        """Every in-flight message of the jobs queue becomes visible again (timeouts ran out)."""
        queue = sqs_backends[ACCOUNT][REGION].queues[QUEUES["jobs"]]
        count = 0
        for message in list(queue._messages):
            if not message.visible:
                message.visible_at = 0  # (the clock is frozen: "now" would not be visible yet)
                count += 1
        return count

    # ---- reading the state (never faulted) ---------------------------------------------------

    # The harness reads as no caller: an agent's reaction to a push runs inside the dispatcher's
    # invocation, and its look at the state is not the dispatcher's call (the IAM recorder).

    def job(self, job_id: str) -> dict[str, Any] | None:
        table = SIM_ENV["JOBS_TABLE"]
        with callers.as_nobody():
            resp = self.ddb.get_item(TableName=table, Key={"jobId": {"S": job_id}}, ConsistentRead=True)
        return from_item(resp.get("Item"))

    def limits(self, creator: str) -> dict[str, Any]:
        table = SIM_ENV["CREATOR_LIMITS_TABLE"]
        with callers.as_nobody():
            resp = self.ddb.get_item(TableName=table, Key={"creatorId": {"S": creator}}, ConsistentRead=True)
        return from_item(resp.get("Item")) or {}

    def scan(self, table_env: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"TableName": SIM_ENV[table_env], "ConsistentRead": True}
        while True:
            with callers.as_nobody():
                page = self.ddb.scan(**kwargs)
            items.extend(from_item(i) for i in page.get("Items", []))  # type: ignore[misc]
            if "LastEvaluatedKey" not in page:
                return items
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def messages(self, queue: str) -> list[Any]:
        """Every message of a queue, visible or in flight, without receiving it (moto's objects)."""
        return list(sqs_backends[ACCOUNT][REGION].queues[QUEUES[queue]]._messages)


def sqs_event(messages: list[dict[str, Any]], now: int) -> dict[str, Any]:
    """The SQS event Lambda's event source mapping builds from received messages."""
    records = []
    for m in messages:
        attributes = dict(m.get("Attributes", {}))
        attributes.setdefault("SentTimestamp", str(now * 1000))
        records.append(
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": attributes,
                "messageAttributes": {},
                "md5OfBody": m.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": f"arn:aws:sqs:{REGION}:{ACCOUNT}:{QUEUES['jobs']}",
                "awsRegion": REGION,
            }
        )
    return {"Records": records}


def _summary(answer: Any) -> str:
    """An invocation's answer without what differs between runs (SQS message ids)."""
    if isinstance(answer, dict) and "batchItemFailures" in answer:
        return f"{len(answer['batchItemFailures'])} failed"
    if isinstance(answer, dict):
        return str(answer.get("statusCode"))
    return str(answer)


def _fresh_copy(module_name: str) -> Any:
    """Another execution environment of a handler (its own module-level batch processor)."""
    spec = importlib.util.find_spec(module_name)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
