"""probe (scheduled, every minute): the black-box probe walks an agent's whole path once
(lambdas/common/probe.py) and records ProbeSuccess and ProbeLatency; a failed step is a 0, never an error."""

from __future__ import annotations

from typing import Any

from lambdas.common import clock, probe
from lambdas.common.logs import function_logger
from lambdas.common.reserved import probe_agent
from lambdas.common.settings import settings
from lambdas.common.tracing import traced

logger = function_logger()


@traced
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    config = settings()
    started = clock.now()
    time_left = (lambda: context.get_remaining_time_in_millis() / 1000) if context is not None else None
    agent_id = probe_agent(probe.scheduled_minute(event, started))
    outcome = probe.run(config, agent_id=agent_id, time_left=time_left)
    return probe.record(outcome, logger, stage=config.stage, timestamp_ms=started * 1000)
