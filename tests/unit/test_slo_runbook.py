"""Every SLO alarm has its place in its SLO's runbook section, and every SLO section its alarms."""

from __future__ import annotations

import pytest

from contract.config import Config
from monitoring.sections import SECTIONS_BY_ID
from monitoring.slo_catalog import SLO_ALARMS, SLO_COMPOSITES, SLOS
from runbooks.render import render_runbook
from tests.unit.test_runbooks import section_text


@pytest.fixture(scope="module")
def markdown():
    return render_runbook(Config(stage="prod"), region="eu-west-1", account="111122223333")


def test_every_slo_alarm_is_inside_its_slo_section(markdown):
    for spec in (*SLO_COMPOSITES, *SLO_ALARMS):
        text = section_text(markdown, spec.section)
        assert f'<a id="alarm-{spec.id.lower()}"></a>\n### Alarm `BYOIP-prod-{spec.id}`' in text, spec.id
        assert f"**Meaning.** {spec.meaning}" in text, spec.id


def test_every_slo_section_says_what_the_slo_is_its_budget_and_what_burns_it(markdown):
    for slo in SLOS:
        assert slo.section in SECTIONS_BY_ID
        text = section_text(markdown, slo.section)
        for expected in (f"**SLO.** {slo.meaning}", "**Budget left.**", "**What burns it.**", slo.reason):
            assert expected in text, (slo.id, expected)
        ids = {a.id for a in (*SLO_ALARMS, *SLO_COMPOSITES) if a.section == slo.section}
        assert {i for i in ids if i.startswith(slo.id)} == ids
        assert len(ids) == 9


def test_the_section_table_names_each_alert_and_who_hears_it(markdown):
    text = section_text(markdown, "S1")
    assert (
        "| [`BYOIP-prod-JobSuccessFastBurn`](#alarm-jobsuccessfastburn) | 14.4 | 1h and 5m "
        "| page: emails in both ALERT_MODEs |"
    ) in text
    assert "| 1 | 3d and 6h | ticket: emails with ALERT_MODE=all |" in text
    assert "Objective **99.9 %** over a rolling 28 days" in text
    assert "Objective **99.5 %**" in section_text(markdown, "S2")
