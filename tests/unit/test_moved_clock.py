"""The moved-clock pass of `make test` really moves the clock (else it would prove nothing)."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import CLOCK_ENV, moved_clock_destination


def test_destination_takes_z_and_offsets_and_refuses_a_naive_time():
    assert moved_clock_destination("2027-11-30T23:59:55Z") == datetime(2027, 11, 30, 23, 59, 55, tzinfo=UTC)
    assert moved_clock_destination("2027-12-01T13:44:55+13:45").astimezone(UTC) == datetime(
        2027, 11, 30, 23, 59, 55, tzinfo=UTC
    )
    with pytest.raises(pytest.UsageError, match="give an offset"):
        moved_clock_destination("2027-11-30T23:59:55")


@pytest.mark.skipif(not os.environ.get(CLOCK_ENV), reason="only in the moved-clock pass of make test")
def test_the_wall_clock_starts_at_the_destination_and_ticks():
    start = moved_clock_destination(os.environ[CLOCK_ENV])
    first = datetime.now(UTC)
    # The run takes minutes, not hours: the clock is past the destination and close to it.
    assert start <= first < start + timedelta(hours=1)
    assert abs(time.time() - first.timestamp()) < 5
    time.sleep(0.01)
    assert datetime.now(UTC) > first
