"""Statistics over a period and metric math, against the User Guide's worked examples."""

import math

import pytest

from monitoring.evaluator.mathexpr import MathContext
from monitoring.evaluator.mathparse import parse
from monitoring.evaluator.model import EvaluatorError, MetricKey
from monitoring.evaluator.store import MetricStore, aggregate, check_stat

M = MetricKey.of("NS", "Latency", {"Stage": "test"})


def _store(samples):
    store = MetricStore()
    for ts, value in samples:
        store.put(M, ts, value)
    return store


def test_simple_statistics_over_one_clock_aligned_period():
    store = _store([(59, 100.0), (60, 1.0), (90, 4.0), (119, 7.0), (120, 1000.0)])
    assert store.value(M, "Sum", 60, 60) == 12.0
    assert store.value(M, "Average", 60, 60) == 4.0
    assert store.value(M, "Minimum", 60, 60) == 1.0
    assert store.value(M, "Maximum", 60, 60) == 7.0
    assert store.value(M, "SampleCount", 60, 60) == 3.0
    assert store.value(M, "Sum", 180, 60) is None


def test_percentile_is_nearest_rank_over_raw_samples():
    samples = [(float(v), 1) for v in range(1, 101)]
    assert aggregate("p95", samples) == 95.0
    assert aggregate("p50", samples) == 50.0
    assert aggregate("p99.5", samples) == 100.0
    assert aggregate("p95", [(10.0, 19), (48001.0, 1)]) == 10.0
    assert aggregate("p95", [(10.0, 18), (48001.0, 2)]) == 48001.0


def test_cache_is_invalidated_by_a_late_sample():
    store = _store([(0, 1.0)])
    assert store.value(M, "Sum", 0, 60) == 1.0
    store.put(M, 30, 2.0)
    assert store.value(M, "Sum", 0, 60) == 3.0


@pytest.mark.parametrize("stat", ["tm99", "IQM", "p101", "Median", ""])
def test_unsupported_statistic_is_one_clear_error(stat):
    with pytest.raises(EvaluatorError, match="unsupported statistic"):
        check_stat(stat)


def test_non_finite_sample_is_rejected():
    with pytest.raises(EvaluatorError, match="finite number"):
        MetricStore().put(M, 0, math.nan)


GRID = [0, 60, 120, 180, 240]


def _eval(expr, **series):
    values = {k: dict(zip(GRID, v, strict=True)) for k, v in series.items()}
    values = {k: {ts: x for ts, x in s.items() if x is not None} for k, s in values.items()}
    out = MathContext(GRID, 60, values, sorted(values)).eval(parse(expr))
    if isinstance(out, dict):
        return [out.get(ts) for ts in GRID]
    return out


# https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html
# metric1 = [30, 20, 0, 0], metric2 = [20, -, 20, -]  (5th point missing in both)
DOC_M1 = [30.0, 20.0, 0.0, 0.0, None]
DOC_M2 = [20.0, None, 20.0, None, None]


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("m1 < m2", [0.0, 0.0, 1.0, 0.0, None]),
        ("m1 >= 30", [1.0, 0.0, 0.0, 0.0, None]),
        ("m1 > 15 AND m2 > 15", [1.0, 0.0, 0.0, 0.0, None]),
        ("m1 > 15 && m2 > 15", [1.0, 0.0, 0.0, 0.0, None]),
    ],
)
def test_documented_comparison_examples(expr, expected):
    assert _eval(expr, m1=DOC_M1, m2=DOC_M2) == expected


# The IF tables of the same page: metric1 = [1, 1, 0, 0, -], metric2 = [30, -, 0, 0, 30],
# metric3 = [0, 0, 20, -, 20].
IF_M1, IF_M2, IF_M3 = [1.0, 1.0, 0.0, 0.0, None], [30.0, None, 0.0, 0.0, 30.0], [0.0, 0.0, 20.0, None, 20.0]


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("IF(m1, m2, m3)", [30.0, 0.0, 20.0, None, None]),
        ("IF(m1, 5, m3)", [5.0, 5.0, 20.0, None, None]),
        ("IF(m1, m2, 5)", [30.0, 0.0, 5.0, 5.0, None]),
        ("IF(m1, m2)", [30.0, 0.0, None, None, None]),
    ],
)
def test_documented_if_examples(expr, expected):
    assert _eval(expr, m1=IF_M1, m2=IF_M2, m3=IF_M3) == expected


