"""Frames per connection per minute: a fixed-window counter on the connection item.

ws-message resolves its caller from the connection item (`conn#<id>`) on every frame anyway;
this does it with one conditional UpdateItem instead of the GetItem, counting the frame in the
same write and answering the item's `agentId`/`creatorId` (ReturnValues ALL_NEW):

- same window, under the limit: `frameCount + 1` → admitted (1 write);
- the condition fails: ALL_OLD (ReturnValuesOnConditionCheckFailure) says why, at no extra
  call: no item → not connected; same window at the limit → `rate_limited`; an older window →
  one more write resets the window to this one with count 1 → admitted (2 writes, once a minute).

DynamoDB cost per frame (connection item < 1 KB): 1 write request unit, 2 on the first frame of
each minute; a rejected frame costs the 1 failed conditional write. It replaces the strongly
consistent GetItem (1 read request unit) the lookup used to cost.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from lambdas.common import ddb
from lambdas.common.protocol import FrameError
from lambdas.common.settings import settings

WINDOW_SECONDS = 60


def _request(connection_id: str, expression: str, condition: str, **named: Any) -> dict[str, Any]:
    return {
        "TableName": settings().agents_table,
        "Key": ddb.key("pk", f"conn#{connection_id}"),
        "UpdateExpression": expression,
        "ConditionExpression": condition,
        "ExpressionAttributeValues": ddb.values(**named),
        "ReturnValues": "ALL_NEW",
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }


def _update(request: dict[str, Any]) -> tuple[bool, dict[str, Any] | None]:
    """(written, item): the new item when written, else the old one (None when there is none)."""
    try:
        response = ddb.dynamodb().update_item(**request)
    except ClientError as err:
        if not ddb.is_condition_failure(err):
            raise
        return False, ddb.from_item(err.response.get("Item"))
    return True, ddb.from_item(response.get("Attributes"))


def admit(connection_id: str, now: int, limit: int | None = None) -> dict[str, Any] | None:
    """Count one frame of the connection; its item when admitted, None when the connection is unknown.

    Raises FrameError("rate_limited") when the connection already sent `limit` frames this window.
    """
    limit = settings().frames_per_minute if limit is None else limit
    window = now // WINDOW_SECONDS
    item: dict[str, Any] | None = None
    for _ in range(2):  # a second pass only after losing a race at a window boundary
        written, item = _update(_count(connection_id, window, limit))
        if written or item is None:
            return item
        current = item.get("frameWindow")
        if isinstance(current, int) and current >= window:
            if int(item.get("frameCount", 0)) >= limit:
                retry = WINDOW_SECONDS - now % WINDOW_SECONDS
                raise FrameError(
                    "rate_limited", f"over {limit} frames a minute on this connection; retry in {retry} s"
                )
            window = current  # another invocation, its clock a second ahead, opened the next window
            continue
        written, item = _update(_reset(connection_id, window))
        if written or item is None:
            return item
    return item  # still racing: admit it uncounted rather than fail an honest frame


def _count(connection_id: str, window: int, limit: int) -> dict[str, Any]:
    return _request(
        connection_id,
        "SET frameCount = frameCount + :one",
        "attribute_exists(pk) AND frameWindow = :window AND frameCount < :limit",
        one=1,
        window=window,
        limit=limit,
    )


def _reset(connection_id: str, window: int) -> dict[str, Any]:
    return _request(
        connection_id,
        "SET frameWindow = :window, frameCount = :one",
        "attribute_exists(pk) AND (attribute_not_exists(frameWindow) OR frameWindow < :window)",
        one=1,
        window=window,
    )
