"""The runbook states each alarm's firing condition, derived from the catalog (never retyped)."""

from dataclasses import replace

from contract.config import Config
from monitoring.catalog import ALARMS, COMPOSITE
from monitoring.spec import condition_text
from runbooks.render import render_runbook

BY_ID = {spec.id: spec for spec in ALARMS}


def test_metric_alarm_condition_is_exact():
    assert condition_text(BY_ID["DispatcherDuration"]) == (
        "p95(Duration) > 48000 for 2 of 3 periods of 5 min (missing data: notBreaching)"
    )


def test_math_alarm_condition_names_its_inputs():
    assert condition_text(BY_ID["PartialFailPct"]) == (
        "100 * f / IF(i > 1, i, 1) (where f = Sum(BatchItemFailures), i = Sum(BatchItems))"
        " > 10 for 2 of 3 periods of 5 min (missing data: notBreaching)"
    )


def test_composite_condition_is_its_rule():
    assert condition_text(COMPOSITE) == "(DLQNotEmpty OR (DispatcherErrors AND Backlog))"


def test_a_threshold_change_shows_in_the_text():
    changed = replace(BY_ID["Backlog"], threshold=600, datapoints_to_alarm=2)
    assert "> 600 for 2 of 3 periods of 1 min" in condition_text(changed)


def test_runbook_shows_every_alarm_condition():
    markdown = render_runbook(Config(stage="staging"), region="eu-west-1", account="123456789012")
    for spec in (*ALARMS, COMPOSITE):
        assert f"**Fires when** `{condition_text(spec)}`." in markdown, spec.id
