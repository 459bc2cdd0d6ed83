"""Ship the functions' captured log lines to moto's CloudWatch Logs, as Lambda does to AWS.

The sandbox captures what handlers print (capture.py) in memory; this subscriber also writes
each line to the function's log group (`/aws/lambda/<function>`) in moto, so tools outside the
sandbox's process (`byoip job show`) read them where they would in
AWS. Lines are batched and written by a Ticker every FLUSH_SECONDS, so a handler
never waits on it; `stop()` writes what is left.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from sandbox.ticker import Ticker

FLUSH_SECONDS = 0.5
STREAM = "sandbox"
MAX_BATCH = 5_000  # PutLogEvents takes at most 10,000 events a call


class LogShipper:
    """A LogGroups subscriber: `(group, line)` -> PutLogEvents on moto, batched per group."""

    def __init__(self, logs: Any, clock: Callable[[], float] = time.time) -> None:
        self._logs = logs
        self._clock = clock
        self._lock = threading.Lock()
        self._pending: dict[str, list[dict[str, Any]]] = {}
        self._created: set[str] = set()
        self._ticker = Ticker("log-shipper", self._tick, lambda: FLUSH_SECONDS)

    def __call__(self, group: str, line: str) -> None:
        event = {"timestamp": int(self._clock() * 1000), "message": line}
        with self._lock:
            self._pending.setdefault(group, []).append(event)

    def start(self) -> LogShipper:
        self._ticker.start()
        return self

    def stop(self) -> None:
        self._ticker.stop()
        self.flush()

    def _tick(self) -> None:
        try:
            self.flush()
        except Exception:  # noqa: S110 - moto going down with the sandbox: the lines are lost, as in a crash
            pass

    def flush(self) -> None:
        """Write every pending line now (each group's lines in the order they were printed)."""
        with self._lock:
            pending, self._pending = self._pending, {}
        for group, events in pending.items():
            self._ensure(group)
            for start in range(0, len(events), MAX_BATCH):
                self._logs.put_log_events(
                    logGroupName=group, logStreamName=STREAM, logEvents=events[start : start + MAX_BATCH]
                )

    def _ensure(self, group: str) -> None:
        if group in self._created:
            return
        for create in (
            lambda: self._logs.create_log_group(logGroupName=group),
            lambda: self._logs.create_log_stream(logGroupName=group, logStreamName=STREAM),
        ):
            try:
                create()
            except ClientError as err:
                if err.response.get("Error", {}).get("Code") != "ResourceAlreadyExistsException":
                    raise
        self._created.add(group)
