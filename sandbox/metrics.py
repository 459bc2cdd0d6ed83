"""Metric samples the sandbox collects, timestamped in production time.

CloudWatch keeps datapoints per (namespace, metric name, dimensions); so does this store.
Samples are raw values, so the alarm evaluator can compute any statistic (Sum, Average,
percentiles) over a period.
"""

from __future__ import annotations

import json
import threading
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sandbox.clock import SimClock

SeriesKey = tuple[str, str, tuple[tuple[str, str], ...]]


def series_key(namespace: str, name: str, dimensions: dict[str, str] | None = None) -> SeriesKey:
    """The identity of a CloudWatch metric."""
    return namespace, name, tuple(sorted((dimensions or {}).items()))


@dataclass(frozen=True)
class Sample:
    timestamp: float  # production epoch seconds
    value: float


class MetricStore:
    """Thread-safe store of metric samples."""

    def __init__(self, clock: SimClock) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self._series: dict[SeriesKey, list[Sample]] = defaultdict(list)

    def put(
        self,
        namespace: str,
        name: str,
        value: float,
        dimensions: dict[str, str] | None = None,
        timestamp: float | None = None,
    ) -> None:
        """Record one sample; `timestamp` is production epoch seconds (default: now)."""
        ts = self.clock.now() if timestamp is None else timestamp
        with self._lock:
            self._series[series_key(namespace, name, dimensions)].append(Sample(ts, float(value)))

    def put_emf(self, line: str) -> bool:
        """Record the metrics of one Embedded Metric Format log line; False if it is not EMF."""
        try:
            doc = json.loads(line)
        except (json.JSONDecodeError, TypeError):
            return False
        meta = doc.get("_aws") if isinstance(doc, dict) else None
        if not isinstance(meta, dict):
            return False
        # EMF timestamps are real milliseconds; the store keeps production time.
        ts = self.clock.to_prod(meta.get("Timestamp", 0) / 1000) if meta.get("Timestamp") else None
        for directive in meta.get("CloudWatchMetrics", []):
            namespace = directive["Namespace"]
            for dim_set in directive.get("Dimensions", [[]]) or [[]]:
                dims = {d: str(doc[d]) for d in dim_set if d in doc}
                for metric in directive.get("Metrics", []):
                    values = doc.get(metric["Name"])
                    for value in values if isinstance(values, list) else [values]:
                        if value is not None:
                            self.put(namespace, metric["Name"], value, dims, ts)
        return True

    def samples(self, namespace: str, name: str, dimensions: dict[str, str] | None = None) -> list[Sample]:
        """A copy of one series' samples, oldest first."""
        with self._lock:
            return sorted(self._series.get(series_key(namespace, name, dimensions), []), key=_ts)

    def total(self, namespace: str, name: str, dimensions: dict[str, str] | None = None) -> float:
        """Sum of every sample of a series (e.g. total jobs completed)."""
        return sum(s.value for s in self.samples(namespace, name, dimensions))

    def snapshot(self) -> dict[SeriesKey, list[Sample]]:
        """Every series, copied."""
        with self._lock:
            return {key: sorted(values, key=_ts) for key, values in self._series.items()}

    def to_json(self, since: float | None = None) -> list[dict[str, Any]]:
        """Series as plain data, for reports (only samples from `since` on, when given)."""
        return [
            {
                "namespace": ns,
                "name": name,
                "dimensions": dict(dims),
                "samples": [[s.timestamp, s.value] for s in samples if since is None or s.timestamp >= since],
            }
            for (ns, name, dims), samples in self.snapshot().items()
        ]


def _ts(sample: Sample) -> float:
    return sample.timestamp
