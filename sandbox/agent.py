"""A reference agent: connects with a JWT, heartbeats, runs the jobs it is pushed.

Usable against a real deployment's WebSocketUrl as well as the sandbox:

    python -m sandbox.agent wss://<api>.execute-api.<region>.amazonaws.com/prod --token <JWT>

Protocol (docs/contracts.md, "Agent frames"): connect with `?token=`; send `heartbeat` with
the jobs in hand (listing a job is its acknowledgement: running, lease extended); on
`job.assign` run the job and send `job.result` with `"ack": false`: no answer when it is
recorded. The agent keeps each result it has not seen confirmed, lists it in its heartbeats'
`results`, drops it when an answer's `recordedJobs` names it, and sends it again after
RESEND_AFTER heartbeats without confirmation (the backend takes a resend of a recorded result as
a no-op), at most MAX_RESENDS times (then the job's lease decides: the reaper re-queues it).
A retryable failure is sent asking for its answer (`requeued: true`; never resent), and so is a
result for a job already confirmed to this agent (a re-delivered job run twice: its answer
`duplicate: true` tells it closed nothing). No `job.ack` frame (each one is a billed message and
an invocation); `legacy_ack` speaks the older protocol: `job.ack` on assignment (accepted,
unanswered) and a result without `"ack": false`, confirmed by its own answer. With
`--patch-public-key PEM` it asks for the latest patch on every connect and applies it only if
the signature verifies (sandbox/patch_client.py), else sends `patch.rejected`. A lost
connection is retried with exponential backoff and jitter; the token is fetched again on every
attempt (tokens live at most 15 minutes). With `reconnect_window` W,
the first attempt after an established session drops waits U(0, W) (full jitter): when a blip
drops a whole fleet, N agents come back at about N/W per second instead of all within 0.4 s
(the stage throttles `$connect` at 50/s and API Gateway's account quota is 500/s: W >= N/40 s;
`--reconnect-window`, default 30 s; docs/sandbox-performance.md).

One live connection per agent (docs/contracts.md): a `$connect` of the same agent closes this
one after an error frame `superseded`. Another copy of this agent (or a leaked token) took over:
reconnecting at once would close that one in turn, and the two would fight in a tight loop. So
after a superseded session the agent waits `superseded_backoff` (default 30 s, doubling per
consecutive supersede up to 15 min, with jitter) before it reconnects.
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from sandbox.log_upload import UploadRefused, upload_log
from sandbox.patch_client import PatchChecker
from sandbox.reconnect import retry_delay, superseded_delay

RESEND_AFTER = 3  # heartbeats listing a result without its confirmation before it is sent again
MAX_RESENDS = 3  # then the agent gives the result up: the lease expires and the job is re-queued
MAX_RESULTS = 75  # results listed in one heartbeat (lambdas/common/protocol.py MAX_HEARTBEAT_RESULTS)


@dataclass
class AgentBehaviour:
    """How the agent runs jobs; scenarios change it while it runs (slow or failing agents)."""

    job_seconds: float = 0.05  # real seconds per job
    fail_jobs: bool = False  # answer every job with a retryable failure
    heartbeat_seconds: float = 2.0  # real seconds between heartbeats
    version: str = "sandbox-1.0"
    legacy_ack: bool = False  # the older protocol: `job.ack` on assignment, every result answered


@dataclass
class AgentStats:
    connects: int = 0
    rejected: int = 0  # handshakes refused (401/403)
    assignments: Counter[str] = field(default_factory=Counter)  # jobId -> times pushed
    completed: list[str] = field(default_factory=list)  # completions this agent sent
    confirmed: list[str] = field(default_factory=list)  # completions the backend recorded (closed the job)
    resent: int = 0  # results sent again after RESEND_AFTER heartbeats without confirmation
    given_up: list[str] = field(default_factory=list)  # results never confirmed after MAX_RESENDS
    errors: list[dict[str, Any]] = field(default_factory=list)  # error frames received
    crashes: list[str] = field(default_factory=list)  # unexpected exceptions (then reconnected)
    superseded: int = 0  # sessions closed because another connection of this agent replaced them
    attempts: list[float] = field(default_factory=list)  # epoch seconds of each connect attempt
    closes: list[str] = field(default_factory=list)  # close code and reason of each session
    uploads: list[tuple[str, int]] = field(default_factory=list)  # (log key, HTTP status) per upload


class AgentRejected(RuntimeError):
    """The gateway refused the token (401): retrying the same token cannot succeed."""


def _quiet(message: str) -> None:
    """The fleet's agents log nothing (a game day has hundreds of jobs)."""


