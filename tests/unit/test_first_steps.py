"""Alarm descriptions: meaning, first steps and the alarm's own runbook link, within CloudWatch's limit."""

from __future__ import annotations

from contract.config import Config
from monitoring.catalog import ALARMS, COMPOSITE
from monitoring.first_steps import DESCRIPTION_LIMIT, FIRST_STEPS, description, first_steps

BASE = "https://runbooks.example.com/ops"


def test_every_alarm_of_the_catalog_has_first_steps_and_no_other_id_does():
    assert set(FIRST_STEPS) == {spec.id for spec in (*ALARMS, COMPOSITE)}
    assert (
        first_steps("Backlog", "qa")[0]
        == "byoip triage --stage qa: queue depth, age of the oldest job, DLQ size."
    )
    assert first_steps("NoSuchAlarm", "qa") == ()


def test_description_links_the_alarms_own_section_when_a_base_url_is_set():
    text = description("Backlog", "Jobs wait.", "B", Config("qa", "all", None, BASE), "eu-west-1")
    assert text.splitlines() == [
        "Jobs wait.",
        "First steps: 1) byoip triage --stage qa: queue depth, age of the oldest job, DLQ size. "
        "2) Dispatcher errors, throttles and duration on the BYOIP-Ops-qa dashboard. "
        "3) One creator flooding the queue? Pause it with the PauseCreator automation.",
        f"Runbook B. Main Queue Backlog / Age High, alarm Backlog: {BASE}/qa/runbook.md#alarm-backlog",
    ]


def test_description_without_a_base_url_opens_the_runbook_document_and_names_the_section():
    text = description("Incident", "Jobs lost.", "preflight", Config("qa"), "eu-west-1")
    last = text.splitlines()[-1]
    assert last.startswith("Runbook Pre-flight, alarm Incident: https://eu-west-1.console.aws.amazon.com/")
    assert last.endswith("BYOIP-qa-Runbook") or "BYOIP-qa-Runbook" in last
    assert text.count("https://") == 1  # the email's runbook link is the description's only URL


def test_every_description_fits_cloudwatch_limit_with_room_for_a_long_base_url_and_region():
    long_base = "https://" + "r" * 150 + ".example.com/" + "path/" * 10
    config = Config("stage-twenty-chars-x", "all", None, long_base)
    lengths = [
        len(description(spec.id, spec.meaning, spec.section, config, "ap-southeast-5"))
        for spec in (*ALARMS, COMPOSITE)
    ]
    assert max(lengths) <= DESCRIPTION_LIMIT
    assert DESCRIPTION_LIMIT == 1024  # CloudWatch API Reference, MetricAlarm.AlarmDescription


def test_the_runbook_shows_each_alarms_first_steps_under_its_own_anchor():
    from runbooks.render import render_runbook

    text = render_runbook(Config("qa"), region="eu-west-1", account="123456789012")
    for spec in (*ALARMS, COMPOSITE):
        part = text.split(f'<a id="alarm-{spec.id.lower()}"></a>', 1)[1].split("<a id=", 1)[0]
        numbered = [f"{i}. {step}" for i, step in enumerate(first_steps(spec.id, "qa"), 1)]
        assert "**First steps** (also in the alarm's email):\n" + "\n".join(numbered) + "\n" in part
