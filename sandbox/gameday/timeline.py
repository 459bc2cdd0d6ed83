"""The game day's timeline: what happened when, in production time since the fault."""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass

from sandbox.alarm_loop import AlarmEvent
from sandbox.clock import SimClock
from sandbox.ssm import Execution


@dataclass(frozen=True)
class Entry:
    time: float  # production epoch seconds
    kind: str  # fault | alarm | ok | email | automation | action | recovered | note
    text: str
    link: str = ""

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


class Timeline:
    """Thread-safe list of entries; subscribes to alarm and automation events."""

    def __init__(self, clock: SimClock) -> None:
        self.clock = clock
        self.entries: list[Entry] = []
        self._lock = threading.Lock()

    def add(self, kind: str, text: str, link: str = "", time: float | None = None) -> Entry:
        entry = Entry(self.clock.now() if time is None else time, kind, text, link)
        with self._lock:
            self.entries.append(entry)
        return entry

    def on_alarm(self, event: AlarmEvent) -> None:
        short = event.alarm.rsplit("-", 1)[-1]
        if event.kind == "transition":
            self.add("alarm" if event.state == "ALARM" else "ok", f"{short} → {event.state}", time=event.time)
        elif event.kind == "email":
            self.add("email", f"email: {event.state} {short}", event.detail, time=event.time)

    def on_automation(self, execution: Execution) -> None:
        name = execution.document.rsplit("-", 1)[-1]
        if execution.finished is None:
            self.add("automation", f"automation {name} started", time=execution.started)
        else:
            outputs = execution.outputs[-1] if execution.outputs else {}
            detail = execution.error or _summary(outputs)
            self.add("automation", f"automation {name} {execution.status}: {detail}", time=execution.finished)

    def sorted(self) -> list[Entry]:
        with self._lock:
            return sorted(self.entries, key=lambda e: e.time)

    def first(self, kind: str, after: float, contains: str = "") -> Entry | None:
        """The first entry of a kind at or after `after`."""
        for entry in self.sorted():
            if entry.kind == kind and entry.time >= after and contains in entry.text:
                return entry
        return None


def _summary(outputs: object) -> str:
    if not isinstance(outputs, dict):
        return str(outputs)[:120]
    keys = ("status", "redriven", "quarantined", "failed", "released", "paused")
    return ", ".join(f"{k}={outputs[k]}" for k in keys if k in outputs)
