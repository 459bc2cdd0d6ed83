"""The missing-data tables of the CloudWatch User Guide, replayed row by row.

Source: https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarms-and-missing-data.html
("How alarm state is evaluated when data is missing"): 0 = not breaching, X = breaching,
- = missing; the range holds the 5 most recent datapoints, oldest first.
"""

import pytest

from monitoring.evaluator.decide import decide_state
from monitoring.evaluator.model import ALARM, INSUFFICIENT_DATA, OK

RETAIN = "retain"
TREATMENTS = ("missing", "ignore", "breaching", "notBreaching")

# Datapoints to Alarm = Evaluation Periods = 3
TABLE_3_OF_3 = [
    ("0 - X - X", (OK, OK, OK, OK)),
    ("0 - - - -", (OK, OK, OK, OK)),
    ("- - - - -", (INSUFFICIENT_DATA, RETAIN, ALARM, OK)),
    ("0 X X - X", (ALARM, ALARM, ALARM, ALARM)),
    ("- - - - X", (INSUFFICIENT_DATA, RETAIN, ALARM, OK)),
    ("X - - - -", (ALARM, RETAIN, ALARM, OK)),
]
# Datapoints to Alarm = 2, Evaluation Periods = 3
TABLE_2_OF_3 = [
    ("0 - X - X", (ALARM, ALARM, ALARM, ALARM)),
    ("0 0 X 0 X", (ALARM, ALARM, ALARM, ALARM)),
    ("0 - X - -", (OK, OK, ALARM, OK)),
    ("- - - - 0", (OK, OK, ALARM, OK)),
    ("- - - - X", (INSUFFICIENT_DATA, RETAIN, ALARM, OK)),
]


def _values(row: str) -> list[float | None]:
    return [{"0": 0.0, "X": 1.0, "-": None}[c] for c in row.split()]


def _cases(table, m):
    for row, expected in table:
        for treatment, state in zip(TREATMENTS, expected, strict=True):
            yield pytest.param(row, m, treatment, state, id=f"{m}of3 {row} {treatment}")


@pytest.mark.parametrize(
    ("row", "m", "treatment", "expected"), [*_cases(TABLE_3_OF_3, 3), *_cases(TABLE_2_OF_3, 2)]
)
@pytest.mark.parametrize("current", [OK, ALARM, INSUFFICIENT_DATA])
def test_documented_missing_data_tables(row, m, treatment, expected, current):
    state, _ = decide_state(
        _values(row),
        lambda v: v > 0.5,
        evaluation_periods=3,
        datapoints_to_alarm=m,
        treat_missing_data=treatment,
        current=current,
    )
    assert state == (current if expected == RETAIN else expected)


def test_reason_names_the_datapoints_that_decided():
    _, reason = decide_state(
        [1.0, 5.0, 7.0, 2.0, 9.0],
        lambda v: v > 3,
        evaluation_periods=3,
        datapoints_to_alarm=2,
        treat_missing_data="missing",
        current=OK,
    )
    assert reason == "2 of the last 3 datapoints [7, 2, 9] breach (need 2)"
