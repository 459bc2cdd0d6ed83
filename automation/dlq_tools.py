"""Selective DLQ replay and whole-queue reads (`byoip dlq replay`, `byoip quarantine export|delete`).

Replay moves with GuardedRedrive's own code (automation/scripts/guarded_redrive.py: `classify`
and `move_message`), so a poison pill goes to the quarantine instead of looping, a transient
message's redrive count grows on each replay, and a message leaves the DLQ only after its copy
was sent. A crash between the send and the delete leaves a duplicate: the dispatcher assigns each
jobId once (conditional write), so the second copy is skipped as `already_assigned`.

Reading a queue "once": every received message stays invisible (VISIBILITY_SECONDS) while the
run lasts, so the next receive returns new ones; the messages not moved or deleted are made
visible again at once (ChangeMessageVisibility 0) when the run ends, also on an error or Ctrl-C.
A process killed outright leaves them invisible for at most VISIBILITY_SECONDS.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from automation.scripts.guarded_redrive import (
    DISPATCHER_POISON,
    QUARANTINE_REASON_ATTR,
    REASON_AGENT,
    REASON_BUDGET,
    REASON_JSON,
    SOURCE_MESSAGE_ATTR,
    TRANSIENT,
    SendFailed,
    classify,
    move_message,
    redrive_count,
    release,
)

DEFAULT_BUDGET = 3  # the GuardedRedrive document's RedriveBudget default
# Every reason `--reason` may name: the dispatcher's `reason` attribute or classify()'s class.
REASONS = tuple(dict.fromkeys((TRANSIENT, *DISPATCHER_POISON, REASON_JSON, REASON_AGENT, REASON_BUDGET)))
VISIBILITY_SECONDS = 300  # how long a run holds a received message before SQS shows it again
MAX_SCAN = 10_000  # messages one replay receives at most (matching or not)
MAX_EXPORT = 100_000  # messages one export or delete reads at most (SQS allows 120,000 in flight)
_IDLE_ROUNDS = 3  # receives in a row that bring nothing new end the scan


def job_fields(message: dict[str, Any]) -> dict[str, str]:
    """jobId, agentId, creatorId, kind of a message's body ("" when absent or not JSON)."""
    try:
        body = json.loads(message.get("Body", ""))
    except (ValueError, RecursionError):  # classify() names it json_invalid
        body = {}
    body = body if isinstance(body, dict) else {}
    return {key: str(body.get(key) or "") for key in ("jobId", "agentId", "creatorId", "kind")}


def marked_reason(message: dict[str, Any]) -> str:
    """The dispatcher's `reason` message attribute ("" when it did not dead-letter it itself)."""
    return str(message.get("MessageAttributes", {}).get("reason", {}).get("StringValue", ""))


def parked_reason(message: dict[str, Any]) -> str:
    """Why the guard (or a replay) quarantined the message: `byoip-quarantine-reason` ("" if none)."""
    return str(message.get("MessageAttributes", {}).get(QUARANTINE_REASON_ATTR, {}).get("StringValue", ""))


def reasons_of(message: dict[str, Any], budget: int = DEFAULT_BUDGET) -> set[str]:
    """What `--reason` matches: the dispatcher's mark, the quarantine's reason, classify()'s class."""
    return {marked_reason(message), parked_reason(message), classify(message, budget)} - {""}


@dataclass(frozen=True)
class Filters:
    """Which messages a run acts on: every given filter must match (values of one filter: any)."""

    reasons: tuple[str, ...] = ()
    creators: tuple[str, ...] = ()
    job_ids: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    exclude_kinds: tuple[str, ...] = ()
    everything: bool = False

    def selective(self) -> bool:
        """True when at least one positive filter is given (--exclude-kind only narrows)."""
        return bool(self.reasons or self.creators or self.job_ids or self.kinds)

    def matches(self, message: dict[str, Any], budget: int = DEFAULT_BUDGET) -> bool:
        job = job_fields(message)
        if self.reasons and not reasons_of(message, budget) & set(self.reasons):
            return False
        for values, key in ((self.creators, "creatorId"), (self.job_ids, "jobId"), (self.kinds, "kind")):
            if values and job[key] not in values:
                return False
        return job["kind"] not in self.exclude_kinds


