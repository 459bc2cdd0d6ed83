"""The one source of "now" for the handlers. Tests patch `now`; the sandbox runs the handlers on
the real clock and scales the durations they are given (LEASE_SECONDS) instead."""

from __future__ import annotations

import time
from datetime import UTC, datetime


def now() -> int:
    """Current epoch seconds."""
    return int(time.time())


def day_of(epoch: int) -> str:
    """UTC calendar day of an epoch, the key of the daily quota counter."""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d")
