"""The per-creator views in the template: one Contributor Insights rule per catalog entry over a log
group the stack creates, a graph of each on the primary dashboard, and the preview that shows them.

That the rules' key and filters match lines the functions really log: tests/lambdas/test_insight_lines.py.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from monitoring.evaluator.store import MetricStore
from monitoring.insights import KEY, RULES, TOP_CONTRIBUTORS
from monitoring.pictures.preview import dashboards, write_previews


@pytest.fixture(scope="module")
def prod(synth):
    return synth(stage="prod")


def of_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {lid: r for lid, r in template["Resources"].items() if r["Type"] == kind}


def test_one_enabled_rule_per_catalog_entry_with_the_documented_body(prod):
    template, names = prod.template_dict, prod.config.names
    rules = {
        r["Properties"]["RuleName"]: r for r in of_type(template, "AWS::CloudWatch::InsightRule").values()
    }
    assert sorted(rules) == sorted(names.insight_rule(rule.id) for rule in RULES)
    log_groups = {
        r["Properties"]["LogGroupName"]: lid for lid, r in of_type(template, "AWS::Logs::LogGroup").items()
    }
    for rule in RULES:
        resource = rules[names.insight_rule(rule.id)]
        assert resource["Properties"]["RuleState"] == "ENABLED"
        body = json.loads(resource["Properties"]["RuleBody"])  # a plain JSON string, no intrinsics
        assert body["Schema"] == {"Name": "CloudWatchLogRule", "Version": 1}
        assert (body["LogFormat"], body["AggregateOn"]) == ("JSON", "Count")
        assert body["Contribution"]["Keys"] == [f"$.{KEY}"]
        assert "ValueOf" not in body["Contribution"]  # only with Sum
        filters = body["Contribution"]["Filters"]
        assert 1 <= len(filters) <= 4
        for flt in filters:
            assert flt["Match"].startswith("$.")
            for op in ("In", "NotIn", "StartsWith"):
                assert len(flt.get(op, [])) <= 10
        # the log group is the function's own, created by the stack; the rule waits for it
        (group,) = body["LogGroupNames"]
        assert group == names.function_log_group(rule.function)
        assert log_groups[group] in resource.get("DependsOn", [])
        assert len(resource["Properties"]["RuleBody"]) <= 8192


def primary_widgets(synthed) -> list[dict[str, Any]]:
    bodies = dashboards(synthed.template_dict, synthed.config.stack_name)
    return bodies[synthed.config.names.primary_dashboard]["widgets"]


def test_the_primary_dashboard_graphs_each_rule_below_everything_else(prod):
    widgets = primary_widgets(prod)
    insight = [w for w in widgets if "insightRule" in w["properties"]]
    assert [w["properties"]["insightRule"]["ruleName"] for w in insight] == [
        prod.config.names.insight_rule(rule.id) for rule in RULES
    ]
    for widget, rule in zip(insight, RULES, strict=True):
        assert widget["type"] == "metric"
        assert widget["properties"] == {
            "insightRule": {
                "maxContributorCount": TOP_CONTRIBUTORS,
                "orderBy": "Sum",
                "ruleName": prod.config.names.insight_rule(rule.id),
            },
            "title": rule.title,
            "region": widget["properties"]["region"],
            "view": "timeSeries",
            "legend": {"position": "bottom"},
        }
        assert widget["properties"]["region"]  # the stack's region (resolved by the preview)
    # the grid holds: no widget overlaps another, and the new ones come last
    cells: set[tuple[int, int]] = set()
    for w in widgets:
        mine = {
            (x, y) for x in range(w["x"], w["x"] + w["width"]) for y in range(w["y"], w["y"] + w["height"])
        }
        assert not mine & cells, w
        assert w["x"] + w["width"] <= 24
        cells |= mine
    first = min(w["y"] for w in insight)
    assert all(w["y"] + w["height"] <= first for w in widgets if w not in insight)


def test_the_preview_shows_each_rule_as_a_labelled_placeholder(prod, tmp_path):
    paths = write_previews(
        prod.template_dict, prod.config.stack_name, MetricStore(), (0.0, 600.0), tmp_path, "nothing recorded"
    )
    (primary,) = [p for p in paths if p.name == f"{prod.config.names.primary_dashboard}.html"]
    html = primary.read_text()
    for rule in RULES:
        label = f"Contributor Insights: top creators by {rule.what}, drawn in the console."
        assert f"<h3>{rule.title}</h3><p>{label}</p>" in html
        assert f"rule {prod.config.names.insight_rule(rule.id)} · top {TOP_CONTRIBUTORS} by Sum" in html