class Agent:
    """One agent process (an asyncio task); `run()` returns when `stop()` is called.

    `log` receives one line per event (connected, job assigned/acked/result, reconnect
    attempts); `stop_on_401` makes a rejected token end `run()` with AgentRejected.
    """

    def __init__(
        self,
        url: str,
        agent_id: str,
        token: Callable[[], str],
        behaviour: AgentBehaviour | None = None,
        backoff: tuple[float, float] = (0.2, 5.0),
        log: Callable[[str], None] = _quiet,
        stop_on_401: bool = False,
        patches: PatchChecker | None = None,
        reconnect_window: float = 0.0,
        superseded_backoff: tuple[float, float] = (30.0, 900.0),
    ) -> None:
        self.url = url
        self.reconnect_window = reconnect_window  # seconds; 0: the first retry uses the backoff
        self.agent_id = agent_id
        self.token = token
        self.behaviour = behaviour or AgentBehaviour()
        self.backoff = backoff
        self.superseded_backoff = superseded_backoff
        self._supersedes = 0  # consecutive sessions ended `superseded`
        self._session_superseded = False
        self.log = log
        self.stop_on_401 = stop_on_401
        self.patches = patches  # verifies signed patches; None: the agent never asks for one
        # Real seconds to wait for the handshake ($connect's answer) before giving the attempt up.
        # The fleet game day lengthens it: the sandbox answers a few dozen $connect a second.
        self.open_timeout = 10.0
        self.stats = AgentStats()
        self.online = asyncio.Event()
        self._stopped = asyncio.Event()
        self._paused = asyncio.Event()  # set: stay offline until resume()
        self._ws: ClientConnection | None = None
        self._in_hand: set[str] = set()
        self._completing: set[str] = set()  # completions sent asking for an answer, not yet answered
        # completions sent with `"ack": false`, not yet confirmed: jobId -> [frame, listings, resends]
        self._unconfirmed: dict[str, list[Any]] = {}
        self._confirmed_ids: set[str] = set()
        self._logs: list[bytes] = []  # log files waiting for a logs.upload form

    async def run(self) -> None:
        """Connect, serve, reconnect with exponential backoff until stopped."""
        failures = 0
        while not self._stopped.is_set():
            if self._paused.is_set():
                await self._sleep(0.1)
                continue
            established = False
            self.stats.attempts.append(time.time())
            try:
                async with connect(f"{self.url}?token={self.token()}", open_timeout=self.open_timeout) as ws:
                    failures, established = 0, True
                    await self._session(ws)
            except InvalidStatus as exc:
                status = exc.response.status_code
                if status in (401, 403):
                    self.stats.rejected += 1
                if status == 401 and self.stop_on_401:
                    raise AgentRejected("rejected: 401 (bad or expired token)") from None
                failures += 1
                self.log(f"connect failed: HTTP {status}")
            except (OSError, InvalidHandshake, ConnectionClosed, TimeoutError) as exc:
                failures += 1
                self.log(f"connection lost: {type(exc).__name__}: {exc}".rstrip(": "))
            except Exception as exc:  # a bug must not end the agent: record it and reconnect
                self.stats.crashes.append(f"{type(exc).__name__}: {exc}")
                failures += 1
                self.log(f"error: {type(exc).__name__}: {exc}")
            self.online.clear()
            if not self._stopped.is_set():
                delay = self.next_delay(failures, established)
                if not self._paused.is_set():
                    self.log(f"reconnecting in {delay:.1f} s (attempt {failures + 1})")
                await self._sleep(delay)

    def next_delay(self, failures: int, established: bool, draw: Any = random.uniform) -> float:
        """Seconds before the next connect: long after a superseded session, else `retry_delay`."""
        if established and self._session_superseded:
            self._supersedes += 1
            return superseded_delay(self._supersedes, self.superseded_backoff, draw)
        if established:
            self._supersedes = 0
        return retry_delay(failures, established, self.backoff, self.reconnect_window, draw)

    async def _sleep(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self._stopped.wait(), seconds)
        except TimeoutError:
            pass

    async def _session(self, ws: ClientConnection) -> None:
        self._ws = ws
        self._session_superseded = False
        self.stats.connects += 1
        self.online.set()
        self.log(f"connected as {self.agent_id}")
        if self.patches is not None:
            await ws.send(json.dumps(self.patches.request(self.behaviour.version)))
        heartbeat = asyncio.create_task(self._heartbeats(ws))
        jobs: set[asyncio.Task[None]] = set()
        try:
            async for raw in ws:
                frame = _parse(raw)
                if frame.get("type") == "job.assign" and isinstance(frame.get("jobId"), str):
                    task = asyncio.create_task(self._run_job(ws, frame))
                    jobs.add(task)
                    task.add_done_callback(jobs.discard)
                elif frame.get("type") == "patch.check" and self.patches is not None:
                    task = asyncio.create_task(self._patch(ws, frame))
                    jobs.add(task)
                    task.add_done_callback(jobs.discard)
                elif frame.get("type") == "ack" and frame.get("action") == "job.result":
                    # answered: asked for, or a backend that predates `"ack": false` answers all
                    job_id = frame.get("jobId")
                    pending = job_id in self._completing or job_id in self._unconfirmed
                    if isinstance(job_id, str) and pending and frame.get("requeued") is False:
                        self._completing.discard(job_id)
                        # a resent result answered `duplicate: true` closed nothing: the job was
                        # already completed (a re-delivery run twice), so it is not a completion
                        self._confirm(job_id, counted=frame.get("duplicate") is not True)
                elif frame.get("type") == "ack" and frame.get("action") == "heartbeat":
                    recorded = frame.get("recordedJobs")
                    recorded = recorded if isinstance(recorded, list) else []
                    for job_id in recorded:
                        if job_id in self._unconfirmed:
                            self._confirm(job_id, counted=True)
                    await self._relist_deferred(ws, frame)
                    if len(recorded) >= MAX_RESULTS and self._unconfirmed:
                        await ws.send(self._heartbeat([], self._list_results()))  # a full page: next one
                elif frame.get("type") == "logs.upload" and self._logs:
                    await self._upload(frame, self._logs.pop(0))
                elif frame.get("type") == "error":
                    self.stats.errors.append(frame)
                    if frame.get("code") == "superseded":  # the backend closes this connection now
                        self._session_superseded = True
                        self.stats.superseded += 1
                    elif frame.get("code") == "not_connected":
                        # The backend forgot this connection (e.g. a push raced our $connect
                        # and got 410): reconnect so it records a fresh one.
                        await ws.close(1000, "reconnecting")
        finally:
            self.stats.closes.append(f"{ws.close_code} {ws.close_reason}".strip())
            heartbeat.cancel()
            for task in jobs:
                task.cancel()
            self._ws = None

    async def _patch(self, ws: ClientConnection, frame: dict[str, Any]) -> None:
        assert self.patches is not None
        version, report = await self.patches.answer(frame, self.behaviour.version)
        if version is not None:
            self.behaviour.version = version
        if report is not None:
            await ws.send(json.dumps(report))

    def _heartbeat(self, jobs: list[str], results: list[str] | None = None) -> str:
        frame: dict[str, Any] = {"action": "heartbeat", "version": self.behaviour.version}
        if jobs:
            frame["jobs"] = jobs[:25]
        if results:
            frame["results"] = results[:MAX_RESULTS]
        return json.dumps(frame)

    async def _heartbeats(self, ws: ClientConnection) -> None:
        while True:
            await self._resend_unconfirmed(ws)
            await ws.send(self._heartbeat(sorted(self._in_hand), self._list_results()))
            await asyncio.sleep(self.behaviour.heartbeat_seconds)

    def _list_results(self) -> list[str]:
        """The oldest unconfirmed results, at most MAX_RESULTS, each counted as listed once more."""
        results = list(self._unconfirmed)[:MAX_RESULTS]
        for job_id in results:
            self._unconfirmed[job_id][1] += 1
        return results

    def _confirm(self, job_id: str, *, counted: bool) -> None:
        """The backend recorded this agent's result (an answer, or a heartbeat's `recordedJobs`)."""
        self._unconfirmed.pop(job_id, None)
        if counted and job_id not in self._confirmed_ids:
            self._confirmed_ids.add(job_id)
            self.stats.confirmed.append(job_id)

    async def _resend_unconfirmed(self, ws: ClientConnection) -> None:
        """Results listed RESEND_AFTER times without confirmation are sent again (or given up)."""
        for job_id, entry in list(self._unconfirmed.items()):
            frame, listings, resends = entry
            if listings < RESEND_AFTER:
                continue
            if resends >= MAX_RESENDS:
                del self._unconfirmed[job_id]
                self.stats.given_up.append(job_id)
                self.log(f"job {job_id} result never confirmed: given up (its lease decides)")
                continue
            entry[1:] = [0, resends + 1]
            self.stats.resent += 1
            await ws.send(json.dumps(frame))
            self.log(f"job {job_id} result sent again")

    async def _relist_deferred(self, ws: ClientConnection, ack: dict[str, Any]) -> None:
        """Leases that were due but over the heartbeat's write bound are listed again at once."""
        deferred = ack.get("deferredJobs")
        again = [j for j in deferred if j in self._in_hand] if isinstance(deferred, list) else []
        if again:
            await ws.send(self._heartbeat(again))

    async def _run_job(self, ws: ClientConnection, frame: dict[str, Any]) -> None:
        job_id = frame["jobId"]
        self.stats.assignments[job_id] += 1
        self._in_hand.add(job_id)
        self.log(f"job {job_id} assigned")
        try:
            if self.behaviour.legacy_ack:
                await ws.send(json.dumps({"action": "job.ack", "jobId": job_id}))
                self.log(f"job {job_id} acked")
            await asyncio.sleep(self.behaviour.job_seconds)
            if self.behaviour.fail_jobs:
                result = {"status": "failed", "reason": "site_pushback", "retryable": True}
            else:
                result = {"status": "completed", "result": {"echo": frame.get("payload")}}
            message = {"action": "job.result", "jobId": job_id, **result}
            if result["status"] == "completed":
                answered = self.behaviour.legacy_ack or job_id in self._confirmed_ids
                if answered:
                    self._completing.add(job_id)
                else:
                    message["ack"] = False
                    self._unconfirmed[job_id] = [message, 0, 0]
            if isinstance(frame.get("traceId"), str):  # echo the correlation id (an older agent does not)
                message["traceId"] = frame["traceId"]
            await ws.send(json.dumps(message))
            self.log(f"job {job_id} result {result['status']}")
            if result["status"] == "completed":
                self.stats.completed.append(job_id)
        except ConnectionClosed:
            pass  # the lease runs out and the reaper re-queues the job
        finally:
            self._in_hand.discard(job_id)

    async def upload_log(self, data: bytes) -> None:
        """Ask for a logs.upload form; the file is POSTed when the form arrives."""
        if self._ws is None:
            raise RuntimeError("not connected")
        self._logs.append(data)
        await self._ws.send(json.dumps({"action": "logs.upload"}))

    async def _upload(self, form: dict[str, Any], data: bytes) -> None:
        try:
            result = await asyncio.to_thread(upload_log, form, data)
        except UploadRefused as refused:
            self.log(f"log not uploaded: {refused}")
            return
        self.stats.uploads.append((str(form.get("key")), result.status))
        self.log(f"log {form.get('key')} uploaded: HTTP {result.status} {result.detail}".rstrip())

    def stop(self) -> None:
        """Stop for good (closes the connection cleanly)."""
        self._stopped.set()
        if self._ws is not None:
            asyncio.ensure_future(self._ws.close())

    def go_offline(self, *, abrupt: bool) -> None:
        """Leave until resume(): abrupt drops the TCP connection without a close frame."""
        self._paused.set()
        ws = self._ws
        if ws is not None:
            if abrupt:
                ws.transport.abort()
            else:
                asyncio.ensure_future(ws.close())

    def resume(self) -> None:
        """Come back online (reconnects with a fresh token)."""
        self._paused.clear()

    @property
    def paused(self) -> bool:
        """Offline by its owner's choice (go_offline until resume): not expected to be connected."""
        return self._paused.is_set()


def _parse(raw: str | bytes) -> dict[str, Any]:
    try:
        frame = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return {}
    return frame if isinstance(frame, dict) else {}


if __name__ == "__main__":
    from sandbox.agent_main import main

    sys.exit(main())
