"""The vocabulary of the SLO catalog, and the burn-rate alarms derived from an SLO.

Multiwindow, multi-burn-rate alerting (Google SRE workbook, "Alerting on SLOs"): the burn
rate over a window is the window's error ratio divided by the error budget (1 - objective);
a burn rate of 1 spends exactly the budget over the SLO period. Each alert pairs a long
window (is the budget really burning?) with a short one (is it still burning now?), so it
fires fast and resets fast. Here each window is one metric-math alarm whose period is the
window, and each pair is a composite `ALL_OF` of its two alarms.

The burn alarms and composites are ordinary `AlarmSpec` / `CompositeSpec` entries, so the
CDK side, the runbook, the dashboards and the offline evaluator treat them like the catalog's
other alarms. Plain data, no CDK.
"""

from __future__ import annotations

from dataclasses import dataclass

from monitoring.spec import AlarmSpec, AllOf, Comparison, CompositeSpec, Math, Metric, Missing, Severity

# Fewer valid events than this in a window and its burn rate reads 0 (see SLO.burn).
MIN_EVENTS = 10


@dataclass(frozen=True)
class Window:
    """One burn-rate window: `label` as the workbook names it, `period_s` the alarm's period."""

    label: str
    period_s: int
    adapted: str | None = None  # why the period differs from the workbook's window, if it does


@dataclass(frozen=True)
class BurnAlert:
    """A pair of windows whose burn rates must both exceed `factor`."""

    name: str  # FastBurn, SustainedBurn, SlowBurn
    long: Window
    short: Window
    factor: float
    page: bool  # True: emails in composite mode too (a page); False: a ticket (all mode only)
    reason: str


@dataclass(frozen=True)
class SLO:
    """A request-based SLO: `bad` and `valid` are metric-math over `using` (event counts)."""

    id: str
    title: str
    meaning: str
    objective: float  # e.g. 0.999
    period_days: int
    reason: str  # why this objective
    bad: str
    valid: str
    using: tuple[tuple[str, Metric], ...]
    section: str
    alerts: tuple[BurnAlert, ...]

    @property
    def budget(self) -> float:
        """The error budget as a ratio of valid events (1 - objective)."""
        return round(1 - self.objective, 10)

    def sli(self) -> Math:
        """The SLI in percent per period: good / valid."""
        return Math(f"100 * (1 - ({self.bad}) / ({self.valid}))", self.using)

    def budget_left(self) -> Math:
        """The error budget left in percent when the period is the SLO's (1 - burn rate)."""
        return Math(f"100 * (1 - ({self.bad}) / ({self.valid}) / {self.budget:g})", self.using)

    def burn(self) -> Math:
        """The burn rate per period: error ratio / error budget (1 = on budget).

        Below `MIN_EVENTS` valid events in the window the ratio says nothing (one failure
        would be 10 % or more), so the burn reads 0 there: a quiet period never pages.
        """
        ratio = f"({self.bad}) / ({self.valid})"
        return Math(f"IF({self.valid} >= {MIN_EVENTS}, {ratio} / {self.budget:g}, 0)", self.using)


def burn_alarm_id(slo: SLO, alert: BurnAlert, window: Window) -> str:
    """e.g. `JobSuccessFastBurn1h`."""
    return f"{slo.id}{alert.name}{window.label}"


def burn_alarms(slo: SLO) -> tuple[AlarmSpec, ...]:
    """Two metric-math alarms per alert: burn rate over the window > the alert's factor."""
    return tuple(
        AlarmSpec(
            id=burn_alarm_id(slo, alert, window),
            meaning=(
                f"{slo.title}: the error budget burns over {alert.factor:g}x its sustainable rate "
                f"over the last {window.label}."
            ),
            source=slo.burn(),
            period_s=window.period_s,
            threshold=alert.factor,
            comparison=Comparison.GT,
            evaluation_periods=1,
            datapoints_to_alarm=1,
            # No valid event in the window (division by zero drops the point): nothing burned.
            missing=Missing.NOT_BREACHING,
            severity=Severity.WARNING,
            section=slo.section,
            notify_composite=False,
            notify_all=False,  # the pair's composite notifies, never a single window
        )
        for alert in slo.alerts
        for window in (alert.long, alert.short)
    )


def burn_composites(slo: SLO) -> tuple[CompositeSpec, ...]:
    """One composite per alert: both windows burning."""
    return tuple(
        CompositeSpec(
            id=f"{slo.id}{alert.name}",
            meaning=(
                f"{slo.title} ({slo.objective:.1%} over {slo.period_days} days): burn rate above "
                f"{alert.factor:g} over both {alert.long.label} and {alert.short.label}."
            ),
            rule=AllOf(tuple(burn_alarm_id(slo, alert, w) for w in (alert.long, alert.short))),
            severity=Severity.CRITICAL if alert.page else Severity.WARNING,
            section=slo.section,
            notify_composite=alert.page,
            notify_all=True,
            ok_action=alert.page,
        )
        for alert in slo.alerts
    )
