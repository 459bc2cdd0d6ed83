"""The one source of "now" for the handlers (tests and the sandbox's simulated clock patch it)."""

from __future__ import annotations

import time
from datetime import UTC, datetime


def now() -> int:
    """Current epoch seconds."""
    return int(time.time())


def day_of(epoch: int) -> str:
    """UTC calendar day of an epoch, the key of the daily quota counter."""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d")
