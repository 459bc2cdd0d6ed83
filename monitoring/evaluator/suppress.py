"""Composite alarm action suppression (ActionsSuppressor), as CloudWatch documents it.

Sources: CloudWatch User Guide, "Suppressing composite alarm actions"
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Create_Composite_Alarm_Suppression.html)
and the API reference of CompositeAlarm (ActionsSuppressedBy: WaitPeriod | ExtensionPeriod | Alarm).

- While the suppressor alarm is in ALARM, the composite takes no action (suppressed by `Alarm`).
- When the composite changes state while its suppressor is not in ALARM, its actions wait up to
  ActionsSuppressorWaitPeriod for the suppressor to go into ALARM (`WaitPeriod`); if it does,
  they are suppressed. With a wait of 0 they run at the transition.
- When the suppressor leaves ALARM, a composite whose actions it held waits up to
  ActionsSuppressorExtensionPeriod (`ExtensionPeriod`), giving it time to go back to OK.
- "Composite alarms take actions that are based on their current state when ExtensionPeriod and
  WaitPeriod become inactive." Chosen reading: when a hold ends, the composite runs the actions of
  its current state if that state differs from the last state it acted on (an alarm raised and
  cleared inside a maintenance window notifies nobody; one still in ALARM after it pages then).
- EventBridge state-change events are not actions: they are published at the transition anyway.
- A hold that ends at an evaluation time t is released before the alarms are evaluated at t.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from monitoring.evaluator.model import ALARM, AlarmSet, Transition


@dataclass(frozen=True)
class Hold:
    """Why a composite's actions wait (`WaitPeriod`, `Alarm`, `ExtensionPeriod`) and until when."""

    by: str
    until: int | None  # None: until the suppressor leaves ALARM


class Suppression:
    """Which composites' actions are held, and the state each last acted on."""

    def __init__(self, alarms: AlarmSet, states: Mapping[str, str]) -> None:
        self.composites = {n: c for n, c in alarms.composites.items() if c.actions_suppressor}
        self.acted = {name: states[name] for name in self.composites}
        self.holds: dict[str, Hold] = {}

    def allows(self, tr: Transition, states: Mapping[str, str]) -> bool:
        """Whether `tr`'s actions run now; also starts and ends holds when `tr` is a suppressor's."""
        for name, composite in self.composites.items():
            if composite.actions_suppressor != tr.alarm or name not in self.holds:
                continue
            if tr.new == ALARM:
                self.holds[name] = Hold("Alarm", None)
            elif tr.old == ALARM and self.holds[name].by == "Alarm":
                self.holds[name] = Hold("ExtensionPeriod", tr.time + composite.suppressor_extension)
        held = self.composites.get(tr.alarm)
        if held is None:
            return True
        assert held.actions_suppressor is not None
        if states[held.actions_suppressor] == ALARM:
            self.holds[tr.alarm] = Hold("Alarm", None)
        elif tr.alarm not in self.holds:  # a running wait or extension decides at its end
            if held.suppressor_wait == 0:
                self.acted[tr.alarm] = tr.new
                return True
            self.holds[tr.alarm] = Hold("WaitPeriod", tr.time + held.suppressor_wait)
        return False

    def due(self, t: int, states: Mapping[str, str]) -> Iterator[tuple[str, int]]:
        """(composite, time) of each hold ending by `t` whose composite must act on its current state."""
        for name, hold in sorted(self.holds.items()):
            if hold.until is None or hold.until > t:
                continue
            del self.holds[name]
            if states[name] != self.acted[name]:
                self.acted[name] = states[name]
                yield name, hold.until

    def suppressed_by(self, name: str) -> str | None:
        """ActionsSuppressedBy of a composite now (None when nothing holds it)."""
        hold = self.holds.get(name)
        return hold.by if hold else None
