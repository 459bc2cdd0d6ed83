"""AWS/SQS metrics of the sandbox's queues, sampled once per production minute.

moto answers ApproximateNumberOfMessages* but has no ApproximateAgeOfOldestMessage, so
the age is computed from the messages' SentTimestamp (moto runs in this process, so its
queue contents can be read without receiving, which would change visibility).
"""

from __future__ import annotations

import time

from moto.sqs.models import sqs_backends

from sandbox.clock import SimClock
from sandbox.metrics import MetricStore
from sandbox.template import ACCOUNT, REGION
from sandbox.ticker import Ticker


def queue_stats(name: str, clock: SimClock) -> dict[str, float]:
    """Visible, in-flight and age of oldest (production seconds) for one queue."""
    queue = sqs_backends[ACCOUNT][REGION].queues[name]
    messages = list(queue._messages)
    now_ms = time.time() * 1000
    oldest = min((m.sent_timestamp for m in messages if m.sent_timestamp), default=None)
    age = 0.0 if oldest is None else max(0.0, (now_ms - oldest) / 1000 * clock.speed)
    return {
        "ApproximateNumberOfMessagesVisible": float(sum(1 for m in messages if m.visible and not m.delayed)),
        "ApproximateNumberOfMessagesNotVisible": float(sum(1 for m in messages if not m.visible)),
        "ApproximateAgeOfOldestMessage": age,
    }


class QueueSampler:
    """Puts AWS/SQS metrics for every queue each production minute."""

    def __init__(self, queue_names: list[str], metrics: MetricStore, clock: SimClock, every_s: float = 60):
        self.queue_names = queue_names
        self.metrics = metrics
        self.clock = clock
        self.every_s = every_s
        self._ticker = Ticker("sqs-metrics", self.sample, lambda: clock.real(every_s))

    def start(self) -> QueueSampler:
        self.sample()
        self._ticker.start()
        return self

    def stop(self) -> None:
        self._ticker.stop()

    def sample(self) -> None:
        """One datapoint per queue metric, now."""
        for name in self.queue_names:
            for metric, value in queue_stats(name, self.clock).items():
                self.metrics.put("AWS/SQS", metric, value, {"QueueName": name})
