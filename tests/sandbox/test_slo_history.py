"""Game days start with 3 days of good SLO events behind them, so long windows hold real traffic."""

from __future__ import annotations

from sandbox.clock import SimClock
from sandbox.gameday.history import seed_slo_history
from sandbox.metrics import MetricStore

NOW = 1_800_000_000 + 123  # not on a 5-minute boundary


def test_three_days_of_good_events_every_five_minutes_before_now():
    store = MetricStore(SimClock(speed=30))
    steps = seed_slo_history(store, stage="local", now=NOW, jobs_per_minute=6)
    assert steps == 864  # 3 days of 5-minute periods
    for namespace, name in (
        ("Huntaze/Dispatcher", "AssignAttempts"),
        ("Huntaze/Dispatcher", "AssignedOnTime"),
        ("Huntaze/ByoIP", "JobsCompleted"),
    ):
        samples = store.samples(namespace, name, {"Stage": "local"})
        assert [s.value for s in samples] == [30.0] * 864, name
        assert samples[0].timestamp == NOW - NOW % 300 - 3 * 86_400
        assert samples[-1].timestamp == NOW - NOW % 300 - 300  # the current period is live traffic's
        assert all(b.timestamp - a.timestamp == 300 for a, b in zip(samples, samples[1:], strict=False))
    # Bad events are absent: the history is all good.
    assert store.samples("Huntaze/ByoIP", "JobsFailedAfterAssign", {"Stage": "local"}) == []
