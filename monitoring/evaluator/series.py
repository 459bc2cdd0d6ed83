"""The input notation of alarm test files: promtool's expanding series and durations.

Series (as in `promtool test rules`, https://prometheus.io/docs/prometheus/latest/configuration/unit_testing_rules/):
`a` one value; `_` one missing datapoint; `a+bxn` / `a-bxn` the n+1 values a, a+b, ... a+n*b;
`axn` n+1 copies of a (promtool's shorthand for `a+0xn`); `_xn` n missing datapoints.
So `0x9 1x4` is ten 0s then five 1s. Durations: `90s`, `15m`, `2h`, `1h30m`, `1d`.
"""

from __future__ import annotations

import re

from monitoring.evaluator.model import EvaluatorError, MetricKey

_NUM = r"-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_EXPANDING = re.compile(rf"^(?P<a>{_NUM})(?:(?P<sign>[+-])(?P<b>{_NUM}))?x(?P<n>\d+)$")
_MISSING_RUN = re.compile(r"^_x(?P<n>\d+)$")
_NUMBER = re.compile(rf"^{_NUM}$")
_DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
_METRIC = re.compile(r"^(?P<ns>[^{}]+):(?P<name>[^:{}]+)(?:\{(?P<dims>[^{}]*)\})?$")


def expand_series(text: str | int | float) -> list[float | None]:
    """Expand a series string into one value (or None = missing) per step."""
    out: list[float | None] = []
    for token in str(text).split():
        if token == "_":
            out.append(None)
        elif match := _MISSING_RUN.match(token):
            out.extend([None] * int(match["n"]))
        elif match := _EXPANDING.match(token):
            a, n = float(match["a"]), int(match["n"])
            b = float(match["b"] or 0) * (-1 if match["sign"] == "-" else 1)
            out.extend(a + i * b for i in range(n + 1))
        elif _NUMBER.match(token):
            out.append(float(token))
        else:
            raise EvaluatorError(
                f"bad series item {token!r}: use a number, '_', 'AxN', 'A+BxN', 'A-BxN' or '_xN'"
            )
    return out


def parse_duration(text: str | int) -> int:
    """Seconds in a duration like '15m' or '1h30m'; 0 is allowed bare."""
    if text == 0 or text == "0":
        return 0
    match = _DURATION.match(str(text).strip()) if isinstance(text, str) else None
    if not match or not any(match.groups()):
        raise EvaluatorError(f"bad duration {text!r}: use forms like 90s, 15m, 2h, 1h30m, 1d")
    d, h, m, s = (int(g or 0) for g in match.groups())
    return ((d * 24 + h) * 60 + m) * 60 + s


def format_duration(seconds: int) -> str:
    """'1h30m' for 5400; the inverse of parse_duration for display."""
    if seconds == 0:
        return "0m"
    sign, seconds = ("-", -seconds) if seconds < 0 else ("", seconds)
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    parts = [f"{h}h" if h else "", f"{m}m" if m else "", f"{s}s" if s else ""]
    return sign + "".join(parts)


def parse_metric(text: str) -> MetricKey:
    """'AWS/SQS:ApproximateAgeOfOldestMessage{QueueName=byoip-test-jobs}' as a MetricKey."""
    match = _METRIC.match(str(text).strip())
    if not match:
        raise EvaluatorError(f"bad metric {text!r}: use Namespace:MetricName{{Dim=value,...}}")
    dims: dict[str, str] = {}
    for pair in filter(None, (p.strip() for p in (match["dims"] or "").split(","))):
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise EvaluatorError(f"bad dimension {pair!r} in metric {text!r}: use Name=value")
        dims[key.strip()] = value.strip()
    return MetricKey.of(match["ns"].strip(), match["name"].strip(), dims)
