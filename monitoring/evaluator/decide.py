"""The state a metric alarm takes from the datapoints of its evaluation range.

Source: "How alarm state is evaluated when data is missing", CloudWatch User Guide,
https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarms-and-missing-data.html
(also https://repost.aws/knowledge-center/cloudwatch-alarm-single-data-point for the
`missing` case with one breaching point). The unit tests replay both documented tables.

- CloudWatch reads an *evaluation range* longer than EvaluationPeriods (N). The guide's worked
  example reads 5 datapoints for N = 3; the exact size "depends on the period", so we choose
  N + 2 periods for every alarm (the documented example) and state it here.
- If the range holds at least N real datapoints, the most recent N real ones decide, whatever
  the missing-data treatment: ALARM when at least DatapointsToAlarm (M) breach, else OK.
- Otherwise every real datapoint of the range is used and the missing ones are filled, as few
  times as possible, according to TreatMissingData:
  `breaching` adds N - r breaching points, `notBreaching` adds non-breaching ones;
  `missing` and `ignore` add nothing: ALARM if M real points breach, OK if some real point does
  not breach; when every real point breaches (but fewer than M), `missing` goes to ALARM if
  the oldest of them is at least M periods old (nothing but breaching or missing data since)
  and to INSUFFICIENT_DATA otherwise, while `ignore` keeps the current state.
- With no real datapoint at all: `missing` -> INSUFFICIENT_DATA, `ignore` -> current state,
  `breaching` -> ALARM, `notBreaching` -> OK.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from monitoring.evaluator.model import ALARM, INSUFFICIENT_DATA, OK

COMPARATORS: dict[str, Callable[[float, float], bool]] = {
    "GreaterThanThreshold": lambda v, t: v > t,
    "GreaterThanOrEqualToThreshold": lambda v, t: v >= t,
    "LessThanThreshold": lambda v, t: v < t,
    "LessThanOrEqualToThreshold": lambda v, t: v <= t,
}
EXTRA_PERIODS = 2


def decide_state(
    values: Sequence[float | None],
    breaches: Callable[[float], bool],
    *,
    evaluation_periods: int,
    datapoints_to_alarm: int,
    treat_missing_data: str,
    current: str,
) -> tuple[str, str]:
    """(new state, reason) for the range `values`, oldest first, None where data is missing."""
    n, m = evaluation_periods, datapoints_to_alarm
    real = [(age, v) for age, v in zip(range(len(values), 0, -1), values, strict=True) if v is not None]
    if len(real) >= n:
        recent = [v for _, v in real[-n:]]
        hits = sum(1 for v in recent if breaches(v))
        state = ALARM if hits >= m else OK
        return state, f"{hits} of the last {n} datapoints {_fmt(recent)} breach (need {m})"
    breaching_ages = [age for age, v in real if breaches(v)]
    hits, clean = len(breaching_ages), len(real) - len(breaching_ages)
    filled = n - len(real)
    note = f"{len(real)} real datapoints {_fmt([v for _, v in real])}, {filled} missing treated as"
    if treat_missing_data == "breaching":
        state = ALARM if hits + filled >= m else OK
        return state, f"{note} breaching: {hits + filled} of {n} breach (need {m})"
    if treat_missing_data == "notBreaching":
        state = ALARM if hits >= m else OK
        return state, f"{note} not breaching: {hits} of {n} breach (need {m})"
    if hits >= m:
        return ALARM, f"{note} {treat_missing_data}: {hits} breach (need {m})"
    if clean > 0:
        return OK, f"{note} {treat_missing_data}: {hits} breach (need {m})"
    if treat_missing_data == "ignore":
        return current, f"{note} ignore: state kept"
    if breaching_ages and max(breaching_ages) >= m:
        return ALARM, f"{note} missing: only breaching data for {max(breaching_ages)} periods (need {m})"
    return INSUFFICIENT_DATA, f"{note} missing: not enough data"


def _fmt(values: Sequence[float]) -> str:
    return "[" + ", ".join(f"{v:g}" for v in values) + "]"
