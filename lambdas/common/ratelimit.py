"""Frames per connection per minute: a fixed-window counter, counted in memory, persisted in batches.

ws-message resolves its caller from the connection item (`conn#<id>`) on every frame anyway. It
reads it eventually consistent (half a read unit; a miss is read again strongly, as a connection
may be younger than a second) and counts the frame in this container's memory. The count reaches
the item (`frameWindow`, `frameCount`) with one conditional write:
- every FLUSH_EVERY frames a container admits for the connection in the minute, and
- for every frame once the connection is past half its limit (a busy connection is counted
  exactly, write by write, as before).
A frame is refused (`rate_limited`, nothing written) when the item's count for this minute plus
this container's unwritten frames reach the limit.

Why this is an equivalent protection: within one container the limit is exact; across C
containers serving one connection at once, at most C × (FLUSH_EVERY - 1) frames a minute are
admitted without being written, so a connection gets at most limit + C × (FLUSH_EVERY - 1)
frames a minute (600 + 50 × 4 = 800 with ws-message's reserved concurrency of 50), never an
unbounded number. An honest agent (a heartbeat a minute and a result per job) costs half a read
unit per frame and a write every FLUSH_EVERY frames instead of a write per frame.
"""

from __future__ import annotations

import threading
from typing import Any

from lambdas.common import ddb
from lambdas.common.protocol import FrameError
from lambdas.common.settings import settings

WINDOW_SECONDS = 60
FLUSH_EVERY = 5


class LocalCounts:
    """This container's unwritten frames per connection, for the current window only."""

    def __init__(self) -> None:
        self._counts: dict[str, tuple[int, int]] = {}  # connection id -> (window, unwritten frames)
        self._lock = threading.Lock()  # the sandbox runs handlers on threads

    def get(self, connection_id: str, window: int) -> int:
        with self._lock:
            kept_window, count = self._counts.get(connection_id, (window, 0))
            return count if kept_window == window else 0

    def set(self, connection_id: str, window: int, count: int) -> None:
        with self._lock:
            if count:
                self._counts[connection_id] = (window, count)
            else:
                self._counts.pop(connection_id, None)
            if len(self._counts) > 10_000:  # connections of earlier minutes: nothing to keep
                self._counts = {c: v for c, v in self._counts.items() if v[0] >= window}

    def clear(self) -> None:
        with self._lock:
            self._counts.clear()


LOCAL = LocalCounts()


def _read(connection_id: str) -> dict[str, Any] | None:
    table = settings().agents_table
    item = ddb.get(table, "pk", f"conn#{connection_id}", consistent=False)
    return item if item is not None else ddb.get(table, "pk", f"conn#{connection_id}")


def admit(
    connection_id: str, now: int, limit: int | None = None, local: LocalCounts = LOCAL
) -> dict[str, Any] | None:
    """Count one frame of the connection; its item when admitted, None when the connection is unknown.

    Raises FrameError("rate_limited") when the connection already sent `limit` frames this window.
    """
    limit = settings().frames_per_minute if limit is None else limit
    item = _read(connection_id)
    if item is None:
        return None
    window = now // WINDOW_SECONDS
    written = int(item.get("frameCount", 0)) if item.get("frameWindow") == window else 0
    unwritten = local.get(connection_id, window) + 1
    if written + unwritten > limit:
        retry = WINDOW_SECONDS - now % WINDOW_SECONDS
        message = f"over {limit} frames a minute on this connection; retry in {retry} s"
        raise FrameError("rate_limited", message)
    if unwritten >= FLUSH_EVERY or 2 * (written + unwritten) > limit:
        item = _flush(connection_id, window, unwritten, item)
        unwritten = 0
    local.set(connection_id, window, unwritten)
    return item


def _flush(connection_id: str, window: int, frames: int, item: dict[str, Any]) -> dict[str, Any]:
    """Add `frames` to the item's count for `window`, or open the window with them if it is older.

    The item just read says which of the two writes to try first; the other one only after
    losing a race (another container opened the window meanwhile, or the read was stale).
    """
    base = {
        "TableName": settings().agents_table,
        "Key": ddb.key("pk", f"conn#{connection_id}"),
        "ReturnValues": "ALL_NEW",
        "ExpressionAttributeValues": ddb.values(n=frames, window=window),
    }
    count = {
        "UpdateExpression": "SET frameCount = frameCount + :n",
        "ConditionExpression": "attribute_exists(pk) AND frameWindow = :window",
    }
    reset = {
        "UpdateExpression": "SET frameWindow = :window, frameCount = :n",
        "ConditionExpression": "attribute_exists(pk) AND (attribute_not_exists(frameWindow)"
        " OR frameWindow < :window)",
    }
    for write in (count, reset) if item.get("frameWindow") == window else (reset, count):
        ok, new = ddb.update_or_old(**base, **write)
        if ok:
            return new or item
        if new is None:
            break  # the connection just went: the frame stays admitted
    return item  # lost both races at a window boundary: the frame stays admitted, uncounted
