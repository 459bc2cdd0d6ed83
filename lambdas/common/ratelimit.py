"""Budgets per agent and per creator: frames a minute, log-upload forms a day, patch checks a minute.

A budget is counted on the agent, `(creatorId, agentId)`, over all its connections, and under a
ceiling on the creator, over all its agents. A token that opens several connections, or an agent
that reconnects, spends one allowance; one creator's burst spends only its own ceiling, never
another creator's (docs/contracts.md, *Capacity and limits*).

Where the counts live: on the agent item (`agent#<creatorId>#<agentId>`) and on one budget item per
creator (`budget#<creatorId>`) in AgentsTable, as `<budget>Window` (N, the window's number: epoch
minute or UTC day) and `<budget>Count` (N, what was written for it). Not on the connection item
(several connections would each get the whole allowance), not in CreatorLimits (the dispatcher's
transactions write that item; a counter there would make them conflict, and its full Scan by the
creator watch would grow), and not one item per window (the watch scans AgentsTable: per-window
items would add one scanned item per agent and minute). The agent item already exists and is
already scanned; the budget item adds one item per creator.

Cost per frame: ws-message reads the connection item (eventually consistent, half a read unit; a
miss is read again strongly, as a connection may be younger than a second), as it must to know
its caller, and reads no counter: it counts the frame in this container's memory and learns the
written counts from its own writes (ReturnValues, or the old item of a failed condition). A count
reaches its item with one conditional UpdateItem (`count + n <= limit` in the window, or opening
a newer window):
- every `batch` frames a container admits for the agent (FLUSH_EVERY for frames; 1 for log-upload
  forms and patch checks, which are exact), and for the creator, and
- for every frame once the agent's (or creator's) count seen here is past half its limit.
An honest agent costs half a read unit per frame and two writes (agent, creator) per FLUSH_EVERY
frames. A frame is refused (`rate_limited`) when this container's last-seen count plus its unwritten
frames would pass a limit (nothing written), or when the conditional write says the item is full.

The bound across containers: a container admits at most FLUSH_EVERY - 1 frames of an agent before
its next write, which fails once the item is full; from then on it knows the count and writes every
frame (past half). So across C containers an agent gets at most limit + C × (FLUSH_EVERY - 1) frames
a minute (600 + 50 × 4 = 800 with ws-message's reserved concurrency of 50), a creator at most its
ceiling + C × (FLUSH_EVERY - 1), never an unbounded number. A frame the creator's ceiling refuses
after the agent's count took it stays counted on the agent: the agent was refused anyway.

A client that keeps sending after `rate_limited` is flooding. API Gateway counted each of its frames
in the stage's `$default` bucket, which every tenant shares, before ws-message refused it; WebSocket
stages have no per-client throttle, so the budgets alone cannot keep it from starving the edge. Once
one container has refused as many of an agent's frames in a minute as its whole minute's budget (600,
and never fewer than FLOOD_FLOOR:
an honest agent waits the `retry in` it is told; a flood of 400 frames a second, spread over the ~20
containers that rate keeps busy, trips it within the minute), `admit` raises `Flooding`:
ws-message revokes the agent's tokens (its `tokensValidAfter`, as `byoip revoke` does) and closes
the connection. The flood then meets `$connect`'s own bucket and a 401 before any frame bucket; the
agent's owner fetches a new token (docs/contracts.md, *Capacity and limits*).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from lambdas.common import ddb, tables
from lambdas.common.protocol import FrameError
from lambdas.common.settings import Settings, settings

FLUSH_EVERY = 5
FLOOD_FLOOR = 10  # refused frames that never make a flood, however small the budget


@dataclass(frozen=True)
class Budget:
    """One budget: its attribute prefix, window, write batch and the two limits' settings."""

    name: str  # attributes `<name>Window`, `<name>Count` on the counter items
    window_seconds: int
    batch: int  # admitted before a write (1: every one written, exact)
    what: str  # in the refusal's message: "over 600 <what>"
    agent_setting: str
    creator_setting: str

    def limits(self, config: Settings) -> tuple[int, int]:
        """(per agent, per creator) from the settings."""
        return getattr(config, self.agent_setting), getattr(config, self.creator_setting)


