"""The revocation mark as ws-message reads it at every frame: cached per container, at most a minute.

A revocation (`byoip revoke`, RevokeTokens) sets `tokensValidAfter` on the agent item or on the
creator's CreatorLimits item, marks the connection items it finds and closes them. A connection it
misses (registered while it ran, or whose DeleteConnection failed) is closed at its next frame
once ws-message sees the mark, which it reads through this cache: the creator's mark (one
CreatorLimits GetItem) and the agent's (one agent GetItem) at most once per MARK_TTL_SECONDS each
per container, never per frame. `$connect` does not use the cache: it reads both marks strongly.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from lambdas.common import ddb, tables
from lambdas.common.settings import settings

MARK_TTL_SECONDS = 60


class MarkCache:
    """Revocation marks read by this container: creator id or agent ref -> (mark, read at)."""

    def __init__(self) -> None:
        self._marks: dict[str, tuple[int, int]] = {}
        self._lock = threading.Lock()  # the sandbox runs handlers on threads

    def mark(self, creator_id: str, agent_id: str, now: int) -> int:
        """Tokens of the agent issued at or before this epoch are revoked; 0 if none."""
        ref = tables.agent_ref(creator_id, agent_id)
        creator_mark = self._read(
            creator_id,
            now,
            lambda: _mark(settings().creator_limits_table, tables.CREATOR_LIMITS.key.name, creator_id),
        )
        agent_mark = self._read(
            ref,
            now,
            lambda: _mark(
                settings().agents_table, tables.AGENTS.key.name, tables.agent_pk(creator_id, agent_id)
            ),
        )
        return max(creator_mark, agent_mark)

    def _read(self, name: str, now: int, load: Callable[[], int]) -> int:
        with self._lock:
            kept = self._marks.get(name)
        if kept is not None and now - kept[1] < MARK_TTL_SECONDS:
            return kept[0]
        value = load()
        with self._lock:
            if len(self._marks) > 10_000:  # marks read over a minute ago: nothing to keep
                self._marks = {k: v for k, v in self._marks.items() if now - v[1] < MARK_TTL_SECONDS}
            self._marks[name] = (value, now)
        return value

    def clear(self) -> None:
        with self._lock:
            self._marks.clear()


def _mark(table: str, key_attr: str, key_value: str) -> int:
    # Eventually consistent (half a read unit): the mark may be a second late, the cache a minute.
    item = ddb.get(table, key_attr, key_value, consistent=False) or {}
    return int(item.get("tokensValidAfter", 0))


MARKS = MarkCache()