class Reader:
    """Receive each visible message of a queue once, holding it invisible until `close()`."""

    def __init__(self, sqs: Any, url: str, *, max_scan: int = MAX_SCAN) -> None:
        self.sqs, self.url, self.max_scan = sqs, url, max_scan
        self.held: dict[str, dict[str, Any]] = {}  # MessageId -> latest receive (its handle)
        self.seen = 0

    def messages(self) -> Iterator[dict[str, Any]]:
        """Each message once, with attributes, until the queue yields nothing new or max_scan."""
        idle = 0
        while self.seen < self.max_scan and idle < _IDLE_ROUNDS:
            batch = self.sqs.receive_message(
                QueueUrl=self.url,
                MaxNumberOfMessages=min(10, self.max_scan - self.seen),
                MessageAttributeNames=["All"],
                AttributeNames=["All"],
                VisibilityTimeout=VISIBILITY_SECONDS,
                WaitTimeSeconds=1,
            ).get("Messages", [])
            new = [m for m in batch if m["MessageId"] not in self.held]
            for message in batch:
                self.held[message["MessageId"]] = message  # a re-receive renews the handle
            idle = 0 if new else idle + 1
            for message in new:
                self.seen += 1
                yield message

    def done(self, message: dict[str, Any]) -> None:
        """The message left the queue (moved or deleted): nothing to release."""
        self.held.pop(message["MessageId"], None)

    def close(self) -> int:
        """Make every held message visible again at once; returns how many."""
        messages = list(self.held.values())
        release(self.sqs, self.url, messages)
        self.held.clear()
        return len(messages)


@dataclass
class ReplayReport:
    status: str = "drained"  # drained | max_reached | scan_limit | send_failed
    scanned: int = 0
    matched: int = 0
    redriven: int = 0
    quarantined: dict[str, int] = field(default_factory=dict)
    released: int = 0  # made visible again in the DLQ (not matching, or not moved)
    error: str = ""
    plan: list[dict[str, str]] = field(default_factory=list)  # matched messages and their destination

    @property
    def moved(self) -> int:
        return self.redriven + sum(self.quarantined.values())


def plan_row(message: dict[str, Any], reason: str) -> dict[str, str]:
    job = job_fields(message)
    return {
        "jobId": job["jobId"] or "-",
        "creatorId": job["creatorId"] or "-",
        "kind": job["kind"] or "-",
        "reason": marked_reason(message) or "-",
        "redrives": str(redrive_count(message)),
        "to": "jobs" if reason == TRANSIENT else f"quarantine ({reason})",
    }


def replay(
    sqs: Any,
    *,
    dlq_url: str,
    jobs_queue_url: str,
    quarantine_url: str,
    filters: Filters,
    max_messages: int,
    max_per_second: int,
    dry_run: bool,
    redrive_budget: int = DEFAULT_BUDGET,
    max_scan: int = MAX_SCAN,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> ReplayReport:
    """Move the DLQ messages matching `filters` (at most max_messages, at most max_per_second)."""
    report = ReplayReport()
    reader = Reader(sqs, dlq_url, max_scan=max_scan)
    move = partial(
        move_message, sqs, dlq_url=dlq_url, jobs_queue_url=jobs_queue_url, quarantine_url=quarantine_url
    )
    started = clock()
    try:
        for message in reader.messages():
            report.scanned += 1
            if not filters.matches(message, redrive_budget):
                continue
            if report.matched >= max_messages:
                report.status = "max_reached"
                break
            report.matched += 1
            reason = classify(message, redrive_budget)
            report.plan.append(plan_row(message, reason))
            if dry_run:
                continue
            try:
                move(message, reason)
            except SendFailed as error:  # the original stays in the DLQ (released below)
                report.status, report.error = "send_failed", str(error)
                break
            reader.done(message)
            if reason == TRANSIENT:
                report.redriven += 1
            else:
                report.quarantined[reason] = report.quarantined.get(reason, 0) + 1
            ahead = report.moved / max_per_second - (clock() - started)
            if ahead > 0:
                sleep(ahead)
        else:
            if reader.seen >= max_scan:
                report.status = "scan_limit"
    finally:
        report.released = reader.close()
    return report


def export_record(message: dict[str, Any]) -> dict[str, Any]:
    """One quarantine message as a JSON-lines record: ids, body, attributes, sent time, receives."""
    attributes = message.get("Attributes", {})
    sent_ms = int(attributes.get("SentTimestamp", 0) or 0)
    own = message.get("MessageAttributes", {})
    return {
        "messageId": message["MessageId"],
        "sourceMessageId": own.get(SOURCE_MESSAGE_ATTR, {}).get("StringValue"),
        "quarantineReason": parked_reason(message) or None,
        **{key: value or None for key, value in job_fields(message).items()},
        "sentAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(sent_ms / 1000)) if sent_ms else None,
        "receiveCount": int(attributes.get("ApproximateReceiveCount", 0) or 0),
        "body": message.get("Body", ""),
        "messageAttributes": own,
        "attributes": attributes,
    }
