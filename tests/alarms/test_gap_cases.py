"""m_missing_data.yaml is what tests/alarms/gap_cases.py derives from the catalogs today.

The file pins each alarm's TreatMissingData (test_alarm_files.py runs it); this test names every
alarm whose generated cases the file lacks or holds differently: a new alarm, a changed one.
"""

from __future__ import annotations

from tests.alarms.gap_cases import GAP_FILE, HEADER, catalog_alarms, render, render_alarm


def test_every_catalog_alarm_has_its_gap_cases_in_the_file(runner):
    alarms = runner.alarm_set("test", "all")
    text = GAP_FILE.read_text()
    stale = [spec.id for spec in catalog_alarms() if render_alarm(spec, alarms) not in text]
    assert stale == [], f"regenerate: .venv/bin/python -m tests.alarms.gap_cases (out of date: {stale})"
    assert text == render(alarms)
    assert text.startswith(HEADER)
