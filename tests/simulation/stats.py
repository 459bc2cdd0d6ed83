"""What the simulation explored, summed over schedules: printed by `make soak` and the CI run."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Stats:
    schedules: int = 0
    steps: int = 0
    violations: int = 0
    pushes: int = 0
    planned: int = 0
    faults: Counter[str] = field(default_factory=Counter)  # "kind:Operation" -> fired
    calls: Counter[str] = field(default_factory=Counter)  # "service.Operation" -> calls
    events: Counter[str] = field(default_factory=Counter)
    outcomes: Counter[str] = field(default_factory=Counter)  # dispatcher and reaper outcomes, by reason

    def count(self, name: str, n: int = 1) -> None:
        self.events[name] += n

    def absorb(self, world: Any) -> None:
        """Add one schedule's fault, call and function-error counts."""
        injector, gateway = world.injector, world.gateway
        self.events.update({f"function_error.{k}": n for k, n in world.function_errors.items()})
        self.outcomes.update(world.sink.outcomes)
        self.faults.update(injector.fired)
        self.calls.update(injector.ops)
        self.pushes += gateway.assigns
        self.planned += injector.planned

    def reset(self) -> None:
        self.__init__()  # type: ignore[misc]

    def report(self) -> str:
        kinds: Counter[str] = Counter()
        for key, n in self.faults.items():
            kinds[key.split(":")[0]] += n
        lines = [
            f"schedules {self.schedules}  steps {self.steps}  job pushes {self.pushes}"
            f"  AWS calls {sum(self.calls.values())}  faults {sum(self.faults.values())}"
            f" (of {self.planned} planned)"
            f"  violations {self.violations}",
            "faults by kind: " + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())),
            f"fault sites (kind:operation): {len(self.faults)} distinct of"
            f" {len(self.calls)} operations called: " + ", ".join(sorted(self.calls)),
        ]
        if self.outcomes:
            lines.append("outcomes: " + ", ".join(f"{k} {n}" for k, n in sorted(self.outcomes.items())))
        if self.events:
            lines.append("events: " + ", ".join(f"{k} {n}" for k, n in sorted(self.events.items())))
        return "\n".join(lines)


STATS = Stats()
