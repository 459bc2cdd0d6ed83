"""Evaluate parsed metric math over the periods of an alarm's evaluation range.

Semantics follow https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html:
- arithmetic and comparisons between two time series use the union of their timestamps with
  a missing value taken as 0; with a scalar, only the series' own timestamps; a division by
  zero drops the data point;
- comparisons and AND/OR return 1 or 0; IF follows the documented tables (a TRUE condition
  with a missing value in the true branch gives 0, a FALSE one with a missing false branch
  drops the point);
- MAX/MIN/SUM/AVG of one series are scalars over the queried range; of an array they are
  per-timestamp series. SUM and AVG take a missing value as 0 (documented for AVG);
  MAX and MIN use only the values present (chosen: taking 0 would make MIN of two series 0
  whenever one is missing);
- DIFF(x) is each value minus the preceding value of x; the first value has no predecessor and
  is dropped (so `x - DIFF(x)` is x itself there, DIFF's missing value counting as 0);
- FILL(x, S | TS | REPEAT | LINEAR) fills every period of the range; REPEAT and LINEAR leave
  periods before the first real value missing (nothing to repeat or interpolate from).
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from typing import Any

from monitoring.evaluator.mathparse import Node
from monitoring.evaluator.model import EvaluatorError

Series = dict[int, float]
Value = Any  # float | Series | list[Series]

SUPPORTED = (
    "ABS",
    "AVG",
    "CEIL",
    "DIFF",
    "FILL",
    "FLOOR",
    "IF",
    "MAX",
    "METRICS",
    "MIN",
    "PERIOD",
    "SUM",
    "TIME_SERIES",
)
_BINARY: dict[str, Callable[[float, float], float]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": lambda a, b: a / b if b != 0 else math.nan,
    "^": lambda a, b: math.pow(a, b),
    "==": lambda a, b: float(a == b),
    "!=": lambda a, b: float(a != b),
    "<": lambda a, b: float(a < b),
    "<=": lambda a, b: float(a <= b),
    ">": lambda a, b: float(a > b),
    ">=": lambda a, b: float(a >= b),
    "AND": lambda a, b: float(bool(a) and bool(b)),
    "OR": lambda a, b: float(bool(a) or bool(b)),
}

_ROUNDING: dict[str, Callable[[float], float]] = {"ABS": abs, "CEIL": math.ceil, "FLOOR": math.floor}
_SCALAR_REDUCERS: dict[str, Callable[[list[float]], float]] = {
    "MAX": max,
    "MIN": min,
    "SUM": math.fsum,
    "AVG": lambda v: math.fsum(v) / len(v),
}


class MathContext:
    """The range being evaluated and the values of the alarm's other queries."""

    def __init__(self, grid: list[int], period: int, values: dict[str, Value], metric_ids: list[str]):
        self.grid, self.period, self.values, self.metric_ids = grid, period, values, metric_ids

    def eval(self, node: Node) -> Value:
        kind = node[0]
        if kind == "num":
            return node[1]
        if kind == "id":
            if node[1] not in self.values:
                raise EvaluatorError(f"metric math refers to unknown id {node[1]!r}")
            return self.values[node[1]]
        if kind == "neg":
            return _map(self.eval(node[1]), operator.neg)
        if kind == "bin":
            return _binary(node[1], self.eval(node[2]), self.eval(node[3]))
        if kind == "array":
            return [_series_of(self.eval(item), self.grid) for item in node[1]]
        if kind == "call":
            return self.call(node[1], node[2])
        if kind == "kw":
            raise EvaluatorError(f"unsupported metric math keyword {node[1]!r} here")
        raise EvaluatorError(f"unsupported metric math element {node!r}")

    def call(self, name: str, args: list[Node]) -> Value:
        if name not in SUPPORTED:
            raise EvaluatorError(
                f"unsupported metric math function {name} (supported: {', '.join(SUPPORTED)})"
            )
        if name == "IF":
            return self.if_(args)
        if name == "FILL":
            return self.fill(args)
        if name == "METRICS":
            needle = args[0][1] if args else ""
            return [self.values[i] for i in self.metric_ids if needle in i]
        if name == "PERIOD":
            return float(self.period)
        values = [self.eval(a) for a in args]
        if len(values) != 1:
            raise EvaluatorError(f"metric math {name} takes one argument, got {len(values)}")
        (arg,) = values
        if name == "TIME_SERIES":
            return {ts: float(arg) for ts in self.grid}
        if name == "DIFF":
            return _per_series(arg, _diff)
        if name in ("ABS", "CEIL", "FLOOR"):
            return _map(arg, _ROUNDING[name])
        return _reduce(name, arg)

    def if_(self, args: list[Node]) -> Value:
        if len(args) not in (2, 3):
            raise EvaluatorError(f"metric math IF takes 2 or 3 arguments, got {len(args)}")
        cond, yes = self.eval(args[0]), self.eval(args[1])
        no = self.eval(args[2]) if len(args) == 3 else None
        if isinstance(cond, float):
            return yes if cond else (no if no is not None else {})
        out: Series = {}
        for ts, c in cond.items():
            if c:
                out[ts] = yes if isinstance(yes, float) else yes.get(ts, 0.0)
            elif isinstance(no, float):
                out[ts] = no
            elif isinstance(no, dict) and ts in no:
                out[ts] = no[ts]
        return out

    def fill(self, args: list[Node]) -> Value:
        if len(args) != 2:
            raise EvaluatorError(f"metric math FILL takes 2 arguments, got {len(args)}")
        target = self.eval(args[0])
        how: Any = args[1][1] if args[1][0] == "kw" else self.eval(args[1])
        if how not in ("REPEAT", "LINEAR") and not isinstance(how, float | dict):
            raise EvaluatorError(f"unsupported FILL value {how!r} (use a number, a series, REPEAT or LINEAR)")
        if isinstance(target, list):
            return [_fill(s, how, self.grid) for s in target]
        return _fill(_series_of(target, self.grid), how, self.grid)


