"""AWS/SQS metrics of the sandbox's queues, sampled once per production minute.

moto answers ApproximateNumberOfMessages* but has no ApproximateAgeOfOldestMessage, so
the age is computed from the messages' SentTimestamp (the sandbox's moto server lists a
queue's contents without receiving, which would change visibility: moto_server.py).
"""

from __future__ import annotations

import time

from sandbox.clock import SimClock
from sandbox.metrics import MetricStore
from sandbox.moto_server import queue_messages
from sandbox.ticker import Ticker


def queue_stats(name: str, clock: SimClock) -> dict[str, float]:
    """Visible, in-flight and age of oldest (production seconds) for one queue."""
    messages = queue_messages(name)
    now_ms = time.time() * 1000
    oldest = min((m["sent"] for m in messages if m["sent"]), default=None)
    age = 0.0 if oldest is None else max(0.0, (now_ms - oldest) / 1000 * clock.speed)
    visible = sum(1 for m in messages if m["visible"] and not m["delayed"])
    return {
        "ApproximateNumberOfMessagesVisible": float(visible),
        "ApproximateNumberOfMessagesNotVisible": float(sum(1 for m in messages if not m["visible"])),
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
