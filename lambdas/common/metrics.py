"""Embedded Metric Format: one log line per invocation, dimension `Stage` only.

Written by hand rather than with Powertools Metrics because Powertools adds a `service`
dimension whenever POWERTOOLS_SERVICE_NAME is set and keeps one namespace per instance;
the contract wants exactly `Stage` and two namespaces from the dispatcher. CloudWatch Logs
turns the line into metrics at no API cost (no PutMetricData anywhere).
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict

# The metric contract, exported here once: the monitoring layer reads these names.
BYOIP = "Huntaze/ByoIP"
DISPATCHER = "Huntaze/Dispatcher"
# Huntaze/ByoIP (dimension Stage)
JOBS_ASSIGNED = "JobsAssigned"
JOBS_COMPLETED = "JobsCompleted"
JOBS_FAILED = "JobsFailed"
JOBS_HELD = "JobsHeld"
AGENT_HEARTBEATS = "AgentHeartbeats"
PATCHES_REJECTED = "PatchesRejected"  # agents' patch.rejected frames (bad signature, hash, size)
# Huntaze/Dispatcher (dimension Stage)
BATCH_ITEMS = "BatchItems"
BATCH_ITEM_FAILURES = "BatchItemFailures"
# The time-to-assign SLI (Huntaze/Dispatcher, dimension Stage): every record that should have
# reached its agent now (delivered, or failed and retried) is an attempt; a delivery within
# ASSIGN_DEADLINE_SECONDS of the message's SentTimestamp is on time. Held, duplicate and
# dead-lettered (bad input) records are neither.
ASSIGN_ATTEMPTS = "AssignAttempts"
ASSIGNED_ON_TIME = "AssignedOnTime"
# Huntaze/ByoIP (dimension Stage): a job that reached an agent and ended failed (the agent's
# final failure or an expired last lease); JobsFailed also counts dead-lettered bad input.
JOBS_FAILED_AFTER_ASSIGN = "JobsFailedAfterAssign"
# The `status=410` metric filter on the dispatcher log publishes this (no dimension; the stage
# is part of the namespace because metric filters cannot add a constant dimension).
STALE_CONNECTIONS = "StaleConnections"
STALE_CONNECTIONS_NAMESPACE = BYOIP + "/{stage}"
# Huntaze/ByoIP (dimension Stage), from lease-reaper's creator watch once a minute: creators whose
# circuit breaker is open or half-open after the run (a gauge: read its Maximum), breakers the run
# opened or reopened, and creator events it sent to EventBridge (lambdas/common/notify.py).
CIRCUIT_BREAKERS_OPEN = "CircuitBreakersOpen"
CIRCUIT_BREAKERS_OPENED = "CircuitBreakersOpened"
CREATOR_EVENTS = "CreatorEvents"
# Huntaze/ByoIP (dimension Stage): dead-man's switches, 1 per completed run of lease-reaper's
# lease pass and of its creator watch. Their absence is the alarm (ReaperSilent, WatchSilent).
REAPER_RUNS = "ReaperRuns"
WATCH_RUNS = "WatchRuns"

# The connect SLI (Huntaze/ByoIP, dimension Stage): every `$connect` counts once, under one metric
# per reason (a small fixed set: never a dimension per agent). ok is good; secret_unavailable,
# register_failed and throttled are ours (bad); a client's invalid or revoked token is no valid event.
CONNECT_OUTCOMES = {
    "ok": "ConnectOk",
    "token_invalid": "ConnectTokenInvalid",
    "revoked": "ConnectRevoked",
    "secret_unavailable": "ConnectSecretUnavailable",
    "register_failed": "ConnectRegisterFailed",
    "throttled": "ConnectThrottled",
}
# From lease-reaper once a minute (dimension Stage): jobs held for an absent agent that passed the
# assign deadline, each counted once (Huntaze/Dispatcher, beside the time-to-assign SLI it feeds),
# and the agents with a connection (Huntaze/ByoIP; a gauge: read its Maximum).
JOBS_WAITING_LATE = "JobsWaitingLate"
AGENTS_CONNECTED = "AgentsConnected"

# Huntaze/Probe (dimension Stage), from the black-box probe once a minute (lambdas/common/probe.py):
# ProbeSuccess is 1 when the synthetic agent's job made the whole trip, 0 when any step failed;
# ProbeLatency (Milliseconds, successful runs only) is SendMessage to the result's acknowledgement.
PROBE = "Huntaze/Probe"
PROBE_SUCCESS = "ProbeSuccess"
PROBE_LATENCY = "ProbeLatency"


class Counters:
    """Counts for one invocation, flushed as one EMF document."""

    def __init__(self) -> None:
        self._values: dict[str, dict[str, int]] = defaultdict(dict)
        self._units: dict[tuple[str, str], str] = {}

    def add(self, namespace: str, name: str, value: int = 1, *, unit: str = "Count") -> None:
        """Add `value` to a metric, a Count unless `unit` says otherwise (zero declares a datapoint)."""
        current = self._values[namespace].get(name, 0)
        self._values[namespace][name] = current + value
        self._units[(namespace, name)] = unit

    def value(self, namespace: str, name: str) -> int:
        """Current count (tests, log summaries)."""
        return self._values.get(namespace, {}).get(name, 0)

    def document(self, stage: str, timestamp_ms: int) -> dict[str, object] | None:
        """The EMF document, or None when nothing was counted."""
        if not any(self._values.values()):
            return None
        doc: dict[str, object] = {"Stage": stage}
        directives = []
        for namespace, metrics in self._values.items():
            if not metrics:
                continue
            directives.append(
                {
                    "Namespace": namespace,
                    "Dimensions": [["Stage"]],
                    "Metrics": [{"Name": name, "Unit": self._units[(namespace, name)]} for name in metrics],
                }
            )
            doc.update(metrics)
        doc["_aws"] = {"Timestamp": timestamp_ms, "CloudWatchMetrics": directives}
        return doc

    def flush(self, stage: str, timestamp_ms: int) -> None:
        """Print the EMF line to stdout (Lambda ships it to CloudWatch Logs)."""
        doc = self.document(stage, timestamp_ms)
        if doc is not None:
            sys.stdout.write(json.dumps(doc, separators=(",", ":")) + "\n")
            sys.stdout.flush()
