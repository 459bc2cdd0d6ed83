"""The reference agent, superseded by another connection of its own, does not fight back in a loop."""

from __future__ import annotations

import asyncio
import json

import pytest

from sandbox.agent import Agent
from sandbox.reconnect import superseded_delay


def lowest(a: float, b: float) -> float:
    return a


def highest(a: float, b: float) -> float:
    return b


class _Socket:
    """A session as the agent sees it: the backend's frames, then the close."""

    def __init__(self, *frames: dict) -> None:
        self._frames = [json.dumps(frame) for frame in frames]
        self.close_code, self.close_reason = 1000, ""

    def __aiter__(self) -> _Socket:
        return self

    async def __anext__(self) -> str:
        if not self._frames:
            raise StopAsyncIteration
        return self._frames.pop(0)

    async def send(self, _: str) -> None:
        pass

    async def close(self, code: int = 1000, reason: str = "") -> None:
        self.close_code, self.close_reason = code, reason


def _session_then_delay(agent: Agent, *frames: dict) -> float:
    asyncio.run(agent._session(_Socket(*frames)))  # type: ignore[arg-type]
    return agent.next_delay(0, True, highest)


SUPERSEDED = {"type": "error", "code": "superseded", "message": "another connection replaced this one"}


def test_a_superseded_agent_waits_long_and_longer_before_reconnecting():
    # GIVEN an agent whose sessions drop with a fast retry (no reconnect window)
    agent = Agent("ws://unused", "agent-1", lambda: "t", backoff=(0.2, 5.0))
    # WHEN its session is superseded three times in a row
    delays = [_session_then_delay(agent, SUPERSEDED) for _ in range(3)]
    # THEN it waits 30 s, 60 s, 120 s (at most) instead of 0.2 s, and counts each
    assert delays == [30.0, 60.0, 120.0] and agent.stats.superseded == 3
    # AND a session that ends otherwise brings the fast retry back, and the count restarts
    assert _session_then_delay(agent) == pytest.approx(0.2)
    assert _session_then_delay(agent, SUPERSEDED) == 30.0


@pytest.mark.parametrize(
    ("times", "draw", "seconds"),
    [(1, lowest, 15.0), (5, highest, 480.0), (6, highest, 900.0), (40, lowest, 450.0)],
)
def test_the_superseded_wait_is_bounded(times, draw, seconds):
    assert superseded_delay(times, (30.0, 900.0), draw) == seconds
