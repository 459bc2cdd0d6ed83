"""A fleet of reference agents running on one event loop in a background thread."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import Callable, Coroutine
from typing import Any

from sandbox.agent import Agent, AgentBehaviour
from sandbox.patch_client import PatchChecker

# The reference agent's reconnect backoff in production seconds: 2 s doubling to a 60 s cap.
PRODUCTION_BACKOFF_S = (2.0, 60.0)


def clock_backoff(clock: Any) -> tuple[float, float]:
    """PRODUCTION_BACKOFF_S in real seconds on a sandbox clock (`clock.real`)."""
    base, cap = PRODUCTION_BACKOFF_S
    return (clock.real(base), clock.real(cap))


class Fleet:
    """N agents of one or more creators; thread-safe controls for scenarios."""

    def __init__(
        self, url: str, token_for: Callable[[str, str], str], backoff: tuple[float, float] | None = None
    ) -> None:
        self.url = url
        self.token_for = token_for
        # Real seconds (base, cap) of the agents' reconnect backoff; sandbox runs pass
        # `clock_backoff(clock)` so a reconnect takes the production time it would take.
        self.backoff = backoff
        self.agents: dict[str, Agent] = {}
        self.creators: dict[str, str] = {}  # agent id -> creator id
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="agent-fleet", daemon=True)
        self._tasks: list[asyncio.Future[None]] = []
        self._thread.start()

    def _call(self, coro: Coroutine[Any, Any, Any], timeout: float = 10) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def add(
        self, agent_id: str, creator_id: str, behaviour: AgentBehaviour, patches: PatchChecker | None = None
    ) -> Agent:
        """Start one agent (with `patches`, it checks for a signed patch on every connect)."""

        async def create() -> Agent:
            def token() -> str:
                return self.token_for(agent_id, creator_id)

            extra: dict[str, Any] = {"backoff": self.backoff} if self.backoff else {}
            agent = Agent(self.url, agent_id, token, behaviour, patches=patches, **extra)
            self._tasks.append(asyncio.ensure_future(agent.run()))
            return agent

        agent = self._call(create())
        self.agents[agent_id] = agent
        self.creators[agent_id] = creator_id
        return agent

    def wait_online(self, agent_ids: list[str] | None = None, timeout: float = 30) -> bool:
        """True once the given agents (default all) are connected."""

        async def wait() -> None:
            ids = agent_ids or list(self.agents)
            await asyncio.gather(*(self.agents[a].online.wait() for a in ids))

        try:
            self._call(asyncio.wait_for(wait(), timeout), timeout + 1)
            return True
        except TimeoutError:
            return False

    def run_on_loop(self, fn: Callable[[], None]) -> None:
        """Run a control function on the fleet's loop (agents are not thread-safe)."""
        self._loop.call_soon_threadsafe(fn)

    def offline(self, agent_ids: list[str], *, abrupt: bool) -> None:
        """Take agents offline: abrupt drops the TCP connection without a close frame."""
        for agent_id in agent_ids:
            agent = self.agents[agent_id]
            self.run_on_loop(lambda a=agent: a.go_offline(abrupt=abrupt))

    def online(self, agent_ids: list[str]) -> None:
        """Bring agents back (they reconnect with a fresh token)."""
        for agent_id in agent_ids:
            agent = self.agents[agent_id]
            self.run_on_loop(agent.resume)

    def assignments(self) -> Counter[str]:
        """jobId -> number of times it was pushed to any agent."""
        total: Counter[str] = Counter()
        for agent in self.agents.values():
            total.update(agent.stats.assignments)
        return total

    def completions(self) -> Counter[str]:
        """jobId -> completions the backend accepted (closed the job); more than 1 is a bug.

        A re-delivered job may be run and reported twice; the backend records the first result
        only, so only confirmed completions count: a heartbeat's `recordedJobs` (results sent with
        `"ack": false`) or an answer `requeued=false` without `duplicate`, once per job and agent.
        """
        return Counter(job for agent in self.agents.values() for job in agent.stats.confirmed)

    def completed(self) -> set[str]:
        return {job for agent in self.agents.values() for job in agent.stats.completed}

    def stop(self) -> None:
        """Stop every agent cleanly and the loop."""

        async def stop_all() -> None:
            for agent in self.agents.values():
                agent.stop()
            if self._tasks:
                await asyncio.wait(self._tasks, timeout=5)

        try:
            self._call(stop_all(), 10)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
