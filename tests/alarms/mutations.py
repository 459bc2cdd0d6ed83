"""Mutations of the synthesized template, for test_mutations.py: each is a plausible slip in the
catalog or the monitoring layer, and some YAML alarm test must fail under it.

Per unit alarm (the alarm catalog's and every SLO burn window): threshold ±1 (the unit of every
metric here), period ×2, evaluation periods +1, datapoints to alarm -1, each other missing-data
treatment, the operator's strictness (> and >=, < and <=), each statistic it reads (Sum and
Average, Maximum and Average, p95 and p90/p99), and each number of each metric-math expression
(±1, or ±half of a fraction such as an error budget; an SLO's burn expression is derived once
and read by all its windows, so its numbers change in all of them at once). Per composite
(Incident and every SLO composite): AND and OR swapped at each node, each operand dropped, each
ALARM(x) made OK(x), and each alarm replaced by the next catalog alarm the rule does not name.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from monitoring.catalog import ALARMS, COMPOSITE
from monitoring.evaluator.intrinsics import TemplateResolver
from monitoring.evaluator.runner import stack_name
from monitoring.slo_catalog import SLO_ALARMS, SLO_COMPOSITES
from monitoring.spec import AnyOf, Missing, Rule, render_rule, rule_ids

STAGE = "test"
Mutation = Callable[[dict[str, Any]], None]
UNIT_IDS = tuple(spec.id for spec in (*ALARMS, *SLO_ALARMS))
COMPOSITES = (COMPOSITE, *SLO_COMPOSITES)
STRICTNESS = {
    "GreaterThanThreshold": "GreaterThanOrEqualToThreshold",
    "GreaterThanOrEqualToThreshold": "GreaterThanThreshold",
    "LessThanThreshold": "LessThanOrEqualToThreshold",
    "LessThanOrEqualToThreshold": "LessThanThreshold",
}
OTHER_STATISTICS = {
    "Sum": ("Average",),
    "Average": ("Sum",),
    "Maximum": ("Average",),
    "Minimum": ("Average",),
    "p95": ("p90", "p99"),
}
_NUMBER = re.compile(r"(?<![\w.])\d+(?:\.\d+)?(?![\w.])")


def props(template: dict[str, Any], alarm_id: str) -> dict[str, Any]:
    """The Properties of alarm BYOIP-<stage>-<alarm_id> (metric or composite)."""
    name = f"BYOIP-{STAGE}-{alarm_id}"
    for res in template["Resources"].values():
        if res["Type"].startswith("AWS::CloudWatch::") and res["Properties"].get("AlarmName") == name:
            return res["Properties"]  # type: ignore[no-any-return]
    raise AssertionError(f"no alarm {name} in the template")


def all_mutations(template: dict[str, Any]) -> dict[str, Mutation]:
    """Every mutation by label; `template` (unmutated) tells which statistics and numbers exist."""
    out: dict[str, Mutation] = {}
    sharing: dict[str, list[str]] = {}  # expression -> the alarms that read it (an SLO's windows)
    for alarm_id in UNIT_IDS:
        original = props(template, alarm_id)
        out.update(_unit(alarm_id, original))
        for query in original.get("Metrics", []):
            sharing.setdefault(query.get("Expression", ""), []).append(alarm_id)
    for expression, ids in sharing.items():
        for label, text in _numbers(expression):
            out[f"{_common(ids)} {label}"] = _set_expression(ids, expression, text)
    for spec in COMPOSITES:
        for what, text in _rule_variants(spec.rule, set(rule_ids(spec.rule))):
            out[f"{spec.id} rule: {what}"] = _set_rule(spec.id, spec.rule, text)
    return out


def _unit(alarm_id: str, original: dict[str, Any]) -> dict[str, Mutation]:
    def set_(key: str, value: Any) -> Mutation:
        return lambda t: props(t, alarm_id).__setitem__(key, value)

    def periods(t: dict[str, Any]) -> None:
        p = props(t, alarm_id)
        for stat in [p] if "Period" in p else [q["MetricStat"] for q in p["Metrics"] if "MetricStat" in q]:
            stat["Period"] *= 2

    n = original["EvaluationPeriods"]
    m = original.get("DatapointsToAlarm", n)
    fewer = {"DatapointsToAlarm": m - 1} if m > 1 else {"EvaluationPeriods": n + 1}
    out = {
        f"{alarm_id} threshold +1": set_("Threshold", original["Threshold"] + 1),
        f"{alarm_id} threshold -1": set_("Threshold", original["Threshold"] - 1),
        f"{alarm_id} period x2": periods,
        f"{alarm_id} evaluation periods +1": set_("EvaluationPeriods", n + 1),
        f"{alarm_id} fewer datapoints to alarm (or more periods)": lambda t: props(t, alarm_id).update(fewer),
    }
    op = original["ComparisonOperator"]
    out[f"{alarm_id} {op} -> {STRICTNESS[op]}"] = set_("ComparisonOperator", STRICTNESS[op])
    for treatment in Missing:
        if treatment != original.get("TreatMissingData", "missing"):
            out[f"{alarm_id} missing data -> {treatment}"] = set_("TreatMissingData", str(treatment))
    for label, mutation in _statistics(alarm_id, original):
        out[f"{alarm_id} {label}"] = mutation
    return out


def _statistics(alarm_id: str, original: dict[str, Any]) -> Iterator[tuple[str, Mutation]]:
    """Each statistic the alarm reads, changed to each of its OTHER_STATISTICS."""
    if "Metrics" not in original:
        key = "Statistic" if "Statistic" in original else "ExtendedStatistic"
        for other in OTHER_STATISTICS[original[key]]:
            pct = other.startswith("p")
            changes = {"ExtendedStatistic": other} if pct else {"Statistic": other}

            def single(t: dict[str, Any], changes: dict[str, str] = changes) -> None:
                p = props(t, alarm_id)
                p.pop("Statistic", None), p.pop("ExtendedStatistic", None)
                p.update(changes)

            yield f"statistic {original[key]} -> {other}", single
        return
    for i, query in enumerate(original["Metrics"]):
        if "MetricStat" in query:
            for other in OTHER_STATISTICS[query["MetricStat"]["Stat"]]:

                def stat(t: dict[str, Any], i: int = i, other: str = other) -> None:
                    props(t, alarm_id)["Metrics"][i]["MetricStat"]["Stat"] = other

                yield f"statistic of {query['Id']} {query['MetricStat']['Stat']} -> {other}", stat


def _numbers(expression: str) -> Iterator[tuple[str, str]]:
    """Each number of the expression moved up and down (by 1, or by half of a fraction)."""
    for k, match in enumerate(_NUMBER.finditer(expression)):
        value = float(match[0])
        step = 1.0 if value == int(value) else value / 2
        for new in (value + step, value - step):
            text = expression[: match.start()] + f"{new:g}" + expression[match.end() :]
            yield f"number #{k + 1} of {expression}: {match[0]} -> {new:g}", text


def _common(ids: list[str]) -> str:
    """The alarm id, or the prefix the alarms sharing an expression have in common (the SLO id)."""
    prefix = ids[0]
    while not all(i.startswith(prefix) for i in ids):
        prefix = prefix[:-1]
    return prefix


def _set_expression(ids: list[str], expression: str, text: str) -> Mutation:
    """The same change in every alarm that reads the expression: it is derived once (SLO.burn)."""

    def mutate(t: dict[str, Any]) -> None:
        for alarm_id in ids:
            for query in props(t, alarm_id)["Metrics"]:
                if query.get("Expression") == expression:
                    query["Expression"] = text

    return mutate


def _arn(alarm_id: str) -> str:
    return f'"arn:aws:cloudwatch:us-east-1:123456789012:alarm:BYOIP-{STAGE}-{alarm_id}"'


def _render(rule: Rule) -> str:
    """The rule as the template's AlarmRule reads once resolved."""
    return render_rule(rule, lambda alarm_id: _arn(alarm_id).strip('"'))


