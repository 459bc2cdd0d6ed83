"""A schedule's record — its moves and its trace — and its replay, alone, in a fresh world.

Every rule of the state machine is a `move`: its name and arguments are kept, in order, so the
schedule can be run again without Hypothesis. The trace is what the handlers did: every
invocation (handler, fault, its AWS calls with the fault's mark, its answer), every frame pushed,
and every job's end state. A schedule replayed alone must give the trace it gave inside its batch:
nothing but its own moves may decide where its faults land (process_state.py).
"""

from __future__ import annotations

import functools
import inspect
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from tests.simulation.world import World


@dataclass
class Schedule:
    moves: list[tuple[str, dict[str, Any]]]
    trace: list[str]


_recordings: list[list[Schedule]] = []  # open recordings (a test's), each keeping every schedule run


@contextmanager
def recording() -> Iterator[list[Schedule]]:
    """Keep the record of every schedule that ends inside the block, in order."""
    schedules: list[Schedule] = []
    _recordings.append(schedules)
    try:
        yield schedules
    finally:
        _recordings.remove(schedules)


def move(rule: Callable[..., Any]) -> Callable[..., Any]:
    """Keep a rule's call (name, arguments) in the machine's moves; a rule called by another is
    part of that move."""

    signature = inspect.signature(rule)

    @functools.wraps(rule)
    def recorded(self: Any, *args: Any, **kwargs: Any) -> Any:
        if self.moving:
            return rule(self, *args, **kwargs)
        arguments = signature.bind(self, *args, **kwargs).arguments
        arguments.pop("self")
        self.moves.append((rule.__name__, dict(arguments)))
        self.moving = True
        try:
            return rule(self, **arguments)
        finally:
            self.moving = False

    return recorded


def trace(world: World) -> list[str]:
    """What the handlers did in this world, without what differs from run to run (message ids)."""
    frames = [f"{c} <- {json.dumps(f, sort_keys=True)}" for c, fs in world.gateway.frames.items() for f in fs]
    keep = ("status", "attempt", "connectionId", "reason", "heldAgentId")
    jobs = [f"{i['jobId']}: {[i.get(k) for k in keep]}" for i in world.scan("JOBS_TABLE")]
    return [*world.log, *frames, *sorted(jobs)]


def record(machine: Any) -> None:
    """At a schedule's end (teardown): add its record to every open recording."""
    if _recordings:
        schedule = Schedule(list(machine.moves), trace(machine.w))
        for schedules in _recordings:
            schedules.append(schedule)


def replay(machine_class: type, moves: list[tuple[str, dict[str, Any]]]) -> Schedule:
    """Run `moves` on a new machine, invariants after each, then its teardown; its record."""
    machine = machine_class()
    with recording() as schedules:
        try:
            for name, arguments in moves:
                getattr(machine, name)(**arguments)
                machine.holds()
        finally:
            machine.teardown()
    return schedules[-1]
