"""Meta-test: change any alarm's threshold, period, M or N, or the composite rule in the
synthesized template, and some YAML alarm test must fail (SLO burn windows included).

Thresholds move by 1 (the unit of every metric here: messages, seconds, errors, ms, %, counts, burn rates),
periods double, N grows by one, M shrinks by one; the composite rule is rewritten six ways.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from monitoring.catalog import ALARMS
from monitoring.evaluator.intrinsics import TemplateResolver
from monitoring.evaluator.runner import Runner, stack_name
from monitoring.slo_catalog import SLO_ALARMS
from tests.alarms.test_alarm_files import ALL_TESTS

STAGE = "test"
# every unit alarm of the alarm catalog, and every burn-rate window of the SLO catalog
ALARM_IDS = tuple(spec.id for spec in (*ALARMS, *SLO_ALARMS))
Mutation = Callable[[dict[str, Any]], None]


def _props(template: dict[str, Any], name: str) -> dict[str, Any]:
    for res in template["Resources"].values():
        if res["Type"].startswith("AWS::CloudWatch::") and res["Properties"].get("AlarmName") == name:
            return res["Properties"]
    raise AssertionError(f"no alarm {name} in the template")


def _set_periods(props: dict[str, Any], factor: int) -> None:
    if "Period" in props:
        props["Period"] *= factor
    for query in props.get("Metrics", []):
        if "MetricStat" in query:
            query["MetricStat"]["Period"] *= factor


def _unit_mutations(alarm_id: str) -> dict[str, Mutation]:
    name = f"BYOIP-{STAGE}-{alarm_id}"

    def change(key: str, delta: int) -> Mutation:
        return lambda t: _props(t, name).__setitem__(key, _props(t, name)[key] + delta)

    def datapoints(t: dict[str, Any]) -> None:
        props = _props(t, name)
        m = props.get("DatapointsToAlarm", props["EvaluationPeriods"])
        props["DatapointsToAlarm"] = m - 1 if m > 1 else m
        props["EvaluationPeriods"] += 0 if m > 1 else 1

    return {
        f"{alarm_id} threshold +1": change("Threshold", 1),
        f"{alarm_id} threshold -1": change("Threshold", -1),
        f"{alarm_id} period x2": lambda t: _set_periods(_props(t, name), 2),
        f"{alarm_id} evaluation periods +1": change("EvaluationPeriods", 1),
        f"{alarm_id} fewer datapoints to alarm (or more periods)": datapoints,
    }


def _rule_mutation(old: str, new: str) -> Mutation:
    def mutate(t: dict[str, Any]) -> None:
        props = _props(t, f"BYOIP-{STAGE}-Incident")
        text = TemplateResolver(t, stack_name=stack_name(STAGE)).resolve(props["AlarmRule"])
        assert old in text, text
        props["AlarmRule"] = text.replace(old, new)

    return mutate


def _arn(alarm_id: str) -> str:
    return f'"arn:aws:cloudwatch:us-east-1:123456789012:alarm:BYOIP-{STAGE}-{alarm_id}"'


RULE_MUTATIONS: dict[str, Mutation] = {
    "rule OR -> AND": _rule_mutation(") OR (", ") AND ("),
    "rule AND -> OR": _rule_mutation(") AND ALARM(", ") OR ALARM("),
    "rule without DLQNotEmpty": _rule_mutation(f"ALARM({_arn('DLQNotEmpty')}) OR ", "FALSE OR "),
    "rule without the dispatcher branch": _rule_mutation(" OR (ALARM(", " OR FALSE AND (ALARM("),
    "rule Errors -> Throttles": _rule_mutation(_arn("DispatcherErrors"), _arn("DispatcherThrottles")),
    "rule ALARM(Backlog) -> OK(Backlog)": _rule_mutation(
        f"ALARM({_arn('Backlog')})", f"OK({_arn('Backlog')})"
    ),
}
MUTATIONS: dict[str, Mutation] = {k: v for a in ALARM_IDS for k, v in _unit_mutations(a).items()}
MUTATIONS.update(RULE_MUTATIONS)


@pytest.mark.parametrize("label", list(MUTATIONS))
def test_every_change_is_caught_by_some_alarm_test(synthesized, label):
    mutated = {}
    for mode in ("composite", "all"):
        mutated[mode] = copy.deepcopy(synthesized[(STAGE, mode)])
        MUTATIONS[label](mutated[mode])
    runner = Runner(lambda stage, mode: mutated[mode])
    subject = label.split()[0] if not label.startswith("rule") else "Incident"
    # Tests about the mutated alarm first: the run stops at the first failure.
    ordered = sorted(ALL_TESTS, key=lambda t: subject not in t.name)
    caught = next((r for r in map(runner.run, ordered) if not r.ok), None)
    assert caught is not None, f"no alarm test fails when {label}"
    assert not any(f.startswith("error:") for f in caught.failures), caught.failures