def test_arithmetic_takes_missing_as_zero_and_drops_division_by_zero():
    fail, items = [1.0, None, 3.0, 0.0, None], [10.0, 4.0, 0.0, None, None]
    assert _eval("100 * f / i", f=fail, i=items) == [10.0, 0.0, None, None, None]


def test_partial_fail_percentage_with_max_over_an_array():
    fail, items = [1.0, 2.0, 0.0, None, 5.0], [0.0, 10.0, None, 3.0, None]
    expr = "100 * FILL(f, 0) / MAX([FILL(i, 0), TIME_SERIES(1)])"
    assert _eval(expr, f=fail, i=items) == [100.0, 20.0, 0.0, 0.0, 500.0]


def test_heartbeat_dip_ratio_to_the_previous_period():
    hb = [100.0, 100.0, 40.0, None, 10.0]
    expr = "IF(cur - DIFF(cur) >= 20, 100 * cur / (cur - DIFF(cur)), 100)"
    values = {"hb": {ts: v for ts, v in zip(GRID, hb, strict=True) if v is not None}}
    ctx = MathContext(GRID, 60, values, ["hb"])
    ctx.values["cur"] = ctx.eval(parse("FILL(hb, 0)"))
    out = ctx.eval(parse(expr))
    assert [out.get(ts) for ts in GRID] == [100.0, 100.0, 40.0, 0.0, 100.0]


def test_fill_variants_and_reductions():
    s = [None, 2.0, None, 6.0, None]
    assert _eval("FILL(a, 7)", a=s) == [7.0, 2.0, 7.0, 6.0, 7.0]
    assert _eval("FILL(a, REPEAT)", a=s) == [None, 2.0, 2.0, 6.0, 6.0]
    assert _eval("FILL(a, LINEAR)", a=s) == [None, 2.0, 4.0, 6.0, None]
    assert _eval("a - MIN(a)", a=s) == [None, 0.0, None, 4.0, None]
    assert _eval("SUM([a, b])", a=s, b=[1.0, 1.0, None, None, None]) == [1.0, 3.0, None, 6.0, None]
    assert _eval("AVG([a, b])", a=s, b=[1.0, 1.0, None, None, None]) == [0.5, 1.5, None, 3.0, None]
    assert _eval("MIN([a, b])", a=s, b=[1.0, 1.0, None, None, None]) == [1.0, 1.0, None, 6.0, None]
    assert _eval("2 ^ 3 * -a + PERIOD(a)", a=s) == [None, 44.0, None, 12.0, None]
    assert _eval("ABS(-a) + CEIL(a / 4) + FLOOR(a / 4)", a=s) == [None, 3.0, None, 9.0, None]
    assert _eval('SUM(METRICS("a"))', a=s, b=s) == [None, 2.0, None, 6.0, None]


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        ("ANOMALY_DETECTION_BAND(m1)", "unsupported metric math function ANOMALY_DETECTION_BAND"),
        ("RATE(m1)", "unsupported metric math function RATE"),
        ("DIFF(2)", "needs a time series"),
        ("m1 +", "ends too early"),
        ("m1 $ 2", "cannot parse metric math"),
        ("(m1", "ends too early"),
        ("zz * 2", "unknown id 'zz'"),
        ("FILL(m1, PREVIOUS)", "unsupported FILL value 'PREVIOUS'"),
        ("m1 * FOO", "unsupported metric math keyword 'FOO'"),
    ],
)
def test_bad_expressions_are_one_clear_error(expr, message):
    with pytest.raises(EvaluatorError, match=message):
        _eval(expr, m1=DOC_M1)
