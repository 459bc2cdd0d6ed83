"""Meta-test: every mutation of tests/alarms/mutations.py (thresholds, periods, M and N, missing
data, operators, statistics, the numbers inside metric math, every composite rule) makes some YAML
alarm test fail; a mutation no test catches fails here, named in the test id.

    .venv/bin/python -m pytest tests/alarms/test_mutations.py -q -n 1
"""

from __future__ import annotations

import copy

import pytest

from monitoring.evaluator.runner import Runner
from monitoring.evaluator.templates import cached_template
from monitoring.evaluator.testfile import AlarmTest
from tests.alarms.mutations import STAGE, all_mutations
from tests.alarms.test_alarm_files import ALL_TESTS

GENERATED = all_mutations(cached_template(STAGE, "composite"))
_BURN = "IF({valid} >= 10, ({bad}) / ({valid}) / {budget}, 0)"
_QUIET = "below 10 events the burn reads {v} instead of 0: every factor is >= 1 and compared with >"
_GUARD = (
    "items and failures are whole counts, failures <= items: the guard only acts at 0 or 1 item, "
    "where a failure is >= 50 % (threshold 10) and no failure 0 % whatever it divides by"
)
# Mutations no data can tell apart from the original (equivalent mutants), each with its reason.
EQUIVALENT = {
    **{
        f"{slo} number #3 of {_BURN.format(**args)}: 0 -> {v}": _QUIET.format(v=v)
        for slo, args in (
            ("JobSuccess", {"valid": "c + f", "bad": "f", "budget": "0.001"}),
            ("TimeToAssign", {"valid": "a + e + w", "bad": "a - o + e + w", "budget": "0.005"}),
            ("ConnectSuccess", {"valid": "k + s + r + t", "bad": "s + r + t", "budget": "0.005"}),
        )
        for v in (1, -1)
    },
    **{
        f"HeartbeatDip number #4 of IF(prev >= 20, 100 * cur / prev, IF(cur > 0, 100)): 100 -> {v}": (
            "the value a small fleet reports; any value >= 50 reads healthy"
        )
        for v in (101, 99)
    },
    **{
        f"FleetDisconnected number #4 of IF(prev >= 4, 100 * cur / prev, IF(cur > 0, 100)): 100 -> {v}": (
            "the value a fleet under the floor reports; any value >= 50 reads healthy"
        )
        for v in (101, 99)
    },
    "HeartbeatDip number #1 of FILL(hb, 0): 0 -> -1": (
        "a filled -1 and 0 are both no heartbeat: under 20 as prev, not > 0 as cur, < 50 % as a ratio"
    ),
    **{
        f"{alarm_id} statistic Maximum -> Average": (
            "a count compared with > 0: an average of non-negative samples is > 0 exactly when their max is"
        )
        for alarm_id in ("DLQNotEmpty", "QuarantineNotEmpty", "CircuitBreakerOpen")
    },
    **{
        f"{alarm_id} statistic Sum -> Average": (
            "a count compared with > 0: a sum of non-negative samples is > 0 exactly when their average is"
        )
        for alarm_id in ("DispatcherErrors", "DispatcherThrottles")
    },
    **{
        f"{slo}FastBurn{window} GreaterThanThreshold -> GreaterThanOrEqualToThreshold": (
            "counts are whole numbers: the burn (bad / valid / budget) is exactly 14.4 for no counts in "
            "double arithmetic (bad / valid rounds to the double next to 0.0144 or 0.072, and divided by "
            "the budget it is 14.399999999999999), else it is far from 14.4: > and >= never disagree"
        )
        for slo in ("JobSuccess", "TimeToAssign", "ConnectSuccess")
        for window in ("1h", "5m")
    },
    # Every part watched (monitoring/watched.py).
    **{
        f"{alarm_id} statistic {of}Sum -> Average": (
            "a count compared with > 0: a sum of non-negative samples is > 0 exactly when their average is"
        )
        for alarm_id, ofs in (
            *((i, ("",)) for i in ("WsConnectThrottles", "WsMessageThrottles", "WsDisconnectThrottles")),
            *((i, ("",)) for i in ("LeaseReaperErrors", "LeaseReaperThrottles", "SecretRotationErrors")),
            *((i, ("",)) for i in ("RedriveFailed", "RotationFailed", "AlertDeliveryFailed")),
            ("ScheduleFailedInvocations", ("of r ", "of d ", "of f ")),
        )
        for of in ofs
    },
    **{
        f"{alarm_id} statistic Sum -> Average": (
            "each run reports 1: a minute with a run has Sum >= 1 and Average 1, one without has no "
            "datapoint, so Sum < 1 and Average < 1 never disagree"
        )
        for alarm_id in ("ReaperSilent", "WatchSilent")
    },
    **{
        f"ApiIntegrationErrors number #3 of IF(n >= 20, 100 * FILL(e, 0) / n): 0 -> {v}": (
            "a period without integration errors filled with 1 or -1 reads at most 100 * 1 / 20 = 5 %, "
            "under the 10 % threshold, as 0 does"
        )
        for v in (1, -1)
    },
    **{
        f"EdgeThrottled number #4 of IF(k > 60, 100 * k / (k + n), IF(n > 0, 0)): 0 -> {v}": (
            "the healthy value under the refusal floor: 1 and -1 are under the 5 % threshold as 0 is"
        )
        for v in (1, -1)
    },
    **{
        f"EdgeThrottled number #1 of FILL(x, 0): 0 -> {v}": (
            "a minute without ClientError filled with 1 or -1 stays under the 60 refusals floor, as 0 does"
        )
        for v in (1, -1)
    },
    "PartialFailPct number #2 of 100 * f / IF(i > 1, i, 1): 1 -> 2": _GUARD,
    "PartialFailPct number #2 of 100 * f / IF(i > 1, i, 1): 1 -> 0": _GUARD,
    "PartialFailPct number #3 of 100 * f / IF(i > 1, i, 1): 1 -> 2": _GUARD,
}
MUTATIONS = {label: m for label, m in GENERATED.items() if label not in EQUIVALENT}


def test_every_equivalent_mutation_is_one_we_generate():
    assert set(EQUIVALENT) <= set(GENERATED)


def _cheap_and_close_first(subject: str) -> list[AlarmTest]:
    """Tests about the mutated alarm first, then those that expect its state, shortest first:
    the run stops at the first failure."""

    def key(test: AlarmTest) -> tuple[bool, bool, int]:
        expects = any(subject in alarm for e in test.expect for alarm in e.alarms)
        return subject not in test.name, not expects, test.end

    return sorted(ALL_TESTS, key=key)


@pytest.mark.parametrize("label", list(MUTATIONS))
def test_every_change_is_caught_by_some_alarm_test(synthesized, runner, label):
    mutated = {}
    for mode in ("composite", "all"):
        mutated[mode] = copy.deepcopy(synthesized[(STAGE, mode)])
        MUTATIONS[label](mutated[mode])
    # Alarms the mutation left as they were replay their states from the original's run.
    mutant = Runner(lambda stage, mode: mutated[mode], reference=runner)
    subject = label.split()[0]
    caught = next((r for r in map(mutant.run, _cheap_and_close_first(subject)) if not r.ok), None)
    assert caught is not None, f"no alarm test fails when {label}"
    assert not any(f.startswith("error:") for f in caught.failures), caught.failures
