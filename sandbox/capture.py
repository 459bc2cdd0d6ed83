"""Route what handlers print (Powertools JSON logs, EMF) to metrics and log groups.

Lambda sends a function's stdout to its CloudWatch log group, where EMF lines become
metrics and metric filters count matching lines. The sandbox replaces `sys.stdout`
with a router that knows, per thread, which function is running.
"""

from __future__ import annotations

import io
import sys
import threading
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

_current = threading.local()


@contextmanager
def running(function_name: str) -> Iterator[None]:
    """Attribute this thread's output to a function while it runs."""
    _reinstall()
    previous = getattr(_current, "name", None)
    _current.name = function_name
    try:
        yield
    finally:
        _current.name = previous


def current_function() -> str | None:
    """The function whose invocation this thread is running, or None outside any invocation."""
    return getattr(_current, "name", None)


class LogGroups:
    """Captured log lines per log group, with subscribers (metric filters)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.lines: dict[str, list[str]] = defaultdict(list)
        self._subscribers: list[Callable[[str, str], None]] = []

    def subscribe(self, callback: Callable[[str, str], None]) -> None:
        """Call `callback(log_group, line)` for every new line."""
        self._subscribers.append(callback)

    def append(self, group: str, line: str) -> None:
        with self._lock:
            self.lines[group].append(line)
        for callback in self._subscribers:
            callback(group, line)

    def grep(self, group: str, needle: str) -> list[str]:
        """Lines of a group containing `needle`."""
        with self._lock:
            return [line for line in self.lines.get(group, []) if needle in line]


class StdoutRouter(io.TextIOBase):
    """A stdout that sends lines printed inside an invocation to the function's log group."""

    def __init__(self, passthrough: TextIO) -> None:
        super().__init__()
        self.passthrough = passthrough
        self.logs: LogGroups | None = None
        self._buffers = threading.local()

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        name = getattr(_current, "name", None)
        if name is None:
            try:
                return self.passthrough.write(text)
            except ValueError:  # the stream we wrapped was closed (a test runner's capture)
                return len(text)
        buffered = getattr(self._buffers, "text", "") + text
        *lines, rest = buffered.split("\n")
        self._buffers.text = rest
        logs = self.logs
        for line in lines:
            if line.strip() and logs is not None:
                logs.append(f"/aws/lambda/{name}", line)
        return len(text)

    def flush(self) -> None:
        self.passthrough.flush()


# One router per process: handler loggers keep a reference to the stdout they saw at import,
# so later sandboxes in the same process re-target this router instead of replacing it.
_router: StdoutRouter | None = None


def _reinstall() -> None:
    """Put the router back if something (e.g. pytest's capture) replaced sys.stdout meanwhile."""
    if _router is not None and _router.logs is not None and sys.stdout is not _router:
        _router.passthrough = sys.stdout
        sys.stdout = _router


@contextmanager
def routed_stdout(logs: LogGroups) -> Iterator[StdoutRouter]:
    """Send invocation output to `logs` for the duration of the block."""
    global _router
    if _router is None:
        _router = StdoutRouter(sys.stdout)
    if sys.stdout is not _router:
        _router.passthrough = sys.stdout
        sys.stdout = _router
    _router.logs = logs
    try:
        yield _router
    finally:
        _router.logs = None
        if sys.stdout is _router:
            sys.stdout = _router.passthrough
