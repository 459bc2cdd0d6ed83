"""Time compression: production timings run `speed` times faster in the sandbox.

Everything the sandbox reports (alarm periods, detection and recovery times) is in
*production* seconds; everything it sleeps or configures on moto/handlers is in real
seconds. This class is the one place that converts between the two.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

# Game days run at 60x: a 5-minute lease is 5 real seconds. It was 30x while moto shared the
# sandbox's interpreter (one core for moto, handlers and agents: an incident's backlog delayed
# acks past the lease); with moto in its own processes and its slow paths patched, every
# scenario passes at 60x on a shared 2-core machine (benchmarks/gameday_speed.py).
GAMEDAY_SPEED = 60.0


@dataclass
class SimClock:
    """Maps real wall-clock time to simulated production time."""

    speed: float = 60.0
    real_start: float = field(default_factory=time.time)

    def __post_init__(self) -> None:
        if not 1 <= self.speed <= 600:
            raise ValueError(f"invalid speed {self.speed}: allowed 1-600 (production seconds per second)")

    def now(self) -> float:
        """Current simulated production epoch seconds."""
        return self.to_prod(time.time())

    def to_prod(self, real_epoch: float) -> float:
        """Production epoch seconds of a real epoch timestamp."""
        return self.real_start + (real_epoch - self.real_start) * self.speed

    def elapsed(self) -> float:
        """Production seconds since the sandbox started."""
        return (time.time() - self.real_start) * self.speed

    def real(self, prod_seconds: float) -> float:
        """Real seconds that stand for `prod_seconds` of production time."""
        return prod_seconds / self.speed

    def scaled_int(self, prod_seconds: float, minimum: int = 1) -> int:
        """A production duration scaled down to whole real seconds (SQS and env vars want ints)."""
        return max(minimum, round(prod_seconds / self.speed))

    def sleep(self, prod_seconds: float) -> None:
        """Sleep for the real time that stands for `prod_seconds`."""
        time.sleep(self.real(prod_seconds))


def prod_minutes(seconds: float | None) -> str:
    """Format production seconds as minutes, labelled so nobody mistakes them for wall time."""
    if seconds is None:
        return "—"
    return f"{seconds / 60:.1f} min (production time)"
