"""Reading the creator events the handlers send: an EventBridge rule on moto's default bus → SQS."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from lambdas.common import aws
from lambdas.common.notify import SOURCE


def subscribe() -> str:
    """A queue subscribed to every `huntaze.byoip` event (as the product's notification service is)."""
    sqs, events = aws.client("sqs"), aws.client("events")
    url = sqs.create_queue(QueueName="creator-events")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="creator-events", EventPattern=json.dumps({"source": [SOURCE]}))
    events.put_targets(Rule="creator-events", Targets=[{"Id": "q", "Arn": arn}])
    return url


def received(url: str) -> list[dict[str, Any]]:
    """Every event delivered so far (and removed from the queue): [{"type", **detail}]."""
    sqs, out = aws.client("sqs"), []
    while True:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return out
        for m in messages:
            event = json.loads(m["Body"])
            out.append({"type": event["detail-type"], **event["detail"]})
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])


@contextmanager
def refused(service: str, operation: str) -> Iterator[None]:
    """The handlers' `service` client answers its next `operation` call with a 500 (botocore Stubber)."""
    from botocore.stub import Stubber

    stub = Stubber(aws.client(service))
    stub.add_client_error(operation, service_error_code="InternalError", http_status_code=500)
    stub.activate()
    try:
        yield
    finally:
        stub.deactivate()
