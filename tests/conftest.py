"""Whole-suite settings: an optional moved process clock (`BYOIP_TEST_NOW`).

`make test` runs the handler, alarm and unit tests a second time with the process clock moved
(a year ahead, a few seconds before a UTC midnight, in a far time zone) to prove that no test
depends on today's date, the time of day, the time zone or how long the run takes.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest

CLOCK_ENV = "BYOIP_TEST_NOW"


def moved_clock_destination(value: str) -> datetime:
    """The ISO-8601 instant (with its offset) the process clock starts at."""
    when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if when.tzinfo is None:
        raise pytest.UsageError(f"{CLOCK_ENV}={value!r}: give an offset, e.g. 2027-11-30T23:59:55Z")
    return when


@pytest.fixture(scope="session", autouse=True)
def moved_process_clock() -> Iterator[None]:
    """With BYOIP_TEST_NOW set, the wall clock starts there and keeps ticking (monotonic is left alone)."""
    value = os.environ.get(CLOCK_ENV)
    if not value:
        yield
        return
    import time_machine

    with time_machine.travel(moved_clock_destination(value), tick=True):
        yield


def pytest_report_header(config: pytest.Config) -> str | None:
    value = os.environ.get(CLOCK_ENV)
    return f"process clock moved to {value} (TZ={os.environ.get('TZ', 'unset')})" if value else None


# Every AWS call made as a role is recorded (sandbox/iam/recorder.py) and, when the session ends,
# evaluated against the synthesized template's policies (tests/iam/session.py).
def pytest_configure(config: pytest.Config) -> None:
    from tests.iam.session import configure

    configure(config)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    from tests.iam.session import finish

    finish(session)


def pytest_deselected(items: list[pytest.Item]) -> None:
    from tests.iam.session import deselected

    if items:
        deselected()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    from tests.iam.session import summary_lines

    for line in summary_lines(terminalreporter.config):
        terminalreporter.write_line(line)
