"""Sizes the stack deploys and the alarm catalog reasons about: typed once, here.

The stack (stacks/functions.py, stacks/jobs.py, stacks/byoip_stack.py) builds the dispatcher
and its queue from these; the catalog (monitoring/catalog.py) derives DispatcherDuration's and
Backlog's thresholds from them, so a changed timeout moves its alarms with it.
"""

from __future__ import annotations

DISPATCHER_TIMEOUT_S = 60
# AWS recommends at least 6 x the function's timeout for a Lambda event source's queue.
JOBS_VISIBILITY_S = 6 * DISPATCHER_TIMEOUT_S
BATCHING_WINDOW_S = 10
# DispatcherDuration: p95 at 80% of the timeout means batches are close to timing out.
DURATION_ALARM_FRACTION = 0.8
