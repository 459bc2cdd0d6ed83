"""Steady history for the SLO windows, so a game day starts like a stack that has been running.

A fresh sandbox has a few minutes of traffic behind it: every SLO window, 1 hour or 3 days,
then holds only those minutes, and a fault burns the 6-hour window as fast as the 5-minute one.
Seeding the SLIs' event counts for the last 3 days at the game day's base rate, all good, gives
the long windows the healthy traffic they would hold in production, so detection times measure
the alerts, not the sandbox's age.
"""

from __future__ import annotations

from lambdas.common import metrics as m
from sandbox.metrics import MetricStore

HISTORY_S = 3 * 86_400  # the longest SLO window
STEP_S = 300


def seed_slo_history(store: MetricStore, *, stage: str, now: float, jobs_per_minute: float) -> int:
    """Put 3 days of good events (every job assigned on time and completed) before `now`."""
    per_step = jobs_per_minute * STEP_S / 60
    good = (
        (m.DISPATCHER, m.ASSIGN_ATTEMPTS),
        (m.DISPATCHER, m.ASSIGNED_ON_TIME),
        (m.BYOIP, m.JOBS_COMPLETED),
    )
    start = int(now) - HISTORY_S
    steps = range(start - start % STEP_S, int(now) - STEP_S, STEP_S)
    for namespace, name in good:
        for ts in steps:
            store.put(namespace, name, per_step, {"Stage": stage}, ts)
    return len(steps)
