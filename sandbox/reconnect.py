"""When the reference agent reconnects: backoff after a failure, jitter after a drop, and a long
wait after a superseded session (sandbox/agent.py says why)."""

from __future__ import annotations

import random
from typing import Any


def retry_delay(
    failures: int, established: bool, backoff: tuple[float, float], window: float, draw: Any = random.uniform
) -> float:
    """Seconds before the next connect: U(0, window) right after an established session dropped
    (when window > 0), else exponential backoff min(cap, base * 2^failures) with jitter (x0.5-1)."""
    if established and window > 0:
        return float(draw(0, window))
    base, cap = backoff
    return float(min(cap, base * 2 ** min(failures, 8)) * draw(0.5, 1.0))


def superseded_delay(times: int, backoff: tuple[float, float], draw: Any = random.uniform) -> float:
    """Seconds before reconnecting after the `times`-th consecutive superseded session:
    min(cap, base * 2^(times-1)) with jitter (x0.5-1), so two copies of an agent do not fight."""
    base, cap = backoff
    return float(min(cap, base * 2 ** min(max(times - 1, 0), 16)) * draw(0.5, 1.0))
