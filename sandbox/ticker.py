"""The sandbox's one background loop: call `tick()` on a daemon thread every `every()` real seconds.

The alarm loop, the scheduled functions, the SQS metric sampler and the game-day producer are
tickers; each decides what a tick does, and `every` is asked again before each wait so a
loop's pace can follow the simulated clock or a changing traffic plan.
"""

from __future__ import annotations

import threading
from collections.abc import Callable


class Ticker:
    """Start once, stop once: `stop()` wakes the wait at once and joins the thread."""

    def __init__(
        self, name: str, tick: Callable[[], None], every: Callable[[], float], *, join_s: float = 10
    ) -> None:
        self._tick = tick
        self._every = every
        self._join_s = join_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def start(self) -> Ticker:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(self._join_s)

    def _run(self) -> None:
        while not self._stop.wait(self._every()):
            self._tick()