def _short(rule: Rule) -> str:
    return render_rule(rule).replace('ALARM("', "").replace('")', "")


def _rule_variants(rule: Rule, named: set[str]) -> list[tuple[str, str]]:
    """(what changed, rule text) for every structural mutation of `rule`."""
    if isinstance(rule, str):
        other = next(a for a in UNIT_IDS[UNIT_IDS.index(rule) :] + UNIT_IDS if a not in named)
        return [(f"ALARM({rule}) -> OK({rule})", f"OK({_arn(rule)})"), (f"{rule} -> {other}", _render(other))]
    joiner, swapped = (" OR ", " AND ") if isinstance(rule, AnyOf) else (" AND ", " OR ")
    parts = [_render(sub) for sub in rule.rules]
    out = [(f"{joiner.strip()} -> {swapped.strip()} in {_short(rule)}", "(" + swapped.join(parts) + ")")]
    for i, sub in enumerate(rule.rules):
        out.append((f"without {_short(sub)}", "(" + joiner.join(parts[:i] + parts[i + 1 :]) + ")"))
        for what, text in _rule_variants(sub, named):
            out.append((what, "(" + joiner.join([*parts[:i], text, *parts[i + 1 :]]) + ")"))
    return out


def _set_rule(composite_id: str, rule: Rule, text: str) -> Mutation:
    def mutate(t: dict[str, Any]) -> None:
        p = props(t, composite_id)
        resolved = TemplateResolver(t, stack_name=stack_name(STAGE)).resolve(p["AlarmRule"])
        assert resolved == _render(rule), f"{composite_id}: the template's rule is {resolved}"
        p["AlarmRule"] = text

    return mutate
