"""The SQS event source: partial batch responses, invalid identifiers, receive counts -> DLQ."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest

from sandbox.clock import SimClock
from sandbox.lambda_runtime import InvocationError
from sandbox.moto_server import MotoServer
from sandbox.poller import EventSourcePoller, Mapping


class FailingRuntime:
    """Fails the records whose body is 'fail'; `bogus` answers an identifier that is not in the batch."""

    def __init__(self, mode: str = "partial") -> None:
        self.mode = mode
        self.bodies: list[str] = []
        self.lock = threading.Lock()

    def invoke(self, name: str, event: dict[str, Any]) -> Any:
        records = event["Records"]
        with self.lock:
            self.bodies.extend(r["body"] for r in records)
        if self.mode == "error":
            raise InvocationError("boom")
        if self.mode == "bogus":
            return {"batchItemFailures": [{"itemIdentifier": "not-in-this-batch"}]}
        return {
            "batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in records if r["body"] == "fail"]
        }


@pytest.fixture()
def queues():
    server = MotoServer().start()
    sqs = server.client_factory()("sqs")
    dlq = sqs.create_queue(QueueName="dlq")["QueueUrl"]
    url = sqs.create_queue(
        QueueName="jobs",
        Attributes={
            "VisibilityTimeout": "1",
            "RedrivePolicy": json.dumps(
                {"deadLetterTargetArn": "arn:aws:sqs:us-east-1:123456789012:dlq", "maxReceiveCount": 2}
            ),
        },
    )["QueueUrl"]
    yield sqs, url, dlq
    server.stop()


def start_poller(sqs, url: str, runtime: FailingRuntime) -> EventSourcePoller:
    mapping = Mapping("fn", url, "arn:aws:sqs:us-east-1:123456789012:jobs", 10, 0, True, 1)
    return EventSourcePoller(mapping, runtime, sqs, SimClock(speed=1)).start()  # type: ignore[arg-type]


def eventually(predicate, what: str, timeout_s: float = 60.0) -> None:
    """Wait for `predicate` (a deadline for a hung run, not a measure of speed: a busy machine is
    slower, never wrong)."""
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, f"{what} did not happen within {timeout_s} s"
        time.sleep(0.05)


def bodies(sqs, url: str) -> list[str]:
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0)
    return sorted(m["Body"] for m in messages.get("Messages", []))


def test_partial_batch_failure_retries_only_the_failed_record_until_the_dlq(queues):
    sqs, url, dlq = queues
    for body in ("ok-1", "ok-2", "fail"):
        sqs.send_message(QueueUrl=url, MessageBody=body)
    runtime = FailingRuntime()
    poller = start_poller(sqs, url, runtime)
    try:
        # the third receive of "fail" dead-letters it (maxReceiveCount 2), after two invocations
        dead_lettered = lambda: runtime.bodies.count("fail") == 2 and bodies(sqs, dlq) == ["fail"]  # noqa: E731
        eventually(dead_lettered, "dead-lettering")
    finally:
        poller.stop()
    assert runtime.bodies.count("ok-1") == 1 and runtime.bodies.count("ok-2") == 1
    assert runtime.bodies.count("fail") == 2  # maxReceiveCount 2: the third receive dead-letters it
    assert bodies(sqs, url) == []
    assert bodies(sqs, dlq) == ["fail"]


@pytest.mark.parametrize("mode", ["bogus", "error"])
def test_invalid_identifier_or_function_error_keeps_the_whole_batch(queues, mode):
    sqs, url, _ = queues
    for body in ("a", "b"):
        sqs.send_message(QueueUrl=url, MessageBody=body)
    runtime = FailingRuntime(mode)
    poller = start_poller(sqs, url, runtime)
    try:
        eventually(lambda: len(runtime.bodies) >= 2, "the first delivery")
    finally:
        poller.stop()  # before the 1 s visibility timeout runs out: one delivery only
    assert sorted(runtime.bodies) == ["a", "b"]
    # nothing was deleted: both come back once their visibility timeout runs out
    eventually(lambda: bodies(sqs, url) == ["a", "b"], "the batch's return to the queue")
