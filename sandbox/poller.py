"""The SQS event source mapping of `dispatcher-sqs`, as Lambda runs it.

Lambda's pollers long-poll the queue, gather up to BatchSize records or until the batching
window ends, invoke the function synchronously, and then delete what succeeded: with
`ReportBatchItemFailures` only the records not listed in `batchItemFailures` (an invalid
identifier fails the whole batch); a function error or throttle deletes nothing, so the
records come back when their visibility timeout ends, and moto moves a record to the DLQ
once its receive count passes the redrive policy's maxReceiveCount.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from sandbox.clock import SimClock
from sandbox.lambda_runtime import InvocationError, LambdaRuntime, Throttled
from sandbox.template import REGION, Resolver
from sandbox.ticker import Ticker


@dataclass
class Mapping:
    """An AWS::Lambda::EventSourceMapping on an SQS queue."""

    function: str
    queue_url: str
    queue_arn: str
    batch_size: int
    window_s: float  # production seconds
    report_failures: bool
    max_concurrency: int


def read_mappings(resolver: Resolver, queue_urls_by_arn: dict[str, str]) -> list[Mapping]:
    """Every SQS event source mapping of the template."""
    mappings = []
    for _, props in resolver.of_type("AWS::Lambda::EventSourceMapping"):
        arn = resolver.resolve(props.get("EventSourceArn"))
        if arn not in queue_urls_by_arn:
            continue
        function = str(resolver.resolve(props["FunctionName"])).rsplit(":", 1)[-1]
        mappings.append(
            Mapping(
                function=function,
                queue_url=queue_urls_by_arn[arn],
                queue_arn=arn,
                batch_size=int(props.get("BatchSize", 10)),
                window_s=float(props.get("MaximumBatchingWindowInSeconds", 0)),
                report_failures="ReportBatchItemFailures" in props.get("FunctionResponseTypes", []),
                max_concurrency=int(props.get("ScalingConfig", {}).get("MaximumConcurrency", 2)),
            )
        )
    return mappings


def sqs_record(message: dict[str, Any], queue_arn: str) -> dict[str, Any]:
    """One Lambda SQS event record from a ReceiveMessage message."""
    attributes = {
        k: v
        for k, v in message.get("Attributes", {}).items()
        if k in ("ApproximateReceiveCount", "SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp")
    }
    message_attributes = {
        name: {
            "stringValue": value.get("StringValue"),
            "binaryValue": value.get("BinaryValue"),
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": value["DataType"],
        }
        for name, value in message.get("MessageAttributes", {}).items()
    }
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": attributes,
        "messageAttributes": message_attributes,
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": REGION,
    }


class EventSourcePoller:
    """Runs one mapping with `max_concurrency` pollers (capped for one machine)."""

    def __init__(self, mapping: Mapping, runtime: LambdaRuntime, sqs: Any, clock: SimClock) -> None:
        self.mapping = mapping
        self.runtime = runtime
        self.sqs = sqs
        self.clock = clock
        self.enabled = threading.Event()
        self.enabled.set()
        self._stop = threading.Event()
        pollers = max(1, min(mapping.max_concurrency, 4))
        self._threads = [
            threading.Thread(target=self._run, name=f"esm-{mapping.function}-{i}", daemon=True)
            for i in range(pollers)
        ]

    def start(self) -> EventSourcePoller:
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(15)

    def _run(self) -> None:
        while not self._stop.is_set():
            if not self.enabled.wait(0.2):
                continue
            try:
                batch = self._gather()
                if batch:
                    self._invoke(batch)
            except Exception:  # a moto hiccup must not kill the poller; Lambda retries too
                time.sleep(0.2)

    def _gather(self) -> list[dict[str, Any]]:
        """Up to BatchSize messages, waiting at most the (scaled) batching window for more."""
        m = self.mapping
        deadline = time.monotonic() + self.clock.real(m.window_s)
        batch: list[dict[str, Any]] = []
        while len(batch) < m.batch_size and not self._stop.is_set():
            remaining = deadline - time.monotonic()
            wait = 1 if not batch else (0 if remaining <= 0 else 1)
            received = self.sqs.receive_message(
                QueueUrl=m.queue_url,
                MaxNumberOfMessages=min(10, m.batch_size - len(batch)),
                WaitTimeSeconds=wait,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            batch.extend(received)
            if batch and (remaining <= 0 or not received):
                break
        return batch

    def _invoke(self, batch: list[dict[str, Any]]) -> None:
        m = self.mapping
        event = {"Records": [sqs_record(message, m.queue_arn) for message in batch]}
        try:
            response = self.runtime.invoke(m.function, event)
        except Throttled:
            time.sleep(self.clock.real(1))  # Lambda backs off; the records stay in flight
            return
        except InvocationError:
            return  # records become visible again after the visibility timeout
        failed = self._failed_ids(response, batch)
        done = [msg for msg in batch if msg["MessageId"] not in failed]
        for start in range(0, len(done), 10):
            chunk = done[start : start + 10]
            self.sqs.delete_message_batch(
                QueueUrl=m.queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": msg["ReceiptHandle"]} for i, msg in enumerate(chunk)
                ],
            )

    def _failed_ids(self, response: Any, batch: list[dict[str, Any]]) -> set[str]:
        if not self.mapping.report_failures or not isinstance(response, dict):
            return set()
        ids = {msg["MessageId"] for msg in batch}
        failed = set()
        for item in response.get("batchItemFailures") or []:
            identifier = item.get("itemIdentifier") if isinstance(item, dict) else None
            if not identifier or identifier not in ids:
                return ids  # Lambda treats an invalid identifier as a failure of the whole batch
            failed.add(identifier)
        return failed


class Schedule:
    """An EventBridge `rate(...)` schedule invoking a function, scaled by the clock."""

    def __init__(
        self,
        function: str,
        every_s: float,
        runtime: LambdaRuntime,
        clock: SimClock,
        rule: str = "",
        *,
        overlap: bool = False,
    ) -> None:
        self.function = function
        self.every_s = every_s
        self.runtime = runtime
        self.clock = clock
        self.enabled = True  # False: the rule is disabled (DisableRule), it invokes nothing
        self.rule = rule  # the rule's name: its AWS/Events metrics
        # EventBridge invokes asynchronously and never waits for the previous run. By default the
        # sandbox does wait (each tick after the run ends), which the game days were tuned with; a
        # schedule with `overlap` fires on its cadence whatever the runs take, each in its thread.
        self.overlap = overlap
        self._ticker = Ticker(f"schedule-{function}", self.fire, lambda: clock.real(every_s), join_s=15)

    def start(self) -> Schedule:
        if self.overlap:
            # A deployed stage has run it every minute already: its first minute has a run too
            # (a signal whose absence pages would otherwise find the sandbox's first minute empty).
            self.fire()
        self._ticker.start()
        return self

    def stop(self) -> None:
        self._ticker.stop()

    def fire(self) -> None:
        """One scheduled invocation (none while the rule is disabled)."""
        if not self.enabled:
            return
        event = {
            "version": "0",
            "source": "aws.events",
            "detail-type": "Scheduled Event",
            # The production time of the tick, as EventBridge stamps the scheduled minute.
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.clock.now())),
            "region": REGION,
            "resources": [],
            "detail": {},
        }
        self.runtime.metrics.put("AWS/Events", "TriggeredRules", 1, {"RuleName": self.rule})
        if self.overlap:
            threading.Thread(
                target=self._invoke, args=(event,), name=f"run-{self.function}", daemon=True
            ).start()
        else:
            self._invoke(event)

    def _invoke(self, event: dict[str, Any]) -> None:
        dims = {"RuleName": self.rule}
        try:
            self.runtime.invoke(self.function, event)
        except InvocationError:
            pass  # delivered: the function's own error (Lambda's Errors), not the rule's
        except (Throttled, KeyError):
            # Not delivered: the function is gone, or throttled. (Lambda's async queue would retry a
            # throttle for hours; the sandbox invokes synchronously, so a throttled tick is lost and
            # counts as the rule's failed invocation.) The next tick tries again.
            self.runtime.metrics.put("AWS/Events", "FailedInvocations", 1, dims)
            return
        self.runtime.metrics.put("AWS/Events", "Invocations", 1, dims)


_UNITS = {"minute": 60, "minutes": 60, "hour": 3600, "hours": 3600, "day": 86400, "days": 86400}


def read_schedules(resolver: Resolver, function_names_by_arn: dict[str, str]) -> list[tuple[str, float, str]]:
    """(function name, period in production seconds, rule name) of each `rate()` rule targeting a function."""
    schedules = []
    for logical_id, props in resolver.of_type("AWS::Events::Rule"):
        expression = props.get("ScheduleExpression", "")
        if not expression.startswith("rate(") or props.get("State", "ENABLED") != "ENABLED":
            continue
        amount, unit = expression[5:-1].split()
        for target in props.get("Targets", []):
            arn = resolver.resolve(target.get("Arn"))
            if arn in function_names_by_arn:
                name = str(resolver.resolve(props.get("Name")) or logical_id)
                schedules.append((function_names_by_arn[arn], int(amount) * _UNITS[unit], name))
    return schedules
