"""A fresh simulated world per regression test (moto, frozen clock, the handlers' env)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.simulation.world import World

START = 1_795_872_600  # 2026-11-28T13:30:00Z


@pytest.fixture
def world() -> Iterator[World]:
    with World(START) as w:
        yield w
