"""The product's notification service, as the sandbox plays it: it subscribes to the creator events.

An EventBridge rule on moto's default bus (source `huntaze.byoip`, lambdas/common/notify.py)
targets an SQS queue; a ticker drains the queue into `creator-events.jsonl` beside the email
outbox, each event with the production time it arrived. The creator watch's durations are
production seconds: `scaled_environment` gives the functions their sandbox values.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lambdas.common.breaker import BreakerPolicy
from lambdas.common.notify import DEFAULT_OFFLINE_SECONDS, SOURCE
from sandbox.clock import SimClock
from sandbox.lambda_runtime import LambdaRuntime
from sandbox.ticker import Ticker

QUEUE = "sandbox-creator-events"
RULE = "sandbox-creator-events"


def scaled_environment(clock: SimClock, runtime: LambdaRuntime) -> dict[str, str]:
    """NOTIFY_OFFLINE_SECONDS (the stage's, from lease-reaper's environment) and the breaker's
    window and cool-down in real seconds."""
    env = next((f.env for f in runtime.functions.values() if f.name.endswith("lease-reaper")), {})
    notify_offline_s = int(env.get("NOTIFY_OFFLINE_SECONDS", DEFAULT_OFFLINE_SECONDS))
    policy = BreakerPolicy()
    return {
        "NOTIFY_OFFLINE_SECONDS": str(clock.scaled_int(notify_offline_s)),
        "BREAKER_WINDOW_SECONDS": str(clock.scaled_int(policy.window_s)),
        "BREAKER_COOLDOWN_SECONDS": str(clock.scaled_int(policy.cooldown_s)),
    }


class CreatorEvents:
    """Every creator event the stack sent, in arrival order: `{"time", "type", **detail}`."""

    def __init__(self, client: Callable[[str], Any], clock: SimClock, path: Path) -> None:
        self.clock = clock
        self.path = path
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text("")
        self.events: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._sqs = client("sqs")
        self._url = self._sqs.create_queue(QueueName=QUEUE)["QueueUrl"]
        arn = self._sqs.get_queue_attributes(QueueUrl=self._url, AttributeNames=["QueueArn"])["Attributes"]
        events = client("events")
        events.put_rule(Name=RULE, EventPattern=json.dumps({"source": [SOURCE]}))
        events.put_targets(Rule=RULE, Targets=[{"Id": "notifications", "Arn": arn["QueueArn"]}])
        self._ticker = Ticker("creator-events", self.drain, lambda: 0.25)

    def start(self) -> CreatorEvents:
        self._ticker.start()
        return self

    def stop(self) -> None:
        self._ticker.stop()
        self.drain()

    def drain(self) -> None:
        """Move what arrived from the queue to the list and the file."""
        while True:
            try:
                messages = self._sqs.receive_message(QueueUrl=self._url, MaxNumberOfMessages=10).get(
                    "Messages", []
                )
            except Exception:  # moto stopping under us at teardown: nothing more will arrive
                return
            if not messages:
                return
            for message in messages:
                event = json.loads(message["Body"])
                self._add({"time": self.clock.now(), "type": event["detail-type"], **event["detail"]})
                self._sqs.delete_message(QueueUrl=self._url, ReceiptHandle=message["ReceiptHandle"])

    def _add(self, record: dict[str, Any]) -> None:
        with self._lock:
            self.events.append(record)
            with self.path.open("a") as fh:
                fh.write(json.dumps(record) + "\n")

    def of(self, detail_type: str, creator_id: str | None = None) -> list[dict[str, Any]]:
        """The events of one type (and creator) so far."""
        with self._lock:
            return [
                e
                for e in self.events
                if e["type"] == detail_type and creator_id in (None, e.get("creatorId"))
            ]