FRAMES = Budget("frame", 60, FLUSH_EVERY, "frames a minute", "frames_per_minute", "creator_frames_per_minute")
LOG_UPLOADS = Budget(
    "logUpload", 86400, 1, "log-upload forms a day", "log_uploads_per_day", "creator_log_uploads_per_day"
)
PATCH_CHECKS = Budget(
    "patchCheck", 60, 1, "patch checks a minute", "patch_checks_per_minute", "creator_patch_checks_per_minute"
)


class LocalCounts:
    """This container's view per counter item and budget, for the current window only.

    `known`: the item's count as this container last wrote or saw it; `unwritten`: frames admitted
    here since.
    """

    def __init__(self) -> None:
        self._counts: dict[tuple[str, str], tuple[int, int, int]] = {}  # -> (window, known, unwritten)
        self._lock = threading.Lock()  # the sandbox runs handlers on threads

    def get(self, budget: str, pk: str, window: int) -> tuple[int, int]:
        """(known, unwritten) of the item in `window`; (0, 0) when this container saw nothing of it."""
        with self._lock:
            kept_window, known, unwritten = self._counts.get((budget, pk), (window, 0, 0))
            return (known, unwritten) if kept_window == window else (0, 0)

    def set(self, budget: str, pk: str, window: int, known: int, unwritten: int) -> None:
        with self._lock:
            self._counts[(budget, pk)] = (window, known, unwritten)
            if len(self._counts) > 10_000:  # items of earlier windows: nothing to keep
                self._counts = {k: v for k, v in self._counts.items() if v[0] >= window}

    def clear(self) -> None:
        with self._lock:
            self._counts.clear()


LOCAL = LocalCounts()


class Refused(FrameError):
    """`rate_limited`; `agent`: the agent's own budget refused it (not its creator's ceiling).

    `creator_id`: whose frame it was (ws-message logs it: the per-creator view of rate-limited frames).
    """

    def __init__(self, message: str, *, agent: bool, creator_id: str) -> None:
        super().__init__("rate_limited", message)
        self.agent = agent
        self.creator_id = creator_id


class Flooding(FrameError):
    """The agent went on sending after its frames were refused: ws-message cuts it off."""

    def __init__(self, refused: int, item: dict[str, Any]) -> None:
        super().__init__("flooding", f"{refused} frames sent after rate_limited; fetch a new token")
        self.item = item  # the connection item


def _read(connection_id: str) -> dict[str, Any] | None:
    table = settings().agents_table
    pk = tables.connection_pk(connection_id)
    item = ddb.get(table, tables.AGENTS.key.name, pk, consistent=False)
    return item if item is not None else ddb.get(table, tables.AGENTS.key.name, pk)


def admit(connection_id: str, now: int, local: LocalCounts = LOCAL) -> dict[str, Any] | None:
    """Count one frame of the connection's agent; the connection item when admitted, None when unknown.

    Raises FrameError("rate_limited") when the agent or its creator already spent this minute's frames.
    """
    item = _read(connection_id)
    if item is None:
        return None
    try:
        charge(FRAMES, item["creatorId"], item["agentId"], now, local=local)
    except Refused as refused:
        if refused.agent:
            _count_refusal(item, now, local)
        raise
    return item


def _count_refusal(item: dict[str, Any], now: int, local: LocalCounts) -> None:
    """Count one refused frame of the agent in this container; Flooding once they reach the bound."""
    pk = tables.agent_pk(item["creatorId"], item["agentId"])
    window = now // FRAMES.window_seconds
    refused = local.get("frameRefused", pk, window)[0] + 1
    local.set("frameRefused", pk, window, refused, 0)
    if refused >= max(FLOOD_FLOOR, settings().frames_per_minute):
        raise Flooding(refused, item)


