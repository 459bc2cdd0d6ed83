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
    faults: Counter[str] = field(default_factory=Counter)  # "kind:Operation" -> fired and changed something
    idle: Counter[str] = field(default_factory=Counter)  # "kind:Operation" -> hit but changed nothing
    jobs: int = 0  # jobs the producer sent
    completed: int = 0  # of them, stored `completed` at the end of their schedule (the jobs table)
    calls: Counter[str] = field(default_factory=Counter)  # "service.Operation" -> calls
    events: Counter[str] = field(default_factory=Counter)
    outcomes: Counter[str] = field(default_factory=Counter)  # dispatcher and reaper outcomes, by reason

    def count(self, name: str, n: int = 1) -> None:
        self.events[name] += n

    def absorb(self, world: Any, jobs: Any = ()) -> None:
        """Add one schedule's fault, call and function-error counts, and how many of `jobs` completed."""
        status = {i["jobId"]: i.get("status") for i in world.scan("JOBS_TABLE")}
        self.jobs += len(jobs)
        self.completed += sum(status.get(j) == "completed" for j in jobs)
        injector, gateway = world.injector, world.gateway
        self.events.update({f"function_error.{k}": n for k, n in world.function_errors.items()})
        self.outcomes.update(world.sink.outcomes)
        self.faults.update(injector.fired)
        self.idle.update(injector.idle)
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
            f" (of {self.planned} planned; {sum(self.idle.values())} hit and changed nothing)"
            f"  violations {self.violations}",
            f"jobs {self.jobs}, completed (stored) {self.completed}",
            "faults by kind: " + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())),
            "hit and changed nothing: " + ", ".join(f"{k} {n}" for k, n in sorted(self.idle.items())),
            f"effective fault sites (kind:operation): {len(self.faults)} distinct of"
            f" {len(self.calls)} operations called: " + ", ".join(sorted(self.calls)),
        ]
        if self.outcomes:
            lines.append("outcomes: " + ", ".join(f"{k} {n}" for k, n in sorted(self.outcomes.items())))
        if self.events:
            lines.append("events: " + ", ".join(f"{k} {n}" for k, n in sorted(self.events.items())))
        return "\n".join(lines)


STATS = Stats()
