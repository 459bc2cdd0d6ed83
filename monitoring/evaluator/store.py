"""Metric samples and CloudWatch statistics over a period.

Statistics (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_concepts.html#Statistic):
`SampleCount`, `Sum`, `Average`, `Minimum`, `Maximum` and percentiles `pNN` / `pNN.NN`
computed from the raw samples of the period.

Chosen where the documentation leaves it open:
- A period is the clock-aligned interval [start, start + period), start a multiple of the period.
- Percentiles use the nearest-rank definition: the smallest sample such that at least NN % of
  the samples are less than or equal to it (no interpolation), so a test can name the exact
  sample that crosses a threshold.
- A sample put with `count` (PutMetricData `Values`/`Counts`) counts `count` times.
- A metric's `Unit` is not used to filter samples.
"""

from __future__ import annotations

import bisect
import math
import re
from collections.abc import Iterable

from monitoring.evaluator.model import EvaluatorError, MetricKey

_PERCENTILE = re.compile(r"^p(\d{1,2}(?:\.\d+)?|100)$")
SIMPLE_STATS = ("SampleCount", "Sum", "Average", "Minimum", "Maximum")


def check_stat(stat: str) -> str:
    """Return `stat` if the evaluator can compute it, else raise a one-line error."""
    if stat in SIMPLE_STATS or _PERCENTILE.match(stat):
        return stat
    raise EvaluatorError(
        f"unsupported statistic {stat!r} (supported: {', '.join(SIMPLE_STATS)}, pNN such as p95 or p99.9)"
    )


def percentile_of(stat: str) -> float | None:
    """95.0 for 'p95'; None for a non-percentile statistic."""
    match = _PERCENTILE.match(stat)
    return float(match.group(1)) if match else None


def aggregate(stat: str, samples: list[tuple[float, int]]) -> float | None:
    """One statistic over (value, count) samples; None when there are none."""
    if not samples:
        return None
    count = sum(c for _, c in samples)
    if stat == "SampleCount":
        return float(count)
    if stat == "Sum":
        return math.fsum(v * c for v, c in samples)
    if stat == "Average":
        return math.fsum(v * c for v, c in samples) / count
    if stat == "Minimum":
        return min(v for v, _ in samples)
    if stat == "Maximum":
        return max(v for v, _ in samples)
    pct = percentile_of(stat)
    if pct is None:
        raise EvaluatorError(f"unsupported statistic {stat!r}")
    rank = max(1, math.ceil(pct / 100.0 * count))
    seen = 0
    for value, c in sorted(samples):
        seen += c
        if seen >= rank:
            return value
    return sorted(samples)[-1][0]


class MetricStore:
    """Samples per metric, queried per (statistic, period start, period length)."""

    def __init__(self) -> None:
        self._times: dict[MetricKey, list[int]] = {}
        self._samples: dict[MetricKey, dict[int, list[tuple[float, int]]]] = {}
        self._cache: dict[MetricKey, dict[tuple[str, int, int], float | None]] = {}
        self._running: dict[MetricKey, list[float]] = {}  # running totals of Sum, per sample time
        self.version = 0  # bumped by every put: lets callers skip work when nothing changed

    def put(self, metric: MetricKey, timestamp: float, value: float, count: int = 1) -> None:
        """Record one sample (PutMetricData `Value`, or one `Values` entry with its `Counts`)."""
        if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
            raise EvaluatorError(f"invalid sample {value!r} for {metric}: expected a finite number")
        ts = int(timestamp)
        by_ts = self._samples.setdefault(metric, {})
        if ts not in by_ts:
            times = self._times.setdefault(metric, [])
            if not times or ts > times[-1]:
                times.append(ts)  # the usual case: data arrives in time order
            else:
                bisect.insort(times, ts)
            by_ts[ts] = []
        by_ts[ts].append((float(value), int(count)))
        self._cache.pop(metric, None)
        self._running.pop(metric, None)
        self.version += 1

    def put_many(self, metric: MetricKey, timestamp: float, values: Iterable[float]) -> None:
        """Record several raw samples at one timestamp (e.g. Lambda durations of one minute)."""
        for value in values:
            self.put(metric, timestamp, value)

    def samples(self, metric: MetricKey, start: int, end: int) -> list[tuple[float, int]]:
        """Every (value, count) sample with start <= timestamp < end."""
        times = self._times.get(metric)
        if not times:
            return []
        by_ts = self._samples[metric]
        lo, hi = bisect.bisect_left(times, start), bisect.bisect_left(times, end)
        return [s for ts in times[lo:hi] for s in by_ts[ts]]

    def positions(self, metric: MetricKey, stamps: list[int]) -> tuple[int, ...]:
        """For each time, how many sample times of the metric lie before it."""
        times = self._times.get(metric, [])
        return tuple(bisect.bisect_left(times, ts) for ts in stamps)

    def value(self, metric: MetricKey, stat: str, start: int, period: int) -> float | None:
        """The statistic of the period [start, start + period), or None if it has no sample."""
        cache = self._cache.setdefault(metric, {})
        key = (stat, start, period)
        if key not in cache:
            if stat == "Sum":  # sliding windows of days: sums from running totals, not rescans
                cache[key] = self._sum(metric, start, start + period)
            else:
                cache[key] = aggregate(stat, self.samples(metric, start, start + period))
        return cache[key]

    def _sum(self, metric: MetricKey, start: int, end: int) -> float | None:
        times = self._times.get(metric)
        if not times:
            return None
        lo, hi = bisect.bisect_left(times, start), bisect.bisect_left(times, end)
        if lo == hi:
            return None
        if hi - lo <= 64:  # exact (fsum) where it is cheap; running totals may round in the last bit
            return aggregate("Sum", [s for ts in times[lo:hi] for s in self._samples[metric][ts]])
        running = self._running.get(metric)
        if running is None:
            by_ts = self._samples[metric]
            running = [0.0]
            for ts in times:
                running.append(running[-1] + math.fsum(v * c for v, c in by_ts[ts]))
            self._running[metric] = running
        return running[hi] - running[lo]

    def sample_count(self, metric: MetricKey, start: int, period: int) -> int:
        return sum(c for _, c in self.samples(metric, start, start + period))

    def metrics(self) -> set[MetricKey]:
        return set(self._times)
