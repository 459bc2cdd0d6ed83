"""Nothing leaks from one schedule to the next: process state is reset and proven empty, and a
later schedule of a batch, replayed alone, does exactly what it did inside the batch."""

from __future__ import annotations

import pytest

from lambdas.common import lookups, ratelimit
from tests.simulation import process_state, soak
from tests.simulation.conftest import START
from tests.simulation.machine import JobSimulation
from tests.simulation.schedule import recording, replay
from tests.simulation.world import World

BATCH_SEED = 4  # its later schedules send frames on connection ids the earlier ones used too


def test_a_count_left_under_an_agent_is_found_and_reset():
    process_state.reset()  # whatever an earlier test in this process left (a dispatcher batch, a count)
    ratelimit.LOCAL.set(ratelimit.FRAMES.name, "agent#creator-1#agent-1", START // 60, 0, 3)

    assert process_state.leftovers() == [
        "lambdas.common.ratelimit.LOCAL holds 1 entries from an earlier schedule"
    ]
    process_state.reset()
    assert process_state.leftovers() == []


def test_a_new_module_level_cache_stops_the_next_schedule(monkeypatch):
    monkeypatch.setattr(lookups, "_seen", {"creator-1": {}}, raising=False)

    with pytest.raises(AssertionError) as refused, World(START):
        pass

    assert str(refused.value) == (
        "state a fresh container would not have:\n"
        "  lambdas.common.lookups._seen: module-level dict neither reset (STATE) nor a table (TABLES)"
    )


def test_a_later_schedule_replayed_alone_gives_the_trace_it_gave_in_its_batch():
    with recording() as batch:
        assert soak.run_batch(BATCH_SEED, examples=6, steps=25) is None
    frames = [sum(line.startswith("ws_message") for line in s.trace) for s in batch]
    later = max(range(1, len(batch)), key=lambda n: frames[n])
    assert frames[later] > 0, "the batch's later schedules sent no frame: pick another seed"

    alone = replay(JobSimulation, batch[later].moves)

    assert alone.moves == batch[later].moves
    assert alone.trace == batch[later].trace