@dataclass(frozen=True)
class _Scope:
    pk: str
    limit: int
    must_exist: bool  # the agent item: never created by a count (the creator's budget item is)
    whose: str  # in the message


def charge(budget: Budget, creator_id: str, agent_id: str, now: int, local: LocalCounts = LOCAL) -> None:
    """Spend one of `budget` for the agent and its creator, or raise FrameError("rate_limited")."""
    agent_limit, creator_limit = budget.limits(settings())
    scopes = (
        _Scope(tables.agent_pk(creator_id, agent_id), agent_limit, True, "this agent"),
        _Scope(tables.budget_pk(creator_id), creator_limit, False, "this creator's agents"),
    )
    window = now // budget.window_seconds
    views = [local.get(budget.name, scope.pk, window) for scope in scopes]
    for scope, (known, unwritten) in zip(scopes, views, strict=True):
        if known + unwritten + 1 > scope.limit:  # refused here: nothing written
            raise _refused(budget, scope, now, creator_id)
    for scope, (known, unwritten) in zip(scopes, views, strict=True):
        unwritten += 1
        if unwritten >= budget.batch or 2 * (known + unwritten) > scope.limit:
            full, count = _write(budget, scope, window, unwritten, knows_window=known > 0)
            local.set(budget.name, scope.pk, window, known if count is None else count, 0)
            if full:
                raise _refused(budget, scope, now, creator_id)
        else:
            local.set(budget.name, scope.pk, window, known, unwritten)


def _refused(budget: Budget, scope: _Scope, now: int, creator_id: str) -> Refused:
    retry = budget.window_seconds - now % budget.window_seconds
    return Refused(
        f"over {scope.limit} {budget.what} for {scope.whose}; retry in {retry} s",
        agent=scope.must_exist,
        creator_id=creator_id,
    )


def _write(
    budget: Budget, scope: _Scope, window: int, n: int, *, knows_window: bool
) -> tuple[bool, int | None]:
    """Add `n` to the item's count for `window` (or open the window with them): (full, count seen).

    `full`: the item already holds more than `limit - n` for this window (nothing written). The
    count is the item's after the write, or as it was when refused; None when it is unknown (the
    agent item is gone, or both writes lost a race at a window boundary: the frames stay admitted).
    The container's view says which write to try first; the other one only after losing a race.
    """
    names = {"#w": f"{budget.name}Window", "#n": f"{budget.name}Count"}
    exists = "attribute_exists(pk) AND " if scope.must_exist else ""
    base = {
        "TableName": settings().agents_table,
        "Key": tables.key(tables.AGENTS, scope.pk),
        "ReturnValues": "UPDATED_NEW",
        "ExpressionAttributeNames": names,
    }
    count = {
        "UpdateExpression": "SET #n = #n + :n",
        "ConditionExpression": f"{exists}#w = :window AND #n <= :room",
        "ExpressionAttributeValues": ddb.values(n=n, window=window, room=scope.limit - n),
    }
    reset = {
        "UpdateExpression": "SET #w = :window, #n = :n",
        "ConditionExpression": f"{exists}(attribute_not_exists(#w) OR #w < :window)",
        "ExpressionAttributeValues": ddb.values(n=n, window=window),
    }
    for write in (count, reset) if knows_window else (reset, count):
        ok, item = ddb.update_or_old(**base, **write)
        if ok:
            # Opening the window sets the count to n: known without the answer, which may leave the
            # attribute out when it already held n (moto's UPDATED_NEW names changed values only).
            return False, n if write is reset else int((item or {})[names["#n"]])
        if item is None:
            return False, None  # the agent item is gone: the frame stays admitted
        if item.get(names["#w"]) == window and int(item.get(names["#n"], 0)) + n > scope.limit:
            return True, int(item[names["#n"]])
    return False, None
