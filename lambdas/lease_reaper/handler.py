"""lease-reaper (scheduled): re-queue expired leases (fail them after MAX_ATTEMPTS), then the creator
watch: circuit breakers, releases of held jobs, creator notifications (lambdas/common/watch.py)."""

from __future__ import annotations

from typing import Any

from lambdas.common import clock, metrics
from lambdas.common.logs import function_logger
from lambdas.common.reaper import reap
from lambdas.common.settings import settings
from lambdas.common.tracing import traced
from lambdas.common.watch import watch

logger = function_logger()


@traced
def handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    config = settings()
    now = clock.now()
    time_left = (lambda: context.get_remaining_time_in_millis() / 1000) if context is not None else None
    counts = reap(now=now, max_attempts=config.max_attempts, time_left=time_left)
    summary = {"requeued": counts.requeued, "failed": counts.failed, "skipped": counts.skipped}
    logger.info("lease_reaper " + " ".join(f"{k}={v}" for k, v in summary.items()), extra=summary)
    counters = metrics.Counters()
    counters.add(metrics.BYOIP, metrics.JOBS_FAILED, counts.failed)
    counters.add(metrics.BYOIP, metrics.JOBS_FAILED_AFTER_ASSIGN, counts.failed)  # they reached an agent
    counters.add(metrics.BYOIP, metrics.REAPER_RUNS)  # dead-man's switch: the lease pass completed
    watched = watch(now=now, logger=logger)
    if watched is not None:  # no datapoint when nothing could be read: the alarm keeps its state
        counters.add(metrics.BYOIP, metrics.CIRCUIT_BREAKERS_OPEN, watched.open_now)
        counters.add(metrics.BYOIP, metrics.CIRCUIT_BREAKERS_OPENED, watched.opened)
        counters.add(metrics.BYOIP, metrics.CREATOR_EVENTS, watched.notified)
        counters.add(metrics.BYOIP, metrics.WATCH_RUNS)  # dead-man's switch: the watch read and acted
        counters.add(metrics.BYOIP, metrics.AGENTS_CONNECTED, watched.connected)  # the fleet gauge
        counters.add(metrics.DISPATCHER, metrics.JOBS_WAITING_LATE, watched.waiting)  # time-to-assign SLI
        seen = {"breakersOpen": watched.open_now, "released": watched.released, "events": watched.notified}
        logger.info("creator_watch " + " ".join(f"{k}={v}" for k, v in seen.items()), extra=seen)
    counters.flush(config.stage, now * 1000)
    return summary
