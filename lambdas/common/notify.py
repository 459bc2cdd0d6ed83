"""Creator notifications: EventBridge events the product's notification service subscribes to.

Source `huntaze.byoip` on the account's default event bus; each event is about one creator
and carries only that creator's ids (docs/contracts.md, "Creator events").

Offline episodes: an agent offline (no connection) for NOTIFY_OFFLINE_SECONDS while jobs are
held for it is announced once; when it is connected again and no job is held for it any more,
"back online" closes the episode. The agent item remembers the episode (`offlineNotifiedFor`
= the `lastSeen` it went offline at): the claim is a conditional write made before the event,
and taken back if the event cannot be sent, so an episode is announced at most once and a
failed send is tried again at the next run.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from lambdas.common import aws, tables
from lambdas.common.claims import claimed_update
from lambdas.common.connections import agent_key
from lambdas.common.settings import int_setting, settings

SOURCE = "huntaze.byoip"
AGENT_OFFLINE = "Creator Agent Offline"
AGENT_BACK = "Creator Agent Back Online"
BREAKER_OPENED = "Creator Circuit Breaker Opened"
BREAKER_CLOSED = "Creator Circuit Breaker Closed"
# 10 minutes: longer than a router reboot or a roaming phone's reconnect (the gateway's 410s
# clear within a minute or two), short enough that a creator hears before a campaign stalls.
DEFAULT_OFFLINE_SECONDS = 600
_CLAIM = "notifyClaim"


class EmitFailed(Exception):
    """EventBridge refused or did not take the event."""


def offline_delay() -> int:
    """NOTIFY_OFFLINE_SECONDS (default 600)."""
    return int_setting(os.environ.get("NOTIFY_OFFLINE_SECONDS"), DEFAULT_OFFLINE_SECONDS)


def emit(detail_type: str, creator_id: str, detail: dict[str, Any], *, now: int) -> None:
    """PutEvents one event about one creator; EmitFailed if it was not accepted."""
    entry = {
        "Source": SOURCE,
        "DetailType": detail_type,
        "Detail": json.dumps({"stage": settings().stage, "creatorId": creator_id, **detail}),
        "Time": datetime.fromtimestamp(now, UTC),
    }
    try:
        resp = aws.client("events").put_events(Entries=[entry])
    except (ClientError, BotoCoreError) as err:
        raise EmitFailed(str(err)) from err
    if resp.get("FailedEntryCount"):
        raise EmitFailed(str(resp.get("Entries")))


def episode_id(creator_id: str, agent_id: str, since: int) -> str:
    """One offline episode of one agent: `<creatorId>#<agentId>#<offline since>`."""
    return f"{creator_id}#{agent_id}#{since}"


def _claim(item: dict[str, Any], token: str, expression: str, condition: str, **vals: Any) -> bool:
    key = agent_key(item["creatorId"], item["agentId"])
    return claimed_update(
        settings().agents_table,
        key,
        claim=_CLAIM,
        token=token,
        expression=expression,
        condition=condition,
        **vals,
    )


@dataclass(frozen=True)
class Write:
    """A claimed write on the agent item: expression, condition and their values."""

    expression: str
    condition: str
    values: dict[str, Any]


def _announce(
    item: dict[str, Any],
    token: str,
    claim: Write,
    undo: Write,
    detail_type: str,
    detail: dict[str, Any],
    now: int,
) -> bool:
    """Claim the step on the agent item, send its event; if the send fails, give the claim back
    (so the next run tries again) and raise EmitFailed."""
    if not _claim(item, token, claim.expression, claim.condition, **claim.values):
        return False
    try:
        emit(detail_type, item["creatorId"], detail, now=now)
    except EmitFailed:
        _claim(item, token, undo.expression, undo.condition, **undo.values)
        raise
    return True


def agent_offline(item: dict[str, Any], held: int, *, now: int, delay: int, token: str) -> bool:
    """Announce the agent's offline episode if it is due; True when the event was sent."""
    since = int(item.get("lastSeen") or 0)
    due = not item.get("connectionId") and held > 0 and since and now - since >= delay
    if not due or "offlineNotifiedFor" in item:
        return False
    claim = Write(
        "SET offlineNotifiedFor = :since, offlineNotifiedAt = :now, notifyClaim = :token,"
        " watchFor = :episode",
        "attribute_not_exists(connectionId) AND attribute_not_exists(offlineNotifiedFor)"
        " AND lastSeen = :since",
        {"since": since, "now": now, "episode": tables.WATCH_EPISODE},
    )
    undo = Write(
        "REMOVE offlineNotifiedFor, offlineNotifiedAt, watchFor SET notifyClaim = :token",
        "notifyClaim = :token",
        {},
    )
    detail = {
        "agentId": item["agentId"],
        "heldJobs": held,
        "offlineSince": since,
        "episodeId": episode_id(item["creatorId"], item["agentId"], since),
    }
    return _announce(item, token, claim, undo, AGENT_OFFLINE, detail, now)


def agent_back(item: dict[str, Any], held: int, *, now: int, token: str) -> bool:
    """Close an announced episode once the agent is connected and nothing is held for it."""
    if not item.get("connectionId") or held or "offlineNotifiedFor" not in item:
        return False
    since = int(item["offlineNotifiedFor"])
    claim = Write(
        "SET backNotifiedAt = :now, notifyClaim = :token"
        " REMOVE offlineNotifiedFor, offlineNotifiedAt, watchFor",
        "attribute_exists(connectionId) AND offlineNotifiedFor = :since",
        {"since": since, "now": now},
    )
    undo = Write(
        "SET offlineNotifiedFor = :since, watchFor = :episode REMOVE backNotifiedAt",
        "notifyClaim = :token AND attribute_not_exists(offlineNotifiedFor)",
        {"since": since, "episode": tables.WATCH_EPISODE},
    )
    detail = {
        "agentId": item["agentId"],
        "offlineSince": since,
        "backAt": int(item.get("connectedAt") or now),
        "episodeId": episode_id(item["creatorId"], item["agentId"], since),
    }
    return _announce(item, token, claim, undo, AGENT_BACK, detail, now)