def _series_of(value: Value, grid: list[int]) -> Series:
    if isinstance(value, dict):
        return value
    if isinstance(value, float):
        return {ts: value for ts in grid}
    raise EvaluatorError("metric math: an array cannot be nested in an array")


def _clean(series: Series) -> Series:
    return {ts: v for ts, v in series.items() if math.isfinite(v)}


def _map(value: Value, fn: Callable[[float], float]) -> Value:
    if isinstance(value, float):
        return float(fn(value))
    if isinstance(value, list):
        return [_map(s, fn) for s in value]
    return _clean({ts: float(fn(v)) for ts, v in value.items()})


def _binary(op: str, left: Value, right: Value) -> Value:
    fn = _BINARY[op]
    if isinstance(left, list):
        return [_binary(op, s, right) for s in left]
    if isinstance(right, list):
        return [_binary(op, left, s) for s in right]
    if isinstance(left, float) and isinstance(right, float):
        return fn(left, right)
    if isinstance(right, float):
        return _clean({ts: fn(v, right) for ts, v in left.items()})
    if isinstance(left, float):
        return _clean({ts: fn(left, v) for ts, v in right.items()})
    stamps = sorted(set(left) | set(right))
    return _clean({ts: fn(left.get(ts, 0.0), right.get(ts, 0.0)) for ts in stamps})


def _per_series(value: Value, fn: Callable[[Series], Series]) -> Value:
    if isinstance(value, float):
        raise EvaluatorError("metric math: this function needs a time series, not a number")
    return [fn(s) for s in value] if isinstance(value, list) else fn(value)


def _diff(series: Series) -> Series:
    """Each value minus the preceding value of the series; the first value has none and is dropped."""
    stamps = sorted(series)
    return {ts: series[ts] - series[prev] for prev, ts in zip(stamps, stamps[1:], strict=False)}


def _reduce(name: str, arg: Value) -> Value:
    if isinstance(arg, float):
        raise EvaluatorError(f"metric math {name} needs a time series or an array, not a number")
    if isinstance(arg, dict):
        values = list(arg.values())
        if not values:
            return math.nan
        return _SCALAR_REDUCERS[name](values)
    stamps = sorted({ts for s in arg for ts in s})
    out: Series = {}
    for ts in stamps:
        present = [s[ts] for s in arg if ts in s]
        if name == "MAX":
            out[ts] = max(present)
        elif name == "MIN":
            out[ts] = min(present)
        elif name == "SUM":
            out[ts] = math.fsum(present)
        else:
            out[ts] = math.fsum(present) / len(arg)
    return out


def _fill(series: Series, how: Any, grid: list[int]) -> Series:
    out: Series = dict(series)
    known = sorted(series)
    for ts in grid:
        if ts in series:
            continue
        if isinstance(how, float):
            out[ts] = how
        elif isinstance(how, dict):
            if ts in how:
                out[ts] = how[ts]
        else:
            before = [t for t in known if t < ts]
            after = [t for t in known if t > ts]
            if how == "REPEAT" and before:
                out[ts] = series[before[-1]]
            elif how == "LINEAR" and before and after:
                t0, t1 = before[-1], after[0]
                out[ts] = series[t0] + (series[t1] - series[t0]) * (ts - t0) / (t1 - t0)
    return dict(sorted(out.items()))
