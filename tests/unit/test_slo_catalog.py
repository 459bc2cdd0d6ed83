"""The SLO catalog and the burn-rate alarms derived from it (plain data, no CDK)."""

from __future__ import annotations

import pytest

from monitoring.catalog import ALARMS, COMPOSITE
from monitoring.slo_catalog import ALERTS, SLO_ALARMS, SLO_COMPOSITES, SLOS
from monitoring.slo_spec import MIN_EVENTS
from monitoring.spec import AllOf, Comparison, Math, Metric, Missing, notifies

DAY, WEEK, HOUR = 86_400, 604_800, 3_600


def test_slos_and_their_objectives():
    assert [(s.id, s.objective, s.period_days, s.section) for s in SLOS] == [
        ("JobSuccess", 0.999, 28, "S1"),
        ("TimeToAssign", 0.995, 28, "S2"),
        ("ConnectSuccess", 0.995, 28, "S3"),
    ]
    assert [s.budget for s in SLOS] == [0.001, 0.005, 0.005]
    assert all(s.reason and s.meaning for s in SLOS)


def test_alerts_are_the_workbook_pairs():
    assert [(a.name, a.long.label, a.short.label, a.factor, a.page) for a in ALERTS] == [
        ("FastBurn", "1h", "5m", 14.4, True),
        ("SustainedBurn", "6h", "30m", 6, True),
        ("SlowBurn", "3d", "6h", 1, False),
    ]
    assert {a.long.label: a.long.period_s for a in ALERTS} == {"1h": HOUR, "6h": 6 * HOUR, "3d": 3 * DAY}
    assert all(a.reason for a in ALERTS)


def test_each_slo_has_two_window_alarms_per_alert_and_one_composite():
    assert [a.id for a in SLO_ALARMS if a.id.startswith("JobSuccess")] == [
        "JobSuccessFastBurn1h",
        "JobSuccessFastBurn5m",
        "JobSuccessSustainedBurn6h",
        "JobSuccessSustainedBurn30m",
        "JobSuccessSlowBurn3d",
        "JobSuccessSlowBurn6h",
    ]
    assert [c.id for c in SLO_COMPOSITES] == [
        "JobSuccessFastBurn",
        "JobSuccessSustainedBurn",
        "JobSuccessSlowBurn",
        "TimeToAssignFastBurn",
        "TimeToAssignSustainedBurn",
        "TimeToAssignSlowBurn",
        "ConnectSuccessFastBurn",
        "ConnectSuccessSustainedBurn",
        "ConnectSuccessSlowBurn",
    ]
    assert SLO_COMPOSITES[0].rule == AllOf(("JobSuccessFastBurn1h", "JobSuccessFastBurn5m"))
    ids = [a.id for a in (*ALARMS, COMPOSITE, *SLO_ALARMS, *SLO_COMPOSITES)]
    assert len(ids) == len(set(ids))


def test_window_alarms_compare_the_burn_rate_with_the_factor():
    by_id = {a.id: a for a in SLO_ALARMS}
    fast = by_id["TimeToAssignFastBurn1h"]
    assert (fast.threshold, fast.comparison, fast.period_s) == (14.4, Comparison.GT, HOUR)
    assert (fast.evaluation_periods, fast.datapoints_to_alarm, fast.missing) == (1, 1, Missing.NOT_BREACHING)
    assert isinstance(fast.source, Math)
    assert fast.source.expression == "IF(a + e + w >= 10, (a - o + e + w) / (a + e + w) / 0.005, 0)"
    connect = by_id["ConnectSuccessFastBurn5m"].source
    assert connect.expression == "IF(k + s + r + t >= 10, (s + r + t) / (k + s + r + t) / 0.005, 0)"
    assert [m.name for _, m in connect.using] == [
        "ConnectOk",
        "ConnectSecretUnavailable",
        "ConnectRegisterFailed",
        "ConnectThrottled",
    ]
    assert by_id["JobSuccessSlowBurn3d"].source.expression == "IF(c + f >= 10, (f) / (c + f) / 0.001, 0)"
    assert MIN_EVENTS == 10


@pytest.mark.parametrize("mode", ["composite", "all"])
def test_pages_email_in_both_modes_tickets_in_all_mode_windows_never(mode):
    emailing = [c.id for c in SLO_COMPOSITES if notifies(c, mode)]
    pages = [c.id for c in SLO_COMPOSITES if not c.id.endswith("SlowBurn")]
    assert emailing == (pages if mode == "composite" else [c.id for c in SLO_COMPOSITES])
    assert not [a.id for a in SLO_ALARMS if notifies(a, mode)]
    assert [c.ok_action for c in SLO_COMPOSITES] == [True, True, False] * 3


def test_windows_respect_cloudwatch_alarm_limits():
    # PutMetricAlarm: Period x EvaluationPeriods <= 7 days, and <= 1 day for periods under an
    # hour; periods are multiples of 60; a metric-math alarm reads at most 10 metrics.
    for spec in SLO_ALARMS:
        span = spec.period_s * spec.evaluation_periods
        assert spec.period_s % 60 == 0, spec.id
        assert span <= (DAY if spec.period_s < HOUR else WEEK), spec.id
        assert isinstance(spec.source, Math)
        metrics = [v for _, v in spec.source.using if isinstance(v, Metric)]
        assert 1 <= len(metrics) <= 10, spec.id
