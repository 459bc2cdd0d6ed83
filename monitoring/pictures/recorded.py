"""Recorded metrics (a game day's `-metrics.json`) as the offline evaluator's store, for any stage.

A sandbox run records stage `local`; a preview of another stage reads the same samples under
that stage's names (queue and function names, the `Stage` dimension, per-stage namespaces).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from contract.names import Names
from monitoring.evaluator.model import EvaluatorError, MetricKey
from monitoring.evaluator.store import MetricStore


def _restage(text: str, old: str, new: str) -> str:
    if text == old:  # the Stage dimension's value
        return new
    text = text.replace(f"{Names(old).prefix}-", f"{Names(new).prefix}-")
    return text[: -len(old)] + new if text.endswith(f"/{old}") else text  # Huntaze/ByoIP/<stage>


def load_recording(path: Path, stage: str) -> tuple[MetricStore, float, float]:
    """The store with every sample of `path` renamed for `stage`, and the first and last sample time."""
    try:
        doc: dict[str, Any] = json.loads(path.read_text())
        recorded, series = doc["stage"], doc["series"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise EvaluatorError(f"{path} is not a recorded metrics file ({exc})") from None
    store = MetricStore()
    times: list[float] = []
    for entry in series:
        dims = {k: _restage(v, recorded, stage) for k, v in entry["dimensions"].items()}
        key = MetricKey.of(_restage(entry["namespace"], recorded, stage), entry["name"], dims)
        for t, value in entry["samples"]:
            store.put(key, t, value)
            times.append(t)
    if not times:
        raise EvaluatorError(f"{path} holds no samples")
    return store, min(times), max(times)
