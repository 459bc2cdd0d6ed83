"""A fresh simulated world per regression test (moto, frozen clock, the handlers' env), bare or
under the state machine (its moves called by hand)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.simulation.machine import JobSimulation
from tests.simulation.world import World

START = 1_795_872_600  # 2026-11-28T13:30:00Z
OWNER = ("creator-1", "agent-1")


@pytest.fixture
def world() -> Iterator[World]:
    with World(START) as w:
        yield w


@pytest.fixture
def sim() -> Iterator[JobSimulation]:
    """The state machine with agent-1 of creator-1 online and nothing queued."""
    machine = JobSimulation()
    machine.start(start=START, online={OWNER}, jobs=[])
    try:
        yield machine
    finally:
        machine.w.__exit__(None, None, None)
