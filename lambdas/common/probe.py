"""The black-box probe: a synthetic agent walks an agent's whole path once a minute (issue 20).

One run, in the order an agent and a producer meet: mint a token for the reserved probe identity
with the stage's current key (the issuer path and claims of a real agent's token, plus the probe
claim: lambdas/common/reserved.py), connect to the stage's public WebSocket URL (so API Gateway,
its throttles, ws-connect and the agents table are on the path), send a probe job to JobsQueue
(the producers' message contract), wait for the dispatcher to push it, complete it with
`job.result` and wait for ws-message's acknowledgement. A step that fails ends the run as a
failure named by its step (`connect`, `send`, `deliver`, `complete`); nothing raises, so the
function's Errors stay about bugs. Every wait is bounded by its step's budget and by the time the
invocation has left.

The probe connects before it sends, so its job is pushed, never held. A job of an earlier run that
was held while the probe was away is released by its `$connect` and pushed to it: the probe
completes such jobs too (any job pushed to the probe's agent is a probe job), so none lingers.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from websockets.exceptions import ConnectionClosed, InvalidStatus, WebSocketException
from websockets.sync.client import ClientConnection, connect

from lambdas.common import auth, aws, ddb, keys, metrics
from lambdas.common.job_message import JobMessage
from lambdas.common.reserved import PROBE_CREATOR
from lambdas.common.settings import Settings

STEPS = ("connect", "send", "deliver", "complete")
JOB_KIND = "probe"
# API Gateway and ws-connect answer a `$connect` in well under a second; 10 s covers a cold start
# and a Secrets Manager read, and stays far under API Gateway's 29 s integration timeout.
CONNECT_SECONDS = 10
# One ws-message invocation (~0.1 s) answers the result; 5 s is a cold start with room to spare.
COMPLETE_SECONDS = 5
# Long enough for one run (the function's timeout is 50 s), short so a leaked probe token dies soon.
TOKEN_LIFETIME_SECONDS = 120
# Stop waiting this long before the function's timeout, so the run still logs and flushes its metric.
MARGIN_SECONDS = 2
_NETWORK_ERRORS = (OSError, TimeoutError, WebSocketException)
_AWS_ERRORS = (ClientError, BotoCoreError, keys.MisconfiguredSecret)


@dataclass(frozen=True)
class ProbeRun:
    """How one run ended: `ok` and its latency, or the step that failed and why."""

    ok: bool
    latency_ms: int | None = None
    step: str | None = None
    reason: str | None = None
    other_jobs: int = 0  # jobs of earlier runs pushed to the probe and completed by this one


class StepFailed(Exception):
    def __init__(self, step: str, reason: str) -> None:
        super().__init__(f"{step}: {reason}")
        self.step = step
        self.reason = reason


Opener = Callable[[str, float], Any]  # (url, open timeout in seconds) -> an open client connection


def open_websocket(url: str, timeout_s: float) -> ClientConnection:
    """Open a WebSocket as an agent does (no proxy, no compression: frames are small JSON)."""
    return connect(url, open_timeout=timeout_s, close_timeout=1, compression=None, proxy=None)


class _Budget:
    """Seconds a step may wait: its own budget, cut to what the invocation has left."""

    def __init__(self, time_left: Callable[[], float] | None) -> None:
        self.time_left = time_left

    def seconds(self, step: str, budget_s: float) -> float:
        if self.time_left is not None:
            budget_s = min(budget_s, self.time_left() - MARGIN_SECONDS)
        if budget_s <= 0:
            raise StepFailed(step, "out_of_time")
        return budget_s


def run(
    config: Settings,
    *,
    agent_id: str,
    time_left: Callable[[], float] | None = None,
    open_ws: Opener | None = None,
) -> ProbeRun:
    """One run as `agent_id` (reserved.probe_agent); never raises for a failure of the path it walks
    (`open_ws`: the tests' gateway)."""
    budget = _Budget(time_left)
    try:
        ws = _connect(config, agent_id, budget, open_ws or open_websocket)
    except StepFailed as failed:
        return ProbeRun(False, step=failed.step, reason=failed.reason)
    trip = _Trip(ws, agent_id, budget)
    try:
        with ws:
            latency_ms = trip.walk(config)
    except StepFailed as failed:
        return ProbeRun(False, step=failed.step, reason=failed.reason, other_jobs=trip.other_jobs)
    return ProbeRun(True, latency_ms=latency_ms, other_jobs=trip.other_jobs)


def _connect(config: Settings, agent_id: str, budget: _Budget, open_ws: Opener) -> Any:
    if not config.ws_public_url:
        raise StepFailed("connect", "not_configured")
    try:
        key = keys.current_key(config)
        token = auth.mint_token(key, agent_id, PROBE_CREATOR, lifetime_s=TOKEN_LIFETIME_SECONDS, probe=True)
    except _AWS_ERRORS as err:
        raise StepFailed("connect", f"secret_unavailable:{type(err).__name__}") from None
    try:
        return open_ws(f"{config.ws_public_url}?token={token}", budget.seconds("connect", CONNECT_SECONDS))
    except InvalidStatus as err:
        raise StepFailed("connect", f"status_{err.response.status_code}") from None
    except _NETWORK_ERRORS as err:
        raise StepFailed("connect", type(err).__name__) from None


class _Trip:
    """Send the job, wait for its push, complete it; other probe jobs pushed meanwhile are completed too."""

    def __init__(self, ws: Any, agent_id: str, budget: _Budget) -> None:
        self.ws = ws
        self.agent_id = agent_id
        self.budget = budget
        self.other_jobs = 0
        self.job_id = f"probe-{uuid.uuid4().hex}"

    def walk(self, config: Settings) -> int:
        """Milliseconds from SendMessage to the acknowledgement of the job's result."""
        sent = time.monotonic()
        self._send(config)
        self._wait_for("deliver", config.probe_deliver_seconds, self._is_our_assign)
        self._result(self.job_id, "complete")
        self._wait_for("complete", COMPLETE_SECONDS, self._is_our_ack)
        return round((time.monotonic() - sent) * 1000)

    def _send(self, config: Settings) -> None:
        job = JobMessage(self.job_id, self.agent_id, PROBE_CREATOR, JOB_KIND, {"probe": True}, critical=False)
        try:
            aws.client("sqs").send_message(QueueUrl=config.jobs_queue_url, MessageBody=job.to_body())
        except (ClientError, BotoCoreError) as err:
            raise StepFailed("send", _aws_reason(err)) from None

    def _wait_for(self, step: str, budget_s: float, wanted: Callable[[dict[str, Any]], bool]) -> None:
        deadline = time.monotonic() + self.budget.seconds(step, budget_s)
        last_error = ""
        while (left := deadline - time.monotonic()) > 0:
            try:
                frame = _parse(self.ws.recv(timeout=left))
            except TimeoutError:
                break
            except ConnectionClosed:
                raise StepFailed(step, "connection_closed") from None
            except _NETWORK_ERRORS as err:
                raise StepFailed(step, type(err).__name__) from None
            if wanted(frame):
                return
            if frame.get("type") == "error":
                last_error = f"error_{frame.get('code')}"
        raise StepFailed(step, last_error or "timeout")

    def _is_our_assign(self, frame: dict[str, Any]) -> bool:
        if frame.get("type") != "job.assign":
            return False
        if frame.get("jobId") == self.job_id:
            return True
        if isinstance(frame.get("jobId"), str):  # an earlier run's job: complete it, keep waiting
            self.other_jobs += 1
            self._result(frame["jobId"], "deliver")
        return False

    def _is_our_ack(self, frame: dict[str, Any]) -> bool:
        return (
            frame.get("type") == "ack"
            and frame.get("action") == "job.result"
            and (frame.get("jobId") == self.job_id)
        )

    def _result(self, job_id: str, step: str) -> None:
        frame = {"action": "job.result", "jobId": job_id, "status": "completed", "result": {"probe": True}}
        try:
            self.ws.send(json.dumps(frame, separators=(",", ":")))
        except ConnectionClosed:
            raise StepFailed(step, "connection_closed") from None
        except _NETWORK_ERRORS as err:
            raise StepFailed(step, type(err).__name__) from None


def _parse(data: str | bytes) -> dict[str, Any]:
    try:
        frame = json.loads(data)
    except ValueError:
        return {}
    return frame if isinstance(frame, dict) else {}


def scheduled_minute(event: dict[str, Any], now: int) -> int:
    """The epoch minute EventBridge scheduled this run for (its event's `time`), else `now`'s."""
    try:
        stamp = datetime.strptime(str(event.get("time")), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        return now // 60
    return int(stamp.timestamp()) // 60


def _aws_reason(err: Exception) -> str:
    return ddb.error_code(err) if isinstance(err, ClientError) else type(err).__name__


def record(outcome: ProbeRun, logger: Any, *, stage: str, timestamp_ms: int) -> dict[str, Any]:
    """Log the run's one line and emit its EMF (ProbeSuccess 1/0, ProbeLatency when it succeeded)."""
    counters = metrics.Counters()
    counters.add(metrics.PROBE, metrics.PROBE_SUCCESS, int(outcome.ok))
    if outcome.ok and outcome.latency_ms is not None:
        counters.add(metrics.PROBE, metrics.PROBE_LATENCY, outcome.latency_ms, unit="Milliseconds")
    summary: dict[str, Any] = {
        "ok": outcome.ok,
        "latencyMs": outcome.latency_ms,
        "otherJobs": outcome.other_jobs,
    }
    if outcome.ok:
        logger.info(f"probe ok latencyMs={outcome.latency_ms} otherJobs={outcome.other_jobs}", extra=summary)
    else:
        summary.update(step=outcome.step, reason=outcome.reason)
        logger.warning(f"probe failed step={outcome.step} reason={outcome.reason}", extra=summary)
    counters.flush(stage, timestamp_ms)
    return summary
